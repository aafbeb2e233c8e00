package simulator_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

var epoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// env is a simulator behind a test server, on a fake clock.
type env struct {
	t     *testing.T
	sim   *simulator.Simulator
	srv   *httptest.Server
	clock *testkit.Clock
}

func start(t *testing.T, config string, opts ...simulator.Option) *env {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(config))
	require.NoError(t, err)
	clock := testkit.NewClock(epoch)
	sim := simulator.New(cfg, append([]simulator.Option{simulator.WithClock(clock.Now)}, opts...)...)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, clock: clock}
}

// response is a received answer.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with exactly the given headers.
func (e *env) do(method, path, body string, header http.Header) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// api sends a request as the "tok" user, with a JSON body when there is one.
func (e *env) api(method, path, body string) response {
	e.t.Helper()
	h := http.Header{"Circle-Token": {"tok"}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return e.do(method, path, body, h)
}

// trigger creates a pipeline through the legacy endpoint and returns its id.
func (e *env) trigger(slug, body string) string {
	e.t.Helper()
	r := e.api("POST", "/api/v2/project/"+slug+"/pipeline", body)
	require.Equal(e.t, http.StatusCreated, r.status, r.body)
	return gjsonGet(r.body, "id")
}

// workflows lists every workflow of a pipeline (first page) as name=status pairs.
func (e *env) workflowStatuses(pipelineID string) []string {
	e.t.Helper()
	r := e.api("GET", "/api/v2/pipeline/"+pipelineID+"/workflow", "")
	require.Equal(e.t, http.StatusOK, r.status, r.body)
	var out []string
	for _, w := range gjsonArray(r.body, "items") {
		out = append(out, gjsonGet(w, "name")+"="+gjsonGet(w, "status"))
	}
	return out
}

func gjsonGet(body, path string) string { return gjson.Get(body, path).String() }

func gjsonArray(body, path string) []string {
	var out []string
	for _, r := range gjson.Get(body, path).Array() {
		out = append(out, r.Raw)
	}
	return out
}

func gjsonHas(body, path string) bool { return gjson.Get(body, path).Exists() }
