package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppLinks(t *testing.T) {
	const config = `
tokens: [{token: tok}]
projects:
  - slug: gh/acme/api
    first_number: 42
    workflows:
      - {name: build, duration: 10s, jobs: [{name: compile}]}
  - slug: gh/acme/empty
    workflows: []
`
	e := start(t, config)
	id := e.trigger("gh/acme/api", `{"branch":"feature/x"}`)
	e.trigger("gh/acme/empty", "")
	e.clock.Advance(time.Minute)
	wf := gjsonGet(e.api("GET", "/api/v2/pipeline/"+id+"/workflow", "").body, "items.0.id")

	tests := []struct {
		name, path string
		status     int
		want       string
	}{
		{"a pipeline link as the app prints it describes the pipeline", "/pipelines/github/acme/api/42", 200,
			"CircleCI simulator: pipeline 42 of gh/acme/api\nid:      " + id + "\nstate:   created\nbranch:  feature/x\ncreated: 2025-03-04T05:06:07.000Z\nworkflows:\n  build (" + wf + "): success\n"},
		{"the short provider name works too", "/pipelines/gh/acme/api/42", 200, ""},
		{"a workflow link describes the workflow and its jobs", "/pipelines/github/acme/api/42/workflows/" + wf, 200,
			"CircleCI simulator: pipeline 42 of gh/acme/api\nid:      " + id + "\nstate:   created\nbranch:  feature/x\ncreated: 2025-03-04T05:06:07.000Z\nworkflow build (" + wf + "): success\n  job compile: success\n"},
		{"an unknown number is not found", "/pipelines/github/acme/api/41", 404, "CircleCI simulator: no pipeline 41 of github/acme/api\n"},
		{"an unknown workflow is not found", "/pipelines/github/acme/api/42/workflows/00000000-0000-4000-8000-000000000000", 404, ""},
		{"a malformed link is not found", "/pipelines/github/acme", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", tt.path, "", nil)
			assert.Equal(t, tt.status, r.status, r.body)
			if tt.status == http.StatusOK || tt.want != "" {
				assert.Equal(t, "text/plain; charset=utf-8", r.header.Get("Content-Type"))
			}
			if tt.want != "" {
				assert.Equal(t, tt.want, r.body)
			}
		})
	}
	t.Run("a pipeline without workflows says so", func(t *testing.T) {
		assert.Contains(t, e.do("GET", "/pipelines/github/acme/empty/1", "", nil).body, "workflows: none\n")
	})
	t.Run("app links are recorded under their own operation name", func(t *testing.T) {
		reqs := e.sim.Requests()
		require.NotEmpty(t, reqs)
		assert.Equal(t, "appPipelinePage", reqs[len(reqs)-1].Operation)
	})
}
