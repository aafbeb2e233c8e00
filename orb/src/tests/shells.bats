# Every orb script, run by a shell that is not bash (CircleCI's /bin/sh on an image without
# bash, such as Alpine), stops at once with one line saying what to do, and exit code 127.

setup() {
  bats_require_minimum_version 1.5.0 # run -127
  load helpers
  command -v dash >/dev/null 2>&1 || skip "dash is not installed: scripts/ensure-tools.sh dash"
}

needs_bash="baton orb: this step needs bash, but it runs in another shell (the image has no /bin/bash, or the step sets shell:): use an image with bash, e.g. cimg/base, or install it in an earlier step (on Alpine: apk add bash)"

@test "every script run by dash says it needs bash" {
  local script
  for script in "$SCRIPTS"/*.sh; do
    # As CircleCI runs a step: the script is the command of a shell started with -e.
    run -127 dash -e -c "$(cat "$script")"
    assert_failure 127
    assert_output "$needs_bash"
  done
}

@test "the bash check is POSIX: dash parses every line before it" {
  local script check
  for script in "$SCRIPTS"/*.sh; do
    check=$(sed -n '1,/^fi$/p' "$script")
    run dash -n -c "$check"
    assert_success
    assert [ "$(grep -c 'BASH_VERSION' <<<"$check")" -ge 1 ]
  done
}
