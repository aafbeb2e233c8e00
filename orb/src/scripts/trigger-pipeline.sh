#!/usr/bin/env bash
# The trigger-pipeline command's step. baton reads every option from the step's environment
# (BATON_*, CIRCLECI_HOST; see commands/trigger-pipeline.yml), so nothing passes through the
# shell's quoting. The script itself reads BATON_WAIT_FOR (the wait parameter),
# BATON_PERSIST_RESULT and BATON_CALLBACK. Sourcing this file, as the bats tests do, only defines the functions.

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

# record_job_pipelines adds this trigger's pipelines to BATON_JOB_PIPELINE_IDS, the list
# wait-for-pipeline waits for. The line is expanded each time $BASH_ENV is sourced, right
# after the export lines baton appended, so it sees this trigger's BATON_PIPELINE_IDS; it adds
# nothing twice, so a step that sources $BASH_ENV again changes nothing.
record_job_pipelines() {
  if [ -z "${BASH_ENV:-}" ] || [ "${BATON_DRY_RUN:-false}" = true ]; then
    return 0
  fi
  # shellcheck disable=SC2016 # expanded when $BASH_ENV is sourced, not now
  printf '%s\n' 'case " ${BATON_JOB_PIPELINE_IDS:-} " in *" ${BATON_PIPELINE_IDS:-} "*) ;; *) export BATON_JOB_PIPELINE_IDS="${BATON_JOB_PIPELINE_IDS:+$BATON_JOB_PIPELINE_IDS }${BATON_PIPELINE_IDS:-}" ;; esac' >>"$BASH_ENV"
}

# The persist_to_workspace step's root, relative to the working directory, as in
# commands/trigger-pipeline.yml.
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

# callback_result prints where a callback's result goes in the workspace, for the
# pipeline-result job (scripts/pipeline-result.sh names it the same way), or nothing without a
# callback. baton trigger --callback waits only for the start itself, so wait must be none.
callback_result() {
  [ -n "${BATON_CALLBACK:-}" ] || return 0
  if [ "${BATON_WAIT_FOR:-none}" != none ]; then
    error "callback $BATON_CALLBACK: the downstream approves it when done, and this step waits only until the pipeline has started; leave wait at none"
    return
  fi
  printf '%s/baton-callback/%s.json\n' "$workspace_root" "${BATON_CALLBACK//[^A-Za-z0-9._-]/_}"
}

# wait_mode turns the wait parameter (BATON_WAIT_FOR: none, started or finished) into baton's
# --wait or --wait-start.
wait_mode() {
  case "${BATON_WAIT_FOR:-none}" in
    none) export BATON_WAIT=false BATON_WAIT_START=false ;;
    started) export BATON_WAIT=false BATON_WAIT_START=true ;;
    finished) export BATON_WAIT=true BATON_WAIT_START=false ;;
    *)
      error "wait: '$BATON_WAIT_FOR' is not none, started or finished"
      return
      ;;
  esac
}

trigger_pipeline() {
  local baton persist callback file status=0
  baton=$(find_baton) || return
  wait_mode || return
  persist=$(workspace_result) || return
  callback=$(callback_result) || return
  for file in "$persist" "$callback"; do
    if [ -n "$file" ]; then
      mkdir -p "$(dirname "$file")" || return
      export BATON_RESULT_FILE="${BATON_RESULT_FILE:-$file}"
    fi
  done
  prepare_outputs || return
  if [ -n "${BASH_ENV:-}" ]; then
    export BATON_ENV_FILE="$BASH_ENV" # BATON_PIPELINE_ID, _NUMBER, _URL, _IDS for later steps
  fi
  # The result file is written whatever baton's exit code, which the step then keeps; CircleCI
  # persists it only after a step that succeeded (soft_fail keeps a downstream failure green).
  "$baton" trigger || status=$?
  persist_result "$persist" || return
  persist_result "$callback" || return
  if [ "$status" -ne 0 ]; then
    return "$status"
  fi
  record_job_pipelines
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  trigger_pipeline
fi
