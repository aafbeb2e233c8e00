package watch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// scripted is an API whose answers the test writes per call, for what the simulator does not
// do: a continuation that errors, a rerun that comes late or never, a failing job list.
type scripted struct {
	mu        sync.Mutex
	pipelines []*circleci.Pipeline  // answer n to GetPipeline (the last repeats)
	lists     [][]circleci.Workflow // answer n to ListPipelineWorkflows (the last repeats)
	jobs      map[string][]circleci.Job
	jobErrors int // ListWorkflowJobs fails this many times first
	calls     map[string]int
}

func pick[T any](answers []T, n int) T { return answers[min(n, len(answers)-1)] }

func (s *scripted) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[op]++
	return s.calls[op] - 1
}

func (s *scripted) GetPipeline(_ context.Context, _ string) (*circleci.Pipeline, error) {
	p := *pick(s.pipelines, s.count("get"))
	return &p, nil
}

func (s *scripted) ListPipelineWorkflows(_ context.Context, _ string) ([]circleci.Workflow, error) {
	return append([]circleci.Workflow(nil), pick(s.lists, s.count("list"))...), nil
}

func (s *scripted) ListWorkflowJobs(_ context.Context, id string) ([]circleci.Job, error) {
	if n := s.count("jobs"); n < s.jobErrors {
		return nil, errors.New("GET /api/v2/workflow/" + id + "/job: giving up after 4 attempts: 502 Bad Gateway")
	}
	return s.jobs[id], nil
}

func (s *scripted) CancelWorkflow(_ context.Context, _ string) error {
	s.count("cancel")
	return nil
}

// scriptedOptions are options on a fake clock, with recorded events.
func scriptedOptions(events *[]watch.Event) watch.Options {
	clock := &fakeClock{t: epoch}
	return watch.Options{
		Now:     clock.Now,
		Sleep:   clock.sleep,
		OnEvent: func(ev watch.Event) { *events = append(*events, ev) },
	}
}

func sw(id, name, status string, rerun, max int64, created time.Duration) circleci.Workflow {
	return circleci.Workflow{ID: id, Name: name, Status: status, AutoRerunNumber: rerun, MaxAutoReruns: max, CreatedAt: epoch.Add(created)}
}

func TestAContinuationThatErrorsEndsTheWatchWithTheMessage(t *testing.T) {
	setup := func(status string) circleci.Workflow {
		w := sw("s", "setup", status, 0, 0, 0)
		w.Tag = circleci.WorkflowTagSetup
		return w
	}
	api := &scripted{
		pipelines: []*circleci.Pipeline{
			{ID: "p", Number: 3, State: "setup"},
			{ID: "p", Number: 3, State: "setup"},
			{ID: "p", Number: 3, State: "errored", Errors: []circleci.PipelineError{{Type: "config", Message: "Cannot find a definition\n for job named build"}}},
		},
		lists: [][]circleci.Workflow{{setup("running")}, {setup("success")}},
	}
	var events []watch.Event
	res, err := watch.Watch(context.Background(), api, "p", scriptedOptions(&events))
	require.NoError(t, err)
	assert.Equal(t, watch.Errored, res.Outcome)
	assert.Equal(t, "pipeline #3 errored: Cannot find a definition for job named build", res.Reason)
	assert.Equal(t, 3, api.calls["get"], "read once to start, then while the continuation is due")
}

func TestARerunThatComesLateIsWaitedFor(t *testing.T) {
	api := &scripted{
		pipelines: []*circleci.Pipeline{{ID: "p", Number: 1, State: "created"}},
		lists: [][]circleci.Workflow{
			{sw("1", "e2e", "running", 0, 1, 0)},
			{sw("1", "e2e", "failed", 0, 1, 0)},
			{sw("1", "e2e", "failed", 0, 1, 0)},
			{sw("1", "e2e", "failed", 0, 1, 0), sw("2", "e2e", "running", 1, 1, time.Minute)},
			{sw("1", "e2e", "failed", 0, 1, 0), sw("2", "e2e", "success", 1, 1, time.Minute)},
		},
	}
	var events []watch.Event
	res, err := watch.Watch(context.Background(), api, "p", scriptedOptions(&events))
	require.NoError(t, err)
	assert.Equal(t, watch.Success, res.Outcome)
	assert.Equal(t, "workflow e2e succeeded", res.Reason)
	require.Len(t, res.Workflows, 1)
	assert.Equal(t, "2", res.Workflows[0].Workflow.ID)
	assert.Equal(t, 2, res.Workflows[0].Attempts)
}

func TestARerunThatNeverComesCountsTheFailure(t *testing.T) {
	api := &scripted{
		pipelines: []*circleci.Pipeline{{ID: "p", Number: 1, State: "created"}},
		lists:     [][]circleci.Workflow{{sw("1", "e2e", "failed", 0, 1, 0)}},
		jobs:      map[string][]circleci.Job{"1": {{Name: "cypress", Status: "failed"}}},
	}
	var events []watch.Event
	opts := scriptedOptions(&events)
	res, err := watch.Watch(context.Background(), api, "p", opts)
	require.NoError(t, err)
	assert.Equal(t, watch.Failed, res.Outcome)
	assert.Equal(t, "workflow e2e failed (job cypress failed); its automatic rerun did not appear within 2m", res.Reason)
	assert.Equal(t, 2*time.Minute, res.Finished.Sub(res.Started), "the grace period ends at a poll")
}

func TestAFailedJobListIsRetriedAtTheNextPollWithoutLosingTheEvent(t *testing.T) {
	api := &scripted{
		pipelines: []*circleci.Pipeline{{ID: "p", Number: 1, State: "created"}},
		lists:     [][]circleci.Workflow{{sw("1", "build", "running", 0, 0, 0)}, {sw("1", "build", "failed", 0, 0, 0)}},
		jobs:      map[string][]circleci.Job{"1": {{Name: "compile", Status: "failed"}}},
		jobErrors: 1,
	}
	var events []watch.Event
	res, err := watch.Watch(context.Background(), api, "p", scriptedOptions(&events))
	require.NoError(t, err)
	assert.Equal(t, "workflow build failed (job compile failed)", res.Reason)
	var kinds, failed []string
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == watch.EventWorkflow && ev.Workflow.Status == "failed" {
			failed = append(failed, ev.Message)
			require.Len(t, ev.FailedJobs, 1)
		}
	}
	assert.Equal(t, []string{"workflow", "error", "workflow"}, kinds, "a pipeline first seen created says nothing")
	assert.Equal(t, []string{"workflow build failed"}, failed)
}

// Times no pipeline can have (a stopped_at at the end of time, a job that started an hour before
// its pipeline existed) are read as missing, said once in --debug output, and no duration
// anywhere comes out of them.
func TestImpossibleTimesAreSetAsideAndSaidInTheDebugOutput(t *testing.T) {
	endOfTime := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	tooEarly := epoch.Add(-time.Hour)
	failed := sw("1", "build", "failed", 0, 0, 0)
	failed.StoppedAt = &endOfTime
	api := &scripted{
		pipelines: []*circleci.Pipeline{{ID: "p", Number: 4, State: "created", CreatedAt: epoch}},
		lists:     [][]circleci.Workflow{{sw("1", "build", "running", 0, 0, 0)}, {failed}},
		jobs:      map[string][]circleci.Job{"1": {{Name: "compile", Status: "failed", StartedAt: &tooEarly, StoppedAt: &endOfTime}}},
	}
	var events []watch.Event
	var debug []string
	opts := scriptedOptions(&events)
	opts.Debugf = func(format string, args ...any) { debug = append(debug, fmt.Sprintf(format, args...)) }
	res, err := watch.Watch(context.Background(), api, "p", opts)
	require.NoError(t, err)
	assert.Equal(t, watch.Failed, res.Outcome)
	assert.Equal(t, []string{
		"* workflow build: stopped_at 9999-12-31T23:59:59Z is later than now (allowing 5m of clock skew); read as missing",
		"* job compile: started_at 2025-03-04T04:06:07Z is before the pipeline was created (allowing 5m of clock skew); read as missing",
		"* job compile: stopped_at 9999-12-31T23:59:59Z is later than now (allowing 5m of clock skew); read as missing",
	}, debug, "each said once, however many polls saw it")
	watched := res.Finished.Sub(epoch)
	assert.Less(t, watched, time.Hour, "the watch itself was short")
	assert.LessOrEqual(t, res.Duration(), watched)
	assert.LessOrEqual(t, res.WorkflowDuration(res.Workflows[0].Workflow), res.Duration())
	assert.Equal(t, time.Duration(0), res.JobDuration(res.Workflows[0].Jobs[0]), "a job whose start is unknown ran for no known time")
	for _, ev := range events {
		assert.LessOrEqual(t, ev.Elapsed, watched, ev.Message)
	}
}
