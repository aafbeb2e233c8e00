package watch

import (
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// Every duration baton prints (progress lines, the live view's clocks, the heartbeat, the JSON
// result, JUnit, the summary) is computed here, from the API's own timestamps: a workflow that
// finished lasted from its created_at to its stopped_at, a pipeline from its created_at to its
// last workflow's stopped_at, and only what still runs is timed against the clock. A pipeline
// followed long after it ended (baton wait in a later step) thus shows how long it ran, not how
// long ago it started.

// Lasted is how long something lasted that started at start and stopped at stop (nil while it
// still runs: until now), kept within from and to, the life of its pipeline: it cannot have
// started before its pipeline was created nor ended after the pipeline did. A zero start is
// from; a zero from or to is no bound. It is never negative (the API's clock and baton's may
// disagree by a little).
func Lasted(start time.Time, stop *time.Time, now, from, to time.Time) time.Duration {
	end := now
	if stop != nil && !stop.IsZero() {
		end = *stop
	}
	if !from.IsZero() && (start.IsZero() || start.Before(from)) {
		start = from
	}
	if !to.IsZero() && end.After(to) {
		end = to
	}
	if start.IsZero() || end.IsZero() {
		return 0
	}
	return max(end.Sub(start), 0)
}

// SpanAt is the pipeline's life as seen at now: from its created_at (the watch's start when it
// was never read) to its last workflow's stopped_at once every workflow has stopped; to when it
// was last updated when it ended without running a workflow (it errored, or ran none); while
// something still runs, to now. The end is never before the start.
func (r *Result) SpanAt(now time.Time) (start, end time.Time) {
	start, end = r.Started, now
	if r.Pipeline != nil && !r.Pipeline.CreatedAt.IsZero() {
		start = r.Pipeline.CreatedAt
	}
	if last, ok := lastStop(r.Workflows); ok {
		end = last
	} else if r.endedEmpty() && r.Pipeline != nil && !r.Pipeline.UpdatedAt.IsZero() && r.Pipeline.UpdatedAt.Before(end) {
		end = r.Pipeline.UpdatedAt
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// lastStop is when the last workflow stopped, when every one of them has.
func lastStop(ws []WorkflowResult) (time.Time, bool) {
	var last time.Time
	for _, w := range ws {
		if !terminal(w.Workflow.Status) || w.Workflow.StoppedAt == nil {
			return time.Time{}, false
		}
		if w.Workflow.StoppedAt.After(last) {
			last = *w.Workflow.StoppedAt
		}
	}
	return last, !last.IsZero()
}

// endedEmpty: the pipeline is over without a workflow that ran: it errored, or it listed none.
func (r *Result) endedEmpty() bool {
	return r.Outcome == Errored || (r.Outcome == NoWorkflows || r.Outcome == Success) && len(r.Workflows) == 0
}

// Span is the pipeline's life as the watch saw it (SpanAt when the watch ended).
func (r *Result) Span() (start, end time.Time) { return r.SpanAt(r.now()) }

// Duration is the length of Span.
func (r *Result) Duration() time.Duration {
	start, end := r.Span()
	return end.Sub(start)
}

// WorkflowDuration is how long a workflow of the pipeline lasted by the time the watch ended
// (see WorkflowLasted).
func (r *Result) WorkflowDuration(wf circleci.Workflow) time.Duration {
	return r.WorkflowLasted(wf, r.now())
}

// WorkflowLasted is how long a workflow of the pipeline has lasted at now: to its stopped_at
// once it is over, else to now; within the pipeline's span.
func (r *Result) WorkflowLasted(wf circleci.Workflow, now time.Time) time.Duration {
	stop := wf.StoppedAt
	if !terminal(wf.Status) {
		stop = nil
	}
	from, to := r.SpanAt(now)
	return Lasted(wf.CreatedAt, stop, now, from, to)
}

// JobDuration is how long a job ran by the time the watch ended: from its started_at to its
// stopped_at (to the watch's end while it ran); 0 for a job that never started.
func (r *Result) JobDuration(j circleci.Job) time.Duration {
	if j.StartedAt == nil || j.StartedAt.IsZero() {
		return 0
	}
	now := r.now()
	from, to := r.SpanAt(now)
	return Lasted(*j.StartedAt, j.StoppedAt, now, from, to)
}

// PipelineLasted is how long the pipeline has lasted at now (SpanAt's length).
func (r *Result) PipelineLasted(now time.Time) time.Duration {
	start, end := r.SpanAt(now)
	return end.Sub(start)
}

// now is when the watch ended. The Result of a watch still running has no end: ask with the
// clock (SpanAt, WorkflowLasted, PipelineLasted) instead.
func (r *Result) now() time.Time { return r.Finished }
