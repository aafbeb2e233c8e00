#!/usr/bin/env bash
# The wait-for-pipeline command's step. baton reads every option from the step's environment
# (BATON_*, CIRCLECI_HOST; see commands/wait-for-pipeline.yml). Sourcing this file, as the
# bats tests do, only defines the functions.

error() {
  printf 'baton orb: %s\n' "$*" >&2
  return 1
}

# find_baton prints the baton to run: the one the install step verified, by the absolute path
# it exported as BATON_BIN through $BASH_ENV; only without an install step, the one on PATH.
find_baton() {
  if [ -n "${BATON_BIN:-}" ]; then
    if [ ! -x "$BATON_BIN" ]; then
      error "BATON_BIN=$BATON_BIN, from baton/install, is not an executable file: was it removed since?"
      return
    fi
    printf '%s\n' "$BATON_BIN"
  elif ! command -v baton 2>/dev/null; then
    error "baton is not on PATH: leave skip_install false, or run baton/install in an earlier step"
  fi
}

# prepare_outputs creates the directories of the files baton is asked to write.
prepare_outputs() {
  local file
  for file in "${BATON_JUNIT:-}" "${BATON_SUMMARY:-}"; do
    if [ -n "$file" ]; then
      mkdir -p "$(dirname "$file")" || return
    fi
  done
}

# pipelines_to_wait_for prints the ids to wait for, space-separated, each once: pipeline_ids if
# given, else every pipeline the job's trigger-pipeline steps recorded in $BASH_ENV.
pipelines_to_wait_for() {
  local ids=${BATON_WAIT_PIPELINE_IDS:-${BATON_JOB_PIPELINE_IDS:-${BATON_PIPELINE_IDS:-}}}
  printf '%s\n' "$ids" | tr -s '[:space:]' '\n' |
    awk 'NF && !seen[$0]++ { printf "%s%s", sep, $0; sep = " " } END { print "" }'
}

wait_for_pipelines() {
  local ids baton
  baton=$(find_baton) || return
  ids=$(pipelines_to_wait_for)
  if [ -z "$ids" ]; then
    error "no pipeline to wait for: trigger one earlier in this job with trigger-pipeline, or set pipeline_ids"
    return
  fi
  prepare_outputs || return
  BATON_PIPELINE_IDS=$ids "$baton" wait
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  wait_for_pipelines
fi
