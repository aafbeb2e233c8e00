#!/usr/bin/env bash
# The trigger-pipeline command's step. baton reads every option from the step's environment
# (BATON_*, CIRCLECI_HOST; see commands/trigger-pipeline.yml), so nothing passes through the
# shell's quoting. The script itself reads BATON_WAIT_FOR (the wait parameter),
# BATON_PERSIST_RESULT, BATON_CALLBACK, BATON_RESULT_FILE and BATON_DRY_RUN. Sourcing this
# file, as the bats tests do, only defines the functions.

# CircleCI runs a step with /bin/sh when the image has no bash (Alpine, docker images): these
# first lines are POSIX, so that any shell stops here with one line saying what to do.
if [ -z "${BASH_VERSION:-}" ]; then
  echo "baton orb: this step needs bash, but it runs in another shell (the image has no /bin/bash, or the step sets shell:): use an image with bash, e.g. cimg/base, or install it in an earlier step (on Alpine: apk add bash)" >&2
  exit 127
fi

error() {
  printf 'baton orb: %s\n' "$*" >&2
  return 1
}

# is_true says whether a boolean parameter is set: CircleCI passes a boolean in a step's
# environment as 1 or 0, a user may write true or false; baton reads the same (and yes, no).
is_true() {
  case "${1,,}" in
    1 | true | yes) return 0 ;;
  esac
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
  if [ -z "${BASH_ENV:-}" ] || is_true "${BATON_DRY_RUN:-}"; then
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

# copy_result FROM TO… copies the result baton wrote to FROM to each other TO.
copy_result() {
  local from=$1 to
  shift
  [ -f "$from" ] || return 0
  for to in "$@"; do
    if [ -n "$to" ] && [ "$to" != "$from" ]; then
      mkdir -p "$(dirname "$to")" && cp "$from" "$to" || return
    fi
  done
}

# The file where baton's exit status waits for the last step of the command
# (scripts/exit-as-baton.sh reads it from the same place).
deferred_status=${TMPDIR:-/tmp}/baton-orb-exit-status

# defer_failure STATUS PERSISTED ends the step well when baton failed but wrote the result that
# persist_result persists: CircleCI runs persist_to_workspace only while no step has failed, so
# the status waits in a file, and the command's last step exits with it.
defer_failure() {
  printf '%s\n' "$1" >"$deferred_status" || return "$1"
  echo "baton orb: baton exited $1; its result ($2) is persisted first, then the step \"Exit as baton did\" fails the job with exit code $1"
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

# run_baton runs its arguments, baton, in the background and passes TERM/INT on to it: bash does
# not pass a signal on to a foreground child, and CircleCI may signal only this shell.
run_baton() {
  local pid status
  "$@" <&0 & # <&0: keep the step's stdin, not the /dev/null a background job gets
  pid=$!
  trap 'kill -TERM "$pid" 2>/dev/null' TERM
  trap 'kill -INT "$pid" 2>/dev/null' INT
  # A trapped signal ends wait early (status > 128): wait again until baton has really ended.
  while wait "$pid"; status=$?; kill -0 "$pid" 2>/dev/null; do :; done
  trap - TERM INT
  return "$status"
}

trigger_pipeline() {
  local baton persist callback written file result_file=${BATON_RESULT_FILE:-} status=0
  rm -f "$deferred_status"
  baton=$(find_baton) || return
  wait_mode || return
  persist=$(workspace_result) || return
  callback=$(callback_result) || return
  if [ -n "$persist" ] && is_true "${BATON_DRY_RUN:-}"; then
    error "persist_result $BATON_PERSIST_RESULT with dry_run: a dry run sends nothing, so there is no result to persist; drop one of them"
    return 2
  fi
  # baton writes the result into the workspace, to a file removed first: one found there after
  # it ran is this run's, never a stale one. It is copied to result_file and the callback's.
  written=${persist:-$callback}
  for file in "$persist" "$callback"; do
    if [ -n "$file" ]; then
      mkdir -p "$(dirname "$file")" && rm -f "$file" || return
    fi
  done
  if [ -n "$written" ]; then
    export BATON_RESULT_FILE=$written
  fi
  prepare_outputs || return
  if [ -n "${BASH_ENV:-}" ]; then
    export BATON_ENV_FILE="$BASH_ENV" # BATON_PIPELINE_ID, _NUMBER, _URL, _IDS for later steps
  fi
  run_baton "$baton" trigger || status=$?
  if [ -n "$written" ]; then
    copy_result "$written" "$callback" "$result_file" || return
  fi
  if [ "$status" -ne 0 ]; then
    if [ -n "$persist" ] && [ -f "$persist" ]; then
      defer_failure "$status" "$BATON_PERSIST_RESULT"
      return
    fi
    return "$status"
  fi
  record_job_pipelines
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  trigger_pipeline
fi
