#!/usr/bin/env bash
# The pipeline-result command's step. baton reads every option from the step's environment
# (BATON_*, CIRCLECI_HOST; see commands/pipeline-result.yml). The script itself reads
# BATON_RESULT_CALLBACK (the callback parameter), which names the result trigger-pipeline
# recorded in the workspace. Sourcing this file, as the bats tests do, only defines the
# functions.

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

# The attach_workspace step's directory, relative to the working directory, as in
# commands/pipeline-result.yml.
workspace_root=.baton-workspace

# recorded_result prints the result file trigger-pipeline recorded for the callback, named as
# scripts/trigger-pipeline.sh names it.
recorded_result() {
  if [ -z "${BATON_RESULT_CALLBACK:-}" ]; then
    error "callback is empty: give the approval job's name, as given to trigger-pipeline's callback"
    return
  fi
  local file="$workspace_root/baton-callback/${BATON_RESULT_CALLBACK//[^A-Za-z0-9._-]/_}.json"
  if [ ! -f "$file" ]; then
    error "no recorded pipelines for callback $BATON_RESULT_CALLBACK ($file is not in the workspace): does this job require the approval job that requires a trigger-pipeline job with callback: $BATON_RESULT_CALLBACK?"
    return
  fi
  printf '%s\n' "$file"
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

read_result() {
  local baton file
  baton=$(find_baton) || return
  file=$(recorded_result) || return
  prepare_outputs || return
  if [ -n "${BASH_ENV:-}" ]; then
    export BATON_ENV_FILE="$BASH_ENV" # BATON_OUTCOME for later steps
  fi
  BATON_RESULT_FROM=$file "$baton" result
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  read_result
fi
