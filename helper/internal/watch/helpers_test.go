package watch_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// fakeClock is the one clock of a test: the simulator reads it, the watcher's Sleep and the
// client's retry waits move it. Callbacks registered with at run when it passes their time.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	hooks []hook
}

type hook struct {
	at time.Time
	f  func()
}

var epoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock and runs the callbacks whose time has come.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []func()
	keep := c.hooks[:0]
	for _, h := range c.hooks {
		if !h.at.After(c.t) {
			due = append(due, h.f)
		} else {
			keep = append(keep, h)
		}
	}
	c.hooks = keep
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// sleep moves the clock by d, in steps of at most a second and never past a hook, stopping early when ctx ends (as
// a real timer in a select would).
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	for d > 0 && ctx.Err() == nil {
		step := min(d, time.Second)
		c.mu.Lock()
		for _, h := range c.hooks {
			if until := h.at.Sub(c.t); until > 0 && until < step {
				step = until
			}
		}
		c.mu.Unlock()
		c.Advance(step)
		d -= step
	}
	return ctx.Err()
}

// after runs f once the clock has moved d from now.
func (c *fakeClock) after(d time.Duration, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks = append(c.hooks, hook{at: c.t.Add(d), f: f})
}

// env is a simulator behind an httptest server, a real client pointed at it, and one fake
// clock for both.
type env struct {
	t      *testing.T
	sim    *simulator.Simulator
	client *circleci.Client
	clock  *fakeClock

	mu     sync.Mutex
	sleeps []time.Duration // the watcher's waits, in order
	events []watch.Event
}

const token = "tok"

func newEnv(t *testing.T, config string) *env {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(config))
	require.NoError(t, err)
	clock := &fakeClock{t: epoch}
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := circleci.New(circleci.Config{
		Host: srv.URL, Token: token, HTTPClient: srv.Client(),
		Retry: circleci.RetryPolicy{Jitter: func(d time.Duration) time.Duration { return d }},
		Sleep: clock.sleep,
		Now:   clock.Now, // the request budget's clock too
	})
	require.NoError(t, err)
	return &env{t: t, sim: sim, client: client, clock: clock}
}

// trigger creates a pipeline of slug through the API and returns its ID.
func (e *env) trigger(slug, body string) string {
	e.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	created, err := e.client.TriggerPipeline(context.Background(), slug, b)
	require.NoError(e.t, err)
	return created.ID
}

// options are the defaults with the fake clock, a recorded Sleep that moves it, and recorded
// events.
func (e *env) options() watch.Options {
	return watch.Options{
		Now: e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return e.clock.sleep(ctx, d)
		},
		OnEvent: func(ev watch.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		},
	}
}

func (e *env) recordedSleeps() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sleeps)
}

func (e *env) recordedEvents() []watch.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// messages are the events as "kind: message" lines.
func (e *env) messages() []string {
	var out []string
	for _, ev := range e.recordedEvents() {
		out = append(out, ev.Kind+": "+ev.Message)
	}
	return out
}

// requests are the simulator's recorded requests of one operation ("" for all).
func (e *env) requests(op string) []simulator.Request {
	var out []simulator.Request
	for _, r := range e.sim.Requests() {
		if op == "" || r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

// deadlineCtx is a context whose deadline passes when the test says so (on the fake clock),
// with the error a real deadline gives.
type deadlineCtx struct {
	context.Context
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newDeadlineCtx() *deadlineCtx {
	return &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *deadlineCtx) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = context.DeadlineExceeded
		close(c.done)
	}
}

// simFault is a status fault on op, times times (-1: forever).
func simFault(op string, status, times int) simulator.Fault {
	return simulator.Fault{Operation: op, Kind: simulator.FaultStatus, Status: status, Times: times}
}
