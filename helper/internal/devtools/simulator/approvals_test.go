package simulator_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const approvalConfig = `
tokens:
  - {token: tok, login: octocat}
  - {token: other, login: outsider, projects: [gh/acme/other]}
projects:
  - slug: gh/acme/api
    workflows:
      - name: deploy
        duration: 10s
        status: on_hold
        approved: {status: %s, duration: 30s}
        jobs:
          - {name: start-e2e, duration: 5s}
          - {name: await-e2e, type: approval, requires: [start-e2e]}
          - {name: result, status: blocked, requires: [await-e2e]}
  - slug: gh/acme/other
`

// jobsByName reads a workflow's jobs: name → status, and the approval's request id.
func jobsByName(e *env, workflowID string) (map[string]string, string) {
	out := map[string]string{}
	body := e.api("GET", "/api/v2/workflow/"+workflowID+"/job", "").body
	var requestID string
	for _, j := range gjsonArray(body, "items") {
		out[gjsonGet(j, "name")] = gjsonGet(j, "status")
		if gjsonGet(j, "type") == "approval" {
			requestID = gjsonGet(j, "approval_request_id")
		}
	}
	return out, requestID
}

func TestAnApprovedWorkflowRunsOnToItsOutcome(t *testing.T) {
	for _, outcome := range []string{"success", "failed"} {
		t.Run(outcome, func(t *testing.T) {
			e := start(t, fmt.Sprintf(approvalConfig, outcome))
			id := e.trigger("gh/acme/api", "")
			e.clock.Advance(time.Second)
			wf := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
			jobs, reqID := jobsByName(e, wf)
			assert.Equal(t, map[string]string{"start-e2e": "running", "await-e2e": "blocked", "result": "blocked"}, jobs)

			r := e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+reqID, "")
			assert.Equal(t, http.StatusBadRequest, r.status, "a blocked approval cannot be approved yet")
			assert.JSONEq(t, `{"message": "Job is not on hold (status blocked)"}`, r.body)

			e.clock.Advance(time.Minute)
			assert.Equal(t, []string{"deploy=on_hold"}, e.workflowStatuses(id))
			r = e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+reqID, "")
			require.Equal(t, http.StatusAccepted, r.status, r.body)
			assert.JSONEq(t, `{"message": "Accepted."}`, r.body)
			assert.Equal(t, []string{"deploy=running"}, e.workflowStatuses(id))
			jobs, _ = jobsByName(e, wf)
			assert.Equal(t, map[string]string{"start-e2e": "success", "await-e2e": "success", "result": "running"}, jobs)
			approval := gjsonArray(e.api("GET", "/api/v2/workflow/"+wf+"/job", "").body, "items")[1]
			assert.NotEmpty(t, gjsonGet(approval, "approved_by"))
			assert.NotEmpty(t, gjsonGet(approval, "stopped_at"))

			r = e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+reqID, "")
			assert.Equal(t, http.StatusBadRequest, r.status, "approving twice is refused")
			assert.JSONEq(t, `{"message": "Job is not on hold (status success)"}`, r.body)

			e.clock.Advance(time.Minute)
			assert.Equal(t, []string{"deploy=" + outcome}, e.workflowStatuses(id))
			jobs, _ = jobsByName(e, wf)
			assert.Equal(t, outcome, jobs["result"])
			assert.NotEmpty(t, gjsonGet(e.api("GET", "/api/v2/workflow/"+wf, "").body, "stopped_at"))
		})
	}
}

func TestApproveRefusesWhatIsNoApprovalOnHold(t *testing.T) {
	e := start(t, fmt.Sprintf(approvalConfig, "success"))
	id := e.trigger("gh/acme/api", "")
	e.clock.Advance(time.Minute)
	wf := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
	body := e.api("GET", "/api/v2/workflow/"+wf+"/job", "").body
	buildID := gjsonGet(body, "items.0.id")
	_, reqID := jobsByName(e, wf)

	r := e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+buildID, "")
	assert.Equal(t, http.StatusNotFound, r.status, "a build job is no approval request")
	assert.JSONEq(t, `{"message": "Approval request not found"}`, r.body)
	r = e.api("POST", "/api/v2/workflow/00000000-0000-4000-8000-000000000000/approve/"+reqID, "")
	assert.Equal(t, http.StatusNotFound, r.status)
	r = e.do("POST", "/api/v2/workflow/"+wf+"/approve/"+reqID, "", http.Header{"Circle-Token": {"other"}})
	assert.Equal(t, http.StatusNotFound, r.status, "a token that cannot see the project cannot approve")
	r = e.api("GET", "/api/v2/workflow/"+wf+"/approve/"+reqID, "")
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, []string{"deploy=on_hold"}, e.workflowStatuses(id), "nothing was approved")

	e.api("POST", "/api/v2/workflow/"+wf+"/cancel", "")
	r = e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+reqID, "")
	assert.Equal(t, http.StatusBadRequest, r.status, "a canceled workflow's approval is over")
	assert.Equal(t, []string{"deploy=canceled"}, e.workflowStatuses(id))
}

// approveAll approves, twice, every approval job of the pipeline's workflows: the first is
// accepted when the job is on hold, the second refused.
func approveAll(e *env, pipelineID string) {
	for _, w := range gjsonArray(e.api("GET", "/api/v2/pipeline/"+pipelineID+"/workflow", "").body, "items") {
		wf := gjsonGet(w, "id")
		for _, j := range gjsonArray(e.api("GET", "/api/v2/workflow/"+wf+"/job", "").body, "items") {
			if gjsonGet(j, "type") == "approval" {
				e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+gjsonGet(j, "approval_request_id"), "")
				e.api("POST", "/api/v2/workflow/"+wf+"/approve/"+gjsonGet(j, "approval_request_id"), "")
			}
		}
	}
}
