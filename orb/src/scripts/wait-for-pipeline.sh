#!/usr/bin/env bash
# The wait-for-pipeline command's step. baton reads every option from the step's environment
# (BATON_*, CIRCLECI_HOST; see commands/wait-for-pipeline.yml). The script itself reads
# BATON_WAIT_PIPELINE_IDS, BATON_WAIT_UNTIL (the until parameter) and BATON_PERSIST_RESULT. Sourcing this file, as the
# bats tests do, only defines the functions.

error() {
  printf 'baton orb: %s\n' "$*" >&2
  return 1
}

# find_baton prints the baton to run: the one the install step verified, by the absolute path
# it exported as BATON_BIN through $BASH_ENV; only without an install step, the one on PATH.
find_baton() {
  if [ -n "${BATON_BIN:-}" ]; then
    if [ ! -f "$BATON_BIN" ] || [ ! -x "$BATON_BIN" ]; then
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
  for file in "${BATON_JUNIT:-}" "${BATON_SUMMARY:-}" "${BATON_RESULT_FILE:-}"; do
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

# The persist_to_workspace step's root, relative to the working directory, as in
# commands/wait-for-pipeline.yml.
workspace_root=.baton-workspace

# workspace_result prints where persist_result goes in the workspace, or nothing without it.
workspace_result() {
  local path=${BATON_PERSIST_RESULT:-}
  [ -n "$path" ] || return 0
  case "/$path/" in
    //* | */../*)
      error "persist_result $path: give a path relative to the workspace, without .., e.g. baton/result.json"
      return
      ;;
  esac
  printf '%s/%s\n' "$workspace_root" "$path"
}

# persist_result FILE copies result_file to FILE in the workspace, when they differ.
persist_result() {
  if [ -z "$1" ] || [ "$1" = "${BATON_RESULT_FILE:-}" ] || [ ! -f "${BATON_RESULT_FILE:-}" ]; then
    return 0
  fi
  cp "$BATON_RESULT_FILE" "$1"
}

# wait_until turns the until parameter (BATON_WAIT_UNTIL: started or finished) into baton
# wait's --wait-start, or not.
wait_until() {
  case "${BATON_WAIT_UNTIL:-finished}" in
    finished) export BATON_WAIT_START=false ;;
    started) export BATON_WAIT_START=true ;;
    *)
      error "until: '$BATON_WAIT_UNTIL' is not started or finished"
      return
      ;;
  esac
}

wait_for_pipelines() {
  local ids baton persist status=0
  baton=$(find_baton) || return
  wait_until || return
  ids=$(pipelines_to_wait_for)
  if [ -z "$ids" ]; then
    error "no pipeline to wait for: trigger one earlier in this job with trigger-pipeline, or set pipeline_ids"
    return
  fi
  persist=$(workspace_result) || return
  if [ -n "$persist" ]; then
    mkdir -p "$(dirname "$persist")" || return
    export BATON_RESULT_FILE="${BATON_RESULT_FILE:-$persist}"
  fi
  prepare_outputs || return
  if [ -n "${BASH_ENV:-}" ]; then
    export BATON_ENV_FILE="$BASH_ENV" # BATON_OUTCOME for later steps
  fi
  BATON_PIPELINE_IDS=$ids "$baton" wait || status=$?
  persist_result "$persist" || return
  return "$status"
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  wait_for_pipelines
fi
