package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// newHostileWorld is waitConfig's world with hostileToken, whose answers break the API's
// contract as hs say: they are not held to the OpenAPI description.
func newHostileWorld(t *testing.T, hs ...simulator.Hostile) *world {
	t.Helper()
	quoted, err := json.Marshal(hostileToken) // a YAML double-quoted scalar
	require.NoError(t, err)
	w := newUncheckedWorld(t, strings.Replace(waitConfig, "token: "+token, "token: "+string(quoted), 1))
	for _, h := range hs {
		require.NoError(t, w.sim.AddHostile(h))
	}
	return w
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

// maxRSS is the most memory baton may hold against a hostile server (helper/README.md:
// "Bounded reads").
const maxRSS = 64 << 20

// Huge and endless pages end in a clear error, within bounded memory: each answer is capped at
// 4 MiB, each list at 10,000 items, and a page is decoded holding one page's bytes.
//
// baton gives up after 5 failed polls; --timeout only bounds a run gone wrong, since the
// simulator takes seconds to write each huge answer under the race detector.
//
// The peak RSS is the kernel's count for the baton process, read by GNU time (%M). Not by
// getrusage of a child of this test: Go starts children with vfork, so the kernel counts this
// test's own memory (the simulator's recorded answers) as the child's until it execs baton.
func TestAHostileServerCannotFillMemory(t *testing.T) {
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		t.Skipf("%s (GNU time, Debian package time) is absent: baton's peak memory is not measured", gnuTime)
	}
	for _, tc := range []struct {
		name string
		h    simulator.Hostile
		says string
	}{
		{"endless pages of workflows", simulator.Hostile{Operation: "listWorkflowsByPipelineId", PageItems: 6000, Pages: -1}, "more than 10000 items"},
		{"a page over the byte cap", simulator.Hostile{Operation: "listWorkflowsByPipelineId", PageItems: 15000}, "larger than 4 MiB"}, // 293 bytes an item
		{"endless pages of jobs", simulator.Hostile{Operation: "listWorkflowJobs", PageItems: 6000, Pages: -1}, "more than 10000 items"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHostileWorld(t, tc.h)
			rss := filepath.Join(t.TempDir(), "rss")
			cmd := exec.Command(gnuTime, "-f", "%M", "-o", rss, batonBin, "trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--timeout", "5m")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CIRCLE_TOKEN=" + hostileToken, "CIRCLECI_HOST=" + w.url}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, "baton must fail")
			assert.Equal(t, 5, exitErr.ExitCode(), "the API gave no usable answer: neither bad input nor a bug in baton")
			assert.Contains(t, stderr.String(), tc.says)
			data, err := os.ReadFile(rss)
			require.NoError(t, err)
			lines := strings.Fields(string(data)) // "Command exited with non-zero status 5", then %M
			require.NotEmpty(t, lines)
			kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
			require.NoError(t, err, "GNU time wrote %q", data)
			t.Logf("peak RSS of baton: %.1f MiB (exit %d: %s)", float64(kib)/1024, exitErr.ExitCode(), lastLine(stderr.String()))
			assert.LessOrEqual(t, kib*1024, int64(maxRSS))
		})
	}
}

// Real answers carry nulls where strings belong (a workflow "id": null was seen in the wild;
// status is nullable in CircleCI's own schemas). They are reported in words, never crash a poll
// and never exit 2 (which promises that nothing was sent).
func TestNullFieldsAreReportedInWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    simulator.Hostile
		code int
		says string
	}{
		{"a workflow without an id", simulator.Hostile{Operation: "listWorkflowsByPipelineId", Null: []string{"id"}}, 1, "workflow e2e failed"},
		{"a workflow without a status", simulator.Hostile{Operation: "listWorkflowsByPipelineId", Null: []string{"status"}}, 4, "workflow e2e is unknown"},
		{"a pipeline without a state", simulator.Hostile{Operation: "getPipelineById", Null: []string{"state"}}, 1, "workflow e2e failed"},
		{"jobs without ids, names, numbers or statuses", simulator.Hostile{Operation: "listWorkflowJobs", Null: []string{"id", "name", "job_number", "status"}}, 1, "workflow e2e failed"},
		{"workflows and jobs without names", simulator.Hostile{Operation: "*", Null: []string{"name"}}, 1, "workflow (unnamed) failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHostileWorld(t, tc.h)
			r, out := w.outputs("trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--timeout", "2s")
			assert.Equal(t, tc.code, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stdout+r.stderr, tc.says)
			assert.NotContains(t, r.stdout+r.stderr, "internal error")
			assert.NotRegexp(t, `status  |is\s+\(|: \s*$|workflow  |job  `, r.stdout, "an empty word where a name or status belongs")
			assert.NotContains(t, out["--summary"], "[](", "a link without text")
			for name, text := range out {
				assert.NotContains(t, text, "<nil>", name)
			}
		})
	}
}

// assertSafeText: nothing in texts is what a terminal obeys instead of showing: C0 controls but newline, C1
// controls, bidi controls, line separators, bytes that are not UTF-8.
func assertSafeText(t *testing.T, texts map[string]string) {
	t.Helper()
	for where, text := range texts {
		if where == "--junit" { // XML, whose writer drops what XML forbids: it must still parse
			var doc struct {
				XMLName xml.Name `xml:"testsuites"`
			}
			assert.NoError(t, xml.Unmarshal([]byte(text), &doc), "--junit is not XML: %s", text)
			continue
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

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// A stopped_at at the end of time is no reason to print a duration of 292 years: in every
// output the durations stay those of a pipeline that ran for a moment, and --debug says which
// time was set aside.
func TestImpossibleTimesNeverBecomeDurations(t *testing.T) {
	w := newHostileWorld(t, simulator.Hostile{Operation: "*", Set: map[string]any{"stopped_at": "9999-12-31T23:59:59Z"}})
	r, out := w.outputs("trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--debug")
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, "workflow e2e failed (")
	assert.Contains(t, r.stderr, "* workflow e2e: stopped_at 9999-12-31T23:59:59Z is later than now (allowing 5m of clock skew); read as missing")
	assert.Contains(t, r.stderr, "* job browser-tests: stopped_at 9999-12-31T23:59:59Z is later than now")
	delete(out, "stderr") // the trace quotes the answers, 9999 and all
	for name, text := range out {
		assert.NotRegexp(t, `\d{3,}h|\b29\d{7,}|9999`, text, "%s shows a duration of years: %s", name, text)
	}
	var result struct {
		Pipelines []struct {
			Duration float64 `json:"duration_seconds"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out["--result-file"]), &result))
	require.Len(t, result.Pipelines, 1)
	assert.Less(t, result.Pipelines[0].Duration, 60.0)
}

// One timestamp that cannot be read ("yesterday") is read as missing: the wait goes on to the
// pipeline's end instead of failing every poll until it gives up.
func TestAnUnreadableTimestampDoesNotStopTheWait(t *testing.T) {
	w := newHostileWorld(t,
		simulator.Hostile{Operation: "*", Set: map[string]any{"stopped_at": "yesterday", "started_at": 1700000000}},
		simulator.Hostile{Operation: "getPipelineById", Set: map[string]any{"created_at": "yesterday"}},
	)
	r, out := w.outputs("trigger", "--project", "gh/acme/broken", "--wait", "--poll-interval", "50ms", "--debug")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, "workflow e2e failed (")
	assert.Contains(t, r.stdout, "gh/acme/broken #1: failed after ")
	assert.NotContains(t, r.stderr, "poll failed")
	assert.Contains(t, r.stderr, `: workflow "e2e": stopped_at "yesterday" is not a time; read as missing`)
	assert.Contains(t, r.stderr, `: pipeline "1": created_at "yesterday" is not a time; read as missing`)
	assert.Contains(t, out["--result-file"], `"outcome": "failed"`)
}
