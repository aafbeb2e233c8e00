package simulator_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// configParams reads the top-level parameters of a served config, resolving anchors, aliases
// and merge keys as CircleCI does.
func configParams(t *testing.T, source string) map[string]map[string]any {
	t.Helper()
	var doc struct {
		Setup      bool                      `yaml:"setup"`
		Parameters map[string]map[string]any `yaml:"parameters"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(source), &doc), source)
	return doc.Parameters
}

func TestPipelineConfigIsWrittenFromTheDeclaredParameters(t *testing.T) {
	e := start(t, `
tokens: [{token: tok}]
projects:
  - slug: gh/acme/api
    parameters:
      - {name: image-name, type: string, default: "a \"quoted\" name"}
      - {name: replicas, type: integer, default: 1}
      - {name: deploy, type: boolean}
      - {name: env, type: enum, enum: [dev, prod], default: dev}
    workflows: [{name: build, jobs: [{name: compile}, {name: hold, type: approval, requires: [compile]}]}]
  - slug: gh/acme/app
    parameters: [{name: target, type: string}]
    continuation_parameters: [{name: shard, type: integer}]
    workflows:
      - {name: setup, tag: setup}
      - {name: main}
`)
	id := e.trigger("gh/acme/api", `{}`)
	r := e.api("GET", "/api/v2/pipeline/"+id+"/config", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.False(t, gjsonHas(r.body, "setup-config"), "no setup workflow, no setup config")
	source := gjsonGet(r.body, "source")
	assert.Contains(t, source, "<<: *string-parameter", "the string parameter's type comes through a merge key")
	assert.Equal(t, map[string]map[string]any{
		"image-name": {"type": "string", "description": "a string", "default": `a "quoted" name`},
		"replicas":   {"type": "integer", "default": 1},
		"deploy":     {"type": "boolean"},
		"env":        {"type": "enum", "enum": []any{"dev", "prod"}, "default": "dev"},
	}, configParams(t, source))
	assert.Empty(t, configParams(t, gjsonGet(r.body, "compiled")), "compilation resolves the parameters away")

	app := e.trigger("gh/acme/app", `{}`)
	r = e.api("GET", "/api/v2/pipeline/"+app+"/config", "")
	require.Equal(t, http.StatusOK, r.status)
	setup := gjsonGet(r.body, "setup-config")
	assert.Contains(t, setup, "setup: true")
	assert.Equal(t, []string{"target"}, keys(configParams(t, setup)), "the setup config declares what a trigger passes")
	assert.ElementsMatch(t, []string{"target", "shard"}, keys(configParams(t, gjsonGet(r.body, "source"))), "the continuation declares its own too")
	assert.True(t, gjsonHas(r.body, "compiled-setup-config"))

	bad := e.trigger("gh/acme/app", `{"parameters": {"shard": 2}}`)
	assert.Equal(t, "Unexpected argument(s): shard", gjsonGet(e.api("GET", "/api/v2/pipeline/"+bad, "").body, "errors.0.message"),
		"a parameter only the continuation declares is refused by the trigger")

	assert.Equal(t, http.StatusNotFound, e.api("GET", "/api/v2/pipeline/00000000-0000-4000-8000-000000000000/config", "").status)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
