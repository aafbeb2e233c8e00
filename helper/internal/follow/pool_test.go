package follow_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// held is the client with the pipeline calls of some pipelines held until released (or their
// context ends), counting the pipelines with a call in flight.
type held struct {
	watch.API
	hold func(pipelineID string) <-chan struct{} // nil: not held

	mu         sync.Mutex
	busy       map[string]int
	peak       int  // most pipelines with a call in flight at once
	concurrent bool // one pipeline had two calls in flight at once
}

func (h *held) enter(ctx context.Context, id string) (leave func(), err error) {
	h.mu.Lock()
	if h.busy == nil {
		h.busy = map[string]int{}
	}
	h.busy[id]++
	h.concurrent = h.concurrent || h.busy[id] > 1
	h.peak = max(h.peak, len(h.busy))
	h.mu.Unlock()
	leave = func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.busy[id]--; h.busy[id] == 0 {
			delete(h.busy, id)
		}
	}
	if h.hold == nil {
		return leave, nil
	}
	if release := h.hold(id); release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			leave()
			return nil, ctx.Err()
		}
	}
	return leave, nil
}

func (h *held) GetPipeline(ctx context.Context, id string) (*circleci.Pipeline, error) {
	leave, err := h.enter(ctx, id)
	if err != nil {
		return nil, err
	}
	defer leave()
	return h.API.GetPipeline(ctx, id)
}

func (h *held) ListPipelineWorkflows(ctx context.Context, id string) ([]circleci.Workflow, error) {
	leave, err := h.enter(ctx, id)
	if err != nil {
		return nil, err
	}
	defer leave()
	return h.API.ListPipelineWorkflows(ctx, id)
}

// A pipeline whose answers hang holds up neither the other pipelines' polls nor the heartbeat.
func TestAHangingPollDelaysNeitherTheOthersNorTheHeartbeat(t *testing.T) {
	const quick = 5
	e := newEnv(t, projects(quick, "[{name: build, duration: 1m}]")+"  - slug: gh/acme/slow\n    workflows: [{name: e2e, duration: 2m}]\n")
	slow := e.trigger("gh/acme/slow")
	release := make(chan struct{})
	var hung sync.WaitGroup
	hung.Add(1)
	first := sync.OnceFunc(hung.Done)
	api := &held{API: e.client, hold: func(id string) <-chan struct{} {
		if id != slow {
			return nil
		}
		first()
		return release
	}}

	o := e.options()
	o.Wait = e.clock.Sleep // time passes while the slow poll hangs
	released := false
	doneWhileHung, beatsWhileHung := 0, 0
	record := o.OnEvent
	o.OnEvent = func(ev follow.Event) {
		record(ev)
		if ev.Kind != follow.EventHeartbeat || released {
			return
		}
		assert.Contains(t, ev.Waiting, follow.Waiting{Label: "slow", Detail: "not read yet"})
		if beatsWhileHung++; doneWhileHung == quick {
			released = true
			close(release)
		}
	}
	recordDone := o.OnDone
	o.OnDone = func(key int, res *watch.Result, err error) {
		recordDone(key, res, err)
		if key != 0 && !released {
			doneWhileHung++
		}
	}
	s := follow.New(api, o)
	s.Add(follow.Pipeline{Key: 0, ID: slow, Label: "slow"}) // polled first
	for i := range quick {
		s.Add(follow.Pipeline{Key: i + 1, ID: e.trigger(fmt.Sprintf("gh/acme/p%d", i)), Label: fmt.Sprint(i)})
	}
	s.Close()
	s.Run(context.Background())

	hung.Wait()
	assert.Equal(t, quick, doneWhileHung, "every other pipeline ended while the slow one's poll hung")
	assert.GreaterOrEqual(t, beatsWhileHung, 1)
	require.Len(t, e.done, quick+1)
	for key, res := range e.done {
		assert.Equal(t, watch.Success, res.Outcome, key)
	}
	assert.False(t, api.concurrent)
}

// At most MaxPolls polls are in flight, and a pipeline is never polled twice at once.
func TestPollsInFlightAreBoundedAndOnePerPipeline(t *testing.T) {
	const n = 12
	e := newEnv(t, projects(n, "[{name: build, duration: 2m}]"))
	var mu sync.Mutex
	var queued []chan struct{}
	h := &held{API: e.client, hold: func(string) <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		c := make(chan struct{})
		queued = append(queued, c)
		return c
	}}
	// While the loop waits with polls in flight, let held calls go one at a time.
	waiting := make(chan struct{})
	o := e.options()
	o.Wait = func(ctx context.Context, _ time.Duration) error {
		for {
			select {
			case waiting <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-waiting:
			}
			mu.Lock()
			if len(queued) > 0 {
				close(queued[0])
				queued = queued[1:]
			}
			mu.Unlock()
		}
	}()
	s := follow.New(h, o)
	for i := range n {
		s.Add(follow.Pipeline{Key: i, ID: e.trigger(fmt.Sprintf("gh/acme/p%d", i))})
	}
	s.Close()
	s.Run(context.Background())
	close(stop)

	require.Len(t, e.done, n)
	for key, res := range e.done {
		assert.Equal(t, watch.Success, res.Outcome, key)
	}
	assert.LessOrEqual(t, h.peak, follow.MaxPolls)
	assert.Greater(t, h.peak, 1, "polls of several pipelines overlapped")
	assert.False(t, h.concurrent, "a pipeline was polled twice at once")
}

// At the deadline a poll still hanging ends, and its pipeline is timed out like the others.
// (Time moves while polls are in flight here, and a wait cut short by a poll returning has moved
// the test clock all the same: what the other was last seen doing, and when, varies.)
func TestTheDeadlineEndsAHangingPoll(t *testing.T) {
	e := newEnv(t, projects(2, "[{name: build, duration: 10m}]"))
	hang := e.trigger("gh/acme/p0")
	api := &held{API: e.client, hold: func(id string) <-chan struct{} {
		if id == hang {
			return make(chan struct{}) // never released
		}
		return nil
	}}
	o := e.options()
	o.Wait = e.clock.Sleep
	o.Deadline = epoch.Add(5 * time.Minute)
	s := follow.New(api, o)
	s.Add(follow.Pipeline{Key: 0, ID: hang})
	s.Add(follow.Pipeline{Key: 1, ID: e.trigger("gh/acme/p1")})
	s.Close()
	s.Run(context.Background())
	require.Len(t, e.done, 2)
	for key, res := range e.done {
		assert.Equal(t, watch.TimedOut, res.Outcome, key)
	}
	assert.Regexp(t, `^timed out after \d+m waiting for `, e.done[0].Reason)
}

// A panic in a poll, which runs in a goroutine of its own, is raised again in Run's goroutine
// (where the CLI recovers it and prints it without the token), with the stack where it began.
func TestAPanicInAPollIsRaisedInRunsGoroutine(t *testing.T) {
	e := newEnv(t, projects(3, "[{name: build, duration: 1m}]"))
	o := e.options()
	o.OnEvent = func(ev follow.Event) {
		if ev.Key == 1 && ev.Kind == watch.EventWorkflow {
			panic("renderer bug")
		}
	}
	o.OnDone = nil
	s := follow.New(e.client, o)
	for i := range 3 {
		s.Add(follow.Pipeline{Key: i, ID: e.trigger(fmt.Sprintf("gh/acme/p%d", i))})
	}
	s.Close()
	var got any
	func() {
		defer func() { got = recover() }()
		s.Run(context.Background())
	}()
	var pe *follow.PanicError
	require.NotNil(t, got, "Run panicked")
	require.ErrorAs(t, got.(error), &pe)
	assert.Equal(t, "renderer bug", pe.Value)
	assert.Contains(t, string(pe.Stack), "watch.(*Tracker).Step")
}
