package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// Following at scale as a user meets it: baton in-process against the simulator, both on a clock
// the injected sleep moves, so that waits of minutes take none.

const followConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: gh/acme/ok
    workflows: [{name: build, duration: 1m}]
  - slug: gh/acme/broken
    workflows:
      - name: e2e
        duration: 1m
        status: failed
        jobs: [{name: setup, status: success}, {name: browser-tests, status: failed}]
  - slug: gh/acme/slow
    workflows: [{name: soak, duration: 10m, jobs: [{name: soak}]}]
  - slug: gh/acme/stopped
    workflows:
      - {name: build, duration: 1m}
      - {name: deploy, duration: 2m, status: canceled, jobs: [{name: rollout, status: canceled}]}
  - slug: gh/acme/five
    workflows: [{name: build, duration: 5m}]
  - slug: gh/acme/strict
    parameters: [{name: replicas, type: integer, default: 1}]
    workflows: [{name: deploy, duration: 1m}]
  - slug: gh/acme/nothing
    workflows: []
  - slug: gh/acme/gated
    workflows:
      - name: deploy
        duration: 30s
        status: on_hold
        jobs: [{name: package, duration: 10s}, {name: approve, type: approval, requires: [package]}]
`

func newFollowWorld(t *testing.T) *clockWorld {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(followConfig))
	require.NoError(t, err)
	return newClockWorld(t, func(c *simulator.Config) { *c = cfg }, nil)
}

// run is clockWorld.baton with an environment and a say in the other Deps.
func (w *clockWorld) run(env map[string]string, tweak func(*cli.Deps), args ...string) (int, string, string) {
	w.t.Helper()
	var stdout, stderr bytes.Buffer
	full := map[string]string{"CIRCLE_TOKEN": token}
	for k, v := range env {
		full[k] = v
		w.t.Setenv(k, v) // kong reads the flags' variables from the process
	}
	d := inProcess(&stdout, &stderr, full)
	d.HTTPClient = nil
	d.Now, d.Sleep = w.clock.Now, w.clock.Sleep
	if tweak != nil {
		tweak(&d)
	}
	code := cli.Run(append(args, "--host", w.url), d)
	assert.NotContains(w.t, stdout.String()+stderr.String(), token)
	return code, stdout.String(), stderr.String()
}

func TestAHeartbeatSaysWhatIsStillRunning(t *testing.T) {
	w := newFollowWorld(t)
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/slow", "--wait")
	require.Equal(t, 0, code, stderr)
	beats := regexp.MustCompile(`(?m)^still waiting on 1 of 1: gh/acme/slow #1 \(workflow soak running (\d+)m\)$`).FindAllStringSubmatch(stdout, -1)
	require.Len(t, beats, 3, "one every 3 minutes of a 10-minute wait:\n%s", stdout)
	for i, b := range beats {
		assert.Equal(t, []string{"3", "6", "9"}[i], b[1])
	}

	w = newFollowWorld(t)
	code, stdout, _ = w.baton("trigger", "--project", "gh/acme/slow", "--wait", "--heartbeat", "1m")
	require.Equal(t, 0, code)
	assert.GreaterOrEqual(t, len(regexp.MustCompile(`(?m)^still waiting on 1 of 1`).FindAllString(stdout, -1)), 9, "--heartbeat sets the period")
}

type jsonResult struct {
	Outcome   string `json:"outcome"`
	ExitCode  int    `json:"exit_code"`
	Pipelines []struct {
		Project, Ref, ID, URL, State, Outcome, Reason string
		RefType                                       string `json:"ref_type"`
		Number                                        int64
		ExitCode                                      int        `json:"exit_code"`
		CreatedAt                                     *time.Time `json:"created_at"`
		FinishedAt                                    *time.Time `json:"finished_at"`
		Duration                                      float64    `json:"duration_seconds"`
		Workflows                                     []struct {
			Name, Status, URL string
			FailedJobs        []struct {
				Name, Status, URL string
				Number            int64
			} `json:"failed_jobs"`
		}
	}
}

func TestTheResultSaysHowEveryProjectEnded(t *testing.T) {
	w := newFollowWorld(t)
	dir := t.TempDir()
	resultFile, envFile := filepath.Join(dir, "result.json"), filepath.Join(dir, "env")
	code, stdout, stderr := w.run(map[string]string{"BATON_PROJECTS": "gh/acme/ok main\ngh/acme/broken\ngh/acme/missing tag=v1"}, nil,
		"trigger", "--wait", "--output", "json", "--result-file", resultFile, "--env-file", envFile)
	assert.Equal(t, 3, code, stderr)
	var res jsonResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	written, err := os.ReadFile(resultFile)
	require.NoError(t, err)
	assert.JSONEq(t, stdout, string(written))

	assert.Equal(t, 3, res.ExitCode)
	assert.Equal(t, "trigger_failed", res.Outcome, "the outcome of the project whose exit code is the run's")
	require.Len(t, res.Pipelines, 3, "every project, the one whose trigger failed too")
	ok, broken, missing := res.Pipelines[0], res.Pipelines[1], res.Pipelines[2]

	assert.Equal(t, "success", ok.Outcome)
	assert.Equal(t, "created", ok.State, "CircleCI's state as last read")
	assert.Equal(t, "main", ok.Ref)
	assert.Equal(t, "branch", ok.RefType)
	assert.Equal(t, 0, ok.ExitCode)
	assert.Equal(t, 60.0, ok.Duration, "from created_at to the end of the last workflow")
	require.NotNil(t, ok.CreatedAt)
	require.NotNil(t, ok.FinishedAt)
	assert.Equal(t, time.Minute, ok.FinishedAt.Sub(*ok.CreatedAt))
	require.Len(t, ok.Workflows, 1)
	assert.NotNil(t, ok.Workflows[0].FailedJobs, "[] rather than null")

	assert.Equal(t, "failed", broken.Outcome)
	assert.Equal(t, 1, broken.ExitCode)
	assert.Equal(t, "workflow e2e failed (job browser-tests failed)", broken.Reason)
	require.Len(t, broken.Workflows, 1)
	assert.Equal(t, "failed", broken.Workflows[0].Status)
	require.Len(t, broken.Workflows[0].FailedJobs, 1)
	job := broken.Workflows[0].FailedJobs[0]
	assert.Equal(t, "browser-tests", job.Name)
	assert.Positive(t, job.Number)
	assert.Regexp(t, `/pipelines/github/acme/broken/1/workflows/[0-9a-f-]{36}/jobs/\d+$`, job.URL)

	assert.Equal(t, "trigger_failed", missing.Outcome)
	assert.Equal(t, "v1", missing.Ref)
	assert.Equal(t, "tag", missing.RefType)
	assert.Empty(t, missing.ID)
	assert.Nil(t, missing.CreatedAt)
	assert.Contains(t, missing.Reason, "404 Project not found")
	assert.Equal(t, 3, missing.ExitCode)
	assert.NotNil(t, missing.Workflows)

	env, err := os.ReadFile(envFile)
	require.NoError(t, err)
	assert.Contains(t, string(env), "export BATON_OUTCOME_0='success'\n")
	assert.Contains(t, string(env), "export BATON_OUTCOME_1='failed'\n")
	assert.Contains(t, string(env), "export BATON_OUTCOME='trigger_failed'\n")
}

func TestFailFastCancelsTheRestAndSaysSo(t *testing.T) {
	t.Run("a downstream failure cancels the others", func(t *testing.T) {
		w := newFollowWorld(t)
		// Time moves only once both are triggered: else the hand-moved clock could run the
		// first pipeline to its end before the second trigger had landed.
		bothTriggered := func(d *cli.Deps) {
			d.Sleep = func(ctx context.Context, dur time.Duration) error {
				require.Eventually(t, func() bool { return len(w.sim.Pipelines()) == 2 }, 5*time.Second, time.Millisecond)
				return w.clock.Sleep(ctx, dur)
			}
		}
		code, stdout, stderr := w.run(nil, bothTriggered, "trigger", "--project", "gh/acme/slow", "--project", "gh/acme/broken", "--wait", "--fail-fast")
		assert.Equal(t, 1, code, stderr)
		assert.Regexp(t, `(?m)^gh/acme/slow #1: canceled by --fail-fast after gh/acme/broken failed; canceled soak$`, stdout)
		assert.Regexp(t, `(?m)^gh/acme/slow\s+#1\s+canceled\s`, stdout, "its row in the table")
		assert.Equal(t, "baton: 2 of 2 downstream pipelines did not succeed: gh/acme/slow #1 canceled, gh/acme/broken #1 failed\n", stderr)
		assert.NotContains(t, stdout, "interrupted")
	})
	t.Run("projects never sent are rows of their own", func(t *testing.T) {
		w := newFollowWorld(t)
		dir := t.TempDir()
		junit, summary := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md")
		code, stdout, stderr := w.baton("trigger", "--projects", "gh/acme/missing\ngh/acme/slow\ngh/acme/ok", "--max-parallel", "1", "--wait", "--fail-fast",
			"--junit", junit, "--summary", summary)
		assert.Equal(t, 3, code, stderr)
		assertJUnit(t, junit, 3) // each project a suite, failing with its reason
		md, err := os.ReadFile(summary)
		require.NoError(t, err)
		assert.Contains(t, string(md), "| gh/acme/ok | - | not sent | - | - |")
		assert.Regexp(t, `(?m)^gh/acme/missing\s+-\s+trigger failed\s`, stdout)
		assert.Regexp(t, `(?m)^gh/acme/slow\s+-\s+not sent\s`, stdout)
		assert.Regexp(t, `(?m)^gh/acme/ok\s+-\s+not sent\s`, stdout)
		assert.Contains(t, stdout, "gh/acme/ok: not sent: canceled by --fail-fast after gh/acme/missing failed\n")
		assert.Contains(t, stderr, "did not succeed: gh/acme/missing trigger failed, gh/acme/slow not sent, gh/acme/ok not sent")
		assert.Empty(t, w.sim.Pipelines())
	})
}

func TestWaitStartEndsWhenTheWorkflowsStart(t *testing.T) {
	w := newFollowWorld(t)
	start := w.clock.Now()
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/slow", "--wait-start", "--output", "json")
	require.Equal(t, 0, code, stderr)
	var res jsonResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, "started", res.Outcome)
	assert.Equal(t, "workflow soak started", res.Pipelines[0].Reason)
	assert.Less(t, w.clock.Now().Sub(start), time.Minute, "it did not wait for the 10-minute workflow")

	code, stdout, stderr = w.baton("trigger", "--project", "gh/acme/strict", "-p", "colour=blue", "--wait-start")
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "gh/acme/strict #1: pipeline #1 errored: Unexpected argument(s): colour")
	assert.Contains(t, stderr, "Unexpected argument(s): colour")
}

func TestSoftFailReportsAFailureButExitsZero(t *testing.T) {
	w := newFollowWorld(t)
	dir := t.TempDir()
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/broken", "--wait", "--soft-fail", "--result-file", filepath.Join(dir, "r.json"))
	assert.Equal(t, 0, code, stderr)
	assert.Regexp(t, `(?m)^gh/acme/broken #1: failed after 1m$`, stdout)
	assert.Equal(t, "baton: --soft-fail: exit 0 although gh/acme/broken #1 failed\n", stderr)
	data, err := os.ReadFile(filepath.Join(dir, "r.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"outcome": "failed"`, "the result still says how it ended")

	code, _, _ = w.baton("trigger", "--project", "gh/acme/slow", "--wait", "--soft-fail", "--timeout", "2m")
	assert.Equal(t, 4, code, "a timeout is not a downstream failure")
}

func TestWaitOnlySettingsFromTheEnvironmentAreIgnoredWithoutWaiting(t *testing.T) {
	w := newFollowWorld(t)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	code, stdout, stderr := w.run(map[string]string{"BATON_TIMEOUT": "0s", "BATON_JUNIT": junit, "BATON_HEARTBEAT": "1m", "BATON_SOFT_FAIL": "true"}, nil,
		"trigger", "--project", "gh/acme/ok")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "triggered gh/acme/ok pipeline #1")
	assert.NoFileExists(t, junit)

	for _, flag := range [][]string{{"--heartbeat", "1m"}, {"--soft-fail"}, {"--no-workflows-grace", "1m"}, {"--max-interval", "10s"}} {
		code, _, stderr = w.baton(append([]string{"trigger", "--project", "gh/acme/ok"}, flag...)...)
		assert.Equal(t, 2, code, flag)
		assert.Equal(t, "baton: "+flag[0]+" is about waiting for the pipelines: it needs --wait or --wait-start\n", stderr)
	}
}

func TestBatonWaitOnAPipelineThatEndedLongAgoSaysHowLongItRan(t *testing.T) {
	w := newFollowWorld(t)
	code, _, stderr := w.baton("trigger", "--project", "gh/acme/five")
	require.Equal(t, 0, code, stderr)
	w.clock.Advance(13 * time.Minute)
	code, stdout, stderr := w.baton("wait", w.sim.Pipelines()[0].ID)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "gh/acme/five #1: succeeded after 5m\n", stdout, "no line for what ended before the wait, and no table for one project")
}

func TestEachFactOnceInWordsPeopleUse(t *testing.T) {
	t.Run("an approval is announced once, and nothing says the pipeline was created", func(t *testing.T) {
		w := newFollowWorld(t)
		code, stdout, _ := w.baton("trigger", "--project", "gh/acme/gated", "--wait", "--timeout", "5m")
		assert.Equal(t, 4, code)
		assert.Equal(t, 1, strings.Count(stdout, "is waiting for approval of job approve"), stdout)
		assert.NotContains(t, stdout, "was created")
		assert.NotContains(t, stdout, "on_hold")
		assert.Regexp(t, `(?m)^gh/acme/gated #1: timed out after 5m waiting for deploy \(waiting for approval\)$`, stdout)
	})
	t.Run("a pipeline that runs nothing names the flag that allows it", func(t *testing.T) {
		w := newFollowWorld(t)
		code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/nothing", "--wait", "--no-workflows-grace", "30s")
		assert.Equal(t, 1, code)
		assert.Contains(t, stdout, "gh/acme/nothing #1: no workflow appeared within 30s; --allow-no-workflows counts that as a success\n")
		assert.NotContains(t, stdout+stderr, "no_workflows")
	})
}

func TestOnATerminalTheRowsAreRedrawnInPlace(t *testing.T) {
	terminal := func(d *cli.Deps) { d.Terminal = func() bool { return true } }
	w := newFollowWorld(t)
	code, stdout, stderr := w.run(nil, terminal, "trigger", "--project", "gh/acme/ok", "--project", "gh/acme/broken", "--wait")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stdout, "\x1b[2A", "the cursor moves up over the two rows to redraw them")
	assert.Regexp(t, `gh/acme/ok #1\s+triggered`, stdout, "a row per pipeline from its trigger on")
	assert.Regexp(t, `gh/acme/broken #1\s+triggered`, stdout)
	assert.Contains(t, stdout, "\r\x1b[2K", "each row is erased before it is drawn again")
	assert.Regexp(t, `gh/acme/ok #1\s+succeeded after 1m`, stdout)
	assert.Contains(t, stdout, "gh/acme/broken #1: workflow e2e: job browser-tests failed", "the failed job's link is left below the rows")
	assert.NotContains(t, stdout, "still waiting on", "the rows say it, with their clocks")
	assert.Regexp(t, `(?m)^PROJECT\s+PIPELINE\s+STATUS`, stdout, "the table follows")

	for _, env := range []map[string]string{{"CI": "true"}, {"TERM": "dumb"}} {
		_, stdout, _ = w.run(env, terminal, "trigger", "--project", "gh/acme/ok", "--wait")
		assert.NotContains(t, stdout, "\x1b[", "in CI, lines: %v", env)
		assert.Contains(t, stdout, "succeeded after 1m")
	}
}

func TestBatonWaitTakesTheOutputFlagsAndListsEveryPipeline(t *testing.T) {
	w := newFollowWorld(t)
	code, _, stderr := w.baton("trigger", "--project", "gh/acme/ok")
	require.Equal(t, 0, code, stderr)
	good, missing := w.sim.Pipelines()[0].ID, "5034460f-c7c4-4c43-9457-de07e2029e7b"
	envFile := filepath.Join(t.TempDir(), "env")
	code, stdout, stderr := w.baton("wait", good, missing, "--output", "json", "--env-file", envFile)
	assert.Equal(t, 3, code, stderr)
	var res jsonResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	require.Len(t, res.Pipelines, 2)
	assert.Equal(t, "success", res.Pipelines[0].Outcome)
	assert.Equal(t, "gh/acme/ok", res.Pipelines[0].Project)
	assert.Equal(t, good, res.Pipelines[0].ID)
	assert.Equal(t, "unknown", res.Pipelines[1].Outcome)
	assert.Equal(t, missing, res.Pipelines[1].ID)
	assert.Contains(t, res.Pipelines[1].Reason, "404")
	assert.Contains(t, stderr, "gh/acme/ok #1: workflow build succeeded", "progress goes to stderr when stdout is the JSON")
	env, err := os.ReadFile(envFile)
	require.NoError(t, err)
	assert.Contains(t, string(env), "export BATON_OUTCOME='unknown'\n")
}

// A downstream canceled (by someone, in CircleCI) exits 6, not 1; a failure beside it wins.
func TestACanceledDownstreamExitsSix(t *testing.T) {
	for _, tt := range []struct {
		name     string
		projects []string
		code     int
		outcome  string
		stderr   string
	}{
		{"one canceled pipeline", []string{"gh/acme/stopped"}, 6, "canceled",
			"baton: gh/acme/stopped #1: workflow deploy was canceled\n"},
		{"a canceled pipeline beside one that succeeded", []string{"gh/acme/ok", "gh/acme/stopped"}, 6, "canceled",
			"baton: 1 of 2 downstream pipelines did not succeed: gh/acme/stopped #1 canceled\n"},
		{"a failed pipeline beside a canceled one: the failure wins", []string{"gh/acme/stopped", "gh/acme/broken"}, 1, "failed",
			"baton: 2 of 2 downstream pipelines did not succeed: gh/acme/stopped #1 canceled, gh/acme/broken #1 failed\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newFollowWorld(t)
			args := []string{"trigger", "--wait", "--output", "json"}
			for _, p := range tt.projects {
				args = append(args, "--project", p)
			}
			code, stdout, stderr := w.baton(args...)
			assert.Equal(t, tt.code, code, stderr)
			var res jsonResult
			require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
			assert.Equal(t, tt.outcome, res.Outcome)
			assert.Equal(t, tt.code, res.ExitCode)
			for _, p := range res.Pipelines {
				if p.Project == "gh/acme/stopped" {
					assert.Equal(t, "canceled", p.Outcome)
					assert.Equal(t, 6, p.ExitCode)
					assert.Equal(t, "workflow deploy was canceled", p.Reason)
				}
			}
			assert.True(t, strings.HasSuffix(stderr, tt.stderr), stderr)
		})
	}
	t.Run("--soft-fail lets a canceled pipeline pass", func(t *testing.T) {
		w := newFollowWorld(t)
		code, _, stderr := w.baton("trigger", "--project", "gh/acme/stopped", "--wait", "--soft-fail")
		assert.Equal(t, 0, code, stderr)
		assert.Equal(t, "baton: --soft-fail: exit 0 although gh/acme/stopped #1 canceled\n", stderr)
	})
}

// interruptAt makes Deps whose Interruptible contexts end with sig as their cause once the
// simulated clock has moved by after, as the signal handler would end them. Time moves only
// once pipelines pipelines exist, so that no trigger is still on its way when the signal comes.
func interruptAt(w *clockWorld, pipelines int, after time.Duration, sig os.Signal) func(*cli.Deps) {
	return func(d *cli.Deps) {
		var mu sync.Mutex
		var cancels []context.CancelCauseFunc
		start := w.clock.Now()
		d.Interruptible = func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			mu.Lock()
			cancels = append(cancels, cancel)
			mu.Unlock()
			return ctx, func() { cancel(nil) }
		}
		d.Sleep = func(ctx context.Context, dur time.Duration) error {
			require.Eventually(w.t, func() bool { return len(w.sim.Pipelines()) == pipelines }, 5*time.Second, time.Millisecond)
			w.clock.Advance(dur)
			if w.clock.Now().Sub(start) >= after {
				mu.Lock()
				for _, cancel := range cancels {
					cancel(exitcode.SignalOf(sig))
				}
				mu.Unlock()
			}
			return ctx.Err()
		}
	}
}

func TestAnInterruptedRunExitsWithTheSignalsCode(t *testing.T) {
	for _, tt := range []struct {
		name      string
		sig       os.Signal
		args      []string
		pipelines int
		code      int
		stdout    string // a line of it, as a regular expression
		stderr    string // all of it
		cancel    int    // workflows canceled
	}{
		{"SIGTERM while following one pipeline, canceling it as asked", syscall.SIGTERM,
			[]string{"--project", "gh/acme/slow", "--cancel-on-interrupt"}, 1, 143,
			`gh/acme/slow #1: interrupted by SIGTERM after 3m waiting for soak \(running\); canceled soak`, "", 1},
		{"SIGINT while following one pipeline, leaving it running", syscall.SIGINT,
			[]string{"--project", "gh/acme/slow"}, 1, 130,
			`gh/acme/slow #1: interrupted by SIGINT after 3m waiting for soak \(running\)`, "", 0},
		{"SIGTERM after one pipeline of a fan-out failed: the signal is why the run stopped", syscall.SIGTERM,
			[]string{"--project", "gh/acme/broken", "--project", "gh/acme/slow", "--cancel-on-interrupt"}, 2, 143,
			`gh/acme/slow #1: interrupted by SIGTERM after [0-9ms]+ waiting for soak \(running\); canceled soak`,
			"baton: 2 of 2 downstream pipelines did not succeed: gh/acme/broken #1 failed, gh/acme/slow #1 interrupted\n", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newFollowWorld(t)
			resultFile := filepath.Join(t.TempDir(), "result.json")
			args := append([]string{"trigger", "--wait", "--result-file", resultFile}, tt.args...)
			code, stdout, stderr := w.run(nil, interruptAt(w, tt.pipelines, 3*time.Minute, tt.sig), args...)
			assert.Equal(t, tt.code, code, stdout+stderr)
			assert.Regexp(t, `(?m)^`+tt.stdout+`$`, stdout)
			assert.Equal(t, tt.stderr, stderr)
			if tt.pipelines == 1 { // a fan-out's table sums every pipeline up again below the lines
				assert.Equal(t, 1, strings.Count(stdout+stderr, "interrupted by"), "the reason is said once:\n%s", stdout)
			}
			canceled := 0
			for _, r := range w.sim.Requests() {
				if r.Operation == "cancelWorkflow" {
					canceled++
				}
			}
			assert.Equal(t, tt.cancel, canceled)
			data, err := os.ReadFile(resultFile)
			require.NoError(t, err)
			var res jsonResult
			require.NoError(t, json.Unmarshal(data, &res))
			assert.Equal(t, tt.code, res.ExitCode)
			assert.Equal(t, "interrupted", res.Outcome)
		})
	}
}
