# shellcheck disable=SC2016 # stubs and scripts in single quotes expand when they run
# Unit tests of scripts/pipeline-result.sh, with baton stubbed.

setup() {
  load helpers
  # shellcheck source-path=SCRIPTDIR source=../scripts/pipeline-result.sh
  source "$SCRIPTS/pipeline-result.sh"
  make_stubs
  stub baton 'printf "%s\n" "from=$BATON_RESULT_FROM env-file=${BATON_ENV_FILE:-}" >>"$CALLS"; exit "${BATON_EXIT:-0}"'
  unset BATON_RESULT_CALLBACK BATON_BIN BASH_ENV
  cd "$BATS_TEST_TMPDIR" || return
  mkdir -p .baton-workspace/baton-callback
  echo '{}' >.baton-workspace/baton-callback/await_e2e_prod.json
}

@test "baton result reads the file trigger-pipeline recorded for the callback" {
  export BASH_ENV="$BATS_TEST_TMPDIR/bash_env"
  BATON_RESULT_CALLBACK='await e2e/prod' run read_result
  assert_success
  run grep '^from=' "$CALLS"
  assert_output "from=.baton-workspace/baton-callback/await_e2e_prod.json env-file=$BASH_ENV"
  run grep -c '^baton result$' "$CALLS"
  assert_output 1
}

@test "the downstream's failure is the step's" {
  BATON_RESULT_CALLBACK='await e2e/prod' BATON_EXIT=1 run read_result
  assert_failure 1
}

@test "no recorded result says which job should have written it" {
  BATON_RESULT_CALLBACK=other run read_result
  assert_failure
  assert_output --partial "no recorded pipelines for callback other"
  run grep -c '^baton' "$CALLS"
  assert_output 0
}

@test "an empty callback is refused" {
  run read_result
  assert_failure
  assert_output --partial "callback is empty"
}

@test "the directories of the output files are created" {
  BATON_RESULT_CALLBACK='await e2e/prod' BATON_JUNIT=t/junit.xml run read_result
  assert_success
  assert [ -d t ]
}
