package follow_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/watch"
)

var epoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// env is the simulator and a client on one hand-moved clock: every Sleep moves it.
type env struct {
	t      *testing.T
	sim    *simulator.Simulator
	client *circleci.Client
	clock  *testkit.Clock

	mu     sync.Mutex
	events []follow.Event
	done   map[int]*watch.Result
}

func newEnv(t *testing.T, projects string) *env {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte("tokens: [{token: tok, login: octocat}]\nprojects:\n" + projects))
	require.NoError(t, err)
	clock := testkit.NewClock(epoch)
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := circleci.New(circleci.Config{Host: srv.URL, Token: "tok", HTTPClient: srv.Client(), Sleep: clock.Sleep, Now: clock.Now})
	require.NoError(t, err)
	return &env{t: t, sim: sim, client: client, clock: clock, done: map[int]*watch.Result{}}
}

func (e *env) trigger(slug string) string {
	e.t.Helper()
	created, err := e.client.TriggerPipeline(context.Background(), slug, nil)
	require.NoError(e.t, err)
	return created.ID
}

// options record events and results, on the env's clock, with no randomness unless asked.
func (e *env) options() follow.Options {
	return follow.Options{
		Now:   e.clock.Now,
		Sleep: e.clock.Sleep,
		Rand:  func() float64 { return 0.5 },
		OnEvent: func(ev follow.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		},
		OnDone: func(key int, res *watch.Result, err error) {
			require.NoError(e.t, err)
			e.mu.Lock()
			defer e.mu.Unlock()
			e.done[key] = res
		},
	}
}

func (e *env) kinds(kind string) []follow.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []follow.Event
	for _, ev := range e.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) requests(op string) []simulator.Request {
	var out []simulator.Request
	for _, r := range e.sim.Requests() {
		if r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

func projects(n int, workflows string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - slug: gh/acme/p%d\n    workflows: %s\n", i, workflows)
	}
	return b.String()
}

func TestOneLoopFollowsEveryPipelineToItsEnd(t *testing.T) {
	const n = 100
	e := newEnv(t, projects(n-1, "[{name: build, duration: 4m}]")+
		"  - slug: gh/acme/broken\n    workflows: [{name: e2e, duration: 2m, status: failed}]\n")
	ids := make([]string, n)
	for i := range n - 1 {
		ids[i] = e.trigger(fmt.Sprintf("gh/acme/p%d", i))
	}
	ids[n-1] = e.trigger("gh/acme/broken")

	before := runtime.NumGoroutine()
	peak := 0
	o := e.options()
	record := o.OnEvent
	o.OnEvent = func(ev follow.Event) {
		peak = max(peak, runtime.NumGoroutine())
		record(ev)
	}
	s := follow.New(e.client, o)
	for i, id := range ids {
		s.Add(follow.Pipeline{Key: i, ID: id, Label: fmt.Sprint(i)})
	}
	s.Close()
	s.Run(context.Background())

	require.Len(t, e.done, n)
	for i := range n - 1 {
		assert.Equal(t, watch.Success, e.done[i].Outcome, i)
	}
	assert.Equal(t, watch.Failed, e.done[n-1].Outcome)
	assert.Greater(t, peak, 0)
	// Each poll in flight costs its goroutine and, here, an HTTP connection's (server, reader,
	// writer): a bound that does not grow with the pipelines.
	assert.Less(t, peak, before+4*follow.MaxPolls+10, "a hundred pipelines cost no goroutine each")
}

// The budget of one pipeline does not grow with the fan-out: the scheduler polls each pipeline
// as its own state machine says, whatever the others do.
func TestAPipelineCostsAsManyRequestsInAFanOutAsAlone(t *testing.T) {
	cost := func(n int) float64 {
		e := newEnv(t, projects(n, "[{name: build, duration: 10m}]"))
		s := follow.New(e.client, e.options())
		for i := range n {
			s.Add(follow.Pipeline{Key: i, ID: e.trigger(fmt.Sprintf("gh/acme/p%d", i))})
		}
		s.Close()
		s.Run(context.Background())
		require.Len(t, e.done, n)
		return float64(len(e.sim.Requests())-n) / float64(n) // less the triggers
	}
	one, many := cost(1), cost(40)
	assert.InEpsilon(t, one, many, 0.1, "requests per pipeline: alone %.1f, among 40 %.1f", one, many)
	assert.Less(t, one, 40.0)
}

// Pipelines added together are not polled together.
func TestPollsOfManyPipelinesAreSpreadOut(t *testing.T) {
	const n = 20
	e := newEnv(t, projects(n, "[{name: build, duration: 1m}]"))
	o := e.options()
	k := 0
	o.Rand = func() float64 { k++; return float64(k%97) / 97 } // a spread, not a constant
	s := follow.New(e.client, o)
	for i := range n {
		s.Add(follow.Pipeline{Key: i, ID: e.trigger(fmt.Sprintf("gh/acme/p%d", i))})
	}
	s.Close()
	s.Run(context.Background())
	seen := map[time.Time]int{}
	for _, r := range e.requests("getPipelineById") {
		seen[r.Time]++
	}
	for at, count := range seen {
		assert.Equal(t, 1, count, "%d first polls at %s", count, at)
	}
	assert.Len(t, seen, n)
}

func TestTheHeartbeatSaysWhatIsStillRunning(t *testing.T) {
	e := newEnv(t, `  - slug: gh/acme/e2e
    workflows: [{name: browser, duration: 10m}, {name: lint, duration: 1m}]
  - slug: gh/acme/api
    workflows: [{name: build, duration: 4m}]
`)
	o := e.options()
	o.Total = 3 // one more the caller has not added: a fan-out whose trigger failed
	s := follow.New(e.client, o)
	s.Add(follow.Pipeline{Key: 0, ID: e.trigger("gh/acme/e2e"), Label: "gh/acme/e2e #1"})
	s.Add(follow.Pipeline{Key: 1, ID: e.trigger("gh/acme/api"), Label: "gh/acme/api #1"})
	s.Close()
	s.Run(context.Background())

	var lines []string
	for _, ev := range e.kinds(follow.EventHeartbeat) {
		lines = append(lines, ev.Time.Sub(epoch).String()+" "+ev.Message)
	}
	assert.Equal(t, []string{
		"3m0s still waiting on 2 of 3: gh/acme/e2e #1 (workflow browser running 3m), gh/acme/api #1 (workflow build running 3m)",
		"6m0s still waiting on 1 of 3: gh/acme/e2e #1 (workflow browser running 6m)",
		"9m0s still waiting on 1 of 3: gh/acme/e2e #1 (workflow browser running 9m)",
	}, lines)
}

func TestAHeartbeatLineStaysALine(t *testing.T) {
	const n = 60
	e := newEnv(t, projects(n, "[{name: a-rather-long-workflow-name, duration: 5m}]"))
	o := e.options()
	o.Heartbeat = time.Minute
	s := follow.New(e.client, o)
	for i := range n {
		s.Add(follow.Pipeline{Key: i, ID: e.trigger(fmt.Sprintf("gh/acme/p%d", i)), Label: fmt.Sprintf("gh/acme/p%d #1", i)})
	}
	s.Close()
	s.Run(context.Background())
	beats := e.kinds(follow.EventHeartbeat)
	require.NotEmpty(t, beats)
	first := beats[0]
	assert.Len(t, first.Waiting, n)
	assert.LessOrEqual(t, len(first.Message), 330)
	assert.True(t, strings.HasPrefix(first.Message, "still waiting on 60 of 60: gh/acme/p0 #1 (workflow a-rather-long-workflow-name running"), first.Message)
	assert.Regexp(t, `, … and \d+ more$`, first.Message)
}

type stopBy string

func (s stopBy) Error() string      { return string(s) }
func (s stopBy) StopReason() string { return string(s) }

// A --fail-fast-like cause stops every pipeline, and each one added afterwards, until Close.
func TestAStopStopsEveryPipelineAndThoseAddedLater(t *testing.T) {
	e := newEnv(t, projects(3, "[{name: build, duration: 10m}]"))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	o := e.options()
	o.OnEvent = func(ev follow.Event) {
		if ev.Kind == watch.EventWorkflow && ev.Workflow.Status == "running" && ev.Key == 1 {
			cancel(stopBy("canceled by --fail-fast after gh/acme/x failed"))
		}
	}
	s := follow.New(e.client, o)
	s.Add(follow.Pipeline{Key: 0, ID: e.trigger("gh/acme/p0")})
	s.Add(follow.Pipeline{Key: 1, ID: e.trigger("gh/acme/p1")})
	late := e.trigger("gh/acme/p2")
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-ctx.Done()
	s.Add(follow.Pipeline{Key: 2, ID: late})
	s.Close()
	<-done
	require.Len(t, e.done, 3)
	for i := range 3 {
		assert.Equal(t, watch.Canceled, e.done[i].Outcome, i)
		assert.Contains(t, e.done[i].Reason, "canceled by --fail-fast after gh/acme/x failed", i)
	}
	assert.Len(t, e.requests("cancelWorkflow"), 3, "every pipeline's workflow was canceled, the late one's too")
}

// A pipeline added while the loop sleeps with nothing to do is followed at once (real clock).
func TestAPipelineAddedWhileTheLoopSleepsIsFollowed(t *testing.T) {
	cfg, err := simulator.ParseConfig([]byte("tokens: [{token: tok}]\nprojects:\n  - slug: gh/acme/quick\n    workflows: [{name: b, duration: 1ms}]\n"))
	require.NoError(t, err)
	srv := httptest.NewServer(simulator.New(cfg))
	t.Cleanup(srv.Close)
	client, err := circleci.New(circleci.Config{Host: srv.URL, Token: "tok", HTTPClient: srv.Client()})
	require.NoError(t, err)
	var got *watch.Result
	s := follow.New(client, follow.Options{
		Watch:     watch.Options{PollInterval: time.Millisecond},
		Heartbeat: -1,
		OnDone:    func(_ int, res *watch.Result, _ error) { got = res },
	})
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	created, err := client.TriggerPipeline(context.Background(), "gh/acme/quick", nil)
	require.NoError(t, err)
	s.Add(follow.Pipeline{ID: created.ID})
	s.Close()
	<-done
	require.NotNil(t, got)
	assert.Equal(t, watch.Success, got.Outcome)
}

// The deadline is on the scheduler's clock, so an injected clock times the wait out as it
// moves the polls.
func TestTheDeadlineTimesOutWhatIsStillRunning(t *testing.T) {
	e := newEnv(t, projects(2, "[{name: build, duration: 10m}]")+"  - slug: gh/acme/quick\n    workflows: [{name: b, duration: 1m}]\n")
	o := e.options()
	o.Deadline = epoch.Add(5 * time.Minute)
	s := follow.New(e.client, o)
	s.Add(follow.Pipeline{Key: 0, ID: e.trigger("gh/acme/p0")})
	s.Add(follow.Pipeline{Key: 1, ID: e.trigger("gh/acme/quick")})
	s.Close()
	s.Run(context.Background())
	assert.Equal(t, watch.TimedOut, e.done[0].Outcome)
	assert.Regexp(t, `^timed out after 5m waiting for build \(running\)$`, e.done[0].Reason)
	assert.Equal(t, watch.Success, e.done[1].Outcome)
	assert.Equal(t, epoch.Add(5*time.Minute), e.clock.Now(), "not a moment later")
}
