package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/apispec"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// TestAnswersFitTheOpenAPIDescription drives a scenario through every route and answer shape
// the simulator has, then holds every recorded exchange to CircleCI's OpenAPI description.
func TestAnswersFitTheOpenAPIDescription(t *testing.T) {
	spec := apispec.Require(t)
	const config = `
tokens:
  - {token: tok, login: octocat, avatar_url: "https://avatars.example.com/o"}
  - {token: plain, login: nobody}
page_size: 2
rate_limit: {requests: 1000, window: 1m}
projects:
  - slug: gh/acme/api
    definition_ids: [` + defID + `]
    ci_skip_branches: [skip-me]
    parameters:
      - {name: mark, type: boolean}
      - {name: env, type: enum, enum: [dev, prod]}
    workflows:
      - name: build
        duration: 60s
        jobs:
          - {name: compile, duration: 10s, status: failed, tests: {passing: 3, failures: [{classname: c, name: n, message: m}]}, artifacts: [{path: a.txt, content: hi}, {path: b.txt}]}
          - {name: test, requires: [compile]}
          - {name: extra}
      - {name: e2e, duration: 10s, max_auto_reruns: 1, outcomes: [failed, success], jobs: [{name: cypress}]}
      - name: deploy
        status: on_hold
        jobs: [{name: approve, type: approval}, {name: ship, status: blocked, requires: [approve]}]
  - slug: ` + appSlug + `
    definition_ids: [9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d]
    start_delay: 1s
    workflows:
      - {name: setup, tag: setup, duration: 5s}
      - {name: main, duration: 5s, status: error}
  - slug: gh/acme/runner
    external: true
    parameters: [{name: note, type: string, default: ""}]
`
	e := start(t, config)
	// Requests that deliberately break the description: only their answers are checked.
	invalidRequests := map[int]bool{}
	mark := func() { invalidRequests[len(e.sim.Requests())-1] = true }

	e.api("GET", "/api/v2/me", "")
	e.do("GET", "/api/v2/me", "", http.Header{"Circle-Token": {"plain"}})
	e.do("GET", "/api/v2/me", "", nil)
	e.do("GET", "/api/v2/me", "", http.Header{"Circle-Token": {"wrong"}})

	id := e.trigger("gh%2Facme%2Fapi", `{"branch":"main","parameters":{"mark":true,"env":"prod"}}`)
	e.trigger("gh/acme/api", `{"tag":"v1.0.0"}`)
	errored := e.trigger("gh/acme/api", `{"parameters":{"mark":"true","nope":1}}`)
	e.api("POST", "/api/v2/project/gh/acme/nope/pipeline", `{}`)
	e.api("POST", "/api/v2/project/gh/acme/api/pipeline", `{"branch":"a","tag":"b"}`)
	e.api("POST", "/api/v2/project/"+appSlug+"/pipeline", `{}`)

	run := e.api("POST", "/api/v2/project/"+appSlug+"/pipeline/run", `{"definition_id":"9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d","config":{"branch":"main"},"checkout":{"branch":"main"}}`)
	require.Equal(t, http.StatusCreated, run.status)
	e.api("POST", "/api/v2/project/gh/acme/api/pipeline/run", `{"definition_id":"`+defID+`","checkout":{"branch":"skip-me"}}`)
	e.api("POST", "/api/v2/project/gh/acme/api/pipeline/run", `{"definition_id":"`+defID+`","bogus":1}`)
	mark()
	e.api("POST", "/api/v2/project/gh/acme/api/pipeline/run", `{"definition_id":"00000000-0000-4000-8000-000000000000"}`)

	for _, at := range []time.Duration{0, 500 * time.Millisecond, 5 * time.Second, 2 * time.Second, time.Minute} {
		e.clock.Advance(at)
		for _, p := range []string{id, errored, gjsonGet(run.body, "id")} {
			e.api("GET", "/api/v2/pipeline/"+p, "")
			for tok := ""; ; {
				q := ""
				if tok != "" {
					q = "?page-token=" + tok
				}
				r := e.api("GET", "/api/v2/pipeline/"+p+"/workflow"+q, "")
				for _, w := range gjsonArray(r.body, "items") {
					e.api("GET", "/api/v2/workflow/"+gjsonGet(w, "id"), "")
					jobs := e.api("GET", "/api/v2/workflow/"+gjsonGet(w, "id")+"/job", "")
					if next := gjsonGet(jobs.body, "next_page_token"); next != "" {
						e.api("GET", "/api/v2/workflow/"+gjsonGet(w, "id")+"/job?page-token="+next, "")
					}
				}
				if tok = gjsonGet(r.body, "next_page_token"); tok == "" {
					break
				}
			}
		}
		if at == 500*time.Millisecond {
			w := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
			e.api("POST", "/api/v2/workflow/"+w+"/cancel", "")
		}
	}
	approveAll(e, id) // accepted, then refused as no longer on hold
	e.api("POST", "/api/v2/workflow/00000000-0000-4000-8000-000000000000/approve/00000000-0000-4000-8000-000000000000", "")
	wf0 := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
	num := gjsonGet(e.api("GET", "/api/v2/workflow/"+wf0+"/job", "").body, "items.0.job_number")
	tests := e.api("GET", "/api/v2/project/gh/acme/api/"+num+"/tests", "")
	e.api("GET", "/api/v2/project/gh%2Facme%2Fapi/"+num+"/tests?page-token="+gjsonGet(tests.body, "next_page_token"), "")
	e.api("GET", "/api/v2/project/gh/acme/api/"+num+"/artifacts", "")
	e.api("GET", "/api/v2/project/gh/acme/api/999/artifacts", "")
	e.api("GET", "/api/v2/pipeline/00000000-0000-4000-8000-000000000000", "")
	e.api("GET", "/api/v2/pipeline/"+id+"/config", "")
	e.api("GET", "/api/v2/pipeline/"+gjsonGet(run.body, "id")+"/config", "")
	e.api("GET", "/api/v2/pipeline/00000000-0000-4000-8000-000000000000/config", "")
	e.api("GET", "/api/v2/workflow/00000000-0000-4000-8000-000000000000", "")
	e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "")
	e.api("GET", "/api/v2/project/gh%2Facme%2Fapi", "")
	e.api("GET", "/api/v2/project/"+appSlug, "")
	e.api("GET", "/api/v2/project/gh/acme/nope", "")
	e.api("GET", "/api/v2/project/gh%2Facme%2Fapi/pipeline?branch=main", "")
	e.api("GET", "/api/v2/project/gh/acme/api/pipeline?page-token="+gjsonGet(e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "").body, "next_page_token"), "")
	e.api("GET", "/api/v2/insights/gh/acme/api/workflows/build/summary", "")
	e.api("GET", "/api/v2/insights/gh%2Facme%2Fapi/workflows/e2e/summary?all-branches=true", "")
	e.api("GET", "/api/v2/insights/gh/acme/api/workflows/deploy/summary?branch=main", "")
	e.api("GET", "/api/v2/insights/gh/acme/api/workflows/nope/summary", "")
	require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getPipelineById", Status: 429}))
	require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "listWorkflowsByPipelineId", Status: 503}))
	e.api("GET", "/api/v2/pipeline/"+id, "")
	e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "")

	ext := e.trigger("gh/acme/runner", `{"branch":"main","parameters":{"note":"n"}}`)
	key, err := e.sim.StartConfig(ext, setupConfig[:len("version: 2.1\nsetup: true\n")]+"parameters:\n  note: {type: string, default: \"\"}\n", true)
	require.NoError(t, err)
	_, err = e.sim.ReportWorkflow(ext, simulator.WorkflowReport{Name: "setup", Setup: true, Status: "success", Jobs: []simulator.JobReport{{Name: "continue", Status: "success"}}})
	require.NoError(t, err)
	e.postContinue(`{"configuration": "version: 2.1"}`)
	mark()
	e.postContinue(continueBody(key, "version: 2.1\nparameters:\n  note: {type: string, default: \"\"}\n", nil))
	e.postContinue(continueBody(key, "version: 2.1", nil))
	e.api("GET", "/api/v2/pipeline/"+ext+"/config", "")
	e.api("GET", "/api/v2/pipeline/"+ext+"/workflow", "")

	reqs := e.sim.Requests()
	require.Greater(t, len(reqs), 50)
	ops := map[string]bool{}
	for i, r := range reqs {
		ops[r.Operation] = true
		ex := apispec.Exchange{
			Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, RequestHeader: r.Header,
			RequestBody: r.Body, Status: r.Status, ResponseHeader: r.ResponseHeader,
			ResponseBody: r.ResponseBody,
		}
		var err error
		if invalidRequests[i] {
			err = spec.CheckResponse(ex)
		} else {
			err = spec.Check(ex)
		}
		assert.NoError(t, err, "exchange %d: %s %s -> %d %s", i, r.Method, r.Path, r.Status, r.ResponseBody)
	}
	for _, op := range []string{"triggerPipeline", "triggerPipelineRun", "getPipelineById", "listWorkflowsByPipelineId", "getWorkflowById", "listWorkflowJobs", "cancelWorkflow", "getCurrentUser", "listPipelinesForProject", "getWorkflowSummary", "getProjectBySlug", "getPipelineConfigById", "approvePendingApprovalJobById", "getTests", "getJobArtifacts", "continuePipeline"} {
		assert.True(t, ops[op], "the scenario exercises %s", op)
	}
}
