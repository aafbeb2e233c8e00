#!/usr/bin/env bash
# The callback command's step. baton reads every option from the step's environment
# (BATON_CALLBACK_REFERENCE, BATON_ALLOWED_PROJECTS, …; see commands/callback.yml), and the
# workflow it runs in from CircleCI's own CIRCLE_WORKFLOW_ID. Sourcing this file, as the bats
# tests do, only defines the functions.

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

# call_back approves the upstream approval job the reference names, when baton finds every
# condition met; its exit code is the step's.
call_back() {
  local baton
  if [ -z "${BATON_CALLBACK_REFERENCE:-}" ]; then
    echo "This pipeline was not triggered with a callback (its reference is empty); nothing to approve."
    return 0
  fi
  baton=$(find_baton) || return
  if [ -z "${BATON_ALLOWED_PROJECTS:-}" ]; then
    error "allowed_projects is empty: name the upstream approval jobs this pipeline may approve, as PROJECT:JOB (e.g. gh/acme/deploy:await-e2e)"
    return
  fi
  run_baton "$baton" callback
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  call_back
fi
