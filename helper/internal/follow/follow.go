// Package follow follows many pipelines at once with one loop: a Scheduler holds each
// pipeline's state machine (a watch.Tracker) in a min-heap ordered by when its next poll is
// due, sleeps until the earliest is due (waking early when a pipeline is added, a poll returns
// or the context ends), hands it to a small pool of at most MaxPolls polls in flight, and puts
// it back with its next due time once its poll returns. Hundreds of pipelines cost one loop, a
// heap and a few polls in flight, not a goroutine each; one slow or retrying poll delays neither
// the others nor the heartbeat. A pipeline is in the heap or in flight, never both, so its
// tracker is stepped by one goroutine at a time.
//
// Polls of many pipelines are spread out: a pipeline's first poll comes at a random point within
// the first poll interval, and every later interval is stretched or shrunk by up to a tenth at
// random, so pipelines added together do not stay in lockstep.
//
// Rendering stays out of the loop: what the trackers see, and a heartbeat on a timer saying what
// is still running (from a copy of each pipeline's state taken when its poll returned), reach
// the caller as Events through one callback, never concurrently.
//
// Files, by responsibility:
//
//   - follow.go: Scheduler, its Options and the loop.
//   - queue.go: the min-heap of due times (container/heap).
//   - heartbeat.go: the heartbeat's line.
package follow

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// Pipeline is one pipeline to follow.
type Pipeline struct {
	Key   int    // the caller's name for it, e.g. the index of its target; passed back in Events and to OnDone
	ID    string // the pipeline's ID
	Label string // how lines name it, e.g. "gh/acme/e2e #41"
}

// EventHeartbeat is the Kind of the heartbeat's Event; the others are watch's.
const EventHeartbeat = "heartbeat"

// Event is one thing for the caller to render: a watch.Event of one pipeline, or a heartbeat.
type Event struct {
	watch.Event
	Key   int    // the pipeline's (not set for a heartbeat)
	Label string // the pipeline's (not set for a heartbeat)
	// Waiting lists, for a heartbeat, the pipelines still being followed, in the order they
	// were added; Total is how many there are in all (Options.Total, or how many were added).
	Waiting []Waiting
	Total   int
}

// Waiting is one pipeline a heartbeat is still waiting on.
type Waiting struct {
	Label  string
	Detail string // what it is doing, e.g. "workflow browser running 14m"
}

// DefaultHeartbeat is the heartbeat's period when Options.Heartbeat is zero: well under the
// 10 minutes after which CircleCI ends a step that prints nothing.
const DefaultHeartbeat = 3 * time.Minute

// stopParallel bounds the pipelines being stopped (and their workflows canceled) at once when
// the context ends, so that a fan-out of a hundred is stopped in seconds, not minutes.
const stopParallel = 8

// MaxPolls bounds the polls in flight at once. A poll is a few requests that all wait on the
// client's one request budget, so more in flight would not poll faster; a few are enough that a
// pipeline whose answers are slow (the client's timeout × its retries) or a request waiting on
// the budget does not hold up every other pipeline and the heartbeat.
const MaxPolls = 4

// Options tune a Scheduler.
type Options struct {
	// Watch tunes each pipeline's tracker. Its Now and OnEvent are the scheduler's own; its
	// PollInterval (the first interval) also bounds the random delay of a first poll.
	Watch watch.Options
	// Heartbeat is the period of the heartbeat event; 0 → DefaultHeartbeat, < 0 → none.
	Heartbeat time.Duration
	// Total is how many pipelines the heartbeat says there are in all (a fan-out knows before
	// they are all added); 0 → how many were added.
	Total int
	// Deadline, when set, ends the wait at that time on the scheduler's clock: every pipeline
	// still followed is stopped as timed out (its tracker sees a context canceled with
	// context.DeadlineExceeded as the cause). On the scheduler's own clock rather than a
	// context's timer, so that an injected clock times it out as it does the polls.
	Deadline time.Time
	Now      func() time.Time                                 // nil → time.Now
	Sleep    func(ctx context.Context, d time.Duration) error // nil → a timer that stops early when ctx ends
	// Wait is how the loop waits for the next due poll, heartbeat or deadline while polls are
	// in flight (it wakes early when one returns); nil → a timer that stops early when ctx
	// ends. Unlike Sleep it is not taken to have moved the clock: a test clock whose Sleep jumps
	// at once would otherwise jump past polls still running. A test that means time to pass
	// while a poll hangs moves its clock here.
	Wait func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for the spreading of polls; nil → math/rand/v2.
	Rand func() float64
	// OnEvent renders events; called from one goroutine at a time. nil → none.
	OnEvent func(Event)
	// OnDone is told of each pipeline once it has ended, with the tracker's result and error
	// (see watch.Watch); called one at a time, never after Run returns.
	OnDone func(key int, res *watch.Result, err error)
}

// Scheduler follows pipelines. Add may be called from any goroutine, before or while Run runs;
// Close says no more will be added. Run returns once it is closed and every pipeline ended.
type Scheduler struct {
	api  watch.API
	o    Options
	emit sync.Mutex // serializes OnEvent and OnDone

	mu       sync.Mutex
	incoming []Pipeline
	added    int
	closed   bool
	wake     context.CancelFunc // ends the loop's current sleep; nil while it is not sleeping
	kick     chan struct{}      // wakes the loop once the context ended and it waits for Close

	clock   sync.Mutex
	virtual time.Time // the latest time the loop slept until; now() never goes back before it

	queue    queue
	inflight map[*entry]bool // entries being polled; the loop's, like the queue
	results  chan polled     // polls that returned
	seq      int
}

// polled is what a poll in flight hands back to the loop.
type polled struct {
	e    *entry
	next time.Duration
	done bool
	seen *watch.Result // a copy of the tracker's result, for the heartbeat
	pan  *PanicError   // the poll panicked
}

// PanicError is a panic in a poll (or a stop) of one pipeline, raised again in Run's goroutine
// with the stack where it happened: a panic in a goroutine cannot be recovered anywhere else,
// and would end the process with whatever it held printed.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("%v\n%s", p.Value, p.Stack) }

// caught turns a panic into *to; deferred by the goroutines Run starts.
func caught(to **PanicError) {
	if v := recover(); v != nil {
		*to = &PanicError{Value: v, Stack: debug.Stack()}
	}
}

// New returns a scheduler polling through api.
func New(api watch.API, opts Options) *Scheduler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = circleci.Sleep
	}
	if opts.Wait == nil {
		opts.Wait = circleci.Sleep
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Watch.PollInterval <= 0 {
		opts.Watch.PollInterval = watch.DefaultPollInterval
	}
	return &Scheduler{api: api, o: opts, kick: make(chan struct{}, 1),
		inflight: map[*entry]bool{}, results: make(chan polled, MaxPolls)}
}

// Add hands a pipeline to the scheduler; it returns at once.
func (s *Scheduler) Add(p Pipeline) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.incoming = append(s.incoming, p)
	s.added++
	s.wakeLocked()
}

// Close says no more pipelines will be added.
func (s *Scheduler) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.wakeLocked()
}

func (s *Scheduler) wakeLocked() {
	if s.wake != nil {
		s.wake()
		s.wake = nil
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// now is the scheduler's clock: Options.Now, never earlier than the time it last slept until.
// An injected Sleep that returns at once thus still moves time on, for the trackers too.
func (s *Scheduler) now() time.Time {
	now := s.o.Now()
	s.clock.Lock()
	defer s.clock.Unlock()
	if s.virtual.After(now) {
		return s.virtual
	}
	return now
}

func (s *Scheduler) sleptUntil(t time.Time) {
	s.clock.Lock()
	defer s.clock.Unlock()
	if t.After(s.virtual) {
		s.virtual = t
	}
}

// entry is one followed pipeline in the queue.
type entry struct {
	p       Pipeline
	tracker *watch.Tracker
	due     time.Time
	seq     int // order of adding: ties of due, and the heartbeat's order
	index   int // in the heap
	// seen is the tracker's result as its last poll left it: what the heartbeat reads, since
	// the tracker's own may be changing under a poll in flight.
	seen *watch.Result
}

// Run follows every pipeline added until each has ended and the scheduler is closed. When ctx
// ends, polls in flight end with it, and each pipeline is stopped as its tracker's Stop says
// (timed out, interrupted, canceled for a StopReason), and so is each added afterwards, until
// Close.
func (s *Scheduler) Run(ctx context.Context) {
	ctx, timeout := context.WithCancelCause(ctx)
	defer timeout(nil)
	nextBeat := s.now().Add(s.o.Heartbeat)
	for {
		if ctx.Err() != nil {
			s.stopAll(ctx)
			return
		}
		closed := s.takeIncoming()
		if closed && s.queue.Len() == 0 && len(s.inflight) == 0 {
			return
		}
		select {
		case r := <-s.results:
			s.returned(r)
			continue
		default:
		}
		now := s.now()
		if !s.o.Deadline.IsZero() && !now.Before(s.o.Deadline) {
			timeout(context.DeadlineExceeded)
			continue
		}
		if s.o.Heartbeat > 0 && !now.Before(nextBeat) {
			s.heartbeat(now)
			for !nextBeat.After(now) {
				nextBeat = nextBeat.Add(s.o.Heartbeat)
			}
			continue
		}
		free := len(s.inflight) < MaxPolls
		if free && s.queue.Len() > 0 && !s.queue.peek().due.After(now) {
			s.dispatch(ctx, heapPop(&s.queue))
			continue
		}
		// Nothing can start now: wait for the next poll (if the pool has room for it),
		// heartbeat or deadline, whichever comes first, for a poll to return, or for a
		// pipeline to be added. With nothing followed yet there is nothing to beat for: wait
		// until something is added, and beat a period after that.
		if s.queue.Len() == 0 && len(s.inflight) == 0 {
			s.sleep(ctx, now, time.Time{})
			nextBeat = s.now().Add(s.o.Heartbeat)
			continue
		}
		var until time.Time
		if free && s.queue.Len() > 0 {
			until = s.queue.peek().due
		}
		if s.o.Heartbeat > 0 && (until.IsZero() || nextBeat.Before(until)) {
			until = nextBeat
		}
		if !s.o.Deadline.IsZero() && (until.IsZero() || s.o.Deadline.Before(until)) {
			until = s.o.Deadline
		}
		s.sleep(ctx, now, until)
	}
}

// takeIncoming moves the added pipelines into the queue, each first poll due at a random point
// within the first poll interval, and reports whether the scheduler is closed.
func (s *Scheduler) takeIncoming() bool {
	s.mu.Lock()
	in := s.incoming
	s.incoming = nil
	closed := s.closed
	s.mu.Unlock()
	now := s.now()
	for _, p := range in {
		e := s.newEntry(p)
		if e == nil {
			continue
		}
		e.due = now.Add(time.Duration(s.o.Rand() * float64(s.o.Watch.PollInterval)))
		heapPush(&s.queue, e)
	}
	return closed
}

// newEntry builds the tracker of p; a tracker refused (bad options) is reported as done.
func (s *Scheduler) newEntry(p Pipeline) *entry {
	o := s.o.Watch
	o.Now = s.now
	o.OnEvent = func(ev watch.Event) { s.event(Event{Event: ev, Key: p.Key, Label: p.Label}) }
	t, err := watch.NewTracker(s.api, p.ID, o)
	if err != nil {
		s.done(p, t)
		return nil
	}
	s.seq++
	return &entry{p: p, tracker: t, seq: s.seq}
}

// dispatch polls e in a goroutine of its own; the loop learns of its return on s.results.
// Only this goroutine touches e's tracker until then: e is in flight, not in the queue.
func (s *Scheduler) dispatch(ctx context.Context, e *entry) {
	s.inflight[e] = true
	go func() {
		r := polled{e: e}
		defer func() { s.results <- r }()
		defer caught(&r.pan)
		r.next, r.done = e.tracker.Step(ctx)
		r.seen = snapshot(e.tracker.Result())
	}()
}

// returned takes back a pipeline whose poll returned: done, or queued for its next poll.
func (s *Scheduler) returned(r polled) {
	delete(s.inflight, r.e)
	if r.pan != nil {
		panic(r.pan)
	}
	r.e.seen = r.seen
	if r.done {
		s.done(r.e.p, r.e.tracker)
		return
	}
	spread := 0.9 + 0.2*s.o.Rand()
	r.e.due = s.now().Add(time.Duration(float64(r.next) * spread))
	heapPush(&s.queue, r.e)
}

// sleep waits from now until until (zero: until woken), returning early when a pipeline is
// added, the scheduler is closed, a poll returns (taken back before it returns) or ctx ends.
// With no poll in flight it sleeps with Options.Sleep, and time has moved to until when that
// returns; with polls in flight it waits with Options.Wait, and reads the clock again after.
func (s *Scheduler) sleep(ctx context.Context, now, until time.Time) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if len(s.incoming) > 0 || (s.closed && s.queue.Len() == 0 && len(s.inflight) == 0) {
		s.mu.Unlock()
		return
	}
	s.wake = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.wake = nil
		s.mu.Unlock()
	}()
	if len(s.inflight) == 0 {
		if until.IsZero() {
			<-wctx.Done()
			return
		}
		if err := s.o.Sleep(wctx, until.Sub(now)); err == nil {
			s.sleptUntil(until)
		}
		return
	}
	var timer chan error // nil: nothing timed, wait for a poll or a wake
	if !until.IsZero() {
		timer = make(chan error, 1)
		go func() { timer <- s.o.Wait(wctx, until.Sub(now)) }()
	}
	select {
	case r := <-s.results:
		s.returned(r)
	case <-timer:
	case <-wctx.Done():
	}
}

// stopAll stops every queued pipeline, each whose poll in flight returns without ending it
// (the poll ends with ctx, and most trackers stop themselves), then each one added until Close,
// at most stopParallel at a time.
func (s *Scheduler) stopAll(ctx context.Context) {
	sem := make(chan struct{}, stopParallel)
	var wg sync.WaitGroup
	var panicMu sync.Mutex
	var pan *PanicError // the first panic of a poll or a stop, raised again once all ended
	keep := func(p *PanicError) {
		panicMu.Lock()
		defer panicMu.Unlock()
		pan = cmp.Or(pan, p)
	}
	stop := func(e *entry) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var p *PanicError
			defer func() { keep(p) }()
			defer caught(&p)
			e.tracker.Stop(ctx)
			s.done(e.p, e.tracker)
		}()
	}
	for {
		closed := s.takeIncoming()
		for s.queue.Len() > 0 {
			stop(heapPop(&s.queue))
		}
		if closed && len(s.inflight) == 0 {
			break
		}
		select {
		case r := <-s.results:
			delete(s.inflight, r.e)
			switch {
			case r.pan != nil:
				keep(r.pan)
			case r.done:
				s.done(r.e.p, r.e.tracker)
			default:
				stop(r.e)
			}
		case <-s.kick:
		}
	}
	wg.Wait()
	if pan != nil {
		panic(pan)
	}
}

func (s *Scheduler) event(ev Event) {
	if s.o.OnEvent == nil {
		return
	}
	s.emit.Lock()
	defer s.emit.Unlock()
	s.o.OnEvent(ev)
}

func (s *Scheduler) done(p Pipeline, t *watch.Tracker) {
	if s.o.OnDone == nil {
		return
	}
	s.emit.Lock()
	defer s.emit.Unlock()
	s.o.OnDone(p.Key, t.Result(), t.Err())
}

// heartbeat emits the heartbeat event: every pipeline still followed, queued or in flight, in
// the order added, as its last poll left it.
func (s *Scheduler) heartbeat(now time.Time) {
	entries := slices.Clone([]*entry(s.queue))
	for e := range s.inflight {
		entries = append(entries, e)
	}
	entries = inOrder(entries)
	s.mu.Lock()
	total := max(s.o.Total, s.added)
	s.mu.Unlock()
	ev := Event{Total: total}
	ev.Kind, ev.Time = EventHeartbeat, now
	for _, e := range entries {
		ev.Waiting = append(ev.Waiting, Waiting{Label: e.p.Label, Detail: detail(e.seen, now)})
	}
	ev.Message = heartbeatLine(ev.Waiting, total)
	s.event(ev)
}
