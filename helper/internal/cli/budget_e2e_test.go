package cli_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// A 429 on one trigger holds every other request too, the polls of the pipeline already
// triggered among them, and a wait that outlasts --timeout ends as a timeout (exit 4).
func TestA429PausesEveryRequestUntilTheTimeout(t *testing.T) {
	w := newWorldWith(t, `
tokens: [{token: `+token+`}]
projects:
  - {slug: gh/acme/one, workflows: [{name: deploy, duration: 1h}]}
  - {slug: gh/acme/two, workflows: [{name: deploy, duration: 1h}]}
`)
	require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Status: 429, RetryAfter: 60}))
	r := w.baton(nil, "trigger", "--projects", "gh/acme/one\ngh/acme/two", "--wait", "--poll-interval", "100ms", "--timeout", "2s")
	assert.Equal(t, 4, r.code, r.stderr)

	reqs := w.sim.Requests()
	i := slices.IndexFunc(reqs, func(q simulator.Request) bool { return q.Status == http.StatusTooManyRequests })
	require.GreaterOrEqual(t, i, 0, "%v", opsOf(reqs))
	throttled := reqs[i]
	// A poll may have left before baton read the 429 (a loaded machine is slow to); without the
	// pause the polls would go on every 100ms until the timeout.
	const inFlight = 300 * time.Millisecond
	for _, q := range reqs {
		if q.Time.After(throttled.Time.Add(inFlight)) {
			t.Errorf("%s %s went out %s after a 429 asking for 60s", q.Operation, q.Path, q.Time.Sub(throttled.Time))
		}
	}
	assert.Len(t, w.sim.Pipelines(), 1, "the throttled trigger was not sent again before the timeout")
}

func opsOf(reqs []simulator.Request) []string {
	var out []string
	for _, q := range reqs {
		out = append(out, q.Operation)
	}
	return out
}
