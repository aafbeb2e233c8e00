package cli_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// Recovery from lost answers and broken servers as a user meets it: exit code, stderr and
// what was created. Each runs baton in-process against the simulator on a clock that the
// injected sleep moves, so that waits of seconds (lookups) and minutes (workflows) take none.

const recoverConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: gh/acme/deploy
    parameters:
      - {name: image, type: string, default: ""}
    workflows:
      - {name: build, duration: 10s}
`

// clockWorld is the simulator behind a test server, on a clock baton's Now and Sleep share.
type clockWorld struct {
	t     *testing.T
	sim   *simulator.Simulator
	url   string
	clock *testkit.Clock
}

func newClockWorld(t *testing.T, edit func(cfg *simulator.Config), wrap func(http.Handler) http.Handler) *clockWorld {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(recoverConfig))
	require.NoError(t, err)
	if edit != nil {
		edit(&cfg)
	}
	clock := testkit.NewClock(time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC))
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &clockWorld{t: t, sim: sim, url: srv.URL, clock: clock}
}

func (w *clockWorld) fault(f simulator.Fault) { require.NoError(w.t, w.sim.AddFault(f)) }

// baton runs a command in-process; it returns the exit code, stdout and stderr.
func (w *clockWorld) baton(args ...string) (int, string, string) {
	w.t.Helper()
	var stdout, stderr bytes.Buffer
	d := inProcess(&stdout, &stderr, map[string]string{"CIRCLE_TOKEN": token})
	d.HTTPClient = nil
	d.Now, d.Sleep = w.clock.Now, w.clock.Sleep
	code := cli.Run(append(args, "--host", w.url), d)
	assert.NotContains(w.t, stdout.String()+stderr.String(), token)
	return code, stdout.String(), stderr.String()
}

func (w *clockWorld) posts() int {
	n := 0
	for _, r := range w.sim.Requests() {
		if r.Operation == "triggerPipeline" {
			n++
		}
	}
	return n
}

const resendLine = "baton: gh/acme/deploy: the trigger's outcome was unknown and no pipeline it created showed in the project's list within 20s; sending it again (send 2)\n"

// Another run's pipeline, same token and branch, 3 s earlier, is never taken for this
// run's when this run's POST got a 502 and created nothing.
func TestAnotherRunsPipelineIsNotThisRuns(t *testing.T) {
	w := newClockWorld(t, nil, nil)
	code, _, stderr := w.baton("trigger", "--project", "gh/acme/deploy", "--branch", "main", "-p", "image=svc-a:41")
	require.Equal(t, 0, code, stderr)
	w.clock.Advance(3 * time.Second)
	w.fault(simulator.Fault{Operation: "triggerPipeline", Status: 502})
	envFile := filepath.Join(t.TempDir(), "env")
	code, _, stderr = w.baton("trigger", "--project", "gh/acme/deploy", "--branch", "main", "-p", "image=svc-b:77", "--wait", "--env-file", envFile)
	require.Equal(t, 0, code, stderr)
	pipelines := w.sim.Pipelines()
	require.Len(t, pipelines, 2)
	assert.Equal(t, "svc-b:77", pipelines[1].Parameters["image"])
	env, err := os.ReadFile(envFile)
	require.NoError(t, err)
	assert.Contains(t, string(env), pipelines[1].ID, "the env file names this run's pipeline")
	assert.NotContains(t, string(env), pipelines[0].ID, "and never the other run's")
	assert.Contains(t, stderr, resendLine)
	assert.Equal(t, 3, w.posts())
}

// A fan-out to the default branch and to "feature" of one project; one POST gets a 502
// that created nothing, the other creates its pipeline and loses the answer.
func TestFanOutToTwoBranchesOfOneProjectAfterLostAnswers(t *testing.T) {
	w := newClockWorld(t, nil, nil)
	w.fault(simulator.Fault{Operation: "triggerPipeline", Status: 502})
	w.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultLost})
	code, _, stderr := w.baton("trigger", "--projects", "gh/acme/deploy\ngh/acme/deploy feature")
	require.Equal(t, 0, code, stderr)
	var branches []string
	for _, p := range w.sim.Pipelines() {
		branches = append(branches, p.Branch)
	}
	assert.ElementsMatch(t, []string{"main", "feature"}, branches, "one pipeline on each branch, none twice")
	assert.Equal(t, 1, strings.Count(stderr, "sending it again"), stderr)
	assert.Equal(t, 3, w.posts())
}

// Nothing the project's list shows makes baton send again silently.
func TestQuirksOfTheListNeverCauseASilentResend(t *testing.T) {
	lost := simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultLost}
	for _, tc := range []struct {
		name  string
		edit  func(cfg *simulator.Config)
		fault simulator.Fault
	}{
		{"the list shows the pipeline 8s late", func(c *simulator.Config) { c.Projects[0].ListLag = simulator.Duration(8 * time.Second) }, lost},
		{"the server's clock is 40s behind", func(c *simulator.Config) { c.ClockSkew = simulator.Duration(-40 * time.Second) }, lost},
		{"the server's clock is 40s ahead", func(c *simulator.Config) { c.ClockSkew = simulator.Duration(40 * time.Second) }, lost},
		{"the branch reads refs/heads/main", func(c *simulator.Config) { c.Projects[0].BranchAsRef = true }, lost},
		{"the POST was processed, then answered 503", nil, simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultProcessed, Status: 503}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newClockWorld(t, tc.edit, nil)
			w.fault(tc.fault)
			code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/deploy", "--branch", "main")
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, "triggered gh/acme/deploy pipeline #1")
			assert.Contains(t, stderr, "pipeline #1 was found by looking it up and proven to be this trigger's, so it was not sent again")
			assert.Len(t, w.sim.Pipelines(), 1)
			assert.Equal(t, 1, w.posts())
		})
	}
	t.Run("a trigger type other than api is reported with its link, exit 5, and not sent again", func(t *testing.T) {
		w := newClockWorld(t, func(c *simulator.Config) { c.Projects[0].TriggerType = "explicit" }, nil)
		w.fault(lost)
		code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/deploy", "--branch", "main")
		assert.Equal(t, 5, code, stderr)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, "it was not sent again, and no pipeline was taken for it: #1 "+w.url+`/pipelines/github/acme/deploy/1 (its trigger type is "explicit", not "api") could be the one it created but is not proven to be; check it`)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %s", stderr)
		assert.Equal(t, 1, w.posts())
	})
}

// Exit codes keep their meaning once something was sent.
func TestExitCodesAfterSomethingWasSent(t *testing.T) {
	t.Run(`a 201 whose id is ".." is an unknown outcome, recovered and followed, never exit 2`, func(t *testing.T) {
		w := newClockWorld(t, nil, func(next http.Handler) http.Handler { return testkit.BadTriggerIDs(next, "..") })
		code, _, stderr := w.baton("trigger", "--project", "gh/acme/deploy", "--branch", "main", "--wait")
		require.Equal(t, 0, code, stderr)
		assert.Len(t, w.sim.Pipelines(), 1)
		assert.Equal(t, 1, w.posts())
	})
	t.Run("a 201 whose id is unusable, with nothing provable in the list, exits 5", func(t *testing.T) {
		w := newClockWorld(t, func(c *simulator.Config) { c.Projects[0].TriggerType = "unknown" },
			func(next http.Handler) http.Handler { return testkit.BadTriggerIDs(next, "../../me") })
		code, _, stderr := w.baton("trigger", "--project", "gh/acme/deploy", "--branch", "main")
		assert.Equal(t, 5, code, stderr)
		assert.Contains(t, stderr, "the 201 response has no usable pipeline id")
	})
	t.Run("rate-limited past --timeout exits 4", func(t *testing.T) {
		w := newClockWorld(t, nil, nil)
		w.fault(simulator.Fault{Operation: "triggerPipeline", Status: 429, RetryAfter: 120, Times: -1})
		code, _, stderr := w.baton("trigger", "--project", "gh/acme/deploy", "--wait", "--timeout", "1m")
		assert.Equal(t, 4, code, stderr)
		assert.Empty(t, w.sim.Pipelines())
	})
}

// The shipped binary, on the real clock: a POST processed and then answered 503 is found by the
// first lookup (2 s later) and never sent again; one that cannot be proven exits 5 with its link.
func TestTheBinaryLooksUpBeforeItSendsAgain(t *testing.T) {
	t.Run("processed, then 503", func(t *testing.T) {
		w := newWorld(t)
		require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultProcessed, Status: 503}))
		r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--branch", "main")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "triggered gh/acme/deploy pipeline #1")
		assert.Contains(t, r.stderr, "proven to be this trigger's, so it was not sent again")
		assert.Len(t, w.requests("triggerPipeline"), 1)
		assert.Len(t, w.sim.Pipelines(), 1)
	})
	t.Run("a candidate that cannot be proven", func(t *testing.T) {
		w := newWorldWith(t, strings.Replace(simConfig, "  - slug: gh/acme/deploy\n", "  - slug: gh/acme/deploy\n    trigger_type: explicit\n", 1))
		require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultLost}))
		r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--branch", "main")
		assert.Equal(t, 5, r.code, r.stderr)
		assert.Contains(t, r.stderr, "#1 "+w.url+`/pipelines/github/acme/deploy/1 (its trigger type is "explicit", not "api") could be the one it created but is not proven to be; check it`)
		assert.Len(t, w.requests("triggerPipeline"), 1)
	})
}
