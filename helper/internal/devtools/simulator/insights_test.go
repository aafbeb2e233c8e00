package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

const insightsConfig = `
tokens: [{token: tok}, {token: other, projects: [gh/acme/web]}]
projects:
  - slug: gh/acme/api
    workflows:
      - {name: build, duration: 60s}
      - {name: e2e, duration: 5m, status: failed}
  - slug: gh/acme/web
    workflows: [{name: build, duration: 10s}]
`

func summary(e *env, path string) (int, string) {
	e.t.Helper()
	r := e.api("GET", path, "")
	return r.status, r.body
}

func TestInsightsSummaryComesFromTheSimulatorsOwnHistory(t *testing.T) {
	e := start(t, insightsConfig)
	const build = "/api/v2/insights/gh/acme/api/workflows/build/summary"

	status, body := summary(e, build)
	assert.Equal(t, http.StatusNotFound, status, "no run yet: %s", body)
	assert.Equal(t, `{"message":"Workflow not found"}`+"\n", body)

	e.trigger("gh/acme/api", `{"branch":"main"}`)
	status, body = summary(e, build)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, int64(1), gjson.Get(body, "metrics.total_runs").Int(), "a running workflow counts as a run")
	assert.Equal(t, int64(0), gjson.Get(body, "metrics.completed_runs").Int())
	assert.Equal(t, gjson.Null, gjson.Get(body, "metrics.duration_metrics.median").Type, "no completed run, no duration")

	e.clock.Advance(time.Minute)
	e.trigger("gh%2Facme%2Fapi", `{"branch":"main"}`)
	e.clock.Advance(30 * time.Second)
	second := e.trigger("gh/acme/api", `{"branch":"main"}`) // canceled after 30s, below
	e.clock.Advance(30 * time.Second)
	w := gjsonGet(e.api("GET", "/api/v2/pipeline/"+second+"/workflow", "").body, "items.0.id")
	e.api("POST", "/api/v2/workflow/"+w+"/cancel", "")
	e.trigger("gh/acme/api", `{"branch":"feature"}`)
	e.clock.Advance(10 * time.Minute)

	status, body = summary(e, build)
	require.Equal(t, http.StatusOK, status, body)
	m := gjson.Get(body, "metrics")
	assert.Equal(t, int64(3), m.Get("total_runs").Int(), "the default branch only: %s", body)
	assert.Equal(t, int64(2), m.Get("successful_runs").Int())
	assert.Equal(t, int64(3), m.Get("completed_runs").Int())
	assert.Equal(t, 1.0, m.Get("success_rate").Float(), "a canceled run is not a failure")
	assert.Equal(t, int64(60), m.Get("duration_metrics.median").Int(), "the canceled run's 30s does not count")
	assert.Equal(t, int64(60), m.Get("duration_metrics.min").Int())
	assert.Equal(t, []any{"build", "e2e"}, gjson.Get(body, "workflow_names").Value())

	_, body = summary(e, build+"?all-branches=true")
	assert.Equal(t, int64(4), gjson.Get(body, "metrics.total_runs").Int(), "all branches")
	_, body = summary(e, build+"?branch=feature")
	assert.Equal(t, int64(1), gjson.Get(body, "metrics.total_runs").Int(), "one branch")

	_, body = summary(e, "/api/v2/insights/gh/acme/api/workflows/e2e/summary")
	m = gjson.Get(body, "metrics")
	assert.Equal(t, int64(3), m.Get("failed_runs").Int(), body)
	assert.Equal(t, 0.0, m.Get("success_rate").Float())
	assert.Equal(t, gjson.Null, m.Get("duration_metrics.median").Type, "durations are those of successful runs")
	assert.Equal(t, gjson.Null, m.Get("mttr").Type, "never recovered")

	status, _ = summary(e, "/api/v2/insights/gh/acme/web/workflows/build/summary")
	assert.Equal(t, http.StatusNotFound, status, "another project's runs are its own")
	r := e.do("GET", "/api/v2/insights/gh/acme/api/workflows/build/summary", "", http.Header{"Circle-Token": {"other"}})
	assert.Equal(t, http.StatusNotFound, r.status, "a project the token cannot see")
	assert.Equal(t, `{"message":"Project not found"}`+"\n", r.body)
	r = e.do("GET", build, "", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
}

func TestInsightsSummaryLooksBackNinetyDays(t *testing.T) {
	e := start(t, insightsConfig)
	e.trigger("gh/acme/api", `{}`)
	e.clock.Advance(91 * 24 * time.Hour)
	status, _ := summary(e, "/api/v2/insights/gh/acme/api/workflows/build/summary")
	assert.Equal(t, http.StatusNotFound, status)
}
