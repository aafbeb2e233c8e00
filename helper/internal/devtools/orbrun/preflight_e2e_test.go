package orbrun_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ranBefore triggers a pipeline of each project on main, as its own history would hold, so
// that pre-flight has a config to learn the declarations from.
func (w *world) ranBefore(slugs ...string) {
	w.t.Helper()
	for _, slug := range slugs {
		req, err := http.NewRequest("POST", w.simURL+"/api/v2/project/"+slug+"/pipeline", strings.NewReader(`{"branch":"main"}`))
		require.NoError(w.t, err)
		req.Header.Set("Circle-Token", token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(w.t, err)
		res.Body.Close()
		require.Equal(w.t, http.StatusCreated, res.StatusCode)
	}
}

func testPerProjectParameters(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.ranBefore("gh/acme/orders", "gh/acme/worker")
	res := w.run(w.example("per-project-parameters"))
	job := res["baton/trigger-pipeline"]
	requireSuccess(t, job)
	step, _ := job.Step("Trigger pipelines with baton")
	assert.NotContains(t, step.Output, "pre-flight", "strict pre-flight checked everything, quietly")

	orders, worker := w.pipelines("gh/acme/orders"), w.pipelines("gh/acme/worker")
	require.Len(t, orders, 2)
	require.Len(t, worker, 2)
	assert.Equal(t, map[string]any{"build-number": "42", "replicas": int64(3), "region": "eu"}, orders[1].Parameters,
		"the shared build-number typed as orders declares it, and orders' own parameters")
	assert.Equal(t, map[string]any{"build-number": "42", "queue": "high"}, worker[1].Parameters)
	assert.Equal(t, "release", worker[1].Branch)
	assert.Empty(t, orders[1].Errors)
	assert.Empty(t, worker[1].Errors, "CircleCI took every parameter")
}
