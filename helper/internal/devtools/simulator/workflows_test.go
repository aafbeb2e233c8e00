package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is a moment in a scenario: after advancing the clock by `after`, the pipeline state and
// its workflows (name=status, in order) are as given.
type step struct {
	after     time.Duration
	state     string
	workflows []string
}

func TestWorkflowsOverTime(t *testing.T) {
	tests := []struct {
		name     string
		workflow string // the project's workflows: YAML
		extra    string // more project keys
		steps    []step
	}{
		{
			name:     "a workflow runs for its duration, then succeeds",
			workflow: `[{name: build, duration: 60s}]`,
			steps: []step{
				{0, "created", []string{"build=running"}},
				{59 * time.Second, "created", []string{"build=running"}},
				{time.Second, "created", []string{"build=success"}},
			},
		},
		{
			name:     "a workflow is failing once a job failed while others still run",
			workflow: `[{name: test, duration: 60s, status: failed, jobs: [{name: lint, duration: 10s, status: failed}, {name: unit}]}]`,
			steps: []step{
				{5 * time.Second, "created", []string{"test=running"}},
				{5 * time.Second, "created", []string{"test=failing"}},
				{50 * time.Second, "created", []string{"test=failed"}},
			},
		},
		{
			name:     "each final status is reached",
			workflow: `[{name: a, status: error}, {name: b, status: canceled}, {name: c, status: unauthorized}, {name: d, status: not_run}, {name: e, status: on_hold}]`,
			steps:    []step{{0, "created", []string{"a=error", "b=canceled", "c=unauthorized", "d=not_run", "e=on_hold"}}},
		},
		{
			name:     "a pipeline stays pending until its start delay passes",
			workflow: `[{name: build, duration: 10s}]`,
			extra:    `start_delay: 3s`,
			steps: []step{
				{0, "pending", nil},
				{3 * time.Second, "created", []string{"build=running"}},
				{10 * time.Second, "created", []string{"build=success"}},
			},
		},
		{
			name:     "a setup workflow runs first and the rest appear once it succeeds",
			workflow: `[{name: setup, tag: setup, duration: 5s}, {name: build, duration: 10s}, {name: lint, duration: 2s}]`,
			extra:    `start_delay: 1s`,
			steps: []step{
				{0, "setup-pending", nil},
				{time.Second, "setup", []string{"setup=running"}},
				{5 * time.Second, "created", []string{"setup=success", "build=running", "lint=running"}},
				{2 * time.Second, "created", []string{"setup=success", "build=running", "lint=success"}},
				{8 * time.Second, "created", []string{"setup=success", "build=success", "lint=success"}},
			},
		},
		{
			name:     "a failed setup workflow continues nothing",
			workflow: `[{name: setup, tag: setup, duration: 5s, status: failed}, {name: build}]`,
			steps: []step{
				{0, "setup", []string{"setup=running"}},
				{time.Hour, "setup", []string{"setup=failed"}},
			},
		},
		{
			name:     "a failed workflow is rerun automatically until an attempt succeeds",
			workflow: `[{name: e2e, duration: 10s, max_auto_reruns: 3, outcomes: [failed, failed, success]}]`,
			steps: []step{
				{0, "created", []string{"e2e=running"}},
				{10 * time.Second, "created", []string{"e2e=failed", "e2e=running"}},
				{10 * time.Second, "created", []string{"e2e=failed", "e2e=failed", "e2e=running"}},
				{time.Hour, "created", []string{"e2e=failed", "e2e=failed", "e2e=success"}},
			},
		},
		{
			name:     "automatic reruns stop at max_auto_reruns",
			workflow: `[{name: e2e, duration: 10s, max_auto_reruns: 1, status: failed}]`,
			steps:    []step{{time.Hour, "created", []string{"e2e=failed", "e2e=failed"}}},
		},
		{
			name:     "an on_hold workflow runs, then waits for approval",
			workflow: `[{name: deploy, duration: 10s, status: on_hold, jobs: [{name: build, duration: 5s}, {name: approve, type: approval, requires: [build]}, {name: ship, status: blocked, requires: [approve]}]}]`,
			steps: []step{
				{0, "created", []string{"deploy=running"}},
				{time.Hour, "created", []string{"deploy=on_hold"}},
			},
		},
		{
			name:     "a project whose filters exclude everything runs no workflows",
			workflow: `[]`,
			steps: []step{
				{0, "created", nil},
				{time.Hour, "created", nil},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, "tokens: [{token: tok}]\nprojects:\n  - slug: gh/acme/api\n    workflows: "+tt.workflow+"\n    "+tt.extra+"\n")
			id := e.trigger("gh/acme/api", "")
			for i, s := range tt.steps {
				e.clock.Advance(s.after)
				r := e.api("GET", "/api/v2/pipeline/"+id, "")
				assert.Equal(t, s.state, gjsonGet(r.body, "state"), "step %d", i)
				assert.Equal(t, s.workflows, e.workflowStatuses(id), "step %d", i)
			}
		})
	}
}

func TestWorkflowObjects(t *testing.T) {
	const config = `
tokens: [{token: tok, login: octocat}]
projects:
  - slug: gh/acme/api
    first_number: 42
    workflows:
      - name: build
        duration: 60s
        jobs:
          - {name: compile, duration: 20s}
          - {name: test, requires: [compile]}
      - name: e2e
        duration: 10s
        max_auto_reruns: 1
        outcomes: [failed, success]
        jobs: [{name: cypress}]
      - name: deploy
        duration: 10s
        status: on_hold
        jobs:
          - {name: package, duration: 5s}
          - {name: approve, type: approval, requires: [package]}
          - {name: ship, status: blocked, requires: [approve]}
`
	e := start(t, config)
	id := e.trigger("gh/acme/api", "")
	user := gjsonGet(e.api("GET", "/api/v2/me", "").body, "id")
	list := e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "")
	build := gjsonArray(list.body, "items")[0]
	buildID := gjsonGet(build, "id")

	t.Run("a running workflow carries every required field and a null stopped_at", func(t *testing.T) {
		assert.JSONEq(t, `{
			"pipeline_id": "`+id+`",
			"id": "`+buildID+`",
			"name": "build",
			"project_slug": "gh/acme/api",
			"status": "running",
			"started_by": "`+user+`",
			"pipeline_number": 42,
			"created_at": "2025-03-04T05:06:07.000Z",
			"stopped_at": null
		}`, build)
		r := e.api("GET", "/api/v2/workflow/"+buildID, "")
		assert.JSONEq(t, build, r.body, "GET /workflow/{id} answers the same object")
	})

	t.Run("jobs carry numbers, dependencies and timestamps", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		r := e.api("GET", "/api/v2/workflow/"+buildID+"/job", "")
		require.Equal(t, http.StatusOK, r.status)
		jobs := gjsonArray(r.body, "items")
		require.Len(t, jobs, 2)
		compileID := gjsonGet(jobs[0], "id")
		assert.JSONEq(t, `{
			"dependencies": [],
			"job_number": 1,
			"id": "`+compileID+`",
			"started_at": "2025-03-04T05:06:07.000Z",
			"name": "compile",
			"project_slug": "gh/acme/api",
			"status": "success",
			"type": "build",
			"stopped_at": "2025-03-04T05:06:27.000Z"
		}`, jobs[0])
		assert.Equal(t, "running", gjsonGet(jobs[1], "status"))
		assert.Equal(t, "2", gjsonGet(jobs[1], "job_number"))
		assert.Equal(t, `["`+compileID+`"]`, gjsonGet(jobs[1], "dependencies"))
		assert.Contains(t, jobs[1], `"stopped_at":null`)
		assert.Contains(t, r.body, `"next_page_token":null`)
	})

	t.Run("a finished workflow has its stopped_at", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		r := e.api("GET", "/api/v2/workflow/"+buildID, "")
		assert.Equal(t, "success", gjsonGet(r.body, "status"))
		assert.Equal(t, "2025-03-04T05:07:07.000Z", gjsonGet(r.body, "stopped_at"))
	})

	t.Run("an automatic rerun counts its attempt and inherits max_auto_reruns", func(t *testing.T) {
		items := gjsonArray(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items")
		require.Len(t, items, 4)
		first, rerun := items[1], items[3]
		assert.Equal(t, "failed", gjsonGet(first, "status"))
		assert.Equal(t, "1", gjsonGet(first, "max_auto_reruns"))
		assert.False(t, gjsonHas(first, "auto_rerun_number"), "the original run has no auto_rerun_number")
		assert.Equal(t, "e2e", gjsonGet(rerun, "name"))
		assert.Equal(t, "success", gjsonGet(rerun, "status"))
		assert.Equal(t, "1", gjsonGet(rerun, "auto_rerun_number"))
		assert.Equal(t, gjsonGet(first, "stopped_at"), gjsonGet(rerun, "created_at"), "the rerun starts when the original stops")
		jobs := func(w string) string {
			return gjsonGet(e.api("GET", "/api/v2/workflow/"+gjsonGet(w, "id")+"/job", "").body, "items.0.status")
		}
		assert.Equal(t, "failed", jobs(first), "jobs follow the attempt's outcome")
		assert.Equal(t, "success", jobs(rerun))
	})

	t.Run("an on_hold workflow has an approval job waiting and no stopped_at", func(t *testing.T) {
		items := gjsonArray(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items")
		hold := items[2]
		assert.Equal(t, "on_hold", gjsonGet(hold, "status"))
		assert.Contains(t, hold, `"stopped_at":null`)
		jobs := gjsonArray(e.api("GET", "/api/v2/workflow/"+gjsonGet(hold, "id")+"/job", "").body, "items")
		require.Len(t, jobs, 3)
		assert.Equal(t, "success", gjsonGet(jobs[0], "status"))
		approve := jobs[1]
		assert.Equal(t, "approval", gjsonGet(approve, "type"))
		assert.Equal(t, "on_hold", gjsonGet(approve, "status"))
		assert.False(t, gjsonHas(approve, "job_number"), "approval jobs have no number")
		assert.Equal(t, gjsonGet(approve, "id"), gjsonGet(approve, "approval_request_id"))
		assert.Equal(t, "blocked", gjsonGet(jobs[2], "status"))
	})
}

func TestCancelWorkflow(t *testing.T) {
	const config = `
tokens: [{token: tok}, {token: narrow, projects: [gh/acme/other]}]
projects:
  - slug: gh/acme/other
  - slug: gh/acme/api
    workflows:
      - name: build
        duration: 60s
        jobs:
          - {name: quick, duration: 10s}
          - {name: slow}
      - name: deploy
        duration: 10s
        status: on_hold
        jobs: [{name: approve, type: approval}]
      - name: done
        duration: 5s
`
	e := start(t, config)
	id := e.trigger("gh/acme/api", "")
	items := gjsonArray(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items")
	build, deploy, done := gjsonGet(items[0], "id"), gjsonGet(items[1], "id"), gjsonGet(items[2], "id")
	e.clock.Advance(20 * time.Second)

	t.Run("a token that cannot see the project does not find the workflow", func(t *testing.T) {
		r := e.do("POST", "/api/v2/workflow/"+build+"/cancel", "", http.Header{"Circle-Token": {"narrow"}})
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.JSONEq(t, `{"message":"Workflow not found"}`, r.body)
	})

	t.Run("canceling a running workflow cancels it and its running jobs", func(t *testing.T) {
		r := e.api("POST", "/api/v2/workflow/"+build+"/cancel", "")
		assert.Equal(t, http.StatusAccepted, r.status)
		assert.JSONEq(t, `{"message":"Accepted."}`, r.body)
		e.clock.Advance(time.Hour)
		w := e.api("GET", "/api/v2/workflow/"+build, "").body
		assert.Equal(t, "canceled", gjsonGet(w, "status"))
		assert.Equal(t, "2025-03-04T05:06:27.000Z", gjsonGet(w, "stopped_at"))
		assert.Equal(t, gjsonGet(e.api("GET", "/api/v2/me", "").body, "id"), gjsonGet(w, "canceled_by"))
		jobs := gjsonArray(e.api("GET", "/api/v2/workflow/"+build+"/job", "").body, "items")
		assert.Equal(t, "success", gjsonGet(jobs[0], "status"), "a job that had finished keeps its status")
		assert.Equal(t, "canceled", gjsonGet(jobs[1], "status"))
		assert.Equal(t, "2025-03-04T05:06:27.000Z", gjsonGet(jobs[1], "stopped_at"))
	})

	t.Run("canceling an on_hold workflow cancels its approval", func(t *testing.T) {
		r := e.api("POST", "/api/v2/workflow/"+deploy+"/cancel", "")
		assert.Equal(t, http.StatusAccepted, r.status)
		assert.Equal(t, "canceled", gjsonGet(e.api("GET", "/api/v2/workflow/"+deploy, "").body, "status"))
		assert.Equal(t, "canceled", gjsonGet(e.api("GET", "/api/v2/workflow/"+deploy+"/job", "").body, "items.0.status"))
	})

	t.Run("canceling a finished workflow is accepted and changes nothing", func(t *testing.T) {
		r := e.api("POST", "/api/v2/workflow/"+done+"/cancel", "")
		assert.Equal(t, http.StatusAccepted, r.status)
		assert.Equal(t, "success", gjsonGet(e.api("GET", "/api/v2/workflow/"+done, "").body, "status"))
	})
}

func TestWorkflowAndJobPagination(t *testing.T) {
	const config = `
tokens: [{token: tok}]
page_size: 2
projects:
  - slug: gh/acme/api
    workflows:
      - {name: w1, jobs: [{name: j1}, {name: j2}, {name: j3}, {name: j4}, {name: j5}]}
      - {name: w2}
      - {name: w3}
      - {name: w4}
      - {name: w5}
`
	e := start(t, config)
	id := e.trigger("gh/acme/api", "")
	collect := func(path, field string) (pages [][]string) {
		sep := "?"
		for tok := ""; ; {
			p := path
			if tok != "" {
				p += sep + "page-token=" + tok
			}
			r := e.api("GET", p, "")
			require.Equal(t, http.StatusOK, r.status, r.body)
			var page []string
			for _, it := range gjsonArray(r.body, "items") {
				page = append(page, gjsonGet(it, field))
			}
			pages = append(pages, page)
			if tok = gjsonGet(r.body, "next_page_token"); tok == "" {
				return pages
			}
		}
	}
	t.Run("workflows come in pages of page_size", func(t *testing.T) {
		assert.Equal(t, [][]string{{"w1", "w2"}, {"w3", "w4"}, {"w5"}}, collect("/api/v2/pipeline/"+id+"/workflow", "name"))
	})
	w1 := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
	t.Run("jobs come in pages of page_size", func(t *testing.T) {
		assert.Equal(t, [][]string{{"j1", "j2"}, {"j3", "j4"}, {"j5"}}, collect("/api/v2/workflow/"+w1+"/job", "name"))
	})
	t.Run("a job page token does not fit the workflow list", func(t *testing.T) {
		tok := gjsonGet(e.api("GET", "/api/v2/workflow/"+w1+"/job", "").body, "next_page_token")
		r := e.api("GET", "/api/v2/pipeline/"+id+"/workflow?page-token="+tok, "")
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.JSONEq(t, `{"message":"Invalid page-token."}`, r.body)
	})
}

func TestDurationsTakeTurnsOnePerPipeline(t *testing.T) {
	e := start(t, "tokens: [{token: tok}]\nprojects:\n  - slug: gh/acme/api\n    first_number: 7\n    workflows: [{name: build, durations: [10s, 20s], jobs: [{name: a}]}]\n")
	ids := []string{e.trigger("gh/acme/api", ""), e.trigger("gh/acme/api", ""), e.trigger("gh/acme/api", "")}
	e.clock.Advance(10 * time.Second)
	var got []string
	for _, id := range ids {
		got = append(got, e.workflowStatuses(id)...)
	}
	assert.Equal(t, []string{"build=success", "build=running", "build=success"}, got)
	e.clock.Advance(10 * time.Second)
	assert.Equal(t, []string{"build=success"}, e.workflowStatuses(ids[1]))
	jobs := e.api("GET", "/api/v2/workflow/"+gjsonGet(e.api("GET", "/api/v2/pipeline/"+ids[1]+"/workflow", "").body, "items.0.id")+"/job", "")
	assert.Equal(t, "2025-03-04T05:06:27.000Z", gjsonGet(jobs.body, "items.0.stopped_at"), "a job runs as long as its workflow's turn")
}
