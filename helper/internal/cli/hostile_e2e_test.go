package cli_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/simulator"
)

// hostileServerConfig has a project whose workflow fails (so jobs are listed and named) and one
// that succeeds.
func hostileServerConfig(t *testing.T) string {
	quoted, err := json.Marshal(hostileToken)
	require.NoError(t, err)
	return `
tokens:
  - token: ` + string(quoted) + `
projects:
  - slug: gh/acme/broken
    workflows:
      - name: e2e
        duration: 100ms
        status: failed
        jobs: [{name: setup, status: success}, {name: browser-tests, status: failed}]
  - slug: gh/acme/ok
    workflows:
      - name: build
        duration: 100ms
        jobs: [{name: compile}]
`
}

// newHostileWorld is a world whose answers break the API's contract on purpose, so they are not
// held to the OpenAPI description.
func newHostileWorld(t *testing.T, hs ...simulator.Hostile) *world {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(hostileServerConfig(t)))
	require.NoError(t, err)
	sim := simulator.New(cfg)
	for _, h := range hs {
		require.NoError(t, sim.AddHostile(h))
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &world{t: t, sim: sim, url: srv.URL}
}

// outputs runs baton with every output it can write and returns them all by name.
func (w *world) outputs(args ...string) (result, map[string]string) {
	w.t.Helper()
	dir := w.t.TempDir()
	files := map[string]string{
		"--result-file": filepath.Join(dir, "result.json"),
		"--env-file":    filepath.Join(dir, "env"),
	}
	if slices.Contains(args, "--wait") { // the reports of what happened downstream
		files["--junit"], files["--summary"] = filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md")
	}
	for flag, path := range files {
		args = append(args, flag, path)
	}
	r := w.baton([]string{"CIRCLE_TOKEN=" + hostileToken}, args...)
	out := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	for flag, path := range files {
		data, err := os.ReadFile(path)
		if err == nil {
			out[flag] = string(data)
		}
	}
	return r, out
}

var echo = " {token} {token:json} {token:url} {token:path} {token:html}"

func TestATokenEchoedByTheServerIsNeverShown(t *testing.T) {
	w := newHostileWorld(t,
		simulator.Hostile{Operation: "*", Fields: []string{"name", "message", "login"}, Append: echo},
	)
	for _, tc := range []struct {
		code int
		args []string
	}{
		{1, []string{"trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--debug"}},
		{1, []string{"trigger", "--project", "gh/acme/ok", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--output", "json"}},
	} {
		r, out := w.outputs(tc.args...)
		assert.Equal(t, tc.code, r.code, r.stderr)
		assert.Contains(t, r.stdout+r.stderr, "[redacted]", "the echo was there, and redacted")
		assert.Contains(t, out["--summary"], `\[redacted\]`, "Markdown-escaped")
		assertNoToken(t, hostileToken, out)
	}
	// A status or state no one knows never ends by itself: --timeout ends the wait.
	w = newHostileWorld(t, simulator.Hostile{Operation: "*", Fields: []string{"state", "status"}, Append: echo})
	r, out := w.outputs("trigger", "--project", "gh/acme/ok", "--wait", "--poll-interval", "50ms", "--timeout", "1s")
	assert.Equal(t, 4, r.code, r.stderr)
	assertNoToken(t, hostileToken, out)
}

func TestATokenEchoedInAnErrorIsNeverShown(t *testing.T) {
	w := newHostileWorld(t, simulator.Hostile{Operation: "*", Fields: []string{"message"}, Append: echo})
	require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Status: 400, Message: "bad request"}))
	r, out := w.outputs("trigger", "--project", "gh/acme/ok", "--wait")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "bad request [redacted]")
	assertNoToken(t, hostileToken, out)
}
