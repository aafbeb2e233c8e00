package watch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

var t0 = time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)

// wf is a workflow for the tables: name, status, and options.
func wf(name, status string, opts ...func(*circleci.Workflow)) circleci.Workflow {
	w := circleci.Workflow{ID: name + "-id", Name: name, Status: status, CreatedAt: t0}
	for _, o := range opts {
		o(&w)
	}
	return w
}

func setupTag(w *circleci.Workflow) { w.Tag = circleci.WorkflowTagSetup }

func reruns(n, max int64) func(*circleci.Workflow) {
	return func(w *circleci.Workflow) { w.AutoRerunNumber, w.MaxAutoReruns = n, max }
}

func at(d time.Duration) func(*circleci.Workflow) {
	return func(w *circleci.Workflow) { w.CreatedAt = t0.Add(d) }
}

func id(s string) func(*circleci.Workflow) { return func(w *circleci.Workflow) { w.ID = s } }

func TestStateOf(t *testing.T) {
	tests := []struct {
		name   string
		w      circleci.Workflow
		mode   OnHold
		expect state
	}{
		{"success succeeded", wf("a", "success"), OnHoldWait, stateSucceeded},
		{"running is not terminal", wf("a", "running"), OnHoldWait, stateRunning},
		{"failing is followed until it has failed", wf("a", "failing"), OnHoldWait, stateRunning},
		{"an unknown status is waited through", wf("a", "queued-somewhere"), OnHoldWait, stateRunning},
		{"not_run is neither", wf("a", "not_run"), OnHoldWait, stateNotRun},
		{"failed failed", wf("a", "failed"), OnHoldWait, stateFailed},
		{"error failed", wf("a", "error"), OnHoldWait, stateFailed},
		{"canceled failed", wf("a", "canceled"), OnHoldWait, stateFailed},
		{"unauthorized failed", wf("a", "unauthorized"), OnHoldWait, stateFailed},
		{"failed with reruns left awaits its rerun", wf("a", "failed", reruns(0, 2)), OnHoldWait, stateRerunDue},
		{"failed on the last rerun failed", wf("a", "failed", reruns(2, 2)), OnHoldWait, stateFailed},
		{"an error is not rerun automatically", wf("a", "error", reruns(0, 2)), OnHoldWait, stateFailed},
		{"on hold waits with wait", wf("a", "on_hold"), OnHoldWait, stateHeld},
		{"on hold succeeds with succeed", wf("a", "on_hold"), OnHoldSucceed, stateHeldOK},
		{"on hold fails with fail", wf("a", "on_hold"), OnHoldFail, stateFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.expect, stateOf(tt.w, tt.mode))
		})
	}
}

func TestDecide(t *testing.T) {
	failedJob := []circleci.Job{{Name: "compile", Status: "success"}, {Name: "rollout", Status: "failed"}}
	approval := []circleci.Job{{Name: "approve", Type: "approval", Status: "on_hold"}}
	r := func(w circleci.Workflow, attempts int, jobs ...circleci.Job) WorkflowResult {
		return WorkflowResult{Workflow: w, Attempts: attempts, Jobs: jobs}
	}
	one := func(ws ...circleci.Workflow) []WorkflowResult {
		var out []WorkflowResult
		for _, w := range ws {
			out = append(out, r(w, 1))
		}
		return out
	}
	tests := []struct {
		name string
		s    snapshot
		want verdict
	}{
		{"no workflow yet awaits workflows",
			snapshot{}, verdict{Await: awaitWorkflows}},
		{"no workflow after the grace period ran nothing",
			snapshot{GraceOver: true}, verdict{Done: true, Outcome: NoWorkflows, Reason: "no workflow appeared within 2m", RanNothing: true}},
		{"no workflow, allowed, is a success",
			snapshot{GraceOver: true, AllowNoWorkflows: true}, verdict{Done: true, Outcome: Success, Reason: "no workflow appeared within 2m (allowed)", RanNothing: true}},
		{"a running workflow keeps the wait going",
			snapshot{Workflows: one(wf("a", "success"), wf("b", "running"))}, verdict{}},
		{"a failing workflow keeps the wait going",
			snapshot{Workflows: one(wf("a", "failing"))}, verdict{}},
		{"a running workflow keeps the wait going even after a failure",
			snapshot{Workflows: one(wf("a", "failed"), wf("b", "running"))}, verdict{}},
		{"one success",
			snapshot{Workflows: one(wf("a", "success"))}, verdict{Done: true, Outcome: Success, Reason: "workflow a succeeded"}},
		{"all successes",
			snapshot{Workflows: one(wf("a", "success"), wf("b", "success"))}, verdict{Done: true, Outcome: Success, Reason: "all 2 workflows succeeded"}},
		{"successes and not run",
			snapshot{Workflows: one(wf("a", "success"), wf("b", "success"), wf("c", "not_run"))}, verdict{Done: true, Outcome: Success, Reason: "2 workflows succeeded; c not run"}},
		{"only not run ran nothing",
			snapshot{Workflows: one(wf("a", "not_run"), wf("b", "not_run"))}, verdict{Done: true, Outcome: NoWorkflows, Reason: "no workflow ran (a, b: not run)", RanNothing: true}},
		{"a setup workflow and not run ran nothing",
			snapshot{Workflows: one(wf("setup", "success", setupTag), wf("b", "not_run"))}, verdict{Done: true, Outcome: NoWorkflows, Reason: "no workflow ran (b: not run)", RanNothing: true}},
		{"a failure names the workflow and its failed job",
			snapshot{Workflows: []WorkflowResult{r(wf("build", "success"), 1), r(wf("deploy", "failed"), 1, failedJob...)}},
			verdict{Done: true, Outcome: Failed, Reason: "workflow deploy failed (job rollout failed)"}},
		{"several failures are all named",
			snapshot{Workflows: one(wf("a", "error"), wf("b", "canceled"), wf("c", "unauthorized"), wf("d", "success"))},
			verdict{Done: true, Outcome: Failed, Reason: "workflow a errored; workflow b was canceled; workflow c was not authorized"}},
		{"a failure with not run is a failure",
			snapshot{Workflows: one(wf("a", "failed"), wf("b", "not_run"))},
			verdict{Done: true, Outcome: Failed, Reason: "workflow a failed"}},
		{"only a succeeded setup workflow awaits the continuation",
			snapshot{Workflows: one(wf("setup", "success", setupTag))}, verdict{Await: awaitContinuation}},
		{"a succeeded setup workflow without continuation after the grace period ran nothing",
			snapshot{Workflows: one(wf("setup", "success", setupTag)), GraceOver: true},
			verdict{Done: true, Outcome: NoWorkflows, Reason: "setup workflow setup succeeded but no workflow followed within 2m", RanNothing: true}},
		{"a failed setup workflow fails",
			snapshot{Workflows: one(wf("setup", "failed", setupTag))}, verdict{Done: true, Outcome: Failed, Reason: "workflow setup failed"}},
		{"a setup workflow and its continuation succeed",
			snapshot{Workflows: one(wf("setup", "success", setupTag), wf("main", "success"))}, verdict{Done: true, Outcome: Success, Reason: "all 2 workflows succeeded"}},
		{"a failure with a rerun due awaits the rerun",
			snapshot{Workflows: one(wf("e2e", "failed", reruns(0, 1)))}, verdict{Await: awaitRerun}},
		{"a failure whose rerun did not come fails",
			snapshot{Workflows: one(wf("e2e", "failed", reruns(0, 1))), GraceOver: true},
			verdict{Done: true, Outcome: Failed, Reason: "workflow e2e failed; its automatic rerun did not appear within 2m"}},
		{"the last attempt's failure counts the attempts",
			snapshot{Workflows: []WorkflowResult{r(wf("e2e", "failed", reruns(2, 2)), 3)}},
			verdict{Done: true, Outcome: Failed, Reason: "workflow e2e failed after 3 attempts"}},
		{"on hold with wait keeps waiting",
			snapshot{Workflows: one(wf("build", "success"), wf("deploy", "on_hold")), OnHold: OnHoldWait}, verdict{}},
		{"on hold with succeed succeeds",
			snapshot{Workflows: one(wf("build", "success"), wf("deploy", "on_hold")), OnHold: OnHoldSucceed},
			verdict{Done: true, Outcome: Success, Reason: "workflow build succeeded; deploy on hold (counted as success)"}},
		{"only on hold with succeed succeeds",
			snapshot{Workflows: one(wf("deploy", "on_hold")), OnHold: OnHoldSucceed},
			verdict{Done: true, Outcome: Success, Reason: "deploy on hold (counted as success)"}},
		{"on hold with fail fails and names the approval",
			snapshot{Workflows: []WorkflowResult{r(wf("deploy", "on_hold"), 1, approval...)}, OnHold: OnHoldFail},
			verdict{Done: true, Outcome: Failed, Reason: "workflow deploy is waiting for approval of job approve (counted as failure)"}},
		{"a failure does not wait for an approval",
			snapshot{Workflows: one(wf("build", "failed"), wf("deploy", "on_hold")), OnHold: OnHoldWait},
			verdict{Done: true, Outcome: Failed, Reason: "workflow build failed; workflow deploy still waiting for approval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.OnHold == "" {
				tt.s.OnHold = OnHoldWait
			}
			tt.s.Grace = 2 * time.Minute
			assert.Equal(t, tt.want, decide(tt.s))
		})
	}
}

func TestJobsClause(t *testing.T) {
	j := func(name, status string) circleci.Job { return circleci.Job{Name: name, Status: status} }
	assert.Equal(t, "job a failed", jobsClause([]circleci.Job{j("a", "failed")}))
	assert.Equal(t, "jobs a, b failed", jobsClause([]circleci.Job{j("a", "failed"), j("b", "failed")}))
	assert.Equal(t, "jobs a failed, b timed out", jobsClause([]circleci.Job{j("a", "failed"), j("b", "timedout")}))
	assert.Len(t, failedJobs([]circleci.Job{j("a", "success"), j("b", "infrastructure_fail"), j("c", "canceled"), j("d", "terminated-unknown")}), 2)
}

func TestLatestAttempts(t *testing.T) {
	tests := []struct {
		name string
		in   []circleci.Workflow
		want []string // name/id×attempts
	}{
		{"nothing", nil, []string{}},
		{"one attempt each, in creation order",
			[]circleci.Workflow{wf("b", "running", at(time.Second)), wf("a", "running")},
			[]string{"a/a-id×1", "b/b-id×1"}},
		{"an automatic rerun replaces the attempt it reruns and keeps its place",
			[]circleci.Workflow{wf("e2e", "failed", reruns(0, 2)), wf("lint", "success", at(time.Second)), wf("e2e", "running", reruns(1, 2), id("e2e-2"), at(time.Minute))},
			[]string{"e2e/e2e-2×2", "lint/lint-id×1"}},
		{"the latest attempt wins whatever the list order",
			[]circleci.Workflow{wf("e2e", "running", reruns(2, 2), id("e2e-3"), at(2*time.Minute)), wf("e2e", "failed", reruns(1, 2), id("e2e-2"), at(time.Minute)), wf("e2e", "failed", reruns(0, 2))},
			[]string{"e2e/e2e-3×3"}},
		{"a manual rerun (auto_rerun_number 0) created later wins",
			[]circleci.Workflow{wf("build", "failed"), wf("build", "running", id("build-2"), at(time.Hour))},
			[]string{"build/build-2×2"}},
		{"at the same instant the higher rerun number wins",
			[]circleci.Workflow{wf("e2e", "running", reruns(1, 1), id("e2e-2")), wf("e2e", "failed", reruns(0, 1))},
			[]string{"e2e/e2e-2×2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, l := range latestAttempts(tt.in) {
				got = append(got, l.Workflow.Name+"/"+l.Workflow.ID+"×"+string(rune('0'+l.Attempts)))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOptionDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	assert.NoError(t, err)
	assert.Equal(t, 5*time.Second, o.PollInterval)
	assert.Equal(t, 30*time.Second, o.MaxInterval)
	assert.Equal(t, 2*time.Minute, o.NoWorkflowsGrace)
	assert.Equal(t, 5, o.MaxErrors)
	assert.Equal(t, OnHoldWait, o.OnHold)

	o, err = Options{PollInterval: time.Minute}.withDefaults()
	assert.NoError(t, err)
	assert.Equal(t, time.Minute, o.MaxInterval, "the cap is never below the first interval")
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Minute:                       "2m",
		90 * time.Second:                      "1m30s",
		time.Hour:                             "1h",
		time.Hour + 5*time.Second:             "1h0m5s",
		45*time.Second + 400*time.Millisecond: "45s",
	} {
		assert.Equal(t, want, Human(d))
	}
}
