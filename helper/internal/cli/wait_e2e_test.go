package cli_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// Workflows here last a fraction of a second of real time, so the binary can be run as users run
// it; the watcher's own logic is tested with an injected clock in package watch.
var waitConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: gh/acme/ok
    workflows:
      - name: build
        duration: 200ms
        jobs: [{name: compile}]
  - slug: gh/acme/broken
    workflows:
      - name: e2e
        duration: 200ms
        status: failed
        jobs: [{name: setup, status: success}, {name: browser-tests, status: failed}]
  - slug: gh/acme/slow
    workflows:
      - name: soak
        duration: 1h
        jobs: [{name: soak}]
  - slug: gh/acme/strict
    parameters:
      - {name: replicas, type: integer, default: 1}
    workflows:
      - {name: deploy, duration: 200ms}
`

var fast = []string{"--poll-interval", "50ms"}

func TestWaitSucceedsWithTheDownstreamPipeline(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	dir := t.TempDir()
	junit, summary := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md")
	r := w.baton(nil, append([]string{"trigger", "--project", "gh/acme/ok", "--wait", "--junit", junit, "--summary", summary}, fast...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `(?m)^triggered gh/acme/ok pipeline #1 \(default branch\): http://127\.0\.0\.1:\d+/pipelines/github/acme/ok/1$`, r.stdout)
	assert.Regexp(t, `(?m)^gh/acme/ok #1: workflow build succeeded \(\d+s\) http://127\.0\.0\.1:\d+/pipelines/github/acme/ok/1/workflows/[0-9a-f-]{36}$`, r.stdout)
	assert.Regexp(t, `(?m)^gh/acme/ok #1: succeeded after \d+s$`, r.stdout)
	assertJUnit(t, junit, 0)
	md, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Contains(t, string(md), "gh/acme/ok")
}

func TestWaitFailsWithTheDownstreamPipelineAndNamesTheJob(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := w.baton(nil, append([]string{"trigger", "--project", "gh/acme/broken", "--wait", "--junit", junit}, fast...)...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `(?m)^    job browser-tests failed http://127\.0\.0\.1:\d+/pipelines/github/acme/broken/1/workflows/[0-9a-f-]{36}/jobs/\d+$`, r.stdout)
	assert.Regexp(t, `(?m)^gh/acme/broken #1: workflow e2e failed \(\d+s\) http://\S+$`, r.stdout, "the workflow's line does not repeat the jobs named below it")
	assert.Regexp(t, `(?m)^gh/acme/broken #1: failed after \d+s$`, r.stdout, "the reason is not repeated")
	assert.Regexp(t, `^baton: gh/acme/broken #1: failed after \d+s: workflow e2e failed \(job browser-tests failed\)\n$`, r.stderr, "the summary gives it once")
	assert.NotContains(t, r.stdout, "PROJECT", "no end table for a single project")
	assertJUnit(t, junit, 1)
}

func TestAnErroredPipelineFailsWithCircleCIsMessage(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	r := w.baton(nil, append([]string{"trigger", "--project", "gh/acme/strict", "-p", "replicas:string=3", "-p", "colour=blue", "--wait"}, fast...)...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "Unexpected argument(s): colour")
}

func TestFanOutFollowsEveryProjectAndExitsWithTheWorst(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	r := w.baton([]string{"BATON_PROJECTS=gh/acme/ok\ngh/acme/broken main # the flaky one\n"},
		append([]string{"trigger", "--project", "gh/acme/strict", "--wait"}, fast...)...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Len(t, w.sim.Pipelines(), 3)
	for _, p := range []string{"gh/acme/strict pipeline #1 \\(default branch\\)", "gh/acme/ok pipeline #1 \\(default branch\\)", "gh/acme/broken pipeline #1 \\(branch main\\)"} {
		assert.Regexp(t, `(?m)^triggered `+p+`: `, r.stdout)
	}
	assert.Contains(t, r.stderr, "1 of 3 downstream pipelines did not succeed: gh/acme/broken #1 failed")
}

// The same project on two refs is two pipelines; only the same project and ref twice is refused.
func TestFanOutMayTriggerOneProjectOnSeveralRefs(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	r := w.baton([]string{"BATON_PROJECTS=gh/acme/ok main\ngithub/acme/ok release\ngh/acme/ok tag=v1.0.0"}, "trigger")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var refs []string
	for _, p := range w.sim.Pipelines() {
		refs = append(refs, p.ProjectSlug+" "+p.Branch+p.Tag)
	}
	assert.ElementsMatch(t, []string{"gh/acme/ok main", "gh/acme/ok release", "gh/acme/ok v1.0.0"}, refs)
}

func TestATimeoutExitsFourAndCancelsWhenAsked(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	r := w.baton(nil, append([]string{"trigger", "--project", "gh/acme/slow", "--wait", "--timeout", "500ms", "--cancel-on-timeout"}, fast...)...)
	assert.Equal(t, 4, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `(?m)^gh/acme/slow #1: timed out after \d+s waiting for soak \(running\); canceled soak$`, r.stdout)
	assert.NotEmpty(t, w.requests("cancelWorkflow"), "the running workflow was canceled")
}

// signaled runs baton, sends it sig once ready says so (given what baton printed so far), and
// returns how it ended.
func (w *world) signaled(sig syscall.Signal, ready func(stdout string) bool, args ...string) (*exec.ExitError, string, string) {
	w.t.Helper()
	cmd := exec.Command(batonBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CIRCLE_TOKEN=" + token, "CIRCLECI_HOST=" + w.url}
	var stdout, stderr testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(w.t, cmd.Start())
	require.Eventually(w.t, func() bool { return ready(stdout.String()) }, 5*time.Second, 10*time.Millisecond)
	require.NoError(w.t, cmd.Process.Signal(sig))
	var exitErr *exec.ExitError
	require.ErrorAs(w.t, cmd.Wait(), &exitErr)
	assert.NotContains(w.t, stdout.String()+stderr.String(), token)
	return exitErr, stdout.String(), stderr.String()
}

// A signal ends a wait cleanly, with the signal's exit code (128 + its number, as a shell
// reports it): the pipeline's line says once that it was interrupted, by which signal, and what
// was canceled (only with --cancel-on-interrupt); the result file says the same.
func TestASignalEndsAWaitWithItsOwnExitCode(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sig    syscall.Signal
		wait   bool // baton wait on a pipeline triggered earlier, rather than trigger --wait
		cancel bool // --cancel-on-interrupt
		code   int
	}{
		{"SIGINT during trigger --wait cancels the downstream as asked and exits 130", syscall.SIGINT, false, true, 130},
		{"SIGTERM during baton wait cancels the downstream as asked and exits 143", syscall.SIGTERM, true, true, 143},
		{"SIGTERM without --cancel-on-interrupt leaves the downstream running", syscall.SIGTERM, false, false, 143},
		{"SIGINT during baton wait without --cancel-on-interrupt leaves it running", syscall.SIGINT, true, false, 130},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorldWith(t, waitConfig)
			resultFile := filepath.Join(t.TempDir(), "result.json")
			args := []string{"trigger", "--project", "gh/acme/slow", "--wait"}
			if tt.wait {
				r := w.baton(nil, "trigger", "--project", "gh/acme/slow")
				require.Equal(t, 0, r.code, r.stderr)
				args = []string{"wait", w.sim.Pipelines()[0].ID}
			}
			args = append(args, "--result-file", resultFile)
			if tt.cancel {
				args = append(args, "--cancel-on-interrupt")
			}
			running := func(stdout string) bool { return strings.Contains(stdout, "workflow soak is running") }
			exit, stdout, stderr := w.signaled(tt.sig, running, append(args, fast...)...)

			assert.Equal(t, tt.code, exit.ExitCode(), stdout+stderr)
			name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[tt.sig]
			line := `(?m)^gh/acme/slow #1: interrupted by ` + name + ` after \d+s waiting for soak \(running\)`
			if tt.cancel {
				line += `; canceled soak$`
			} else {
				line += `$`
			}
			assert.Regexp(t, line, stdout)
			assert.Equal(t, 1, strings.Count(stdout+stderr, "interrupted"), "the reason is said once")
			assert.Empty(t, stderr)
			if tt.cancel {
				assert.Len(t, w.requests("cancelWorkflow"), 1)
			} else {
				assert.Empty(t, w.requests("cancelWorkflow"))
			}
			data, err := os.ReadFile(resultFile)
			require.NoError(t, err)
			assert.Equal(t, "interrupted", gjson.GetBytes(data, "outcome").String())
			assert.Equal(t, int64(tt.code), gjson.GetBytes(data, "exit_code").Int())
			assert.Equal(t, int64(tt.code), gjson.GetBytes(data, "pipelines.0.exit_code").Int())
		})
	}
}

// CircleCI may signal the step's whole process group while the orb's script passes the signal it
// got on to baton as well, so baton gets SIGTERM twice, milliseconds apart: the second must not
// end it before its cancel request has been answered. The simulator holds that request until
// the second signal has been sent, so a baton that dies at the repeat never sees the answer.
func TestASignalArrivingTwiceStillCancelsTheDownstream(t *testing.T) {
	cfg, err := simulator.ParseConfig([]byte(waitConfig))
	require.NoError(t, err)
	sim := simulator.New(cfg)
	canceling, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/cancel") {
			close(canceling)
			<-release
		}
		sim.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)

	cmd := exec.Command(batonBin, append([]string{"trigger", "--project", "gh/acme/slow", "--wait", "--cancel-on-interrupt"}, fast...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CIRCLE_TOKEN=" + token, "CIRCLECI_HOST=" + srv.URL}
	var stdout, stderr testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "workflow soak is running") }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-canceling:
	case <-time.After(5 * time.Second):
		t.Fatal("baton sent no cancel request after SIGTERM")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(200 * time.Millisecond) // time enough for the repeat to kill a baton that does not ignore it
	close(release)

	var exitErr *exec.ExitError
	require.ErrorAs(t, cmd.Wait(), &exitErr)
	assert.Equal(t, 143, exitErr.ExitCode(), stdout.String()+stderr.String())
	assert.Regexp(t, `(?m)^gh/acme/slow #1: interrupted by SIGTERM after \d+s waiting for soak \(running\); canceled soak$`, stdout.String())
	var canceled int
	for _, r := range sim.Requests() {
		if r.Operation == "cancelWorkflow" {
			canceled++
		}
	}
	assert.Equal(t, 1, canceled, "the cancel request reached the simulator")
}

// A fan-out stops at a signal and says, per project, what became of it; it exits with the
// signal's code, whatever else was under way.
func TestAnInterruptedFanOutSaysWhatWasNotSent(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultSlow, Delay: simulator.Duration(time.Minute)}))
	arrived := func(string) bool { return len(w.sim.Faults()) == 0 } // the slow fault took the first trigger
	exit, stdout, stderr := w.signaled(syscall.SIGTERM, arrived, "trigger", "--project", "gh/acme/ok", "--project", "gh/acme/broken", "--max-parallel", "1")
	assert.Equal(t, 143, exit.ExitCode(), stdout+stderr)
	assert.Contains(t, stderr, "baton: trigger gh/acme/ok: POST /api/v2/project/gh%2Facme%2Fok/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (interrupted by SIGTERM)")
	assert.Contains(t, stderr, "baton: trigger gh/acme/broken: not sent: interrupted by SIGTERM")
	assert.Len(t, w.requests("triggerPipeline"), 1)
}

// A single trigger is one request: a signal ends it at once, as it would end curl.
func TestASignalEndsASingleTriggerAtOnce(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultSlow, Delay: simulator.Duration(time.Minute)}))
	arrived := func(string) bool { return len(w.sim.Faults()) == 0 }
	exit, stdout, stderr := w.signaled(syscall.SIGTERM, arrived, "trigger", "--project", "gh/acme/ok")
	status, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	assert.True(t, status.Signaled(), "ended by the signal, not by an exit: %v %s%s", exit, stdout, stderr)
	assert.Equal(t, syscall.SIGTERM, status.Signal())
	assert.Empty(t, stdout+stderr)
}

func TestWaitFollowsPipelinesFromAnEarlierStep(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	envFile := filepath.Join(t.TempDir(), "bash_env")
	r := w.baton(nil, "trigger", "--project", "gh/acme/ok", "--env-file", envFile)
	require.Equal(t, 0, r.code, r.stderr)
	ids, err := exec.Command("bash", "-c", `source "$1" && echo "$BATON_PIPELINE_IDS"`, "_", envFile).Output()
	require.NoError(t, err)

	r = w.baton([]string{"BATON_PIPELINE_IDS=" + strings.TrimSpace(string(ids))}, append([]string{"wait"}, fast...)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `(?m)^gh/acme/ok #1: succeeded after `, r.stdout)
}

func TestWaitRefusesWhatItCannotFollow(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	junit := filepath.Join(t.TempDir(), "x.xml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no pipeline at all", []string{"wait"}, "no pipeline to wait for"},
		{"an id that is no UUID", []string{"wait", "42"}, `pipeline id "42"`},
		{"JUnit without waiting", []string{"trigger", "--project", "gh/acme/ok", "--junit", junit}, "--junit is about waiting for the pipelines: it needs --wait or --wait-start"},
		{"a wait-only flag without waiting", []string{"trigger", "--project", "gh/acme/ok", "--timeout", "5m"}, "--timeout is about waiting"},
		{"a max interval shorter than the first", []string{"trigger", "--project", "gh/acme/ok", "--wait", "--max-interval", "1s"}, "--max-interval 1s: shorter than --poll-interval 5s"},
		{"a zero timeout", []string{"trigger", "--project", "gh/acme/ok", "--wait", "--timeout", "0s"}, "--timeout"},
		{"an unknown on-hold mode", []string{"trigger", "--project", "gh/acme/ok", "--wait", "--on-hold", "maybe"}, "--on-hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.baton(nil, tc.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
		})
	}
	assert.Empty(t, w.sim.Requests())
	assert.NoFileExists(t, junit, "refused input writes no file")
}

func (w *world) requests(operation string) []string {
	var out []string
	for _, r := range w.sim.Requests() {
		if r.Operation == operation {
			out = append(out, r.Path)
		}
	}
	return out
}

// assertJUnit parses the file as JUnit XML and counts its failures.
func assertJUnit(t *testing.T, path string, failures int) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(data, &doc), string(data))
	got := 0
	for _, s := range doc.Suites {
		require.NotEmpty(t, s.Cases)
		for _, c := range s.Cases {
			if c.Failure != nil {
				got++
			}
		}
	}
	assert.Equal(t, failures, got, string(data))
}

func TestFailFastCancelsTheOthers(t *testing.T) {
	w := newWorldWith(t, waitConfig)
	r := w.baton(nil, append([]string{"trigger", "--project", "gh/acme/slow", "--project", "gh/acme/broken", "--wait", "--fail-fast", "--timeout", "1m"}, fast...)...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.NotEmpty(t, w.requests("cancelWorkflow"), "the slow pipeline's workflow was canceled")
	assert.Contains(t, r.stdout, "gh/acme/broken #1: failed")
}
