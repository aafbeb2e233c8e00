# shellcheck disable=SC2016 # stubs and scripts in single quotes expand when they run
# Unit tests of scripts/wait-for-pipeline.sh, with baton stubbed.

setup() {
  load helpers
  export TMPDIR=$BATS_TEST_TMPDIR # where a deferred exit status waits
  # shellcheck source-path=SCRIPTDIR source=../scripts/wait-for-pipeline.sh
  source "$SCRIPTS/wait-for-pipeline.sh"
  make_stubs
  stub baton 'printf "%s\n" "ids=${BATON_PIPELINE_IDS:-}" >>"$CALLS"; exit "${BATON_EXIT:-0}"'
  unset BATON_WAIT_PIPELINE_IDS BATON_JOB_PIPELINE_IDS BATON_PIPELINE_IDS BATON_BIN BASH_ENV
}

@test "pipeline_ids wins, then the job's triggers, then the last trigger" {
  BATON_PIPELINE_IDS=c run pipelines_to_wait_for
  assert_output c
  BATON_JOB_PIPELINE_IDS="a b" BATON_PIPELINE_IDS=c run pipelines_to_wait_for
  assert_output "a b"
  BATON_WAIT_PIPELINE_IDS=$'  x\n\ty  \r\nz\nx\n' BATON_JOB_PIPELINE_IDS="a b" run pipelines_to_wait_for
  assert_output "x y z"
}

@test "baton wait gets the ids in BATON_PIPELINE_IDS and decides the exit code" {
  BATON_JOB_PIPELINE_IDS="a b" BATON_EXIT=4 run wait_for_pipelines
  assert_failure 4
  run grep '^ids=' "$CALLS"
  assert_output "ids=a b"
  run grep -c '^baton wait$' "$CALLS"
  assert_output 1
}

@test "with nothing to wait for the step says why and runs no baton" {
  run wait_for_pipelines
  assert_failure
  assert_output --partial "no pipeline to wait for: trigger one earlier in this job with trigger-pipeline, or set pipeline_ids"
  run grep -c '^baton' "$CALLS"
  assert_output 0
}

@test "the directories of the junit and summary files are created" {
  cd "$BATS_TEST_TMPDIR"
  BATON_PIPELINE_IDS=a BATON_JUNIT=t/junit.xml BATON_SUMMARY=s/summary.md run wait_for_pipelines
  assert_success
  assert [ -d t ] && assert [ -d s ]
}

@test "the baton the install step verified runs, by its path, not another on PATH" {
  mkdir "$BATS_TEST_TMPDIR/installed"
  mv "$STUBS/baton" "$BATS_TEST_TMPDIR/installed/baton"
  stub baton 'echo "the wrong baton"; exit 9'
  BATON_BIN="$BATS_TEST_TMPDIR/installed/baton" BATON_PIPELINE_IDS=a run wait_for_pipelines
  assert_success
  refute_output --partial "the wrong baton"
  run grep -c "^baton wait$" "$CALLS"
  assert_output 1
}

@test "until becomes --wait-start or not; the outcome goes to BASH_ENV" {
  stub baton 'echo "start=$BATON_WAIT_START env-file=${BATON_ENV_FILE:-}"'
  export BASH_ENV="$BATS_TEST_TMPDIR/bash_env"
  for case in "finished false" "started true"; do
    read -r until start <<<"$case"
    BATON_WAIT_UNTIL=$until BATON_PIPELINE_IDS=a run wait_for_pipelines
    assert_success
    assert_output "start=$start env-file=$BASH_ENV"
  done
  BATON_WAIT_UNTIL=soon BATON_PIPELINE_IDS=a run wait_for_pipelines
  assert_failure
  assert_output --partial "until: 'soon' is not started or finished"
}

@test "persist_result: the result goes into the workspace directory; baton's exit code waits until it is persisted" {
  cd "$BATS_TEST_TMPDIR"
  stub baton 'echo "{}" >"$BATON_RESULT_FILE"; exit 1'
  BATON_PERSIST_RESULT=baton/wait.json BATON_RESULT_FILE=out/r.json BATON_PIPELINE_IDS=a run wait_for_pipelines
  assert_success
  assert_output --partial 'baton exited 1; its result (baton/wait.json) is persisted first'
  assert [ -f .baton-workspace/baton/wait.json ] && assert [ -f out/r.json ]
  run bash "$SCRIPTS/exit-as-baton.sh"
  assert_failure 1
  BATON_PERSIST_RESULT=../x.json BATON_PIPELINE_IDS=a run wait_for_pipelines
  assert_failure
  assert_output --partial "persist_result ../x.json: give a path relative to the workspace"
}

@test "without persist_result baton's failure is the step's own" {
  BATON_EXIT=6 BATON_PIPELINE_IDS=a run wait_for_pipelines
  assert_failure 6
  assert [ ! -e "$TMPDIR/baton-orb-exit-status" ]
}

@test "sourcing the script runs nothing" {
  run bash -c '. "$1"; echo sourced' _ "$SCRIPTS/wait-for-pipeline.sh"
  assert_output sourced
}
