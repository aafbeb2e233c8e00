package cli_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

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

// assertSafeText: nothing in texts is what a terminal obeys instead of showing: C0 controls but newline, C1
// controls, bidi controls, line separators, bytes that are not UTF-8.
func assertSafeText(t *testing.T, texts map[string]string) {
	t.Helper()
	for where, text := range texts {
		if where == "--junit" {
			continue // XML: its writer drops what XML forbids; checked by report's tests
		}
		assert.True(t, utf8.ValidString(text), "%s is not UTF-8", where)
		for i, r := range text {
			bad := r < 0x20 && r != '\n' || r == 0x7f || 0x80 <= r && r <= 0x9f ||
				r == 0x061c || r == 0x200e || r == 0x200f || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069 ||
				r == 0x2028 || r == 0x2029
			if bad {
				t.Errorf("%s holds %U at byte %d: %q", where, r, i, text[max(0, i-40):min(len(text), i+40)])
				break
			}
		}
	}
}

const escapes = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\u2066\r\n\ttab"

func TestServerTextCannotDriveTheTerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    simulator.Hostile
		args []string
	}{
		{"names", simulator.Hostile{Operation: "*", Fields: []string{"name", "message", "type"}, Append: escapes},
			[]string{"trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms"}},
		{"names, fanned out with JSON output", simulator.Hostile{Operation: "*", Fields: []string{"name", "message", "type"}, Append: escapes},
			[]string{"trigger", "--project", "gh/acme/ok", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--output", "json"}},
		// Statuses and states no one knows never end by themselves: --timeout ends the wait.
		{"statuses and states", simulator.Hostile{Operation: "*", Fields: []string{"status", "state"}, Append: escapes},
			[]string{"trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--timeout", "2s"}},
		{"error messages", simulator.Hostile{Operation: "*", Fields: []string{"message"}, Append: escapes},
			[]string{"trigger", "--project", "gh/nope/nope"}},
		{"ids", simulator.Hostile{Operation: "*", Fields: []string{"id"}, Append: escapes},
			[]string{"trigger", "--project", "gh/acme/ok", "--wait", "--poll-interval", "50ms", "--timeout", "2s"}},
		{"the --debug trace", simulator.Hostile{Operation: "*", Fields: []string{"name", "message"}, Append: escapes},
			[]string{"trigger", "--project", "gh/acme/ok", "--wait", "--poll-interval", "50ms", "--debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHostileWorld(t, tc.h)
			r, out := w.outputs(tc.args...)
			assert.NotEqual(t, 2, r.code, r.stderr)
			assert.True(t, strings.Contains(r.stdout+r.stderr, `\x1b`) || strings.Contains(r.stdout+r.stderr, `\u202e`) || tc.name == "ids",
				"the escapes show as text: %s", r.stdout+r.stderr)
			assertSafeText(t, out)
		})
	}
}
