#!/usr/bin/env bash
# The last step of trigger-pipeline and wait-for-pipeline with persist_result. When baton failed
# but wrote its result, their baton step kept the exit status in a file and succeeded, so that
# CircleCI would persist the result (it runs persist_to_workspace only while no step has
# failed); this step ends with that status. Without such a file it does nothing. Sourcing this
# file, as the bats tests do, only defines the functions.

# CircleCI runs a step with /bin/sh when the image has no bash (Alpine, docker images): these
# first lines are POSIX, so that any shell stops here with one line saying what to do.
if [ -z "${BASH_VERSION:-}" ]; then
  echo "baton orb: this step needs bash, but it runs in another shell (the image has no /bin/bash, or the step sets shell:): use an image with bash, e.g. cimg/base, or install it in an earlier step (on Alpine: apk add bash)" >&2
  exit 127
fi

# Where the baton step left the status (scripts/trigger-pipeline.sh, wait-for-pipeline.sh).
deferred_status=${TMPDIR:-/tmp}/baton-orb-exit-status

exit_as_baton() {
  local status
  [ -f "$deferred_status" ] || return 0
  status=$(<"$deferred_status")
  rm -f "$deferred_status"
  case "$status" in
    "" | *[!0-9]*)
      printf 'baton orb: %s holds no exit status (%q); failing anyway\n' "$deferred_status" "$status" >&2
      return 70
      ;;
  esac
  echo "baton orb: baton exited $status above; its result is persisted, so this step now fails the job with exit code $status"
  return "$status"
}

# Run only when executed, as the orb's run step does; not when sourced by the bats tests.
if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exit_as_baton
fi
