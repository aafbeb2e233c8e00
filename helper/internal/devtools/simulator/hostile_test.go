package simulator_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

const hostileConfig = `
tokens: [{token: "tok<&>/ x"}]
projects:
  - slug: gh/acme/api
    workflows: [{name: build, jobs: [{name: a}, {name: b}]}]
`

func TestHostileAnswers(t *testing.T) {
	e := start(t, hostileConfig)
	h := map[string][]string{"Circle-Token": {"tok<&>/ x"}}
	id := gjson.Get(e.do("POST", "/api/v2/project/gh/acme/api/pipeline", "", h).body, "id").String()
	require.NotEmpty(t, id)

	t.Run("fields get text with the request's token in every form", func(t *testing.T) {
		require.NoError(t, e.sim.AddHostile(simulator.Hostile{Operation: "listWorkflowsByPipelineId", Fields: []string{"name"},
			Append: "\x1b]0;pwned\x07|{token}|{token:json}|{token:url}|{token:path}|{token:html}"}))
		body := e.do("GET", "/api/v2/pipeline/"+id+"/workflow", "", h).body
		assert.Equal(t, "build\x1b]0;pwned\x07|tok<&>/ x|tok<&>/ x|tok%3C%26%3E%2F+x|tok%3C&%3E%2F%20x|tok&lt;&amp;&gt;/ x",
			gjson.Get(body, "items.0.name").String())
	})
	t.Run("keys become null", func(t *testing.T) {
		require.NoError(t, e.sim.AddHostile(simulator.Hostile{Operation: "getPipelineById", Null: []string{"state", "id"}}))
		body := e.do("GET", "/api/v2/pipeline/"+id, "", h).body
		assert.Equal(t, "Null", gjson.Get(body, "state").Type.String())
		assert.Equal(t, "Null", gjson.Get(body, "id").Type.String())
		assert.Equal(t, "gh/acme/api", gjson.Get(body, "project_slug").String(), "the rest is untouched")
	})
	t.Run("keys that hold a value get another", func(t *testing.T) {
		require.NoError(t, e.sim.AddHostile(simulator.Hostile{Operation: "getPipelineById", Set: map[string]any{"created_at": "yesterday", "state": "created"}}))
		body := e.do("GET", "/api/v2/pipeline/"+id, "", h).body
		assert.Equal(t, "yesterday", gjson.Get(body, "created_at").String())
		assert.Equal(t, "Null", gjson.Get(body, "state").Type.String(), "a null (set by the rewrite above) is left null")
	})
	t.Run("pages are padded and never end", func(t *testing.T) {
		wf := gjson.Get(e.do("GET", "/api/v2/pipeline/"+id+"/workflow", "", h).body, "items.0.id").String()
		require.NoError(t, e.sim.AddHostile(simulator.Hostile{Operation: "listWorkflowJobs", PageItems: 5, Pages: -1}))
		path := "/api/v2/workflow/" + wf + "/job"
		for range 3 {
			body := e.do("GET", path, "", h).body
			assert.Len(t, gjson.Get(body, "items").Array(), 5)
			next := gjson.Get(body, "next_page_token").String()
			require.True(t, strings.HasPrefix(next, "hostile-page-"), body)
			path = "/api/v2/workflow/" + wf + "/job?page-token=" + next
		}
	})
	t.Run("error messages too", func(t *testing.T) {
		require.NoError(t, e.sim.AddHostile(simulator.Hostile{Operation: "*", Fields: []string{"message"}, Append: " {token}"}))
		body := e.do("GET", "/api/v2/pipeline/00000000-0000-0000-0000-000000000000", "", h).body
		assert.Contains(t, gjson.Get(body, "message").String(), " tok<&>/ x")
	})
	t.Run("a bad rewrite is refused naming the field", func(t *testing.T) {
		assert.ErrorContains(t, e.sim.AddHostile(simulator.Hostile{Operation: "nope", Null: []string{"id"}}), `hostile operation: "nope" is not an operation the simulator serves`)
		assert.ErrorContains(t, e.sim.AddHostile(simulator.Hostile{Operation: "*"}), "hostile nothing to do")
	})
}

func TestHostileFromConfigAndAdmin(t *testing.T) {
	t.Run("the config's hostile rewrites apply from the start", func(t *testing.T) {
		e := start(t, hostileConfig+`
hostile:
  - {operation: getCurrentUser, fields: [login], append: " \u001b[2J"}
`)
		body := e.do("GET", "/api/v2/me", "", map[string][]string{"Circle-Token": {"tok<&>/ x"}}).body
		assert.Equal(t, "sim-user \x1b[2J", gjson.Get(body, "login").String())
	})
	t.Run("a bad one in the config is refused naming it", func(t *testing.T) {
		_, err := simulator.ParseConfig([]byte(hostileConfig + "hostile: [{operation: '*', page_items: -1}]\n"))
		assert.ErrorContains(t, err, "hostile[0].page_items: -1 is negative")
	})
	t.Run("POST /_sim/hostile adds one", func(t *testing.T) {
		e := start(t, hostileConfig)
		r := e.do("POST", "/_sim/hostile", `{"operation": "getCurrentUser", "null": ["login"]}`, nil)
		require.Equal(t, 201, r.status, r.body)
		body := e.do("GET", "/api/v2/me", "", map[string][]string{"Circle-Token": {"tok<&>/ x"}}).body
		assert.Equal(t, "Null", gjson.Get(body, "login").Type.String())
		r = e.do("POST", "/_sim/hostile", `{"operation": "getCurrentUser", "nul": ["login"]}`, nil)
		assert.Equal(t, 400, r.status)
		assert.Contains(t, r.body, "unknown field")
	})
}
