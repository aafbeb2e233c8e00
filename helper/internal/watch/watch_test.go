package watch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// project is a simulator config with one project, gh/acme/down, whose pipelines run workflows
// (YAML, indented under "workflows:").
func project(workflows string, extra ...string) string {
	return `
tokens: [{token: tok, login: octocat}]
` + strings.Join(extra, "\n") + `
projects:
  - slug: gh/acme/down
    parameters: [{name: env, type: string, default: dev}]
    workflows:
` + workflows
}

func TestWatchEndsAsTheWorkflowsDo(t *testing.T) {
	tests := []struct {
		name      string
		workflows string
		opts      func(*watch.Options)
		outcome   watch.Outcome
		reason    string
		names     []string // the latest workflows, in order, as name=status
		attempts  []int
	}{
		{
			name: "a pipeline whose workflows all succeed succeeds",
			workflows: `
      - {name: build, duration: 1m}
      - {name: test, duration: 3m}`,
			outcome: watch.Success, reason: "all 2 workflows succeeded",
			names: []string{"build=success", "test=success"},
		},
		{
			name: "a failed workflow fails the pipeline and names its failed job",
			workflows: `
      - {name: build, duration: 1m}
      - name: deploy
        duration: 2m
        status: failed
        jobs: [{name: package, duration: 1m, status: success}, {name: rollout}]`,
			outcome: watch.Failed, reason: "workflow deploy failed (job rollout failed)",
			names: []string{"build=success", "deploy=failed"},
		},
		{
			name:      "an errored workflow fails the pipeline",
			workflows: `      - {name: build, duration: 1m, status: error, jobs: [{name: compile}]}`,
			outcome:   watch.Failed, reason: "workflow build errored (job compile failed)",
		},
		{
			name:      "a workflow canceled downstream cancels the pipeline",
			workflows: `      - {name: build, duration: 1m, status: canceled}`,
			outcome:   watch.Canceled, reason: "workflow build was canceled",
		},
		{
			name: "a canceled workflow beside a succeeded one still cancels the pipeline",
			workflows: `
      - {name: build, duration: 1m}
      - {name: deploy, duration: 2m, status: canceled}`,
			outcome: watch.Canceled, reason: "workflow deploy was canceled",
		},
		{
			name: "a failed workflow beside a canceled one fails the pipeline: a failure wins",
			workflows: `
      - {name: build, duration: 1m, status: canceled}
      - {name: test, duration: 2m, status: failed}`,
			outcome: watch.Failed, reason: "workflow build was canceled; workflow test failed",
		},
		{
			name: "an errored workflow beside a canceled one fails the pipeline",
			workflows: `
      - {name: build, duration: 1m, status: error}
      - {name: test, duration: 2m, status: canceled}`,
			outcome: watch.Failed, reason: "workflow build errored; workflow test was canceled",
		},
		{
			name:      "an unauthorized workflow fails the pipeline",
			workflows: `      - {name: deploy, duration: 10s, status: unauthorized}`,
			outcome:   watch.Failed, reason: "workflow deploy was not authorized",
		},
		{
			name: "a failing workflow is followed until it has failed, so every failed job is named",
			workflows: `
      - name: main
        duration: 5m
        status: failed
        jobs: [{name: lint, duration: 10s, status: failed}, {name: test, status: failed}]`,
			outcome: watch.Failed, reason: "workflow main failed (jobs lint, test failed)",
		},
		{
			name: "a workflow that did not run does not spoil a success",
			workflows: `
      - {name: build, duration: 1m}
      - {name: nightly, duration: 1s, status: not_run}`,
			outcome: watch.Success, reason: "workflow build succeeded; nightly not run",
		},
		{
			name: "a pipeline whose every workflow did not run ran nothing",
			workflows: `
      - {name: a, duration: 1s, status: not_run}
      - {name: b, duration: 1s, status: not_run}`,
			outcome: watch.NoWorkflows, reason: "no workflow ran (a, b: not run)",
		},
		{
			name: "a pipeline that ran nothing succeeds when that is allowed",
			workflows: `
      - {name: a, duration: 1s, status: not_run}`,
			opts:    func(o *watch.Options) { o.AllowNoWorkflows = true },
			outcome: watch.Success, reason: "no workflow ran (a: not run) (allowed)",
		},
		{
			name: "the success of a setup workflow does not end the wait for the workflows it continues to",
			workflows: `
      - {name: setup, tag: setup, duration: 30s}
      - {name: main, duration: 4m}`,
			outcome: watch.Success, reason: "all 2 workflows succeeded",
			names: []string{"setup=success", "main=success"},
		},
		{
			name: "a continued workflow that fails fails the pipeline",
			workflows: `
      - {name: setup, tag: setup, duration: 30s}
      - {name: main, duration: 2m, status: failed}`,
			outcome: watch.Failed, reason: "workflow main failed",
		},
		{
			name: "a failed setup workflow fails the pipeline, although the pipeline stays in setup",
			workflows: `
      - {name: setup, tag: setup, duration: 30s, status: failed}
      - {name: main, duration: 2m}`,
			outcome: watch.Failed, reason: "workflow setup failed",
			names: []string{"setup=failed"},
		},
		{
			name:      "a setup workflow that continues to nothing counts as no workflows",
			workflows: `      - {name: setup, tag: setup, duration: 30s}`,
			outcome:   watch.NoWorkflows, reason: "setup workflow setup succeeded but no workflow followed within 2m",
		},
		{
			name: "a failed workflow with automatic reruns left is waited for until a rerun succeeds",
			workflows: `
      - name: e2e
        duration: 2m
        max_auto_reruns: 2
        outcomes: [failed, failed, success]
      - {name: lint, duration: 30s}`,
			outcome: watch.Success, reason: "all 2 workflows succeeded",
			names: []string{"e2e=success", "lint=success"}, attempts: []int{3, 1},
		},
		{
			name: "only the last attempt counts when every automatic rerun fails",
			workflows: `
      - {name: e2e, duration: 2m, max_auto_reruns: 1, status: failed, jobs: [{name: cypress}]}`,
			outcome: watch.Failed, reason: "workflow e2e failed after 2 attempts (job cypress failed)",
			names: []string{"e2e=failed"}, attempts: []int{2},
		},
		{
			name: "a workflow on hold counts as a success with on-hold succeed",
			workflows: `
      - {name: build, duration: 1m}
      - name: deploy
        duration: 30s
        status: on_hold
        jobs: [{name: package, duration: 10s}, {name: approve, type: approval, requires: [package]}]`,
			opts:    func(o *watch.Options) { o.OnHold = watch.OnHoldSucceed },
			outcome: watch.Success, reason: "workflow build succeeded; deploy on hold (counted as success)",
		},
		{
			name: "a workflow on hold fails the pipeline with on-hold fail",
			workflows: `
      - name: deploy
        duration: 30s
        status: on_hold
        jobs: [{name: package, duration: 10s}, {name: approve, type: approval, requires: [package]}]`,
			opts:    func(o *watch.Options) { o.OnHold = watch.OnHoldFail },
			outcome: watch.Failed, reason: "workflow deploy is waiting for approval of job approve (counted as failure)",
		},
		{
			name: "a failure elsewhere ends the wait for an approval",
			workflows: `
      - {name: build, duration: 1m, status: failed}
      - name: deploy
        duration: 30s
        status: on_hold
        jobs: [{name: approve, type: approval}]`,
			outcome: watch.Failed, reason: "workflow build failed; workflow deploy still waiting for approval",
		},
		{
			name:      "a pipeline that shows no workflow within the grace period ran none",
			workflows: `      []`,
			outcome:   watch.NoWorkflows, reason: "no workflow appeared within 2m",
		},
		{
			name:      "a pipeline with no workflows succeeds when that is allowed",
			workflows: `      []`,
			opts:      func(o *watch.Options) { o.AllowNoWorkflows = true },
			outcome:   watch.Success, reason: "no workflow appeared within 2m (allowed)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, project(tt.workflows))
			id := e.trigger("gh/acme/down", "")
			opts := e.options()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			res, err := watch.Watch(context.Background(), e.client, id, opts)
			require.NoError(t, err)
			assert.Equal(t, tt.outcome, res.Outcome, res.Reason)
			assert.Equal(t, tt.reason, res.Reason)
			if tt.names != nil {
				var got []string
				for _, w := range res.Workflows {
					got = append(got, w.Workflow.Name+"="+w.Workflow.Status)
				}
				assert.Equal(t, tt.names, got)
			}
			if tt.attempts != nil {
				var got []int
				for _, w := range res.Workflows {
					got = append(got, w.Attempts)
				}
				assert.Equal(t, tt.attempts, got)
			}
			assert.Equal(t, id, res.PipelineID)
			require.NotNil(t, res.Pipeline)
			assert.Equal(t, len(e.requests("")), res.Requests+1, "every API call is counted (the trigger is not the watcher's)")
			assert.False(t, res.Finished.Before(res.Started))
		})
	}
}

func TestAFailedWorkflowListsItsJobs(t *testing.T) {
	e := newEnv(t, project(`
      - name: deploy
        duration: 2m
        status: failed
        jobs: [{name: package, duration: 1m, status: success}, {name: rollout}]`))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	require.Len(t, res.Workflows, 1)
	var jobs []string
	for _, j := range res.Workflows[0].Jobs {
		jobs = append(jobs, j.Name+"="+j.Status)
	}
	assert.Equal(t, []string{"package=success", "rollout=failed"}, jobs)
	require.NotNil(t, res.Workflows[0].Jobs[1].JobNumber, "the CLI links failed jobs by number")

	var failed []watch.Event
	for _, ev := range e.recordedEvents() {
		if ev.Kind == watch.EventWorkflow && ev.Workflow.Status == circleci.WorkflowFailed {
			failed = append(failed, ev)
		}
	}
	require.Len(t, failed, 1)
	require.Len(t, failed[0].FailedJobs, 1)
	assert.Equal(t, "rollout", failed[0].FailedJobs[0].Name)
	assert.Equal(t, "workflow deploy failed", failed[0].Message, "the failed jobs come apart, for lines with their links")
}

func TestAllJobsListsTheJobsOfEveryWorkflow(t *testing.T) {
	config := project(`
      - {name: build, duration: 1m, jobs: [{name: compile}, {name: test}]}
      - {name: deploy, duration: 2m, status: failed, jobs: [{name: rollout}]}`)
	for _, all := range []bool{false, true} {
		e := newEnv(t, config)
		id := e.trigger("gh/acme/down", "")
		opts := e.options()
		opts.AllJobs = all
		res, err := watch.Watch(context.Background(), e.client, id, opts)
		require.NoError(t, err)
		require.Len(t, res.Workflows, 2)
		assert.Equal(t, all, res.Workflows[0].Jobs != nil, "jobs of the workflow that succeeded, AllJobs=%v", all)
		assert.Len(t, res.Workflows[1].Jobs, 1, "jobs of the failed workflow are always listed")
		assert.Len(t, e.requests("listWorkflowJobs"), map[bool]int{false: 1, true: 2}[all], "each workflow's jobs are listed once")
	}
}

func TestAnErroredPipelineEndsWithItsMessage(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 1m}`))
	id := e.trigger("gh/acme/down", `{"parameters": {"foo": "bar"}}`)
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Errored, res.Outcome)
	assert.Equal(t, "pipeline #1 errored: Unexpected argument(s): foo", res.Reason)
	assert.Equal(t, 1, res.Outcome.ExitCode())
	assert.Equal(t, 1, res.Requests, "one read of the pipeline is enough")
	assert.Empty(t, e.messages(), "the reason says it, once")
}

func TestAPendingPipelineIsReadUntilItStarts(t *testing.T) {
	e := newEnv(t, strings.Replace(project(`      - {name: build, duration: 1m}`), "    parameters:", "    start_delay: 40s\n    parameters:", 1))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Success, res.Outcome)
	assert.Equal(t, []string{
		"pipeline: pipeline #1 is pending",
		"pipeline: pipeline #1 was created",
		"workflow: workflow build is running",
		"workflow: workflow build succeeded",
	}, e.messages())
	var ops []string
	for _, r := range e.requests("") {
		ops = append(ops, r.Operation)
	}
	assert.Contains(t, ops, "getPipelineById")
	n := 0
	for _, op := range ops[1:] {
		if op == "getPipelineById" {
			n++
		}
	}
	assert.Less(t, n, 6, "the pipeline is read only while it is pending: %v", ops)
	last := ops[len(ops)-1]
	assert.Equal(t, "listWorkflowsByPipelineId", last, "once created, only the workflows are listed")
}

func TestSetupWorkflowEvents(t *testing.T) {
	e := newEnv(t, project(`
      - {name: setup, tag: setup, duration: 30s}
      - {name: main, duration: 4m}`))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Success, res.Outcome)
	assert.Equal(t, []string{
		"workflow: setup workflow setup is running",
		"workflow: setup workflow setup succeeded; waiting for the workflows it continues to",
		"workflow: workflow main is running",
		"workflow: workflow main succeeded",
	}, e.messages())
}

func TestAutomaticRerunEvents(t *testing.T) {
	e := newEnv(t, project(`
      - name: e2e
        duration: 2m
        max_auto_reruns: 2
        outcomes: [failed, success]`))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Success, res.Outcome)
	assert.Equal(t, "workflow e2e succeeded", res.Reason)
	assert.Equal(t, []string{
		"workflow: workflow e2e is running",
		"workflow: workflow e2e failed; automatic rerun 1 of 2 is due",
		"workflow: workflow e2e is running (automatic rerun 1 of 2)",
		"workflow: workflow e2e succeeded (automatic rerun 1 of 2)",
	}, e.messages())
}

func TestWaitingForAnApprovalAnnouncesItOnce(t *testing.T) {
	e := newEnv(t, project(`
      - name: deploy
        duration: 30s
        status: on_hold
        jobs: [{name: package, duration: 10s}, {name: approve, type: approval, requires: [package]}]`))
	id := e.trigger("gh/acme/down", "")
	ctx := newDeadlineCtx()
	e.clock.after(20*time.Minute, ctx.expire)
	res, err := watch.Watch(ctx, e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.TimedOut, res.Outcome)
	assert.Equal(t, "timed out after 20m waiting for deploy (waiting for approval)", res.Reason)
	var approvals []watch.Event
	for _, ev := range e.recordedEvents() {
		if ev.Kind == watch.EventApproval {
			approvals = append(approvals, ev)
		}
	}
	require.Len(t, approvals, 1)
	assert.Equal(t, "workflow deploy is waiting for approval of job approve", approvals[0].Message)
	require.Len(t, approvals[0].FailedJobs, 1)
	assert.Equal(t, "approve", approvals[0].FailedJobs[0].Name)
	assert.Len(t, e.requests("listWorkflowJobs"), 1, "the held workflow's jobs are listed once")
	assert.Empty(t, e.requests("cancelWorkflow"), "no cancel was asked for")
}

func TestTimeoutCancelsTheWorkflowsStillRunning(t *testing.T) {
	tests := []struct {
		name    string
		expire  func(e *env) context.Context
		cancel  func(o *watch.Options)
		outcome watch.Outcome
		code    int
		reason  string
	}{
		{
			name: "a deadline that passes times out and cancels with CancelOnTimeout",
			expire: func(e *env) context.Context {
				ctx := newDeadlineCtx()
				e.clock.after(3*time.Minute, ctx.expire)
				return ctx
			},
			cancel:  func(o *watch.Options) { o.CancelOnTimeout = true },
			outcome: watch.TimedOut, code: exitcode.Timeout,
			reason: "timed out after 3m waiting for build (running), deploy (running); canceled build, deploy",
		},
		{
			name: "an interrupt cancels with CancelOnInterrupt",
			expire: func(e *env) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				e.t.Cleanup(cancel)
				e.clock.after(3*time.Minute, cancel)
				return ctx
			},
			cancel:  func(o *watch.Options) { o.CancelOnInterrupt = true },
			outcome: watch.Interrupted, code: exitcode.Interrupted,
			reason: "interrupted after 3m waiting for build (running), deploy (running); canceled build, deploy",
		},
		{
			name: "a signal is named, and cancels with CancelOnInterrupt",
			expire: func(e *env) context.Context {
				ctx, cancel := context.WithCancelCause(context.Background())
				e.t.Cleanup(func() { cancel(nil) })
				e.clock.after(3*time.Minute, func() { cancel(exitcode.SignalOf(syscall.SIGTERM)) })
				return ctx
			},
			cancel:  func(o *watch.Options) { o.CancelOnInterrupt = true },
			outcome: watch.Interrupted, code: exitcode.Interrupted,
			reason: "interrupted by SIGTERM after 3m waiting for build (running), deploy (running); canceled build, deploy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, project(`
      - {name: lint, duration: 1m}
      - {name: build, duration: 10m}
      - {name: deploy, duration: 20m}`))
			id := e.trigger("gh/acme/down", "")
			opts := e.options()
			tt.cancel(&opts)
			res, err := watch.Watch(tt.expire(e), e.client, id, opts)
			require.NoError(t, err, "the outcome is the answer")
			assert.Equal(t, tt.outcome, res.Outcome)
			assert.Equal(t, tt.code, res.Outcome.ExitCode())
			assert.Equal(t, tt.reason, res.Reason)

			cancels := e.requests("cancelWorkflow")
			require.Len(t, cancels, 2)
			require.Len(t, res.Canceled, 2)
			for i, r := range cancels {
				assert.Equal(t, "POST", r.Method)
				assert.Equal(t, "/api/v2/workflow/"+res.Canceled[i]+"/cancel", r.Path)
				assert.Equal(t, 202, r.Status)
			}
			var got []string
			for _, w := range res.Workflows {
				got = append(got, w.Workflow.Name+"="+w.Workflow.Status)
			}
			assert.Equal(t, []string{"lint=success", "build=canceled", "deploy=canceled"}, got, "the result shows them canceled")

			ws, err := e.client.ListPipelineWorkflows(context.Background(), id)
			require.NoError(t, err)
			for _, w := range ws {
				if w.Name != "lint" {
					assert.Equal(t, circleci.WorkflowCanceled, w.Status, w.Name)
				}
			}
			for _, ev := range e.recordedEvents() {
				assert.NotEqual(t, watch.EventCanceled, ev.Kind, "the reason names what was canceled, once")
				if ev.Workflow != nil {
					assert.NotEqual(t, circleci.WorkflowCanceled, ev.Workflow.Status, "no event for a workflow baton canceled")
				}
			}
		})
	}
}

func TestStoppingWithoutCancelLeavesTheWorkflowsRunning(t *testing.T) {
	for _, deadline := range []bool{true, false} {
		e := newEnv(t, project(`      - {name: build, duration: 10m}`))
		id := e.trigger("gh/acme/down", "")
		var ctx context.Context
		if deadline {
			dc := newDeadlineCtx()
			e.clock.after(2*time.Minute, dc.expire)
			ctx = dc
		} else {
			c, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.clock.after(2*time.Minute, cancel)
			ctx = c
		}
		res, err := watch.Watch(ctx, e.client, id, e.options())
		require.NoError(t, err)
		assert.Equal(t, map[bool]watch.Outcome{true: watch.TimedOut, false: watch.Interrupted}[deadline], res.Outcome)
		assert.Empty(t, e.requests("cancelWorkflow"))
		assert.Empty(t, res.Canceled)
		require.Len(t, res.Workflows, 1)
		assert.Equal(t, "running", res.Workflows[0].Workflow.Status, "the partial result is returned")
	}
}

func TestAPipelineStillPendingTimesOut(t *testing.T) {
	e := newEnv(t, strings.Replace(project(`      - {name: build, duration: 1m}`), "    parameters:", "    start_delay: 1h\n    parameters:", 1))
	id := e.trigger("gh/acme/down", "")
	ctx := newDeadlineCtx()
	e.clock.after(5*time.Minute, ctx.expire)
	opts := e.options()
	opts.CancelOnTimeout = true
	res, err := watch.Watch(ctx, e.client, id, opts)
	require.NoError(t, err)
	assert.Equal(t, watch.TimedOut, res.Outcome)
	assert.Equal(t, "timed out after 5m waiting for pipeline #1 (pending); nothing left to cancel", res.Reason)
}

func TestWorkflowsOnSeveralPagesAreAllFollowed(t *testing.T) {
	e := newEnv(t, strings.Replace(project(`
      - {name: a, duration: 1m}
      - {name: b, duration: 2m}
      - {name: c, duration: 3m, status: failed}`), "tokens:", "page_size: 1\ntokens:", 1))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Failed, res.Outcome)
	assert.Equal(t, "workflow c failed", res.Reason)
	require.Len(t, res.Workflows, 3)
	pages := map[string]bool{}
	for _, r := range e.requests("listWorkflowsByPipelineId") {
		pages[r.RawQuery] = true
	}
	assert.Len(t, pages, 3, "the first page and two page tokens")
}

func TestFailedPollsWithinTheBudgetDoNotEndTheWait(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	// The client tries 4 times per call: 4 failed polls in a row, each after its retries.
	require.NoError(t, e.sim.AddFault(simFault("listWorkflowsByPipelineId", 503, 16)))
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Success, res.Outcome)
	var errs []string
	for _, ev := range e.recordedEvents() {
		if ev.Kind == watch.EventError {
			errs = append(errs, ev.Message)
			var re *circleci.RetryError
			assert.ErrorAs(t, ev.Err, &re)
		}
	}
	require.Len(t, errs, 4)
	assert.True(t, strings.HasPrefix(errs[0], "poll failed (1 in a row; giving up at 5): giving up after 4 attempts: GET /api/v2/pipeline/"), errs[0])
	assert.True(t, strings.HasPrefix(errs[3], "poll failed (4 in a row; giving up at 5)"), errs[3])
}

func TestFailedPollsBeyondTheBudgetEndTheWatchWithTheLastError(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	require.NoError(t, e.sim.AddFault(simFault("listWorkflowsByPipelineId", 503, -1)))
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.Error(t, err)
	var re *circleci.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, exitcode.Unreachable, exitcode.Of(err), "the API error's exit code survives")
	assert.Contains(t, err.Error(), "watch pipeline "+id+": giving up after 5 failed polls in a row: giving up after 4 attempts: GET /api/v2/pipeline/"+id+"/workflow: 503 Service Unavailable")
	require.NotNil(t, res, "the partial result comes back with the error")
	assert.Equal(t, watch.Outcome(""), res.Outcome)
	assert.Contains(t, res.Reason, "gave up after 5 failed polls in a row")
	require.NotNil(t, res.Pipeline)
	assert.Equal(t, 6, res.Requests, "one pipeline read and five failed polls")
}

func TestEventsAreEmittedOnlyOnChange(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, []string{
		"workflow: workflow build is running",
		"workflow: workflow build succeeded",
	}, e.messages())
	assert.Greater(t, len(e.recordedSleeps()), 10, "many polls, two changes")
	evs := e.recordedEvents()
	assert.Equal(t, 10*time.Minute, evs[1].Elapsed.Truncate(time.Minute), "elapsed is on the injected clock, from the pipeline's created_at")
	for _, ev := range evs {
		assert.Equal(t, id, ev.PipelineID)
		assert.NotNil(t, ev.Pipeline)
	}
	assert.Equal(t, watch.Success, res.Outcome)
}

func TestPollingBacksOffWhileNothingChanges(t *testing.T) {
	e := newEnv(t, project(`
      - {name: build, duration: 2m}
      - {name: deploy, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	opts := e.options()
	opts.Expect = noHistory
	_, err := watch.Watch(context.Background(), e.client, id, opts)
	require.NoError(t, err)
	s := e.recordedSleeps()
	const sec = time.Second
	// The first poll reads the pipeline and lists the workflows: two requests, so 2×5s.
	assert.Equal(t, []time.Duration{10 * sec, 7500 * time.Millisecond, 11250 * time.Millisecond, 16875 * time.Millisecond, 25312500 * time.Microsecond, 30 * sec, 30 * sec}, s[:7])
	// build succeeds at 2m: the poll that sees it resets the interval.
	var after []time.Duration
	for i := 1; i < len(s); i++ {
		if s[i] == 5*sec {
			after = s[i:]
			break
		}
	}
	require.NotEmpty(t, after, "the interval went back to 5s after a change: %v", s)
	assert.Equal(t, 7500*time.Millisecond, after[1])
	for _, d := range s {
		assert.LessOrEqual(t, d, 30*sec)
	}
}

func TestATenMinutePipelineCostsFewRequests(t *testing.T) {
	e := newEnv(t, strings.Replace(project(`
      - {name: build, duration: 3m, jobs: [{name: compile, duration: 1m}, {name: test}]}
      - {name: deploy, duration: 10m}`), "    parameters:", "    start_delay: 5s\n    parameters:", 1))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	require.Equal(t, watch.Success, res.Outcome)
	waited := res.Finished.Sub(res.Started)
	http := len(e.requests("")) - 1 // without the trigger
	t.Logf("10-minute pipeline: %d API calls, %d HTTP requests, waited %s (%.1f requests per waited minute)",
		res.Requests, http, waited, float64(http)/waited.Minutes())
	assert.LessOrEqual(t, res.Requests, 60)
	assert.LessOrEqual(t, http, 60)
	assert.Less(t, waited, 10*time.Minute+35*time.Second, "the end is seen within one maximum interval")
}

func TestDefaultIntervalsStayUnderTheRateLimit(t *testing.T) {
	// Nineteen workflows ending 10s apart keep resetting the interval to 5s, and a third of
	// them fail (one more request each, for their jobs): the busiest case for the default
	// intervals. Then a long quiet hour. (Twenty workflows fit on one page.)
	var wf strings.Builder
	for i := range 19 {
		fmt.Fprintf(&wf, "      - {name: w%02d, duration: %ds, status: %s}\n", i, 10*(i+1), []string{"success", "failed", "not_run"}[i%3])
	}
	wf.WriteString("      - {name: long, duration: 1h}\n")
	const limit = 15
	e := newEnv(t, project(wf.String(), fmt.Sprintf("rate_limit: {requests: %d, window: 1m}", limit)))
	id := e.trigger("gh/acme/down", "")
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Failed, res.Outcome)
	rs := e.requests("")
	busiest := 0
	for i := range rs {
		assert.NotEqual(t, 429, rs[i].Status, "%s %s at %s", rs[i].Method, rs[i].Path, rs[i].Time.Sub(epoch))
		n := 0
		for _, r := range rs[i:] {
			if r.Time.Sub(rs[i].Time) < time.Minute {
				n++
			}
		}
		busiest = max(busiest, n)
	}
	t.Logf("1-hour pipeline of 20 workflows: %d requests, at most %d in a minute (limit %d)", len(rs), busiest, limit)
	assert.LessOrEqual(t, busiest, 14, "12 a minute at most on average, the trigger, and an insights request among them")
}

func TestBadOptionsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		id   string
		opts watch.Options
		want string
	}{
		{"an empty pipeline ID", "", watch.Options{}, "the pipeline ID to watch is empty"},
		{"an unknown on-hold mode", "x", watch.Options{OnHold: "approve"}, `on-hold mode "approve" is not one of wait, succeed, fail`},
		{"a negative interval", "x", watch.Options{PollInterval: -time.Second}, "poll interval -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := watch.Watch(context.Background(), nil, tt.id, tt.opts)
			require.EqualError(t, err, tt.want)
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			require.NotNil(t, res)
		})
	}
}

func TestOutcomeExitCodes(t *testing.T) {
	want := map[watch.Outcome]int{
		watch.Success: 0, watch.Started: 0, watch.Failed: 1, watch.Errored: 1, watch.NoWorkflows: 1,
		watch.Canceled: 6, watch.TimedOut: 4, watch.Interrupted: 130, "": 70,
	}
	for o, code := range want {
		assert.Equal(t, code, o.ExitCode(), string(o))
	}
}

func TestTheDefaultSleepStopsWhenTheContextEnds(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	ctx, cancel := context.WithCancel(context.Background())
	opts := watch.Options{Now: e.clock.Now, PollInterval: time.Hour, OnEvent: func(ev watch.Event) {
		if ev.Kind == watch.EventWorkflow {
			cancel()
		}
	}}
	start := time.Now()
	res, err := watch.Watch(ctx, e.client, id, opts)
	require.NoError(t, err)
	assert.Equal(t, watch.Interrupted, res.Outcome)
	assert.Less(t, time.Since(start), 5*time.Second, "the hour-long wait ended with the context")
	assert.False(t, errors.Is(err, context.Canceled))
}

func TestTimeoutCancelsAWorkflowOnHoldAndReportsACancelThatFailed(t *testing.T) {
	e := newEnv(t, project(`
      - {name: build, duration: 30m}
      - name: deploy
        duration: 30s
        status: on_hold
        jobs: [{name: approve, type: approval}]`))
	id := e.trigger("gh/acme/down", "")
	require.NoError(t, e.sim.AddFault(simFault("cancelWorkflow", 403, 1)))
	ctx := newDeadlineCtx()
	e.clock.after(10*time.Minute, ctx.expire)
	opts := e.options()
	opts.CancelOnTimeout = true
	res, err := watch.Watch(ctx, e.client, id, opts)
	require.NoError(t, err)
	assert.Equal(t, watch.TimedOut, res.Outcome)
	assert.Equal(t, "timed out after 10m waiting for build (running), deploy (waiting for approval); canceled deploy; could not cancel build", res.Reason)
	require.Len(t, res.Canceled, 1)
	var failed []watch.Event
	for _, ev := range e.recordedEvents() {
		if ev.Kind == watch.EventCanceled && ev.Err != nil {
			failed = append(failed, ev)
		}
	}
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0].Message, "could not cancel workflow build: POST /api/v2/workflow/")
	assert.Contains(t, failed[0].Message, "403 Forbidden")
}

func TestWaitStartEndsOnceTheWorkflowsStarted(t *testing.T) {
	tests := []struct {
		name      string
		workflows string
		body      string
		outcome   watch.Outcome
		reason    string
	}{
		{"a running workflow is a start", `      - {name: build, duration: 10m}`, "", watch.Started, "workflow build started"},
		{"an undeclared parameter errors the pipeline", `      - {name: build, duration: 10m}`, `{"parameters": {"foo": "bar"}}`,
			watch.Errored, "pipeline #1 errored: Unexpected argument(s): foo"},
		{"a setup workflow is not yet a start: its continuation is waited for", `
      - {name: setup, tag: setup, duration: 30s}
      - {name: main, duration: 10m}`, "", watch.Started, "workflow main started"},
		{"a pipeline that runs nothing says so", `      []`, "", watch.NoWorkflows, "no workflow appeared within 2m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, project(tt.workflows))
			id := e.trigger("gh/acme/down", tt.body)
			opts := e.options()
			opts.WaitStart = true
			res, err := watch.Watch(context.Background(), e.client, id, opts)
			require.NoError(t, err)
			assert.Equal(t, tt.outcome, res.Outcome)
			assert.Equal(t, tt.reason, res.Reason)
			assert.Less(t, res.Finished.Sub(res.Started), 3*time.Minute, "it did not wait for the end")
		})
	}
	assert.Equal(t, 0, watch.Started.ExitCode())
}

// stopBy is a cancel cause like dispatch's --fail-fast.
type stopBy string

func (s stopBy) Error() string      { return string(s) }
func (s stopBy) StopReason() string { return string(s) }

func TestACauseWithAStopReasonCancelsTheWorkflows(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	e.clock.after(2*time.Minute, func() { cancel(stopBy("canceled by --fail-fast after gh/acme/x failed")) })
	res, err := watch.Watch(ctx, e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Canceled, res.Outcome)
	assert.Equal(t, "canceled by --fail-fast after gh/acme/x failed; canceled build", res.Reason)
	assert.Len(t, e.requests("cancelWorkflow"), 1, "without CancelOnInterrupt")
	assert.Equal(t, exitcode.Canceled, res.Outcome.ExitCode())
}

// baton wait on a pipeline that ended long ago reports how long it ran, not how long the
// watch took.
func TestTheSpanRunsFromCreatedAtToTheLastWorkflowsEnd(t *testing.T) {
	e := newEnv(t, project(`
      - {name: build, duration: 3m}
      - {name: test, duration: 5m}`))
	id := e.trigger("gh/acme/down", "")
	e.clock.Advance(13 * time.Minute)
	res, err := watch.Watch(context.Background(), e.client, id, e.options())
	require.NoError(t, err)
	assert.Equal(t, watch.Success, res.Outcome)
	start, end := res.Span()
	assert.Equal(t, res.Pipeline.CreatedAt, start)
	assert.Equal(t, 5*time.Minute, end.Sub(start).Round(time.Second))
	assert.Equal(t, 5*time.Minute, res.Duration().Round(time.Second))
	assert.Less(t, res.Finished.Sub(res.Started), time.Second, "the watch itself took one poll")
}

// With history, polls are sparse while the end is far and dense around it: a 10-minute
// workflow that ends when it usually does is seen to end within seconds, for few requests.
func TestHistoryPacesThePollsTowardsTheExpectedEnd(t *testing.T) {
	run := func(expect bool) (late time.Duration, requests, asked int) {
		e := newEnv(t, project(`      - {name: soak, duration: 10m}`))
		id := e.trigger("gh/acme/down", "")
		opts := e.options()
		if expect {
			opts.Expect = func(_ context.Context, project, branch, workflow string) (time.Duration, time.Duration, bool) {
				asked++
				assert.Equal(t, "gh/acme/down", project)
				assert.Equal(t, "soak", workflow)
				return 10 * time.Minute, 0, true
			}
		}
		res, err := watch.Watch(context.Background(), e.client, id, opts)
		require.NoError(t, err)
		require.Equal(t, watch.Success, res.Outcome)
		return res.Finished.Sub(*res.Workflows[0].Workflow.StoppedAt), res.Requests, asked
	}
	late, requests, asked := run(true)
	assert.LessOrEqual(t, late, 10*time.Second, "the end is seen soon after it happens")
	assert.LessOrEqual(t, requests, 30)
	assert.Equal(t, 1, asked, "history is asked for once per workflow name")

	blindLate, blindRequests, _ := run(false)
	assert.Greater(t, blindLate, late, "without history the end is seen later")
	t.Logf("with history: seen %s late after %d requests; without: %s late after %d", late, requests, blindLate, blindRequests)
}

func TestAWorkflowWithoutHistoryIsPolledAsBefore(t *testing.T) {
	e := newEnv(t, project(`      - {name: soak, duration: 10m}`))
	id := e.trigger("gh/acme/down", "")
	opts := e.options()
	opts.Expect = noHistory
	_, err := watch.Watch(context.Background(), e.client, id, opts)
	require.NoError(t, err)
	sleeps := e.recordedSleeps()
	require.Greater(t, len(sleeps), 6)
	// The first wait is longer for the two requests of the first poll (napFor), then ×1.5.
	assert.Equal(t, []time.Duration{10 * time.Second, 7500 * time.Millisecond, 11250 * time.Millisecond, 16875 * time.Millisecond}, sleeps[:4], "the back-off, as without Expect")
	assert.Equal(t, 30*time.Second, sleeps[len(sleeps)-2], "capped at MaxInterval")
}

// noHistory is an Options.Expect for a project without history.
func noHistory(context.Context, string, string, string) (time.Duration, time.Duration, bool) {
	return 0, 0, false
}

// Without Options.Expect, a client with insights gives each tracker a history of its own, and
// its requests count.
func TestTheDefaultHistoryIsTheClientsInsights(t *testing.T) {
	e := newEnv(t, project(`      - {name: soak, duration: 10m}`))
	for range 3 { // history: three runs of soak
		_, err := watch.Watch(context.Background(), e.client, e.trigger("gh/acme/down", ""), e.options())
		require.NoError(t, err)
	}
	before := len(e.requests(""))
	res, err := watch.Watch(context.Background(), e.client, e.trigger("gh/acme/down", ""), e.options())
	require.NoError(t, err)
	assert.Len(t, e.requests("getWorkflowSummary")[3:], 1, "asked once")
	assert.Equal(t, len(e.requests(""))-before-1, res.Requests, "every request counted, the insights one too")
	assert.LessOrEqual(t, res.Finished.Sub(*res.Workflows[0].Workflow.StoppedAt), 10*time.Second)
	assert.LessOrEqual(t, res.Requests, 30)
}

// A pipeline stopped (and its workflows to be canceled) after it had ended unseen ends as it
// did: the fresh list shows it.
func TestAPipelineThatEndedBeforeItWasStoppedEndsAsItDid(t *testing.T) {
	e := newEnv(t, project(`      - {name: build, duration: 1m}`))
	id := e.trigger("gh/acme/down", "")
	tr, err := watch.NewTracker(e.client, id, func() watch.Options { o := e.options(); o.CancelOnInterrupt = true; return o }())
	require.NoError(t, err)
	_, done := tr.Step(context.Background())
	require.False(t, done)
	e.clock.Advance(2 * time.Minute)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stopBy("canceled by --fail-fast after gh/acme/x failed"))
	tr.Stop(ctx)
	assert.Equal(t, watch.Success, tr.Result().Outcome, tr.Result().Reason)
	assert.Empty(t, e.requests("cancelWorkflow"))
}
