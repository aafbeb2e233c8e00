package watch

import (
	"context"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// Defaults for the zero fields of Options.
const (
	// DefaultPollInterval is the first wait between polls, and the wait after every change.
	DefaultPollInterval = 5 * time.Second
	// DefaultMaxInterval caps the back-off while nothing changes. At 30s a 10-minute pipeline
	// costs about 25 requests, and a change is seen at most 30s late.
	DefaultMaxInterval = 30 * time.Second
	// DefaultNoWorkflowsGrace is how long a pipeline may show no workflow (or, after a setup
	// workflow succeeded, no continued workflow) before it counts as having run none. CircleCI
	// lists a created pipeline's workflows within seconds; a dynamic-config continuation adds
	// the end of the setup job, the continuation request and a second config compilation, which
	// can take most of a minute on a busy day. Two minutes covers that with room to spare and
	// still ends a pipeline whose filters excluded every workflow quickly.
	DefaultNoWorkflowsGrace = 2 * time.Minute
	// DefaultMaxErrors is how many polls in a row may fail before the watch gives up. The
	// client has already retried each request; this is about minutes of trouble, not seconds.
	DefaultMaxErrors = 5
	// cancelTimeout bounds cancelling the workflows after the caller's context ended.
	cancelTimeout = 30 * time.Second
)

// OnHold says what a workflow waiting for an approval job (status on_hold) means.
type OnHold string

// The OnHold modes.
const (
	OnHoldWait    OnHold = "wait"    // keep waiting for someone to approve (default)
	OnHoldSucceed OnHold = "succeed" // count the workflow as succeeded and stop waiting on it
	OnHoldFail    OnHold = "fail"    // count the workflow as failed
)

// Options tune Watch. The zero value watches with the defaults above.
type Options struct {
	PollInterval     time.Duration // first wait between polls, and the wait after a change; 0 → 5s
	MaxInterval      time.Duration // cap of every wait, the back-off's (×1.5 per poll without change) too; 0 → 30s
	OnHold           OnHold        // "" → OnHoldWait
	AllowNoWorkflows bool          // a pipeline that ran no workflow counts as a success
	// NoWorkflowsGrace is how long a created pipeline may list no workflow, a succeeded setup
	// workflow may go without continued workflows, or a failed workflow with automatic reruns
	// left may go without its rerun, before the watch stops waiting for them; 0 → 2m.
	NoWorkflowsGrace time.Duration
	MaxErrors        int  // failed polls in a row before giving up with the last error; 0 → 5
	AllJobs          bool // also list the jobs of workflows that did not fail (for JUnit); by default only failed and on-hold workflows' jobs are listed
	// WaitStart: stop as soon as the pipeline's workflows have started (outcome Started), or it
	// ended before that (errored, ran nothing, a setup workflow failed).
	WaitStart bool
	// CancelOnTimeout: when ctx's deadline passes, cancel every workflow still running or on
	// hold (under a fresh 30s context) before returning.
	CancelOnTimeout bool
	// CancelOnInterrupt: when ctx is canceled (not by its deadline), do the same.
	CancelOnInterrupt bool

	// Expect, when set, says how long a workflow of the pipeline's project usually runs, and how
	// much sooner it may well end, from its history (CircleCI's insights); ok false: no history.
	// Each tracker asks once per workflow name. While every workflow still running has history,
	// polls follow the expected end (package pace): sparse while it is far, dense around it.
	// nil: a History of the tracker's own when the API has insights (*circleci.Client does),
	// its requests counted in Result.Requests; give one History's Expect to many trackers to ask
	// once per project and workflow for all of them.
	Expect func(ctx context.Context, project, branch, workflow string) (expected, early time.Duration, ok bool)

	Now     func() time.Time                                 // nil → time.Now
	Sleep   func(ctx context.Context, d time.Duration) error // nil → a timer that stops early when ctx is done
	OnEvent func(Event)                                      // called on every change, from Watch's goroutine; nil → none
	// Debugf writes a line of --debug output (the times set aside as impossible); nil → the
	// API's own Debugf when it has one (*circleci.Client writes its trace), else nothing.
	Debugf func(format string, args ...any)
}

// withDefaults checks o and fills in its zero fields.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.PollInterval < 0:
		return o, exitcode.Usagef("poll interval %s is negative", o.PollInterval)
	case o.MaxInterval < 0:
		return o, exitcode.Usagef("maximum poll interval %s is negative", o.MaxInterval)
	case o.NoWorkflowsGrace < 0:
		return o, exitcode.Usagef("no-workflows grace period %s is negative", o.NoWorkflowsGrace)
	case o.MaxErrors < 0:
		return o, exitcode.Usagef("error budget %d is negative", o.MaxErrors)
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxInterval == 0 {
		o.MaxInterval = max(DefaultMaxInterval, o.PollInterval)
	}
	o.MaxInterval = max(o.MaxInterval, o.PollInterval)
	if o.NoWorkflowsGrace == 0 {
		o.NoWorkflowsGrace = DefaultNoWorkflowsGrace
	}
	if o.MaxErrors == 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	switch o.OnHold {
	case "":
		o.OnHold = OnHoldWait
	case OnHoldWait, OnHoldSucceed, OnHoldFail:
	default:
		return o, exitcode.Usagef("on-hold mode %q is not one of wait, succeed, fail", string(o.OnHold))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = circleci.Sleep
	}
	if o.OnEvent == nil {
		o.OnEvent = func(Event) {}
	}
	if o.Debugf == nil {
		o.Debugf = func(string, ...any) {}
	}
	return o, nil
}
