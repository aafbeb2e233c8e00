# shellcheck disable=SC2016 # stubs and scripts in single quotes expand when they run
# Unit tests of scripts/callback.sh, with baton stubbed.

setup() {
  load helpers
  # shellcheck source-path=SCRIPTDIR source=../scripts/callback.sh
  source "$SCRIPTS/callback.sh"
  make_stubs
  stub baton 'printf "%s\n" "ref=$BATON_CALLBACK_REFERENCE allowed=$BATON_ALLOWED_PROJECTS" >>"$CALLS"; exit "${BATON_EXIT:-0}"'
  unset BATON_CALLBACK_REFERENCE BATON_ALLOWED_PROJECTS BATON_BIN
}

@test "baton callback gets the reference and the allow-list from the environment" {
  BATON_CALLBACK_REFERENCE=baton-callback:v1:x:await BATON_ALLOWED_PROJECTS=gh/acme/deploy:await run call_back
  assert_success
  run grep '^ref=' "$CALLS"
  assert_output "ref=baton-callback:v1:x:await allowed=gh/acme/deploy:await"
  run grep -c '^baton callback$' "$CALLS"
  assert_output 1
}

@test "baton's exit code is the step's: a refusal fails the job" {
  BATON_CALLBACK_REFERENCE=r BATON_ALLOWED_PROJECTS=gh/acme/deploy:await BATON_EXIT=2 run call_back
  assert_failure 2
}

@test "a pipeline that was not called back succeeds without baton" {
  BATON_ALLOWED_PROJECTS=gh/acme/deploy:await run call_back
  assert_success
  assert_output --partial "nothing to approve"
  run grep -c '^baton' "$CALLS"
  assert_output 0
}

@test "an empty allow-list is refused before baton runs" {
  BATON_CALLBACK_REFERENCE=r run call_back
  assert_failure
  assert_output --partial "allowed_projects is empty"
  run grep -c '^baton' "$CALLS"
  assert_output 0
}
