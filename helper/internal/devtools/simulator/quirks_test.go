package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

func TestQuirks(t *testing.T) {
	t.Run("every answer carries a Date header from the simulator's clock", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api}]\n")
		r := e.api("GET", "/api/v2/me", "")
		assert.Equal(t, epoch.Format(http.TimeFormat), r.header.Get("Date"))
		e.clock.Advance(90 * time.Second)
		r = e.api("GET", "/api/v2/nope", "")
		assert.Equal(t, epoch.Add(90*time.Second).Format(http.TimeFormat), r.header.Get("Date"))
	})

	t.Run("clock_skew moves the Date header and every timestamp together", func(t *testing.T) {
		e := start(t, "clock_skew: -45s\ntokens: [{token: tok}]\nprojects: [{slug: gh/acme/api}]\n")
		r := e.api("POST", "/api/v2/project/gh/acme/api/pipeline", `{"branch":"main"}`)
		require.Equal(t, http.StatusCreated, r.status)
		server := epoch.Add(-45 * time.Second)
		assert.Equal(t, server.Format(http.TimeFormat), r.header.Get("Date"))
		assert.Equal(t, "2025-03-04T05:05:22.000Z", gjsonGet(r.body, "created_at"))
		list := e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "").body
		assert.Equal(t, "2025-03-04T05:05:22.000Z", gjsonGet(list, "items.0.trigger.received_at"))
		assert.Equal(t, server, e.sim.Pipelines()[0].CreatedAt)
	})

	t.Run("list_lag keeps a new pipeline out of the list, not out of GET /pipeline/{id}", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api, list_lag: 8s}]\n")
		id := e.trigger("gh/acme/api", `{"branch":"main"}`)
		assert.Equal(t, http.StatusOK, e.api("GET", "/api/v2/pipeline/"+id, "").status)
		e.clock.Advance(7 * time.Second)
		assert.Empty(t, gjsonArray(e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "").body, "items"))
		e.clock.Advance(time.Second)
		assert.Equal(t, id, gjsonGet(e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "").body, "items.0.id"))
	})

	t.Run("trigger_type and branch_as_ref change how the pipeline is reported", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api, trigger_type: explicit, branch_as_ref: true}]\n")
		id := e.trigger("gh/acme/api", `{"branch":"main"}`)
		body := e.api("GET", "/api/v2/pipeline/"+id, "").body
		assert.Equal(t, "explicit", gjsonGet(body, "trigger.type"))
		assert.Equal(t, "refs/heads/main", gjsonGet(body, "vcs.branch"))
		assert.Equal(t, "main", e.sim.Pipelines()[0].Branch)
	})

	t.Run("a processed fault creates the pipeline and answers its status instead", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api}]\n")
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultProcessed, Status: 503}))
		r := e.api("POST", "/api/v2/project/gh/acme/api/pipeline", `{"branch":"main"}`)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "Service Unavailable", gjsonGet(r.body, "message"))
		require.Len(t, e.sim.Pipelines(), 1)
		assert.Equal(t, "processed", e.sim.Requests()[0].Fault)
	})

	t.Run("a processed fault needs an error status", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api}]\n")
		err := e.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultProcessed})
		assert.EqualError(t, err, "fault status: 0; a processed fault answers an error status between 400 and 599")
	})

	t.Run("the project answer names the default branch", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api, default_branch: trunk}]\n")
		for _, path := range []string{"gh%2Facme%2Fapi", "gh/acme/api", "github/acme/api"} {
			r := e.api("GET", "/api/v2/project/"+path, "")
			require.Equal(t, http.StatusOK, r.status, path)
			assert.Equal(t, "trunk", gjsonGet(r.body, "vcs_info.default_branch"))
			assert.Equal(t, "gh/acme/api", gjsonGet(r.body, "slug"))
			assert.Equal(t, "GitHub", gjsonGet(r.body, "vcs_info.provider"))
		}
		assert.Equal(t, http.StatusNotFound, e.api("GET", "/api/v2/project/gh/acme/nope", "").status)
	})

	t.Run("GitHub and Bitbucket names are case-insensitive, as on CircleCI", func(t *testing.T) {
		e := start(t, "tokens: [{token: tok}]\nprojects: [{slug: gh/acme/api}, {slug: bb/Acme/Web}]\n")
		e.trigger("gh/ACME/Api", `{"branch":"main"}`)
		e.trigger("bb/acme/web", `{"branch":"main"}`)
		pipelines := e.sim.Pipelines()
		require.Len(t, pipelines, 2)
		assert.Equal(t, "gh/acme/api", pipelines[0].ProjectSlug)
		assert.Equal(t, "bb/Acme/Web", pipelines[1].ProjectSlug)
	})

	t.Run("bad quirk settings are refused naming the field", func(t *testing.T) {
		for config, want := range map[string]string{
			"tokens: [{token: t}]\nprojects: [{slug: gh/a/b, list_lag: -1s}]\n":        "projects[0].list_lag: -1s is negative",
			"tokens: [{token: t}]\nprojects: [{slug: gh/a/b, trigger_type: manual}]\n": `projects[0].trigger_type: "manual"; use one of api, explicit, webhook, scheduled_pipeline, unknown`,
		} {
			_, err := simulator.ParseConfig([]byte(config))
			assert.EqualError(t, err, want)
		}
	})
}
