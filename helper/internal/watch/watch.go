package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// API is what the watch needs from CircleCI; *circleci.Client satisfies it. The list methods
// return every page.
type API interface {
	GetPipeline(ctx context.Context, id string) (*circleci.Pipeline, error)
	ListPipelineWorkflows(ctx context.Context, pipelineID string) ([]circleci.Workflow, error)
	ListWorkflowJobs(ctx context.Context, workflowID string) ([]circleci.Job, error)
	CancelWorkflow(ctx context.Context, id string) error
}

var _ API = (*circleci.Client)(nil)

// Watch follows the pipeline until it is done and says how it ended.
//
// It reads the pipeline until it leaves pending and setup-pending (errored ends the watch with
// the pipeline's error messages), then lists its workflows, one request per poll, until decide
// says it is done. The state "setup" (a dynamic-config setup workflow is running) already lists
// that workflow, so it is followed through the workflow list: a failed setup workflow leaves the
// pipeline in "setup" for good. While only a succeeded setup workflow is listed, each poll also
// reads the pipeline, to catch a continuation that errored.
//
// The error is nil whenever Result.Outcome is set, including timed_out and interrupted: the
// outcome is the answer, and Outcome.ExitCode its exit code. An error means the watch could not
// reach an outcome (bad options, or Options.MaxErrors polls failed in a row); its exit code is
// the last API error's. The Result is never nil and holds what was seen so far.
func Watch(ctx context.Context, api API, pipelineID string, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err == nil && pipelineID == "" {
		err = exitcode.Usagef("the pipeline ID to watch is empty")
	}
	if err != nil {
		now := time.Now()
		return &Result{PipelineID: pipelineID, Started: now, Finished: now}, err
	}
	res := &Result{PipelineID: pipelineID, Started: o.Now()}
	w := &watcher{
		api: api, o: o, res: res,
		statuses: map[string]string{}, approvals: map[string]bool{}, jobs: map[string]jobList{},
	}
	err = w.run(ctx)
	res.Finished = o.Now()
	return res, err
}

// watcher is the state of one Watch.
type watcher struct {
	api API
	o   Options
	res *Result

	pipelineState string              // last state read; "" before the first read
	created       bool                // the pipeline left pending/setup-pending: follow its workflows
	all           []circleci.Workflow // the last workflow list, every attempt
	statuses      map[string]string   // workflow ID → status last reported in an event
	approvals     map[string]bool     // workflow IDs whose approval was announced
	jobs          map[string]jobList  // workflow ID → its jobs, as listed at a status
	await         awaiting            // what the last verdict awaited…
	awaitSince    time.Time           // …since when
	fails         int                 // polls failed in a row
}

type jobList struct {
	status string // the workflow's status when they were listed
	jobs   []circleci.Job
}

// run polls until done, the context ends, or the error budget is spent.
func (w *watcher) run(ctx context.Context) error {
	var interval time.Duration
	for {
		if ctx.Err() != nil {
			return w.stop(ctx)
		}
		before := w.res.Requests
		changed, done, err := w.poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return w.stop(ctx)
			}
			w.fails++
			w.emit(Event{Kind: EventError, Err: err,
				Message: fmt.Sprintf("poll failed (%d in a row; giving up at %d): %v", w.fails, w.o.MaxErrors, err)})
			if w.fails >= w.o.MaxErrors {
				w.res.Reason = fmt.Sprintf("gave up after %d failed polls in a row: %v", w.fails, err)
				return fmt.Errorf("watch pipeline %s: giving up after %d failed polls in a row: %w", w.res.PipelineID, w.fails, err)
			}
		} else {
			w.fails = 0
		}
		if done {
			return nil
		}
		interval = nextInterval(interval, changed, w.o)
		if err := w.o.Sleep(ctx, w.napFor(interval, w.res.Requests-before)); err != nil {
			if ctx.Err() != nil {
				return w.stop(ctx)
			}
			return fmt.Errorf("watch pipeline %s: waiting between polls: %w", w.res.PipelineID, err)
		}
	}
}

// napFor is the wait before the next poll, after a poll that made calls requests. It is
// interval, made longer when the poll made several requests (job lists, a pipeline read) so that
// on average a request goes out at most every PollInterval (12 a minute by default) however busy
// the pipeline is, within MaxInterval; and made shorter so that a grace period ends at a poll
// rather than up to MaxInterval after it.
func (w *watcher) napFor(interval time.Duration, calls int) time.Duration {
	d := max(interval, min(time.Duration(calls)*w.o.PollInterval, w.o.MaxInterval))
	if w.await == awaitNothing {
		return d
	}
	if left := w.awaitSince.Add(w.o.NoWorkflowsGrace).Sub(w.o.Now()); left > 0 && left < d {
		return left
	}
	return d
}

// poll looks once: the pipeline until it is created, then its workflows. changed says whether
// anything was seen to change (which resets the back-off).
func (w *watcher) poll(ctx context.Context) (changed, done bool, err error) {
	if !w.created {
		p, err := w.getPipeline(ctx)
		if err != nil {
			return false, false, err
		}
		changed = w.observePipeline(p)
		switch p.State {
		case circleci.PipelineErrored:
			w.finish(Errored, erroredReason(p))
			return changed, true, nil
		case circleci.PipelinePending, circleci.PipelineSetupPending:
			return changed, false, nil
		}
		w.created = true // created, setup, or a state this code does not know: look at the workflows
	}
	ws, err := w.listWorkflows(ctx)
	if err != nil {
		return changed, false, err
	}
	latest := latestAttempts(ws)
	if err := w.listJobs(ctx, latest); err != nil {
		return changed, false, err // nothing is reported yet: the next poll sees the same change
	}
	w.all = ws
	changed = w.observeWorkflows(ws) || changed
	w.res.Workflows = w.withJobs(latest)

	v := w.judge(w.res.Workflows)
	if v.Await == awaitContinuation {
		// A continuation whose config does not compile errors the pipeline; nothing else shows it.
		p, err := w.getPipeline(ctx)
		if err != nil {
			return changed, false, err
		}
		changed = w.observePipeline(p) || changed
		if p.State == circleci.PipelineErrored {
			w.finish(Errored, erroredReason(p))
			return changed, true, nil
		}
	}
	if !v.Done {
		return changed, false, nil
	}
	if v.RanNothing {
		w.emit(Event{Kind: EventNoWorkflows, Message: v.Reason})
	}
	w.finish(v.Outcome, v.Reason)
	return true, true, nil
}

// judge asks decide, timing what it awaits: the grace period starts when the verdict first
// awaits something, and starts again when it awaits something else.
func (w *watcher) judge(latest []WorkflowResult) verdict {
	s := snapshot{Workflows: latest, OnHold: w.o.OnHold, AllowNoWorkflows: w.o.AllowNoWorkflows, Grace: w.o.NoWorkflowsGrace}
	v := decide(s)
	now := w.o.Now()
	if v.Await != w.await {
		w.await, w.awaitSince = v.Await, now
		return v
	}
	if v.Await != awaitNothing && now.Sub(w.awaitSince) >= w.o.NoWorkflowsGrace {
		s.GraceOver = true
		v = decide(s)
		if v.Done {
			w.await = awaitNothing
		}
	}
	return v
}

func (w *watcher) finish(o Outcome, reason string) {
	w.res.Outcome, w.res.Reason = o, reason
}

// getPipeline reads the pipeline, counting the request.
func (w *watcher) getPipeline(ctx context.Context) (*circleci.Pipeline, error) {
	w.res.Requests++
	p, err := w.api.GetPipeline(ctx, w.res.PipelineID)
	if err != nil {
		return nil, err
	}
	w.res.Pipeline = p
	return p, nil
}

// listWorkflows lists every workflow of the pipeline, counting the request.
func (w *watcher) listWorkflows(ctx context.Context) ([]circleci.Workflow, error) {
	w.res.Requests++
	return w.api.ListPipelineWorkflows(ctx, w.res.PipelineID)
}

// needsJobs reports whether a workflow with this status gets its jobs listed.
func (w *watcher) needsJobs(status string) bool {
	switch status {
	case circleci.WorkflowFailed, circleci.WorkflowError, circleci.WorkflowCanceled,
		circleci.WorkflowUnauthorized, circleci.WorkflowOnHold:
		return true
	case circleci.WorkflowSuccess, circleci.WorkflowNotRun:
		return w.o.AllJobs
	}
	return false
}

// listJobs lists the jobs of each latest attempt that reached a status needing them, once per
// workflow and status.
func (w *watcher) listJobs(ctx context.Context, latest []WorkflowResult) error {
	for _, l := range latest {
		wf := l.Workflow
		if !w.needsJobs(wf.Status) {
			continue
		}
		if have, ok := w.jobs[wf.ID]; ok && have.status == wf.Status {
			continue
		}
		w.res.Requests++
		jobs, err := w.api.ListWorkflowJobs(ctx, wf.ID)
		if err != nil {
			return err
		}
		w.jobs[wf.ID] = jobList{status: wf.Status, jobs: jobs}
	}
	return nil
}

// withJobs attaches the jobs listed at each workflow's current status.
func (w *watcher) withJobs(latest []WorkflowResult) []WorkflowResult {
	for i, l := range latest {
		if have, ok := w.jobs[l.Workflow.ID]; ok && have.status == l.Workflow.Status {
			latest[i].Jobs = have.jobs
		}
	}
	return latest
}

// observePipeline reports a change of the pipeline's state.
func (w *watcher) observePipeline(p *circleci.Pipeline) bool {
	if p.State == w.pipelineState {
		return false
	}
	w.pipelineState = p.State
	w.emit(Event{Kind: EventPipeline, Message: pipelineMessage(p)})
	return true
}

// observeWorkflows reports each workflow that appeared or changed status, and each first hold.
func (w *watcher) observeWorkflows(ws []circleci.Workflow) bool {
	changed := false
	for i := range ws {
		wf := &ws[i]
		if prev, seen := w.statuses[wf.ID]; seen && prev == wf.Status {
			continue
		}
		changed = true
		w.statuses[wf.ID] = wf.Status
		var jobs []circleci.Job
		if have, ok := w.jobs[wf.ID]; ok && have.status == wf.Status {
			jobs = have.jobs
		}
		ev := Event{Kind: EventWorkflow, Workflow: wf, Message: workflowMessage(*wf, jobs, w.o.OnHold)}
		if stateOf(*wf, w.o.OnHold) == stateFailed || stateOf(*wf, w.o.OnHold) == stateRerunDue {
			ev.FailedJobs = failedJobs(jobs)
		}
		w.emit(ev)
		if wf.Status == circleci.WorkflowOnHold && !w.approvals[wf.ID] {
			w.approvals[wf.ID] = true
			held := heldJobs(jobs)
			msg := "workflow " + wf.Name + " is waiting for an approval"
			if len(held) > 0 {
				msg = "workflow " + wf.Name + " is waiting for approval of " + jobNames(held)
			}
			switch w.o.OnHold {
			case OnHoldSucceed:
				msg += " (counted as success: not waiting)"
			case OnHoldFail:
				msg += " (counted as failure)"
			}
			w.emit(Event{Kind: EventApproval, Workflow: wf, FailedJobs: held, Message: msg})
		}
	}
	return changed
}

// emit stamps ev and hands it to the caller.
func (w *watcher) emit(ev Event) {
	ev.Time = w.o.Now()
	ev.Elapsed = ev.Time.Sub(w.res.Started)
	ev.PipelineID = w.res.PipelineID
	ev.Pipeline = w.res.Pipeline
	w.o.OnEvent(ev)
}

// pipelineMessage is the line for a pipeline's new state.
func pipelineMessage(p *circleci.Pipeline) string {
	name := fmt.Sprintf("pipeline #%d", p.Number)
	switch p.State {
	case circleci.PipelinePending:
		return name + " is pending"
	case circleci.PipelineSetupPending:
		return name + " is waiting to start its setup workflow"
	case circleci.PipelineSetup:
		return name + " is running its setup workflow"
	case circleci.PipelineCreated:
		return name + " was created"
	case circleci.PipelineErrored:
		return erroredReason(p)
	}
	return name + " is " + p.State
}

// erroredReason is "pipeline #7 errored: Unexpected argument(s): foo", with every error message.
func erroredReason(p *circleci.Pipeline) string {
	s := fmt.Sprintf("pipeline #%d errored", p.Number)
	var msgs []string
	for _, e := range p.Errors {
		if m := strings.TrimSpace(e.Message); m != "" {
			msgs = append(msgs, oneLine(m))
		}
	}
	if len(msgs) > 0 {
		s += ": " + strings.Join(msgs, "; ")
	}
	return s
}

// oneLine folds a multi-line message (config errors often are) onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// workflowMessage is the line for a workflow that appeared or changed status.
func workflowMessage(wf circleci.Workflow, jobs []circleci.Job, mode OnHold) string {
	s := "workflow " + wf.Name + " " + statusPhrase(wf.Status)
	if wf.Tag == circleci.WorkflowTagSetup {
		s = "setup " + s
	}
	if wf.AutoRerunNumber > 0 {
		s += fmt.Sprintf(" (automatic rerun %d of %d)", wf.AutoRerunNumber, wf.MaxAutoReruns)
	}
	switch stateOf(wf, mode) {
	case stateFailed, stateRerunDue:
		if failed := failedJobs(jobs); len(failed) > 0 {
			s += " (" + jobsClause(failed) + ")"
		}
		if stateOf(wf, mode) == stateRerunDue {
			s += fmt.Sprintf("; automatic rerun %d of %d is due", wf.AutoRerunNumber+1, wf.MaxAutoReruns)
		}
	case stateHeldOK:
		s += " (counted as success)"
	case stateSucceeded:
		if wf.Tag == circleci.WorkflowTagSetup {
			s += "; waiting for the workflows it continues to"
		}
	}
	return s
}
