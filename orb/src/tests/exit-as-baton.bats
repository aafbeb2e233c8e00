# Unit tests of scripts/exit-as-baton.sh: it ends with the exit status the baton step kept.

setup() {
  load helpers
  export TMPDIR=$BATS_TEST_TMPDIR
}

@test "without a kept status the step does nothing" {
  run bash "$SCRIPTS/exit-as-baton.sh"
  assert_success
  assert_output ""
}

@test "a kept status is the step's exit code, once" {
  echo 1 >"$TMPDIR/baton-orb-exit-status"
  run bash "$SCRIPTS/exit-as-baton.sh"
  assert_failure 1
  assert_output "baton orb: baton exited 1 above; its result is persisted, so this step now fails the job with exit code 1"
  run bash "$SCRIPTS/exit-as-baton.sh"
  assert_success
}

@test "a kept status that is no number still fails the step" {
  echo oops >"$TMPDIR/baton-orb-exit-status"
  run bash "$SCRIPTS/exit-as-baton.sh"
  assert_failure 70
  assert_output --partial "holds no exit status (oops)"
}

@test "sourcing the script runs nothing" {
  echo 3 >"$TMPDIR/baton-orb-exit-status"
  run bash -c '. "$1"; echo sourced' _ "$SCRIPTS/exit-as-baton.sh"
  assert_output sourced
}
