#!/usr/bin/env bash
# The wait-for-pipeline command's step. baton reads every option from the step's environment
# (BATON_*, CIRCLECI_HOST; see commands/wait-for-pipeline.yml). The script itself reads
# BATON_WAIT_PIPELINE_IDS, BATON_WAIT_UNTIL (the until parameter), BATON_PERSIST_RESULT and
# BATON_RESULT_FILE. Sourcing this file, as the bats tests do, only defines the functions.

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

# copy_result FROM TO copies the result baton wrote to FROM to TO, when they differ.
copy_result() {
  if [ -f "$1" ] && [ -n "$2" ] && [ "$2" != "$1" ]; then
    mkdir -p "$(dirname "$2")" && cp "$1" "$2"
  fi
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

wait_for_pipelines() {
  local ids baton persist result_file=${BATON_RESULT_FILE:-} status=0
  rm -f "$deferred_status"
  baton=$(find_baton) || return
  wait_until || return
  ids=$(pipelines_to_wait_for)
  if [ -z "$ids" ]; then
    error "no pipeline to wait for: trigger one earlier in this job with trigger-pipeline, or set pipeline_ids"
    return
  fi
  persist=$(workspace_result) || return
  # baton writes the result into the workspace, to a file removed first: one found there after
  # it ran is this run's, never a stale one. It is copied to result_file.
  if [ -n "$persist" ]; then
    mkdir -p "$(dirname "$persist")" && rm -f "$persist" || return
    export BATON_RESULT_FILE=$persist
  fi
  prepare_outputs || return
  if [ -n "${BASH_ENV:-}" ]; then
    export BATON_ENV_FILE="$BASH_ENV" # BATON_OUTCOME for later steps
  fi
  BATON_PIPELINE_IDS=$ids run_baton "$baton" wait || status=$?
  if [ -n "$persist" ]; then
    copy_result "$persist" "$result_file" || return
    if [ "$status" -ne 0 ] && [ -f "$persist" ]; then
      defer_failure "$status" "$BATON_PERSIST_RESULT"
      return
    fi
  fi
  return "$status"
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  wait_for_pipelines
fi
