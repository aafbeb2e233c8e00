package orbrun_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// The callback examples run both sides with the packed orb's real scripts: the upstream's
// trigger job, the downstream pipeline (simulated) whose last job is the orb's callback job
// (run here, as CircleCI would run it in the downstream project), the approval, then the
// upstream's result job.

// downstreamPipeline is the pipeline the downstream example runs in.
var downstreamPipeline = orbrun.Pipeline{
	ID:       "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
	Number:   7,
	Branch:   "main",
	Revision: "9c1185a5c5e9fc54612808977ee8f548b2258d31",
	GitURL:   "https://github.com/acme/integration-tests",
}

// api calls the simulator as the test, with the examples' token.
func (w *world) api(method, path string) gjson.Result {
	w.t.Helper()
	req, err := http.NewRequest(method, w.simURL+"/api/v2/"+path, nil)
	require.NoError(w.t, err)
	req.Header.Set("Circle-Token", token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(w.t, err)
	require.Less(w.t, res.StatusCode, 300, string(body))
	return gjson.ParseBytes(body)
}

// workflowOf is the id of the pipeline's workflow called name.
func (w *world) workflowOf(pipelineID, name string) string {
	w.t.Helper()
	for _, wf := range w.api("GET", "pipeline/"+pipelineID+"/workflow").Get("items").Array() {
		if wf.Get("name").String() == name {
			return wf.Get("id").String()
		}
	}
	w.t.Fatalf("pipeline %s has no workflow %s", pipelineID, name)
	return ""
}

// startUpstream starts the upstream pipeline in the simulator (the one the upstream example
// runs in, as far as the API knows) and makes its deploy workflow the machine's
// $CIRCLE_WORKFLOW_ID.
func (w *world) startUpstream() string {
	w.t.Helper()
	id := w.api("POST", "project/gh/acme/api/pipeline").Get("id").String()
	wf := w.workflowOf(id, "deploy")
	w.machine.Env["CIRCLE_WORKFLOW_ID"] = wf
	return wf
}

// upstreamJob is the status of the upstream workflow's job.
func (w *world) upstreamJob(workflowID, name string) string {
	w.t.Helper()
	for _, j := range w.api("GET", "workflow/"+workflowID+"/job").Get("items").Array() {
		if j.Get("name").String() == name {
			return j.Get("status").String()
		}
	}
	return ""
}

// approvals counts the approve requests the simulator received.
func (w *world) approvals() int {
	n := 0
	for _, r := range w.sim.Requests() {
		if r.Method == "POST" && strings.Contains(r.Path, "/approve/") {
			n++
		}
	}
	return n
}

// runJobs runs the upstream example's jobs one by one on the world's machine (so that the
// workspace carries over), without RunWorkflow's automatic approval: the downstream approves.
func (w *world) runJob(j *orbrun.Job) *orbrun.JobResult {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := w.machine.RunJob(ctx, j)
	require.NoError(w.t, err)
	for _, s := range res.Steps {
		assert.NotContains(w.t, s.Output, token, "the token leaked into step %q", s.Step.Name)
	}
	return res
}

// downstreamOptions change the downstream example's run.
type downstreamOptions struct {
	reference  string         // the baton_callback parameter it was triggered with
	workflowID string         // its workflow in the simulator ($CIRCLE_WORKFLOW_ID)
	testsFail  bool           // its own test job fails
	args       map[string]any // changes to the callback job's arguments
}

// runDownstream runs the downstream example as the project called back would.
func (w *world) runDownstream(o downstreamOptions) map[string]*orbrun.JobResult {
	w.t.Helper()
	usage := w.example("callback-downstream")
	for _, entry := range usage["workflows"].(map[string]any)["integration"].(map[string]any)["jobs"].([]any) {
		if m, ok := entry.(map[string]any); ok {
			for k, v := range o.args {
				m["baton/callback"].(map[string]any)[k] = v
			}
		}
	}
	cfg, err := orbrun.ParseConfig(usage, w.resolve)
	require.NoError(w.t, err)
	p := downstreamPipeline
	p.Parameters = map[string]any{"baton_callback": o.reference}
	x := &orbrun.Expander{Config: cfg, Pipeline: p, Overrides: w.overrides}
	jobs, err := x.Workflow("integration")
	require.NoError(w.t, err)

	env := orbrun.CircleEnv(p, "acme", "integration-tests")
	env["CIRCLE_WORKFLOW_ID"] = o.workflowID
	paths := []string{w.stubs}
	if o.testsFail {
		failing := w.t.TempDir()
		require.NoError(w.t, os.WriteFile(filepath.Join(failing, "make"), []byte("#!/bin/sh\necho 'api-tests: 3 failed'\nexit 2\n"), 0o755))
		paths = append([]string{failing}, paths...)
	}
	m := &orbrun.Machine{Root: w.t.TempDir(), Env: env, Contexts: w.machine.Contexts, PathDirs: paths, Log: w.log, StepTimeout: 2 * time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	results, err := m.RunWorkflow(ctx, jobs)
	require.NoError(w.t, err)
	out := map[string]*orbrun.JobResult{}
	for _, r := range results {
		out[r.Job.Name] = r
		for _, s := range r.Steps {
			assert.NotContains(w.t, s.Output, token, "the token leaked into step %q", s.Step.Name)
		}
	}
	return out
}

// triggeredDownstream is the latest integration-tests pipeline: its reference and workflow.
func (w *world) triggeredDownstream() (reference, workflowID string) {
	w.t.Helper()
	p := w.pipelines("gh/acme/integration-tests")
	require.NotEmpty(w.t, p)
	last := p[len(p)-1]
	reference, _ = last.Parameters["baton_callback"].(string)
	return reference, w.workflowOf(last.ID, "integration")
}

func testCallbackUpstream(t *testing.T) {
	for _, tt := range []struct {
		name, status string
		testsFail    bool
	}{
		{"the downstream passes: so does the result job", "success", false},
		{"the downstream fails: it still calls back, and the result job fails with it", "failed", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{integrationStatus: tt.status})
			up := w.startUpstream()
			jobs := w.expand(w.example("callback-upstream"))
			require.Len(t, jobs, 3)
			require.True(t, jobs[1].Approval, "await-e2e is the approval job")
			w.machine.BeginWorkflow("deploy", jobs) // e2e-result attaches what start-e2e persisted

			start := w.runJob(jobs[0])
			requireSuccess(t, start)
			trigger, _ := start.Step("Trigger pipelines with baton")
			assert.Contains(t, trigger.Output, "gh/acme/integration-tests #1")
			persisted, ok := start.Step("Persist the pipelines for pipeline-result")
			require.True(t, ok)
			assert.True(t, persisted.Recorded)

			reference, downWF := w.triggeredDownstream()
			assert.Equal(t, "baton-callback:v1:"+up+":await-e2e", reference)
			assert.Equal(t, 0, w.approvals())

			down := w.runDownstream(downstreamOptions{reference: reference, workflowID: downWF, testsFail: tt.testsFail})
			if tt.testsFail {
				assert.Equal(t, orbrun.JobFailed, down["api-tests"].Status)
			}
			cb := down["baton/callback"]
			requireSuccess(t, cb)
			installedFromRelease(t, cb)
			step, _ := cb.Step("Call the upstream workflow back with baton")
			assert.Contains(t, step.Output, "approved approval job await-e2e of gh/acme/api workflow deploy")
			assert.Equal(t, 1, w.approvals())
			assert.Equal(t, "success", w.upstreamJob(up, "await-e2e"))

			result := w.runJob(jobs[2])
			assertJUnit(t, result, "test-results/e2e/junit.xml", "api-tests")
			read, _ := result.Step("Read the downstream result with baton")
			assert.Contains(t, read.Output, "gh/acme/integration-tests #1")
			if tt.status == "success" {
				requireSuccess(t, result)
				return
			}
			assert.Equal(t, orbrun.JobFailed, result.Status)
			failed, ok := result.FailedStep()
			require.True(t, ok)
			assert.Equal(t, 1, failed.ExitCode, "exit 1: the downstream pipeline failed")
		})
	}
	t.Run("a downstream that cannot start fails the trigger job at once", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		w.startUpstream()
		usage := w.example("callback-upstream")
		for _, entry := range usage["workflows"].(map[string]any)["deploy"].(map[string]any)["jobs"].([]any) {
			if m, ok := entry.(map[string]any)["baton/trigger-pipeline"].(map[string]any); ok {
				m["project_slug"] = "gh/acme/contract-tests" // declares no baton_callback
				m["parameters"] = ""
			}
		}
		start := w.runJob(w.expand(usage)[0])
		assert.Equal(t, orbrun.JobFailed, start.Status)
		failed, ok := start.FailedStep()
		require.True(t, ok)
		assert.Equal(t, 1, failed.ExitCode, failed.Output)
		assert.Contains(t, failed.Output, "baton_callback", "CircleCI's error names the undeclared parameter")
		assert.Equal(t, 0, w.approvals())
	})
}

func testCallbackDownstream(t *testing.T) {
	// A downstream pipeline in the simulator, for $CIRCLE_WORKFLOW_ID.
	downstream := func(w *world) string {
		id := w.api("POST", "project/gh/acme/integration-tests/pipeline").Get("id").String()
		return w.workflowOf(id, "integration")
	}
	t.Run("not called back: nothing to approve, nothing installed", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		down := w.runDownstream(downstreamOptions{workflowID: downstream(w)})
		cb := down["baton/callback"]
		requireSuccess(t, cb)
		_, installed := cb.Step("Install baton")
		assert.False(t, installed)
		step, _ := cb.Step("Call the upstream workflow back with baton")
		assert.Contains(t, step.Output, "nothing to approve")
		assert.Equal(t, 0, w.approvals())
	})
	for _, tt := range []struct {
		name, job string
		args      map[string]any
		code      int
		says      string
	}{
		{"a reference to a project outside the allow-list is refused", "await-e2e", map[string]any{"allowed_projects": "gh/acme/web:await-e2e"}, 2,
			`belongs to "gh/acme/api", which is not in --allowed-projects (gh/acme/web:await-e2e)`},
		{"a forged reference naming the production gate is refused", "approve-prod", map[string]any{"allowed_projects": "gh/acme/api:wait-for-tests"}, 2,
			`refused, nothing approved: job "approve-prod" of "gh/acme/api" is not among the approval jobs --allowed-projects allows (gh/acme/api:wait-for-tests)`},
		{"a reference to a job the example's allow-list does not name is refused", "approve-prod", nil, 2,
			`refused, nothing approved: job "approve-prod" of "gh/acme/api" is not among the approval jobs --allowed-projects allows (gh/acme/api:await-e2e)`},
		// the wildcard in the allow-list, so that the job's type is what refuses it
		{"a forged reference naming a job that is not an approval is refused", "start-e2e", map[string]any{"allowed_projects": "gh/acme/api:*"}, 2,
			`refused, nothing approved: job "start-e2e" of the upstream workflow is of type "build", not an approval job`},
		{"a project alone in the allow-list is refused before anything is sent", "await-e2e", map[string]any{"allowed_projects": "gh/acme/api"}, 2,
			"baton: --allowed-projects gh/acme/api: name the approval job too, as gh/acme/api:JOB (or gh/acme/api:* for any approval job of that project)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			up := w.startUpstream()
			time.Sleep(100 * time.Millisecond) // a minute on the simulator's clock: the approvals are on hold
			require.Equal(t, "on_hold", w.upstreamJob(up, "await-e2e"))
			require.Equal(t, "on_hold", w.upstreamJob(up, "approve-prod"))
			down := w.runDownstream(downstreamOptions{reference: "baton-callback:v1:" + up + ":" + tt.job, workflowID: downstream(w), args: tt.args})
			cb := down["baton/callback"]
			assert.Equal(t, orbrun.JobFailed, cb.Status)
			failed, ok := cb.FailedStep()
			require.True(t, ok)
			assert.Equal(t, tt.code, failed.ExitCode, failed.Output)
			assert.Contains(t, failed.Output, tt.says)
			assert.Equal(t, 0, w.approvals(), "nothing was approved")
			assert.Equal(t, "on_hold", w.upstreamJob(up, "await-e2e"))
			assert.Equal(t, "on_hold", w.upstreamJob(up, "approve-prod"))
		})
	}
	t.Run("a wildcard approves any approval job of the project, and says so", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		up := w.startUpstream()
		time.Sleep(100 * time.Millisecond)
		require.Equal(t, "on_hold", w.upstreamJob(up, "approve-prod"))
		down := w.runDownstream(downstreamOptions{reference: "baton-callback:v1:" + up + ":approve-prod", workflowID: downstream(w),
			args: map[string]any{"allowed_projects": "gh/acme/api:*"}})
		cb := down["baton/callback"]
		requireSuccess(t, cb)
		step, _ := cb.Step("Call the upstream workflow back with baton")
		assert.Contains(t, step.Output, "approved approval job approve-prod of gh/acme/api workflow deploy (allowed by the wildcard gh/acme/api:*)")
		assert.Equal(t, 1, w.approvals())
		assert.Equal(t, "success", w.upstreamJob(up, "approve-prod"))
		assert.Equal(t, "on_hold", w.upstreamJob(up, "await-e2e"))
	})
}
