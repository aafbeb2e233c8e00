package simulator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// detailConfig is a project whose browser workflow fails in its chrome job: 3 failing tests of
// 200, a failing step with output, and artifacts, hostile paths included.
const detailConfig = `
tokens: [{token: tok, login: octocat}]
page_size: 50
projects:
  - slug: gh/acme/e2e
    workflows:
      - name: browser
        status: failed
        duration: 60s
        jobs:
          - name: chrome
            status: failed
            tests:
              passing: 197
              failures:
                - {classname: checkout, name: pays with card, message: "expected 200, got 502", file: spec/checkout_spec.rb}
                - {classname: checkout, name: refunds, message: "timeout"}
                - {classname: cart, name: adds, message: "nil"}
            steps:
              - {name: Checkout code}
              - {name: Run tests, output: "line 1\nline 2\n", failed: true}
            artifacts:
              - {path: report/index.html, content: "<h1>report</h1>"}
              - {path: ../../etc/passwd, content: "root"}
              - {path: big.bin, size: 1000}
`

// chromeJob triggers a pipeline, lets it finish and returns the chrome job's number.
func chromeJob(e *env) string {
	e.t.Helper()
	id := e.trigger("gh/acme/e2e", `{}`)
	e.clock.Advance(2 * time.Minute)
	wf := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
	return gjsonGet(e.api("GET", "/api/v2/workflow/"+wf+"/job", "").body, "items.0.job_number")
}

func TestSimulatorServesTestResultsInPages(t *testing.T) {
	e := start(t, detailConfig)
	num := chromeJob(e)
	require.NotEmpty(t, num)
	var results []string
	var failures []string
	pages := 0
	for tok := ""; ; pages++ {
		q := ""
		if tok != "" {
			q = "?page-token=" + tok
		}
		r := e.api("GET", "/api/v2/project/gh/acme/e2e/"+num+"/tests"+q, "")
		require.Equal(t, http.StatusOK, r.status, r.body)
		for _, it := range gjson.Get(r.body, "items").Array() {
			results = append(results, it.Get("result").String())
			if it.Get("result").String() == "failure" {
				failures = append(failures, it.Get("classname").String()+" › "+it.Get("name").String())
			}
		}
		if tok = gjsonGet(r.body, "next_page_token"); tok == "" {
			break
		}
	}
	assert.Len(t, results, 200)
	assert.Equal(t, 3, pages)
	assert.Equal(t, []string{"checkout › pays with card", "checkout › refunds", "cart › adds"}, failures)

	escaped := e.api("GET", "/api/v2/project/gh%2Facme%2Fe2e/"+num+"/tests", "")
	assert.Equal(t, http.StatusOK, escaped.status)
	assert.Equal(t, http.StatusNotFound, e.api("GET", "/api/v2/project/gh/acme/e2e/9999/tests", "").status)
	assert.Equal(t, http.StatusUnauthorized, e.do("GET", "/api/v2/project/gh/acme/e2e/"+num+"/tests", "", nil).status)
}

func TestSimulatorServesNoTestsBeforeTheJobStopped(t *testing.T) {
	e := start(t, detailConfig)
	id := e.trigger("gh/acme/e2e", `{}`)
	e.clock.Advance(10 * time.Second)
	wf := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")
	num := gjsonGet(e.api("GET", "/api/v2/workflow/"+wf+"/job", "").body, "items.0.job_number")
	r := e.api("GET", "/api/v2/project/gh/acme/e2e/"+num+"/tests", "")
	assert.JSONEq(t, `{"items":[],"next_page_token":null}`, r.body)
}

func TestSimulatorStepOutputIsOnTheFilesHostWithoutToken(t *testing.T) {
	e := start(t, detailConfig)
	files := httptest.NewServer(e.sim)
	t.Cleanup(files.Close)
	e.sim.SetFilesHost(files.URL)
	num := chromeJob(e)

	r := e.api("GET", "/api/v1.1/project/github/acme/e2e/"+num, "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "Run tests", gjsonGet(r.body, "steps.1.name"))
	assert.Equal(t, "failed", gjsonGet(r.body, "steps.1.actions.0.status"))
	assert.False(t, gjson.Get(r.body, "steps.0.actions.0.output_url").Exists() && gjsonGet(r.body, "steps.0.actions.0.output_url") != "")
	out := gjsonGet(r.body, "steps.1.actions.0.output_url")
	require.True(t, strings.HasPrefix(out, files.URL+"/"), out)

	res, err := http.Get(out) // no token: the URL is presigned
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestSimulatorArtifactsRedirectToTheFilesHost(t *testing.T) {
	e := start(t, detailConfig)
	files := httptest.NewServer(e.sim)
	t.Cleanup(files.Close)
	e.sim.SetFilesHost(files.URL)
	num := chromeJob(e)

	r := e.api("GET", "/api/v2/project/gh/acme/e2e/"+num+"/artifacts", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	var paths []string
	for _, p := range gjson.Get(r.body, "items.#.path").Array() {
		paths = append(paths, p.String())
	}
	assert.Equal(t, []string{"report/index.html", "../../etc/passwd", "big.bin"}, paths)
	u := gjsonGet(r.body, "items.0.url")
	require.True(t, strings.HasPrefix(u, e.srv.URL+"/"), u)

	noToken, err := http.Get(u)
	require.NoError(t, err)
	noToken.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, noToken.StatusCode, "the API host's artifact link wants the token")

	got := e.do("GET", strings.TrimPrefix(u, e.srv.URL), "", http.Header{"Circle-Token": {"tok"}})
	assert.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, "<h1>report</h1>", got.body)
}
