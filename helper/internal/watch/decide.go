package watch

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// This file is the pure part of the watch: no API, no clock. The loop hands it what it has
// seen and acts on its verdict.

// state is what one workflow (its latest attempt) means for the wait.
type state int

const (
	stateRunning   state = iota // not terminal: running, failing, or a status this code does not know
	stateSucceeded              // success
	stateNotRun                 // not_run: terminal, neither success nor failure
	stateFailed                 // failed, error, canceled, unauthorized; on_hold with OnHoldFail
	stateRerunDue               // failed with automatic reruns left: its rerun is about to appear
	stateHeld                   // on_hold with OnHoldWait: waits for a person
	stateHeldOK                 // on_hold with OnHoldSucceed: counted as success
)

// stateOf is the state of workflow w under mode.
//
// failing (a job failed, others still run) is not terminal: the watch keeps polling until the
// workflow is failed, so the failed jobs are complete, an automatic rerun is honoured, and a
// cancel on timeout can still reach it. The change to failing is reported as an event.
func stateOf(w circleci.Workflow, mode OnHold) state {
	switch w.Status {
	case circleci.WorkflowSuccess:
		return stateSucceeded
	case circleci.WorkflowNotRun:
		return stateNotRun
	case circleci.WorkflowFailed:
		if w.MaxAutoReruns > w.AutoRerunNumber {
			return stateRerunDue
		}
		return stateFailed
	case circleci.WorkflowError, circleci.WorkflowCanceled, circleci.WorkflowUnauthorized:
		return stateFailed
	case circleci.WorkflowOnHold:
		switch mode {
		case OnHoldSucceed:
			return stateHeldOK
		case OnHoldFail:
			return stateFailed
		}
		return stateHeld
	}
	return stateRunning
}

// terminal reports whether a workflow status can no longer change by itself. on_hold is not
// terminal: someone may approve. Cancelling applies to the others.
func terminal(status string) bool {
	switch status {
	case circleci.WorkflowSuccess, circleci.WorkflowNotRun, circleci.WorkflowFailed,
		circleci.WorkflowError, circleci.WorkflowCanceled, circleci.WorkflowUnauthorized:
		return true
	}
	return false
}

// latestAttempts keeps the latest attempt of each workflow name: the one created last (ties:
// the higher auto_rerun_number, then the later in the list). An automatic rerun, and a manual
// "rerun from failed", is a new workflow of the same name in the same pipeline, and only the
// latest one counts. The names keep the order in which they first appeared (created_at, then
// list position), so a rerun does not move its workflow to the end.
func latestAttempts(ws []circleci.Workflow) []WorkflowResult {
	type group struct {
		first, latest int // indexes into ws
		n             int
	}
	groups := map[string]*group{}
	var names []string
	later := func(a, b int) bool { // ws[a] is a later attempt than ws[b]
		if c := ws[a].CreatedAt.Compare(ws[b].CreatedAt); c != 0 {
			return c > 0
		}
		if ws[a].AutoRerunNumber != ws[b].AutoRerunNumber {
			return ws[a].AutoRerunNumber > ws[b].AutoRerunNumber
		}
		return a > b
	}
	for i, w := range ws {
		g := groups[w.Name]
		if g == nil {
			groups[w.Name] = &group{first: i, latest: i, n: 1}
			names = append(names, w.Name)
			continue
		}
		g.n++
		if later(i, g.latest) {
			g.latest = i
		}
		if later(g.first, i) {
			g.first = i
		}
	}
	slices.SortStableFunc(names, func(a, b string) int {
		fa, fb := groups[a].first, groups[b].first
		if c := ws[fa].CreatedAt.Compare(ws[fb].CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(fa, fb)
	})
	out := make([]WorkflowResult, len(names))
	for i, name := range names {
		g := groups[name]
		out[i] = WorkflowResult{Workflow: ws[g.latest], Attempts: g.n}
	}
	return out
}

// awaiting names something the pipeline should still show, whose absence the loop times
// against Options.NoWorkflowsGrace.
type awaiting int

const (
	awaitNothing      awaiting = iota
	awaitWorkflows             // the pipeline lists no workflow yet
	awaitContinuation          // only setup workflows, all succeeded: the continued ones are due
	awaitRerun                 // a failed workflow's automatic rerun is due
)

// snapshot is what decide looks at.
type snapshot struct {
	Workflows        []WorkflowResult // latest attempt of each name (see latestAttempts)
	OnHold           OnHold
	AllowNoWorkflows bool
	Grace            time.Duration // Options.NoWorkflowsGrace, for the reason's text
	GraceOver        bool          // what the last verdict awaited has been awaited for Grace
}

// verdict is decide's answer.
type verdict struct {
	Done    bool
	Outcome Outcome  // when Done
	Reason  string   // when Done: one line
	Await   awaiting // when not Done: something due to appear, to be timed by the loop
	// RanNothing: done because the pipeline ran no workflow (outcome no_workflows, or success
	// with AllowNoWorkflows).
	RanNothing bool
}

// decide says whether the pipeline is done and how it ended. The pipeline is done when every
// workflow is terminal, with these rules:
//
//   - success: every workflow succeeded (on_hold counts with OnHoldSucceed); not_run ones do not
//     spoil it, as long as at least one workflow other than a setup workflow succeeded.
//   - failed: any workflow failed, errored or was unauthorized (or is on hold with OnHoldFail).
//     When the only workflows left are on hold waiting for a person, a failure already decided
//     the outcome, so the watch ends rather than wait for the approval.
//   - canceled: a workflow was canceled, and none failed in any of those ways.
//   - nothing ran (no workflow within the grace period; only a setup workflow, with nothing
//     continued within the grace period; or every workflow not_run): no_workflows, or success
//     with AllowNoWorkflows.
//   - a failed workflow with automatic reruns left is not final until its rerun appears (then
//     the rerun counts) or the grace period passes (then the failure counts).
func decide(s snapshot) verdict {
	if len(s.Workflows) == 0 {
		if !s.GraceOver {
			return verdict{Await: awaitWorkflows}
		}
		return s.ranNothing("no workflow appeared within " + Human(s.Grace))
	}
	by := map[state][]WorkflowResult{}
	setupOnly := true
	ranSomething := false // a workflow other than a setup workflow succeeded (or was held, counted as success)
	for _, w := range s.Workflows {
		st := stateOf(w.Workflow, s.OnHold)
		by[st] = append(by[st], w)
		if w.Workflow.Tag != circleci.WorkflowTagSetup {
			setupOnly = false
			ranSomething = ranSomething || st == stateSucceeded || st == stateHeldOK
		}
	}
	if len(by[stateRunning]) > 0 {
		return verdict{}
	}
	if len(by[stateRerunDue]) > 0 && !s.GraceOver {
		return verdict{Await: awaitRerun}
	}
	var failures []string
	for _, w := range s.Workflows {
		switch stateOf(w.Workflow, s.OnHold) {
		case stateFailed:
			failures = append(failures, failureClause(w, s.OnHold))
		case stateRerunDue:
			failures = append(failures, failureClause(w, s.OnHold)+"; its automatic rerun did not appear within "+Human(s.Grace))
		}
	}
	held := by[stateHeld]
	if len(failures) == 0 && len(held) > 0 {
		return verdict{} // waiting for an approval
	}
	if len(failures) > 0 {
		for _, w := range held {
			failures = append(failures, "workflow "+w.Workflow.Name+" still waiting for approval")
		}
		return verdict{Done: true, Outcome: endedBadly(by[stateFailed], len(by[stateRerunDue]) > 0), Reason: strings.Join(failures, "; ")}
	}
	if !ranSomething {
		if setupOnly {
			if !s.GraceOver {
				return verdict{Await: awaitContinuation}
			}
			return s.ranNothing(fmt.Sprintf("setup workflow %s succeeded but no workflow followed within %s",
				names(s.Workflows), Human(s.Grace)))
		}
		return s.ranNothing(fmt.Sprintf("no workflow ran (%s: not run)", names(by[stateNotRun])))
	}
	return verdict{Done: true, Outcome: Success, Reason: successReason(len(s.Workflows), by)}
}

// endedBadly is the outcome of a pipeline whose workflows ended without success: canceled when
// every one that counts against it was canceled (someone stopped it; nothing failed), failed
// otherwise. A failure wins over a cancel: it is the result people act on.
func endedBadly(failed []WorkflowResult, rerunDue bool) Outcome {
	if rerunDue {
		return Failed
	}
	for _, w := range failed {
		if w.Workflow.Status != circleci.WorkflowCanceled {
			return Failed
		}
	}
	return Canceled
}

// ranNothing is the verdict on a pipeline that ran no workflow.
func (s snapshot) ranNothing(why string) verdict {
	if s.AllowNoWorkflows {
		return verdict{Done: true, Outcome: Success, Reason: why + " (allowed)", RanNothing: true}
	}
	return verdict{Done: true, Outcome: NoWorkflows, Reason: why, RanNothing: true}
}

// successReason is e.g. "all 3 workflows succeeded", "workflow build succeeded; lint not run".
func successReason(total int, by map[state][]WorkflowResult) string {
	var parts []string
	switch ok := by[stateSucceeded]; {
	case len(ok) == 1 && total == 1:
		parts = append(parts, "workflow "+ok[0].Workflow.Name+" succeeded")
	case len(ok) == total:
		parts = append(parts, fmt.Sprintf("all %d workflows succeeded", total))
	case len(ok) == 1:
		parts = append(parts, "workflow "+ok[0].Workflow.Name+" succeeded")
	case len(ok) > 1:
		parts = append(parts, fmt.Sprintf("%d workflows succeeded", len(ok)))
	}
	if h := by[stateHeldOK]; len(h) > 0 {
		parts = append(parts, names(h)+" on hold (counted as success)")
	}
	if n := by[stateNotRun]; len(n) > 0 {
		parts = append(parts, names(n)+" not run")
	}
	return strings.Join(parts, "; ")
}

// failureClause says why one workflow counts as failed, e.g.
// "workflow deploy failed after 3 attempts (job rollout failed)".
func failureClause(w WorkflowResult, mode OnHold) string {
	wf := w.Workflow
	s := "workflow " + wf.Name + " " + statusPhrase(wf.Status)
	if w.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", w.Attempts)
	}
	if wf.Status == circleci.WorkflowOnHold {
		if held := heldJobs(w.Jobs); len(held) > 0 {
			s += " of " + jobNames(held)
		}
		return s + " (counted as failure)"
	}
	if failed := failedJobs(w.Jobs); len(failed) > 0 {
		s += " (" + jobsClause(failed) + ")"
	}
	return s
}

// statusPhrase is a workflow status as the end of a sentence starting "workflow NAME".
func statusPhrase(status string) string {
	switch status {
	case circleci.WorkflowSuccess:
		return "succeeded"
	case circleci.WorkflowFailed:
		return "failed"
	case circleci.WorkflowError:
		return "errored"
	case circleci.WorkflowCanceled:
		return "was canceled"
	case circleci.WorkflowUnauthorized:
		return "was not authorized"
	case circleci.WorkflowNotRun:
		return "did not run"
	case circleci.WorkflowOnHold:
		return "is waiting for approval"
	}
	return "is " + StatusText(status)
}

// StatusText is a pipeline, workflow or job status in the words people use: "timedout" →
// "timed out", "on_hold" → "waiting for approval", "not_run" → "not run".
func StatusText(status string) string {
	switch status {
	case "timedout":
		return "timed out"
	case circleci.WorkflowOnHold:
		return "waiting for approval"
	case "infrastructure_fail":
		return "failed (infrastructure)"
	case "terminated-unknown":
		return "terminated"
	case "unauthorized":
		return "not authorized"
	case "setup-pending":
		return "waiting to start its setup workflow"
	case "":
		return "unknown"
	}
	return strings.ReplaceAll(status, "_", " ")
}

// Job statuses that mean the job failed.
var jobFailedStatuses = []string{"failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized"}

// JobFailed reports whether a job's status means the job failed.
func JobFailed(status string) bool { return slices.Contains(jobFailedStatuses, status) }

// failedJobs are the jobs whose status means failure.
func failedJobs(jobs []circleci.Job) []circleci.Job {
	var out []circleci.Job
	for _, j := range jobs {
		if JobFailed(j.Status) {
			out = append(out, j)
		}
	}
	return out
}

// heldJobs are the approval jobs waiting for someone.
func heldJobs(jobs []circleci.Job) []circleci.Job {
	var out []circleci.Job
	for _, j := range jobs {
		if j.Status == "on_hold" {
			out = append(out, j)
		}
	}
	return out
}

// jobsClause is e.g. "job rollout failed", "jobs lint, test failed",
// "jobs lint failed, e2e timed out".
func jobsClause(jobs []circleci.Job) string {
	same := true
	for _, j := range jobs {
		same = same && j.Status == jobs[0].Status
	}
	if same {
		return jobNames(jobs) + " " + jobStatusPhrase(jobs[0].Status)
	}
	parts := make([]string, len(jobs))
	for i, j := range jobs {
		parts[i] = j.Name + " " + jobStatusPhrase(j.Status)
	}
	return "jobs " + strings.Join(parts, ", ")
}

// jobNames is "job a" or "jobs a, b".
func jobNames(jobs []circleci.Job) string {
	ns := make([]string, len(jobs))
	for i, j := range jobs {
		ns[i] = j.Name
	}
	if len(ns) == 1 {
		return "job " + ns[0]
	}
	return "jobs " + strings.Join(ns, ", ")
}

func jobStatusPhrase(status string) string {
	switch status {
	case "terminated-unknown":
		return "was terminated"
	case "unauthorized":
		return "was not authorized"
	}
	return StatusText(status)
}

// names lists workflow names: "build" or "build, test".
func names(ws []WorkflowResult) string {
	ns := make([]string, len(ws))
	for i, w := range ws {
		ns[i] = w.Workflow.Name
	}
	return strings.Join(ns, ", ")
}

// Human is a duration for people: 2m rather than 2m0s, 1h5m rather than 1h5m0s.
func Human(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
