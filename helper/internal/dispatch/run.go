package dispatch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

// DefaultMaxParallel is Options.MaxParallel when it is not positive.
const DefaultMaxParallel = 8

// Target is one trigger of a fan-out.
type Target struct {
	Trigger *request.Trigger
	Body    []byte // nil → payload.Body(Trigger)
}

// Followed is what following a pipeline came to; the watcher's outcome satisfies it.
type Followed interface {
	ExitCode() int // 0: success
}

// Options tune Run. The zero value triggers with at most DefaultMaxParallel in flight.
type Options struct {
	// MaxParallel bounds the trigger requests in flight; ≤ 0 → DefaultMaxParallel. Following
	// takes no slot: a pipeline is handed to the Follower as soon as it is created.
	MaxParallel int
	// FailFast stops the fan-out at the first failure: a trigger error, a pipeline/run that
	// created no pipeline, or a followed pipeline that ends with an error or a non-zero exit
	// code. Targets not yet started are not triggered, and the Follower's ctx is canceled with a
	// cause that names the failure and has a StopReason method (so watch ends each pipeline as
	// canceled, cancelling its workflows). A trigger already being sent is left to land
	// (canceling it could leave a pipeline nobody knows about); its pipeline is then handed to
	// the Follower, whose ctx has already ended. A pipeline whose follow ends otherwise than
	// OK after FailFast fired is reported as a *CanceledError that keeps its own error, unless
	// it failed (exit code 1) on its own: then it is a failure like the first.
	FailFast bool
	// Trigger tunes each target's Trigger; its Now also stamps Outcome.Started and Finished.
	Trigger TriggerOptions
	// Follower, when set, follows every created pipeline (package follow's scheduler does it,
	// through the CLI); its results become Outcome.Followed and Outcome.Err. nil: trigger only.
	Follower Follower
	// OnTriggered, when set, is told of each trigger (target i) as it lands, before it is followed,
	// created or not (Triggered.NotCreated). Run makes the calls one at a time, in landing order,
	// so it need not be safe for concurrent use; it should return quickly, since a target
	// landing meanwhile waits for it. It is never called after Run returns.
	OnTriggered func(i int, t Target, tr *Triggered)
}

// Follower follows the pipelines of a Run, all at once. Run calls Follow once, in a goroutine
// of its own, and sends it each created pipeline as it lands, even one that lands after FailFast
// fired (ctx has then ended: the pipeline should be stopped and its workflows canceled); the
// channel is closed once every target is triggered or skipped. Follow calls done once for each
// pipeline it received, as it ends (one call at a time), and returns once it has for all.
type Follower interface {
	Follow(ctx context.Context, created <-chan Created, done func(c Created, f Followed, err error))
}

// Created is a pipeline a Run created, handed to its Follower.
type Created struct {
	Index     int // the target's index
	Target    Target
	Triggered *Triggered // Creation is never nil
}

// Outcome is what became of one target.
type Outcome struct {
	Target    Target
	Triggered *Triggered // nil when it was not triggered, or triggering failed
	Followed  Followed   // nil without Options.Follow, or when Follow returned none
	// Err is why the target failed, or nil. Errors from triggering read "trigger SLUG: …", a
	// pipeline/run that created no pipeline is one of them (exit code 3); Follow's errors are
	// kept as Follow returned them; a target stopped by FailFast has a *CanceledError.
	Err error
	// Started is when the target got its trigger slot (zero when it never did); Finished is
	// when it was settled: triggered (without a Follower), failed, or followed to its end.
	Started, Finished time.Time
}

// ExitCode is the outcome's exit code: Err's (exitcode.Of) when there is one, else Followed's,
// else 0.
func (o Outcome) ExitCode() int {
	switch {
	case o.Err != nil:
		return exitcode.Of(o.Err)
	case o.Followed != nil:
		return o.Followed.ExitCode()
	}
	return exitcode.OK
}

// CanceledError is the error of a target stopped because another one failed first, with
// Options.FailFast.
type CanceledError struct {
	Project string // the target's project
	By      string // the project of the target whose failure stopped the rest
	Err     error  // what the target came to once canceled; nil when it never started
}

// Error reads "trigger gh/acme/web: not sent: canceled by --fail-fast after gh/acme/api failed"
// for a target that never started, and "gh/acme/web: canceled by --fail-fast after gh/acme/api
// failed: …" with what became of one that was being followed (unless that is only the
// cancellation itself).
func (e *CanceledError) Error() string {
	why := "canceled by --fail-fast after " + e.By + " failed"
	switch {
	case e.Err == nil:
		return "trigger " + e.Project + ": not sent: " + why
	case errors.Is(e.Err, context.Canceled):
		return e.Project + ": " + why
	}
	return e.Project + ": " + why + ": " + e.Err.Error()
}

// Unwrap returns what the target came to, or context.Canceled when it never started.
func (e *CanceledError) Unwrap() error {
	if e.Err == nil {
		return context.Canceled
	}
	return e.Err
}

// ExitCode is exitcode.Canceled, which ranks below every other failure: the target that failed
// first carries the exit code that explains the run.
func (e *CanceledError) ExitCode() int { return exitcode.Canceled }

// failFast is the cancel cause of a fan-out stopped by FailFast; context.Cause gives it to a
// Follow whose ctx was canceled. It matches context.Canceled.
type failFast struct {
	index int
	by    string
}

func (f failFast) Error() string      { return "canceled by --fail-fast after " + f.by + " failed" }
func (f failFast) Unwrap() error      { return context.Canceled }
func (f failFast) StopReason() string { return f.Error() } // watch.StopReason: canceled, not interrupted
func (f failFast) ExitCode() int      { return exitcode.Canceled }

// Run triggers every target, with at most opts.MaxParallel trigger requests in flight, targets
// starting in order, and hands each created pipeline to opts.Follower at once. It returns when
// every target is settled, one Outcome per target, in target order. When ctx ends, the targets
// not yet started get an error saying so; those being triggered end as their Trigger does under
// ctx, and the Follower stops what it follows.
func Run(ctx context.Context, api API, targets []Target, opts Options) []Outcome {
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = DefaultMaxParallel
	}
	// Only Now is defaulted here: Trigger applies the other defaults, and applying them twice
	// would turn Resends -1 ("never") into 0 and then into the default.
	now := opts.Trigger.Now
	if now == nil {
		now = time.Now
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &runner{ctx: ctx, runCtx: runCtx, cancel: cancel, api: api, targets: targets, opts: opts,
		now: now, out: make([]Outcome, len(targets))}

	var following sync.WaitGroup
	if opts.Follower != nil {
		r.created = make(chan Created, len(targets)) // never blocks a trigger
		following.Add(1)
		go func() {
			defer following.Done()
			defer r.catch()
			opts.Follower.Follow(runCtx, r.created, r.followed)
		}()
	}
	sem := make(chan struct{}, opts.MaxParallel)
	var wg sync.WaitGroup
	i := 0
	for ; i < len(targets) && acquire(runCtx, sem); i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer r.catch()
			r.run(i, func() { <-sem })
		}(i)
	}
	for ; i < len(targets); i++ {
		r.skip(i)
	}
	wg.Wait()
	if r.created != nil {
		close(r.created)
		following.Wait()
	}
	if r.panicked != nil {
		panic(r.panicked) // re-raised in the caller's goroutine, where it can be recovered
	}
	return r.out
}

// PanicError is a panic in one target's goroutine, carried to Run's caller with its stack: a
// panic in a goroutine cannot be recovered anywhere else, and would end the process with
// whatever it held printed.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("%v\n%s", p.Value, p.Stack) }

// catch records the first panic of a target's goroutine and stops the others.
func (r *runner) catch() {
	v := recover()
	if v == nil {
		return
	}
	p := &PanicError{Value: v, Stack: debug.Stack()}
	r.panicMu.Lock()
	if r.panicked == nil {
		r.panicked = p
	}
	r.panicMu.Unlock()
	r.cancel(errors.New("a target panicked"))
}

// acquire takes a slot, or reports false once ctx has ended.
func acquire(ctx context.Context, sem chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// runner is one Run's shared state. Each goroutine writes only its own out[i].
type runner struct {
	ctx     context.Context // the caller's: triggers run under it, so FailFast never cuts one short
	runCtx  context.Context // ctx, also canceled by FailFast: waiting for a slot and following
	cancel  context.CancelCauseFunc
	api     API
	targets []Target
	opts    Options
	now     func() time.Time
	out     []Outcome
	hookMu  sync.Mutex   // serializes OnTriggered
	created chan Created // to the Follower; nil without one

	panicMu  sync.Mutex
	panicked *PanicError
}

// run triggers target i, which holds a slot until release, and hands its pipeline on. The
// slot is released only once a failure is recorded, so that FailFast starts no other target
// after it; following takes no slot. The goroutine touches out[i] no more once the pipeline is
// handed to the Follower.
func (r *runner) run(i int, release func()) {
	defer release()
	if r.runCtx.Err() != nil { // FailFast fired while the slot was being taken
		r.skip(i)
		return
	}
	t, o := r.targets[i], &r.out[i]
	o.Target = t
	o.Started = r.now()
	slug := t.Trigger.Project.String()

	tr, err := Trigger(r.ctx, r.api, t.Trigger, t.Body, r.opts.Trigger)
	if err != nil {
		o.Err = fmt.Errorf("trigger %s: %w", slug, err)
		o.Finished = r.now()
		r.failed(i)
		return
	}
	o.Triggered = tr
	r.notify(i, t, tr)
	if tr.Creation == nil {
		o.Err = exitcode.Wrap(exitcode.Refused, fmt.Errorf("trigger %s: no pipeline was created: %s", slug, tr.NotCreated))
		o.Finished = r.now()
		r.failed(i)
		return
	}
	o.Finished = r.now()
	if r.created != nil {
		r.created <- Created{Index: i, Target: t, Triggered: tr}
	}
}

// followed records how the Follower's pipeline c ended; the Follower makes these calls one at
// a time.
func (r *runner) followed(c Created, f Followed, err error) {
	i := c.Index
	o := &r.out[i]
	o.Followed, o.Err = f, err
	o.Finished = r.now()
	if o.ExitCode() == exitcode.OK {
		return
	}
	// Stopped by another target's failure, unless it failed on its own before it could be
	// stopped: a failure is a result, and keeps its code.
	if by, ok := r.stoppedBy(); ok && by != i && (err != nil || exitCodeOf(f) != exitcode.Failed) {
		if err == nil {
			err = fmt.Errorf("follow ended with exit code %d", exitCodeOf(f))
		}
		o.Err = &CanceledError{Project: r.slug(i), By: r.slug(by), Err: err}
		return
	}
	r.failed(i)
}

func exitCodeOf(f Followed) int {
	if f == nil {
		return exitcode.Internal // Follow reported neither an outcome nor an error
	}
	return f.ExitCode()
}

// skip settles target i without starting it.
func (r *runner) skip(i int) {
	t, o := r.targets[i], &r.out[i]
	o.Target = t
	o.Finished = r.now()
	slug := t.Trigger.Project.String()
	if by, ok := r.stoppedBy(); ok {
		o.Err = &CanceledError{Project: slug, By: r.slug(by)}
		return
	}
	err := fmt.Errorf("trigger %s: not sent: %w", slug, context.Cause(r.ctx))
	if errors.Is(err, context.DeadlineExceeded) && !exitcode.Coded(err) {
		err = exitcode.Wrap(exitcode.Timeout, err) // unless the caller's cause has a code of its own
	}
	o.Err = err
}

// failed records that target i failed; with FailFast the first failure stops the rest.
func (r *runner) failed(i int) {
	if r.opts.FailFast {
		r.cancel(failFast{index: i, by: r.slug(i)}) // only the first cause sticks
	}
}

// stoppedBy reports which target's failure FailFast stopped the run for.
func (r *runner) stoppedBy() (int, bool) {
	var ff failFast
	if errors.As(context.Cause(r.runCtx), &ff) {
		return ff.index, true
	}
	return 0, false
}

func (r *runner) slug(i int) string { return r.targets[i].Trigger.Project.String() }

func (r *runner) notify(i int, t Target, tr *Triggered) {
	if r.opts.OnTriggered == nil {
		return
	}
	r.hookMu.Lock()
	defer r.hookMu.Unlock()
	r.opts.OnTriggered(i, t, tr)
}
