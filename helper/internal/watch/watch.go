package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/pace"
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

// debugger is an API that writes --debug output; *circleci.Client does, into its trace.
type debugger interface {
	Debugf(format string, args ...any)
}

// Watch follows the pipeline until it is done and says how it ended: a Tracker stepped until
// it is done, sleeping between polls with Options.Sleep. Following many pipelines at once is
// package follow's job; one loop steps a Tracker per pipeline, a few polls in flight at once.
//
// The error is nil whenever Result.Outcome is set, including timed_out and interrupted: the
// outcome is the answer, and Outcome.ExitCode its exit code. An error means the watch could not
// reach an outcome (bad options, or Options.MaxErrors polls failed in a row); its exit code is
// the last API error's. The Result is never nil and holds what was seen so far.
func Watch(ctx context.Context, api API, pipelineID string, opts Options) (*Result, error) {
	t, err := NewTracker(api, pipelineID, opts)
	if err != nil {
		return t.Result(), err
	}
	for {
		next, done := t.Step(ctx)
		if done {
			break
		}
		if err := t.o.Sleep(ctx, next); err != nil {
			if ctx.Err() != nil {
				t.Stop(ctx)
				break
			}
			t.err = fmt.Errorf("watch pipeline %s: waiting between polls: %w", pipelineID, err)
			break
		}
	}
	return t.Result(), t.Err()
}

// Tracker is the state machine of one followed pipeline: each Step polls it once and says when
// to poll next, until it is done. It is not safe for concurrent use: one goroutine at a time
// steps it, and reads its Result only between steps.
//
// It reads the pipeline until it leaves pending and setup-pending (errored ends it with the
// pipeline's error messages), then lists its workflows, one request per poll, until decide says
// it is done. The state "setup" (a dynamic-config setup workflow is running) already lists that
// workflow, so it is followed through the workflow list: a failed setup workflow leaves the
// pipeline in "setup" for good. While only a succeeded setup workflow is listed, each poll also
// reads the pipeline, to catch a continuation that errored.
type Tracker struct {
	api API
	o   Options
	res *Result
	err error // why the tracker ended without an outcome

	pipelineState string                 // last state read; "" before the first read
	created       bool                   // the pipeline left pending/setup-pending: follow its workflows
	all           []circleci.Workflow    // the last workflow list, every attempt
	statuses      map[string]string      // workflow ID → status last reported in an event
	approvals     map[string]bool        // workflow IDs whose approval was announced
	jobs          map[string]jobList     // workflow ID → its jobs, as listed at a status
	await         awaiting               // what the last verdict awaited…
	awaitSince    time.Time              // …since when
	fails         int                    // polls failed in a row
	interval      time.Duration          // the last wait pace chose; 0 before the first poll
	expected      map[string]expectation // workflow name → its usual duration, asked once
	history       *History               // the tracker's own, when Options.Expect was not given
	noted         map[string]bool        // what was said in --debug output, said once
	done          bool
}

type jobList struct {
	status string // the workflow's status when they were listed
	jobs   []circleci.Job
}

// NewTracker checks opts and returns the tracker of pipeline pipelineID, not yet polled. On bad
// options it returns a tracker that is already done, whose Result is empty, with the error.
func NewTracker(api API, pipelineID string, opts Options) (*Tracker, error) {
	o, err := opts.withDefaults()
	if err == nil && pipelineID == "" {
		err = exitcode.Usagef("the pipeline ID to watch is empty")
	}
	if err != nil {
		now := time.Now()
		return &Tracker{res: &Result{PipelineID: pipelineID, Started: now, Finished: now}, err: err, done: true, o: o}, err
	}
	t := &Tracker{
		api: api, o: o, res: &Result{PipelineID: pipelineID, Started: o.Now()},
		statuses: map[string]string{}, approvals: map[string]bool{}, jobs: map[string]jobList{},
	}
	if ins, ok := api.(Insights); ok && o.Expect == nil { // a history of its own, its requests counted
		t.history = NewHistory(ins)
		t.o.Expect = t.history.Expect
	}
	if d, ok := api.(debugger); ok && opts.Debugf == nil { // the client's --debug trace
		t.o.Debugf = d.Debugf
	}
	return t, nil
}

// Result is what the tracker has found so far; final once it is done.
func (t *Tracker) Result() *Result { return t.res }

// Err is why the tracker ended without an outcome (Options.MaxErrors polls failed in a row, or
// bad options); nil otherwise.
func (t *Tracker) Err() error { return t.err }

// Done reports whether the tracker has ended.
func (t *Tracker) Done() bool { return t.done }

// Step polls once. It returns how long to wait before the next poll, or done once the pipeline
// has an outcome or the error budget is spent. When ctx has ended it stops the tracker (see
// Stop) instead of polling.
func (t *Tracker) Step(ctx context.Context) (next time.Duration, done bool) {
	if t.done {
		return 0, true
	}
	if ctx.Err() != nil {
		t.Stop(ctx)
		return 0, true
	}
	before := t.res.Requests
	changed, done, err := t.poll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			t.Stop(ctx)
			return 0, true
		}
		t.fails++
		t.emit(Event{Kind: EventError, Err: err,
			Message: fmt.Sprintf("poll failed (%d in a row; giving up at %d): %v", t.fails, t.o.MaxErrors, err)})
		if t.fails >= t.o.MaxErrors {
			t.res.Reason = fmt.Sprintf("gave up after %d failed polls in a row: %v", t.fails, err)
			t.err = fmt.Errorf("watch pipeline %s: giving up after %d failed polls in a row: %w", t.res.PipelineID, t.fails, err)
			t.end()
			return 0, true
		}
	} else {
		t.fails = 0
	}
	if done {
		t.end()
		return 0, true
	}
	t.interval = t.pace(ctx, changed)
	return t.napFor(t.interval, t.res.Requests-before), false
}

// expectation is a workflow's usual duration, as Options.Expect said.
type expectation struct {
	expected, early time.Duration
	ok              bool
}

// pace is the wait after a poll (package pace): towards the expected end of the workflow due to
// end last, when every workflow still running has history; else backing off while nothing
// changes.
func (t *Tracker) pace(ctx context.Context, changed bool) time.Duration {
	st := pace.State{Now: t.o.Now(), Last: t.interval, Changed: changed}
	limits := pace.Limits{Min: t.o.PollInterval, Max: t.o.MaxInterval}
	if t.o.Expect == nil || t.res.Pipeline == nil {
		return pace.Next(st, limits)
	}
	var end time.Time
	asked := false // at most one workflow's history a poll, so that twenty workflows starting
	// together do not cost twenty requests at once
	for _, l := range t.res.Workflows {
		wf := l.Workflow
		if terminal(wf.Status) || wf.Status == circleci.WorkflowOnHold {
			continue // over, or waiting for a person: no end to expect
		}
		e, known := t.expected[wf.Name]
		if !known && !asked {
			e, asked = t.expect(ctx, wf.Name), true
		}
		if !e.ok {
			return pace.Next(pace.State{Now: st.Now, Last: st.Last, Changed: changed}, limits)
		}
		if due := wf.CreatedAt.Add(e.expected); due.After(end) {
			end = due
			st.Start, st.Expected, st.Early = wf.CreatedAt, e.expected, e.early
		}
	}
	return pace.Next(st, limits)
}

// expect asks Options.Expect about a workflow, once.
func (t *Tracker) expect(ctx context.Context, name string) expectation {
	if t.expected == nil {
		t.expected = map[string]expectation{}
	}
	var branch string
	if vcs := t.res.Pipeline.VCS; vcs != nil {
		branch = vcs.Branch
	}
	var e expectation
	if t.history != nil {
		before := t.history.Requests()
		defer func() { t.res.Requests += t.history.Requests() - before }()
	}
	e.expected, e.early, e.ok = t.o.Expect(ctx, t.res.Pipeline.ProjectSlug, branch, name)
	e.ok = e.ok && e.expected > 0
	t.expected[name] = e
	return e
}

// end marks the tracker done.
func (t *Tracker) end() {
	t.done = true
	t.res.Finished = t.o.Now()
}

// napFor is the wait before the next poll, after a poll that made calls requests. It is
// interval, made longer when the poll made several requests (job lists, a pipeline read) so that
// on average a request goes out at most every PollInterval (12 a minute by default) however busy
// the pipeline is, within MaxInterval; and made shorter so that a grace period ends at a poll
// rather than up to MaxInterval after it.
func (w *Tracker) napFor(interval time.Duration, calls int) time.Duration {
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
func (w *Tracker) poll(ctx context.Context) (changed, done bool, err error) {
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
	w.res.Workflows = w.withJobs(latest) // before the events, whose durations read it
	changed = w.observeWorkflows(ws) || changed

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
		if started := startedWorkflows(w.res.Workflows); w.o.WaitStart && len(started) > 0 {
			w.finish(Started, startedReason(started))
			return true, true, nil
		}
		return changed, false, nil
	}
	w.finish(v.Outcome, v.Reason)
	return true, true, nil
}

// startedWorkflows are the workflows that show the pipeline started: any but a setup
// workflow, whose continuation may still fail to compile.
func startedWorkflows(latest []WorkflowResult) []WorkflowResult {
	var out []WorkflowResult
	for _, l := range latest {
		if l.Workflow.Tag != circleci.WorkflowTagSetup {
			out = append(out, l)
		}
	}
	return out
}

// startedReason is e.g. "workflow build started", "workflows build, test started".
func startedReason(ws []WorkflowResult) string {
	if len(ws) == 1 {
		return "workflow " + ws[0].Workflow.Name + " started"
	}
	return "workflows " + names(ws) + " started"
}

// judge asks decide, timing what it awaits: the grace period starts when the verdict first
// awaits something, and starts again when it awaits something else.
func (w *Tracker) judge(latest []WorkflowResult) verdict {
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

func (w *Tracker) finish(o Outcome, reason string) {
	w.res.Outcome, w.res.Reason = o, reason
}

// getPipeline reads the pipeline, counting the request.
func (w *Tracker) getPipeline(ctx context.Context) (*circleci.Pipeline, error) {
	w.res.Requests++
	p, err := w.api.GetPipeline(ctx, w.res.PipelineID)
	if err != nil {
		return nil, err
	}
	w.checkPipeline(p)
	w.res.Pipeline = p
	return p, nil
}

// listWorkflows lists every workflow of the pipeline, counting the request.
func (w *Tracker) listWorkflows(ctx context.Context) ([]circleci.Workflow, error) {
	w.res.Requests++
	ws, err := w.api.ListPipelineWorkflows(ctx, w.res.PipelineID)
	ws = named(ws)
	w.checkWorkflows(ws)
	return ws, err
}

// needsJobs reports whether a workflow with this status gets its jobs listed.
func (w *Tracker) needsJobs(status string) bool {
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
func (w *Tracker) listJobs(ctx context.Context, latest []WorkflowResult) error {
	for _, l := range latest {
		wf := l.Workflow
		if !w.needsJobs(wf.Status) || wf.ID == "" { // a null id (seen in real answers): no jobs to ask for
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
		jobs = namedJobs(jobs)
		w.checkJobs(jobs)
		w.jobs[wf.ID] = jobList{status: wf.Status, jobs: jobs}
	}
	return nil
}

// withJobs attaches the jobs listed at each workflow's current status.
func (w *Tracker) withJobs(latest []WorkflowResult) []WorkflowResult {
	for i, l := range latest {
		if have, ok := w.jobs[l.Workflow.ID]; ok && have.status == l.Workflow.Status {
			latest[i].Jobs = have.jobs
		}
	}
	return latest
}

// observePipeline notes a change of the pipeline's state, and reports it when it says something
// the other lines do not: a pipeline that is pending, and one that was created after it had
// been seen pending. A pipeline first seen created or running its setup workflow says nothing
// (its workflows will); an errored one ends the watch, whose reason says why.
func (w *Tracker) observePipeline(p *circleci.Pipeline) bool {
	if p.State == w.pipelineState {
		return false
	}
	prev := w.pipelineState
	w.pipelineState = p.State
	switch p.State {
	case circleci.PipelinePending, circleci.PipelineSetupPending:
		w.emit(Event{Kind: EventPipeline, Message: pipelineMessage(p)})
	case circleci.PipelineErrored:
	default:
		if prev == circleci.PipelinePending || prev == circleci.PipelineSetupPending {
			w.emit(Event{Kind: EventPipeline, Message: pipelineMessage(p)})
		}
	}
	return true
}

// observeWorkflows reports each workflow that appeared or changed status; a workflow that went
// on hold is announced once, as an approval.
func (w *Tracker) observeWorkflows(ws []circleci.Workflow) bool {
	changed := false
	for i := range ws {
		wf := &ws[i]
		prev, seen := w.statuses[wf.ID]
		if seen && prev == wf.Status {
			continue
		}
		changed = true
		w.statuses[wf.ID] = wf.Status
		if !seen && (wf.Status == circleci.WorkflowSuccess || wf.Status == circleci.WorkflowNotRun) {
			continue // ended before it was seen (baton wait, later): the end line says it
		}
		var jobs []circleci.Job
		if have, ok := w.jobs[wf.ID]; ok && have.status == wf.Status {
			jobs = have.jobs
		}
		if wf.Status == circleci.WorkflowOnHold {
			if !w.approvals[wf.ID] {
				w.approvals[wf.ID] = true
				w.emit(Event{Kind: EventApproval, Workflow: wf, FailedJobs: heldJobs(jobs), Message: approvalMessage(*wf, jobs, w.o.OnHold)})
			}
			continue
		}
		ev := Event{Kind: EventWorkflow, Workflow: wf}
		if st := stateOf(*wf, w.o.OnHold); st == stateFailed || st == stateRerunDue {
			ev.FailedJobs = failedJobs(jobs)
		}
		ev.Message = workflowMessage(*wf, w.o.OnHold)
		w.emit(ev)
	}
	return changed
}

// approvalMessage is the one line announcing a workflow on hold.
func approvalMessage(wf circleci.Workflow, jobs []circleci.Job, mode OnHold) string {
	msg := "workflow " + wf.Name + " is waiting for approval"
	if held := heldJobs(jobs); len(held) > 0 {
		msg += " of " + jobNames(held)
	}
	switch mode {
	case OnHoldSucceed:
		msg += " (counted as success: not waiting)"
	case OnHoldFail:
		msg += " (counted as failure)"
	}
	return msg
}

// emit stamps ev and hands it to the caller.
func (w *Tracker) emit(ev Event) {
	ev.Time = w.o.Now()
	ev.Since, _ = w.res.SpanAt(ev.Time)
	if wf := ev.Workflow; wf != nil && terminal(wf.Status) {
		ev.Elapsed = w.res.WorkflowLasted(*wf, ev.Time)
	} else {
		ev.Elapsed = w.res.PipelineLasted(ev.Time)
	}
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

// workflowMessage is the line for a workflow that appeared or changed status. A failed
// workflow's failed jobs are not named: they come with the event (Event.FailedJobs), for lines of
// their own with their links.
func workflowMessage(wf circleci.Workflow, mode OnHold) string {
	s := "workflow " + wf.Name + " " + statusPhrase(wf.Status)
	if wf.Tag == circleci.WorkflowTagSetup {
		s = "setup " + s
	}
	if wf.AutoRerunNumber > 0 {
		s += fmt.Sprintf(" (automatic rerun %d of %d)", wf.AutoRerunNumber, wf.MaxAutoReruns)
	}
	switch stateOf(wf, mode) {
	case stateRerunDue:
		s += fmt.Sprintf("; automatic rerun %d of %d is due", wf.AutoRerunNumber+1, wf.MaxAutoReruns)
	case stateSucceeded:
		if wf.Tag == circleci.WorkflowTagSetup {
			s += "; waiting for the workflows it continues to"
		}
	}
	return s
}
