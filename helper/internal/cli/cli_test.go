package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

type panickingTransport struct{}

func (panickingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	panic("transport blew up holding " + r.Header.Get("Circle-Token"))
}

func inProcess(stdout, stderr *bytes.Buffer, env map[string]string) cli.Deps {
	return cli.Deps{
		Context:    context.Background(),
		Stdout:     stdout,
		Stderr:     stderr,
		LookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile:   os.ReadFile,
		HTTPClient: &http.Client{Transport: panickingTransport{}},
		Version:    "test",
	}
}

func TestAPanicIsReportedWithoutTheToken(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cli.Run([]string{"trigger", "--project", "gh/acme/deploy", "--host", "http://127.0.0.1:9"},
		inProcess(&stdout, &stderr, map[string]string{"CIRCLE_TOKEN": token}))
	assert.Equal(t, 70, code, "a bug, not a failed pipeline")
	assert.Contains(t, stderr.String(), "baton: internal error (a bug in baton; please report it): transport blew up holding [redacted]")
	assert.NotContains(t, stdout.String()+stderr.String(), token)
}

// simDeps runs baton in-process against the simulator with an instant, recorded sleep.
func simDeps(stdout, stderr *bytes.Buffer, slept *[]time.Duration) cli.Deps {
	d := inProcess(stdout, stderr, map[string]string{"CIRCLE_TOKEN": token})
	d.HTTPClient = nil
	d.Sleep = func(ctx context.Context, dur time.Duration) error {
		*slept = append(*slept, dur)
		return ctx.Err()
	}
	return d
}

func TestTriggerRetriesWhatCertainlyCreatedNothing(t *testing.T) {
	for _, fault := range []simulator.Fault{
		{Operation: "triggerPipeline", Status: 429, RetryAfter: 7},
		{Operation: "triggerPipeline", Status: 429, RetryAfter: -1, Times: 2},
	} {
		t.Run(fmt.Sprintf("%s %d", fault.Kind, fault.Status), func(t *testing.T) {
			w := newWorld(t)
			require.NoError(t, w.sim.AddFault(fault))
			var stdout, stderr bytes.Buffer
			var slept []time.Duration
			code := cli.Run([]string{"trigger", "--project", "gh/acme/deploy", "--host", w.url}, simDeps(&stdout, &stderr, &slept))
			require.Equal(t, 0, code, stderr.String())
			assert.Len(t, w.sim.Pipelines(), 1, "exactly one pipeline")
			assert.NotEmpty(t, slept, "it waited before retrying")
			if fault.RetryAfter > 0 {
				assert.Equal(t, 7*time.Second, slept[0], "Retry-After is honoured")
			}
		})
	}
}

// After the request was written, a client cannot tell "dropped before processing" from
// "processed, answer lost": baton looks for the pipeline, re-sends only when there is none, and
// either way exactly one pipeline exists afterwards.
func TestAnUnknownOutcomeNeverMakesTwoPipelines(t *testing.T) {
	const recovered = "was found by looking it up and proven to be this trigger's, so it was not sent again"
	const resent = "the trigger's outcome was unknown and no pipeline it created showed in the project's list within 20s; sending it again (send 2)"
	for _, tc := range []struct {
		kind   string
		status int
		note   string
		posts  int
	}{
		{"lost", 0, recovered, 1},
		{"processed", 503, recovered, 1},
		{"processed", 502, recovered, 1},
		{"drop", 0, resent, 2},
		{"status", 503, resent, 2},
		{"status", 504, resent, 2},
	} {
		t.Run(fmt.Sprintf("%s %d", tc.kind, tc.status), func(t *testing.T) {
			w := newWorld(t)
			require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: tc.kind, Status: tc.status}))
			var stdout, stderr bytes.Buffer
			var slept []time.Duration
			code := cli.Run([]string{"trigger", "--project", "gh/acme/deploy", "--host", w.url}, simDeps(&stdout, &stderr, &slept))
			require.Equal(t, 0, code, stderr.String())
			assert.Len(t, w.sim.Pipelines(), 1, "exactly one pipeline")
			assert.Len(t, w.requests("triggerPipeline"), tc.posts)
			assert.Contains(t, stdout.String(), "triggered gh/acme/deploy pipeline #1")
			assert.Contains(t, stderr.String(), tc.note)
		})
	}
}

// A trigger told to come back in three years gives up at once, exit 5, saying what the server
// asked; nothing is sent again and nothing waits.
func TestAnAbsurdRetryAfterGivesUpAtOnce(t *testing.T) {
	for _, args := range [][]string{
		{"trigger", "--project", "gh/acme/deploy"},
		{"trigger", "--project", "gh/acme/deploy", "--wait", "--timeout", "10m"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			w := newWorld(t)
			require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Status: 429, RetryAfter: 99999999, Times: -1}))
			var stdout, stderr bytes.Buffer
			var slept []time.Duration
			code := cli.Run(append(args, "--host", w.url), simDeps(&stdout, &stderr, &slept))
			assert.Equal(t, 5, code, stderr.String())
			assert.Equal(t, "baton: trigger gh/acme/deploy: POST /api/v2/project/gh%2Facme%2Fdeploy/pipeline: 429 Rate limit exceeded; "+
				"the server asked to wait 1157d9h46m (Retry-After: 99999999), more than baton waits (5m0s); giving up\n", stderr.String())
			assert.Len(t, w.requests("triggerPipeline"), 1)
			assert.Empty(t, w.sim.Pipelines())
			assert.Empty(t, slept)
		})
	}
	t.Run("a trigger whose outcome is unknown is never sent again when its lookup is told the same", func(t *testing.T) {
		w := newWorld(t)
		require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: "processed", Status: 503}))
		require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "*", Status: 429, RetryAfter: 99999999, Times: -1}))
		var stdout, stderr bytes.Buffer
		var slept []time.Duration
		code := cli.Run([]string{"trigger", "--project", "gh/acme/deploy", "--host", w.url}, simDeps(&stdout, &stderr, &slept))
		assert.Equal(t, 5, code, stderr.String())
		assert.Contains(t, stderr.String(), "so it was not sent again")
		assert.Contains(t, stderr.String(), "the server asked to wait 1157d9h46m (Retry-After: 99999999)")
		assert.Len(t, w.requests("triggerPipeline"), 1)
		assert.Len(t, w.sim.Pipelines(), 1, "the one the unknown outcome created, and no other")
	})
}

// --parameters-file - reads the parameters from standard input, once however many projects
// share them, under the same rules as a file: nothing is sent for input that is not a JSON
// object of parameters.
func TestParametersFileDashReadsStandardInput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stdin    io.Reader
		projects []string
		code     int
		want     string // in stdout when 0, stderr otherwise
	}{
		{name: "a JSON object is sent typed as written", stdin: strings.NewReader(`{"replicas": 3, "note": "a b", "version": "3"}`),
			projects: []string{"gh/acme/deploy"}, want: `{"parameters":{"replicas":3,"note":"a b","version":"3"}}`},
		{name: "every project of a fan-out gets them", stdin: strings.NewReader(`{"replicas": 3}`),
			projects: []string{"gh/acme/deploy", "gh/acme/api"}, want: `"parameters":{"replicas":3}`},
		{name: "empty input is refused", stdin: strings.NewReader(""), projects: []string{"gh/acme/deploy"},
			code: 2, want: "baton: --parameters-file -: want a JSON object of parameters, got nothing"},
		{name: "no standard input at all is refused", projects: []string{"gh/acme/deploy"},
			code: 2, want: "baton: --parameters-file -: want a JSON object of parameters, got nothing"},
		{name: "input that is not JSON is refused", stdin: strings.NewReader("replicas=3\n"), projects: []string{"gh/acme/deploy"},
			code: 2, want: "baton: --parameters-file -: not valid JSON"},
		{name: "input over the cap of a file is refused", stdin: io.MultiReader(strings.NewReader(`{"x": "`), strings.NewReader(strings.Repeat("y", 1<<20))),
			projects: []string{"gh/acme/deploy"}, code: 2, want: "baton: --parameters-file -: larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			d := inProcess(&stdout, &stderr, nil)
			d.Stdin = tc.stdin
			args := []string{"trigger", "--parameters-file", "-", "--preflight=off", "--dry-run", "--host", "http://127.0.0.1:9"}
			for _, p := range tc.projects {
				args = append(args, "--project", p)
			}
			code := cli.Run(args, d)
			require.Equal(t, tc.code, code, stderr.String())
			if tc.code == 0 {
				assert.Equal(t, len(tc.projects), strings.Count(stdout.String(), tc.want), stdout.String())
				return
			}
			assert.Contains(t, stderr.String(), tc.want)
			assert.Empty(t, stdout.String(), "nothing was sent, nor shown as sent")
		})
	}
}
