package watch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// Stop ends a tracker whose context ended: timed_out when its deadline passed (or it was
// canceled with context.DeadlineExceeded as the cause, as package follow's deadline does), canceled when it
// was canceled with a cause that says so (see StopReason), interrupted otherwise. With
// CancelOnTimeout (or CancelOnInterrupt; always for a StopReason) the workflows still running or
// on hold are canceled first, under a fresh context, so the downstream does not go on alone.
// Stopping a tracker that is done does nothing.
func (w *Tracker) Stop(ctx context.Context) {
	if w.done {
		return
	}
	outcome, verb, cancel := Interrupted, "interrupted", w.o.CancelOnInterrupt
	var sr StopReason
	var sig *exitcode.Signal
	switch {
	case errors.As(context.Cause(ctx), &sig):
		verb = sig.Error() // "interrupted by SIGTERM"
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		outcome, verb, cancel = TimedOut, "timed out", w.o.CancelOnTimeout
	case errors.As(context.Cause(ctx), &sr):
		outcome, verb, cancel = Canceled, sr.StopReason(), true
	}
	reason := verb + " after " + Human(w.o.Now().Sub(w.res.Started)) + " " + w.waitingFor()
	if outcome == Canceled {
		reason = verb // "canceled by --fail-fast after gh/acme/api failed"
	}
	if cancel {
		reason += w.cancelAll(ctx)
		// The fresh list may show that the pipeline ended before it could be stopped: then
		// that is how it ended.
		if len(w.res.Canceled) == 0 && len(w.res.Workflows) > 0 {
			v := decide(snapshot{Workflows: w.res.Workflows, OnHold: w.o.OnHold, AllowNoWorkflows: w.o.AllowNoWorkflows, Grace: w.o.NoWorkflowsGrace})
			if v.Done {
				w.finish(v.Outcome, v.Reason)
				w.end()
				return
			}
		}
	}
	w.finish(outcome, reason)
	w.end()
}

// StopReason is a cancel cause (context.WithCancelCause) that ends a tracker as Canceled rather
// than interrupted, with StopReason() as its reason, cancelling the workflows still running:
// dispatch's --fail-fast is one.
type StopReason interface {
	error
	StopReason() string // e.g. "canceled by --fail-fast after gh/acme/api failed"
}

// waitingFor says what the watch was waiting for, e.g. "waiting for build (running), deploy
// (on_hold)".
func (w *Tracker) waitingFor() string {
	var open []string
	for _, l := range w.res.Workflows {
		if !terminal(l.Workflow.Status) {
			open = append(open, l.Workflow.Name+" ("+StatusText(l.Workflow.Status)+")")
		}
	}
	switch {
	case len(open) > 0:
		return "waiting for " + strings.Join(open, ", ")
	case w.await == awaitRerun:
		return "waiting for an automatic rerun"
	case w.await == awaitContinuation:
		return "waiting for the workflows a setup workflow continues to"
	case w.created:
		return "waiting for workflows to appear"
	case w.res.Pipeline != nil:
		return "waiting for pipeline #" + fmt.Sprint(w.res.Pipeline.Number) + " (" + StatusText(w.res.Pipeline.State) + ")"
	}
	return "waiting for the pipeline"
}

// cancelAll cancels every workflow that is not terminal, as listed afresh (a workflow may have
// appeared since the last poll), and then lists them once more so the result shows them
// canceled. It returns the text to add to the reason.
func (w *Tracker) cancelAll(parent context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), cancelTimeout)
	defer cancel()
	ws := w.all
	if fresh, err := w.listWorkflows(ctx); err == nil {
		ws = fresh
	}
	var done, failed []string
	for i := range ws {
		wf := &ws[i]
		if terminal(wf.Status) {
			continue
		}
		w.res.Requests++
		if err := w.api.CancelWorkflow(ctx, wf.ID); err != nil {
			failed = append(failed, wf.Name)
			w.emit(Event{Kind: EventCanceled, Workflow: wf, Err: err,
				Message: fmt.Sprintf("could not cancel workflow %s: %v", wf.Name, err)})
			continue
		}
		w.res.Canceled = append(w.res.Canceled, wf.ID)
		done = append(done, wf.Name)
	}
	if len(w.res.Canceled) > 0 {
		if after, err := w.listWorkflows(ctx); err == nil {
			ws = after
		}
	}
	if len(ws) > 0 { // the reason says what was canceled: no event per workflow
		w.all = ws
		for _, wf := range ws {
			w.statuses[wf.ID] = wf.Status
		}
		w.res.Workflows = w.withJobs(latestAttempts(ws))
	}
	var s string
	if len(done) > 0 {
		s += "; canceled " + strings.Join(done, ", ")
	}
	if len(failed) > 0 {
		s += "; could not cancel " + strings.Join(failed, ", ")
	}
	if s == "" {
		s = "; nothing left to cancel"
	}
	return s
}
