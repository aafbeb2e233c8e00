package watch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

var real0 = time.Date(2020, 9, 12, 17, 47, 21, 0, time.UTC)

func when(d time.Duration) time.Time   { return real0.Add(d) }
func whenp(d time.Duration) *time.Time { t := when(d); return &t }

func TestLasted(t *testing.T) {
	now := when(100 * time.Hour) // read long after the pipeline ended, as baton wait may
	for _, tc := range []struct {
		name     string
		start    time.Time
		stop     *time.Time
		from, to time.Time
		want     time.Duration
	}{
		{"something that stopped lasted from its start to its stop", when(0), whenp(65 * time.Second), time.Time{}, time.Time{}, 65 * time.Second},
		{"something still running lasts until now", when(0), nil, time.Time{}, time.Time{}, 100 * time.Hour},
		{"a stop before the start (clock skew) is no time, never negative", when(time.Minute), whenp(59 * time.Second), time.Time{}, time.Time{}, 0},
		{"a start before the pipeline's counts from the pipeline's", when(-time.Hour), whenp(time.Minute), when(0), when(time.Hour), time.Minute},
		{"an end after the pipeline's counts to the pipeline's", when(0), whenp(10 * time.Hour), when(0), when(time.Hour), time.Hour},
		{"something still running within an ended pipeline ends with it", when(0), nil, when(0), when(2 * time.Minute), 2 * time.Minute},
		{"an unknown start counts from the pipeline's", time.Time{}, whenp(time.Minute), when(0), when(time.Hour), time.Minute},
		{"an unknown start without a pipeline is no time", time.Time{}, whenp(time.Minute), time.Time{}, time.Time{}, 0},
		{"a zero stop counts as none", when(0), &time.Time{}, time.Time{}, time.Time{}, 100 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Lasted(tc.start, tc.stop, now, tc.from, tc.to))
		})
	}
}

func TestTheSpanEndsWhereThePipelineDid(t *testing.T) {
	now := when(54610 * time.Hour)
	wf := func(name, status string, created, stopped time.Duration) WorkflowResult {
		w := circleci.Workflow{Name: name, Status: status, CreatedAt: when(created)}
		if stopped > 0 {
			w.StoppedAt = whenp(stopped)
		}
		return WorkflowResult{Workflow: w}
	}
	pipeline := &circleci.Pipeline{CreatedAt: when(364 * time.Millisecond), UpdatedAt: when(3 * time.Second)}
	for _, tc := range []struct {
		name    string
		res     Result
		wantEnd time.Time
	}{
		{"every workflow stopped: at the last stop", Result{Pipeline: pipeline, Outcome: Failed, Workflows: []WorkflowResult{
			wf("docker_build_and_push", "failed", 0, 65*time.Second), wf("yet_another_test_workflow", "success", 0, 50*time.Second)}}, when(65 * time.Second)},
		{"a workflow still runs: now", Result{Pipeline: pipeline, Workflows: []WorkflowResult{
			wf("build", "success", 0, 65*time.Second), wf("test", "running", 0, 0)}}, now},
		{"errored without a workflow: when it was last updated", Result{Pipeline: pipeline, Outcome: Errored}, when(3 * time.Second)},
		{"ran no workflow: when it was last updated", Result{Pipeline: pipeline, Outcome: NoWorkflows}, when(3 * time.Second)},
		{"timed out before any workflow: now", Result{Pipeline: pipeline, Outcome: TimedOut}, now},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, end := tc.res.SpanAt(now)
			assert.Equal(t, pipeline.CreatedAt, start)
			assert.Equal(t, tc.wantEnd, end)
		})
	}
	t.Run("a finished workflow lasted its own stopped_at - created_at, whenever it is read", func(t *testing.T) {
		r := Result{Pipeline: pipeline, Outcome: Failed, Finished: now, Workflows: []WorkflowResult{wf("docker_build_and_push", "failed", 0, 65*time.Second)}}
		// The workflow's created_at has whole seconds, its pipeline's milliseconds: the workflow
		// seems to start 364ms before its pipeline, and is kept within it.
		assert.Equal(t, 65*time.Second-364*time.Millisecond, r.WorkflowDuration(r.Workflows[0].Workflow))
		assert.Equal(t, "1m5s", Human(r.WorkflowDuration(r.Workflows[0].Workflow)))
		assert.Equal(t, 65*time.Second-364*time.Millisecond, r.Duration())
	})
	t.Run("a workflow is never longer than its pipeline", func(t *testing.T) {
		r := Result{Pipeline: pipeline, Outcome: Failed, Finished: now, Workflows: []WorkflowResult{
			wf("early", "success", -time.Hour, 30*time.Second), wf("late", "failed", 0, 65*time.Second)}}
		assert.Equal(t, 30*time.Second-364*time.Millisecond, r.WorkflowDuration(r.Workflows[0].Workflow))
	})
	t.Run("a job lasted from its started_at to its stopped_at; one that never started, nothing", func(t *testing.T) {
		r := Result{Pipeline: pipeline, Outcome: Failed, Finished: now, Workflows: []WorkflowResult{wf("w", "failed", 0, 65*time.Second)}}
		assert.Equal(t, 61*time.Second, r.JobDuration(circleci.Job{StartedAt: whenp(4 * time.Second), StoppedAt: whenp(65 * time.Second)}))
		assert.Equal(t, time.Duration(0), r.JobDuration(circleci.Job{Status: "blocked"}))
		assert.Equal(t, 61*time.Second, r.JobDuration(circleci.Job{StartedAt: whenp(4 * time.Second)}), "one still running when the watch ended ran until the pipeline's end")
	})
	t.Run("without a pipeline read, the watch's own start and end", func(t *testing.T) {
		r := Result{Started: when(time.Hour), Finished: when(2 * time.Hour)}
		assert.Equal(t, time.Hour, r.Duration())
	})
}

func TestImplausibleTimes(t *testing.T) {
	now := when(time.Hour)
	for _, tc := range []struct {
		name   string
		t      time.Time
		floor  time.Time
		reason string
	}{
		{"a time a little ahead of baton's clock is skew", now.Add(4 * time.Minute), when(0), ""},
		{"the end of time is later than now", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), when(0), "is later than now"},
		{"a time before the pipeline was created", when(-time.Hour), when(0), "is before the pipeline was created"},
		{"a time a little before the pipeline is skew", when(-time.Second), when(0), ""},
		{"without a known creation, the past is plausible", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, ""},
		{"a missing time is not implausible", time.Time{}, when(0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.reason, implausible(tc.t, now, tc.floor))
		})
	}
}
