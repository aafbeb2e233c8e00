# shellcheck disable=SC2016 # stubs in single quotes expand when they run
# The steps that run a waiting baton pass SIGTERM and SIGINT on to it: CircleCI may signal only
# the step's shell, and bash does not pass a signal on to a foreground child.

setup() {
  load helpers
  export TMPDIR=$BATS_TEST_TMPDIR
  command -v python3 >/dev/null 2>&1 || skip "python3 is not installed: it is the stub baton that catches signals"
  make_stubs
  unset BATON_WAIT_PIPELINE_IDS BATON_PIPELINE_IDS BATON_BIN BASH_ENV BATON_WAIT_FOR
  export BATON_JOB_PIPELINE_IDS=a BATON_CALLBACK_REFERENCE=ref BATON_ALLOWED_PROJECTS=gh/acme/up:approve
  # Logs how it was called, then waits; a signal is logged and ends it with 128 + its number,
  # as baton does. Python, like Go, may catch SIGINT even when started with it ignored.
  cat >"$STUBS/baton" <<'PY'
#!/usr/bin/env python3
import os, signal, sys, time
def log(line):
    with open(os.environ["CALLS"], "a") as f:
        f.write(line + "\n")
def caught(sig, _):
    log("baton got " + signal.Signals(sig).name)
    sys.exit(128 + sig)
signal.signal(signal.SIGTERM, caught)
signal.signal(signal.SIGINT, caught)
log("baton " + " ".join(sys.argv[1:]))
time.sleep(float(os.environ.get("BATON_RUNS_FOR", "30")))
sys.exit(int(os.environ.get("BATON_EXIT", "0")))
PY
  chmod +x "$STUBS/baton"
}

# signal_step SCRIPT SIGNAL runs the script as CircleCI runs a step, sends SIGNAL to its shell
# only once baton runs, and sets $status to the step's exit status.
signal_step() {
  local pid i
  # env --default-signal: a background job of a non-interactive shell starts with SIGINT
  # ignored, which a step's shell does not.
  env --default-signal=INT bash "$SCRIPTS/$1" &
  pid=$!
  for ((i = 0; i < 100; i++)); do
    grep -q '^baton ' "$CALLS" && break
    "$REAL_SLEEP" 0.05
  done
  kill -"$2" "$pid"
  status=0
  wait "$pid" || status=$?
}

@test "SIGTERM to the trigger-pipeline step reaches baton, and the step exits with baton's 143" {
  signal_step trigger-pipeline.sh TERM
  assert_equal "$status" 143
  run grep -c '^baton got SIGTERM$' "$CALLS"
  assert_output 1
}

@test "SIGINT to the trigger-pipeline step reaches baton, and the step exits with baton's 130" {
  signal_step trigger-pipeline.sh INT
  assert_equal "$status" 130
  run grep -c '^baton got SIGINT$' "$CALLS"
  assert_output 1
}

@test "SIGTERM to the wait-for-pipeline step reaches baton, and the step exits with baton's 143" {
  signal_step wait-for-pipeline.sh TERM
  assert_equal "$status" 143
  run grep -c '^baton got SIGTERM$' "$CALLS"
  assert_output 1
}

@test "SIGTERM to the callback step reaches baton, and the step exits with baton's 143" {
  signal_step callback.sh TERM
  assert_equal "$status" 143
  run grep -c '^baton got SIGTERM$' "$CALLS"
  assert_output 1
}

@test "without a signal each step exits with baton's own status" {
  local script
  for script in trigger-pipeline.sh wait-for-pipeline.sh callback.sh; do
    BATON_RUNS_FOR=0 BATON_EXIT=5 run bash "$SCRIPTS/$script"
    assert_failure 5
  done
  run grep -c '^baton got' "$CALLS"
  assert_output 0
}
