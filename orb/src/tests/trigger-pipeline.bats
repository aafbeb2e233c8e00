# shellcheck disable=SC2016 # stubs and scripts in single quotes expand when they run
# Unit tests of scripts/trigger-pipeline.sh, with baton stubbed: it writes the export lines the
# real one appends to --env-file.

setup() {
  load helpers
  export TMPDIR=$BATS_TEST_TMPDIR # where a deferred exit status waits
  # shellcheck source-path=SCRIPTDIR source=../scripts/trigger-pipeline.sh
  source "$SCRIPTS/trigger-pipeline.sh"
  make_stubs
  export BASH_ENV="$BATS_TEST_TMPDIR/bash_env"
  : >"$BASH_ENV"
  # baton trigger: records what it was given, then appends its export lines to BATON_ENV_FILE.
  stub baton 'printf "%s\n" "env-file=${BATON_ENV_FILE:-} project=${BATON_PROJECT:-}" >>"$CALLS"
[ -n "${BATON_FAIL:-}" ] && exit "$BATON_FAIL"
id=${NEXT_ID:-11111111-1111-4111-8111-111111111111}
printf "export BATON_PIPELINE_ID=%s\nexport BATON_PIPELINE_IDS=%s\n" "$id" "$id" >>"$BATON_ENV_FILE"'
  unset BATON_JOB_PIPELINE_IDS BATON_PIPELINE_IDS BATON_BIN
}

@test "baton trigger gets everything from the environment and writes to BASH_ENV" {
  BATON_PROJECT=gh/acme/deploy run trigger_pipeline
  assert_success
  run grep '^env-file' "$CALLS"
  assert_output "env-file=$BASH_ENV project=gh/acme/deploy"
  run grep -c '^baton trigger$' "$CALLS"
  assert_output 1
}

@test "the pipelines of every trigger in the job add up in BATON_JOB_PIPELINE_IDS" {
  NEXT_ID=aaaaaaaa-0000-4000-8000-000000000001 trigger_pipeline
  NEXT_ID=bbbbbbbb-0000-4000-8000-000000000002 trigger_pipeline
  # Each step's bash sources $BASH_ENV by itself; a step may source it once more.
  run bash -c 'echo "$BATON_JOB_PIPELINE_IDS|$BATON_PIPELINE_IDS"; source "$BASH_ENV"; echo "$BATON_JOB_PIPELINE_IDS"'
  assert_output "aaaaaaaa-0000-4000-8000-000000000001 bbbbbbbb-0000-4000-8000-000000000002|bbbbbbbb-0000-4000-8000-000000000002
aaaaaaaa-0000-4000-8000-000000000001 bbbbbbbb-0000-4000-8000-000000000002"
}

@test "a failed trigger fails the step with baton's exit code and records nothing" {
  BATON_FAIL=3 run trigger_pipeline
  assert_failure 3
  assert [ ! -s "$BASH_ENV" ]
}

@test "a dry run records no pipeline, whether dry_run reads true or 1" {
  stub baton 'exit 0'
  for dry in true 1 TRUE yes; do
    BATON_DRY_RUN=$dry run trigger_pipeline
    assert_success
    assert [ ! -s "$BASH_ENV" ]
  done
}

@test "dry_run at false or 0 is no dry run" {
  for dry in false 0 ""; do
    : >"$BASH_ENV"
    BATON_DRY_RUN=$dry run trigger_pipeline
    assert_success
    assert [ -s "$BASH_ENV" ]
  done
}

@test "the directories of the junit, summary and result files are created" {
  cd "$BATS_TEST_TMPDIR"
  BATON_JUNIT=results/baton/junit.xml BATON_SUMMARY=reports/summary.md BATON_RESULT_FILE=out/r.json run trigger_pipeline
  assert_success
  assert [ -d results/baton ] && assert [ -d reports ] && assert [ -d out ]
}

@test "without baton on PATH the step says how to get it" {
  rm "$STUBS/baton"
  PATH="$STUBS:/usr/bin:/bin" run trigger_pipeline
  assert_failure
  assert_output --partial "baton is not on PATH: leave skip_install false, or run baton/install in an earlier step"
}

@test "the baton the install step verified runs, by its path, not another on PATH" {
  mkdir "$BATS_TEST_TMPDIR/installed"
  mv "$STUBS/baton" "$BATS_TEST_TMPDIR/installed/baton"
  stub baton 'echo "the wrong baton"; exit 9'
  BATON_BIN="$BATS_TEST_TMPDIR/installed/baton" BATON_PROJECT=gh/acme/deploy run trigger_pipeline
  assert_success
  refute_output --partial "the wrong baton"
  run grep -c "^baton trigger$" "$CALLS"
  assert_output 1
  BATON_BIN="$BATS_TEST_TMPDIR/gone/baton" run trigger_pipeline
  assert_failure
  assert_output --partial "BATON_BIN=$BATS_TEST_TMPDIR/gone/baton, from baton/install, is not an executable file"
}

@test "the wait parameter becomes --wait or --wait-start" {
  stub baton 'echo "wait=$BATON_WAIT start=$BATON_WAIT_START"'
  for case in "none false false" "started false true" "finished true false"; do
    read -r mode wait start <<<"$case"
    BATON_WAIT_FOR=$mode run trigger_pipeline
    assert_success
    assert_output "wait=$wait start=$start"
  done
  BATON_WAIT_FOR=true run trigger_pipeline
  assert_failure
  assert_output --partial "wait: 'true' is not none, started or finished"
}

@test "sourcing the script runs nothing" {
  run bash -c '. "$1"; echo sourced' _ "$SCRIPTS/trigger-pipeline.sh"
  assert_output sourced
}

@test "persist_result: the result file goes into the workspace directory, and to result_file" {
  cd "$BATS_TEST_TMPDIR"
  stub baton 'echo "{\"pipelines\": []}" >"$BATON_RESULT_FILE"'
  BATON_PERSIST_RESULT=baton/deploy.json BATON_RESULT_FILE=out/result.json run trigger_pipeline
  assert_success
  assert [ -f .baton-workspace/baton/deploy.json ]
  assert [ -f out/result.json ]
  assert [ ! -e "$TMPDIR/baton-orb-exit-status" ]
}

@test "persist_result: when baton fails after writing the result, the step waits to fail until it is persisted" {
  cd "$BATS_TEST_TMPDIR"
  stub baton 'echo "{}" >"$BATON_RESULT_FILE"; exit 4'
  BATON_PERSIST_RESULT=r.json run trigger_pipeline
  assert_success
  assert_output --partial 'baton exited 4; its result (r.json) is persisted first, then the step "Exit as baton did" fails the job with exit code 4'
  assert [ -f .baton-workspace/r.json ]
  run cat "$TMPDIR/baton-orb-exit-status"
  assert_output 4
  run bash "$SCRIPTS/exit-as-baton.sh"
  assert_failure 4
  assert [ ! -e "$TMPDIR/baton-orb-exit-status" ]
}

@test "persist_result: when baton fails before writing a result, the step fails at once" {
  cd "$BATS_TEST_TMPDIR"
  mkdir -p .baton-workspace && echo stale >.baton-workspace/r.json
  stub baton 'exit 2'
  BATON_PERSIST_RESULT=r.json run trigger_pipeline
  assert_failure 2
  assert [ ! -e .baton-workspace/r.json ] # a result of an earlier run is never persisted as this one's
  assert [ ! -e "$TMPDIR/baton-orb-exit-status" ]
}

@test "persist_result with dry_run is refused before baton runs" {
  BATON_PERSIST_RESULT=r.json BATON_DRY_RUN=1 run trigger_pipeline
  assert_failure 2
  assert_output --partial "persist_result r.json with dry_run: a dry run sends nothing, so there is no result to persist"
  run grep -c '^baton' "$CALLS"
  assert_output 0
}

@test "persist_result must stay inside the workspace" {
  for path in /etc/x.json ../x.json a/../../x.json; do
    BATON_PERSIST_RESULT=$path run trigger_pipeline
    assert_failure
    assert_output --partial "persist_result $path: give a path relative to the workspace, without .."
  done
  run grep -c '^baton' "$CALLS"
  assert_output 0
}

@test "with a callback the result is recorded in the workspace for pipeline-result, and wait stays off" {
  cd "$BATS_TEST_TMPDIR"
  stub baton 'printf "%s\n" "callback=$BATON_CALLBACK wait=$BATON_WAIT start=$BATON_WAIT_START result=$BATON_RESULT_FILE" >>"$CALLS"; echo "{}" >"$BATON_RESULT_FILE"'
  BATON_CALLBACK='await e2e/prod' run trigger_pipeline
  assert_success
  run grep '^callback=' "$CALLS"
  assert_output "callback=await e2e/prod wait=false start=false result=.baton-workspace/baton-callback/await_e2e_prod.json"
  assert [ -f .baton-workspace/baton-callback/await_e2e_prod.json ]
}

@test "a callback with persist_result writes both" {
  cd "$BATS_TEST_TMPDIR"
  stub baton 'echo "{}" >"$BATON_RESULT_FILE"'
  BATON_CALLBACK=await-e2e BATON_PERSIST_RESULT=baton/e2e.json run trigger_pipeline
  assert_success
  assert [ -f .baton-workspace/baton/e2e.json ]
  assert [ -f .baton-workspace/baton-callback/await-e2e.json ]
}

@test "a callback with wait is refused before baton runs" {
  BATON_CALLBACK=await-e2e BATON_WAIT_FOR=finished run trigger_pipeline
  assert_failure
  assert_output --partial "callback await-e2e: the downstream approves it when done"
  run grep -c '^baton' "$CALLS"
  assert_output 0
}
