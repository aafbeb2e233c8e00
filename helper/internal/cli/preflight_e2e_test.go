package cli_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const preflightConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: gh/acme/deploy
    parameters:
      - {name: image-name, type: string, default: ""}
      - {name: version, type: string, default: "1"}
      - {name: replicas, type: integer, default: 1}
      - {name: flag, type: string, default: "false"}
      - {name: deploy, type: boolean, default: false}
      - {name: env, type: enum, enum: [dev, prod], default: dev}
  - slug: gh/acme/web
    parameters:
      - {name: region, type: string}
      - {name: replicas, type: integer, default: 1}
  - slug: gh/acme/app
    parameters: [{name: target, type: string}]
    continuation_parameters: [{name: shard, type: integer}]
    workflows: [{name: setup, tag: setup}, {name: main}]
  - slug: gh/acme/new
    parameters: [{name: x, type: string}]
  - slug: gh/acme/never
    parameters: [{name: x, type: string}]
`

// preflightWorld is a simulator where gh/acme/deploy, web and app have run a pipeline on main
// before, and gh/acme/new never has; baton runs with pre-flight at its default.
func preflightWorld(t *testing.T) *world {
	t.Helper()
	w := newWorldWith(t, preflightConfig)
	w.preflight = true
	for _, slug := range []string{"gh/acme/deploy", "gh/acme/web", "gh/acme/app"} {
		req, err := http.NewRequest("POST", w.url+"/api/v2/project/"+slug+"/pipeline", strings.NewReader(`{"branch":"main"}`))
		require.NoError(t, err)
		req.Header.Set("Circle-Token", token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusCreated, res.StatusCode)
	}
	return w
}

// triggers is the bodies of every trigger the simulator received.
func (w *world) triggers() []string {
	var out []string
	for _, r := range w.sim.Requests() {
		if r.Operation == "triggerPipeline" || r.Operation == "triggerPipelineRun" {
			out = append(out, string(r.Body))
		}
	}
	return out
}

func TestPreflightTypesEveryValueAsDeclared(t *testing.T) {
	w := preflightWorld(t)
	before := len(w.sim.Requests())
	r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--branch", "main",
		"-p", "version=3", "-p", "replicas=3", "-p", "flag=true", "-p", "deploy=true", "-p", "env=prod", "-p", "image-name=007")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Equal(t, []string{`{"branch":"main","parameters":{"version":"3","replicas":3,"flag":"true","deploy":true,"env":"prod","image-name":"007"}}`}, w.triggers()[3:])
	assert.Len(t, w.sim.Requests()[before:], 3, "pre-flight adds two GETs (the branch's pipelines, the config) to the trigger")
	p := w.sim.Pipelines()
	assert.Equal(t, "created", p[len(p)-1].State, "CircleCI takes every value: %v", p[len(p)-1].Errors)
}

// TestPreflightRefusesTheMismatchCorpus holds pre-flight to the goal: every mismatch
// CircleCI would reject is refused with its one line, exit 2, and no trigger is sent.
func TestPreflightRefusesTheMismatchCorpus(t *testing.T) {
	w := preflightWorld(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--project", "gh/acme/deploy", "-p", "image_name=x"}, "image_name: gh/acme/deploy declares no such parameter; did you mean image-name?"},
		{[]string{"--project", "gh/acme/deploy", "-p", "Image-Name=x"}, "Image-Name: gh/acme/deploy declares no such parameter; did you mean image-name?"},
		{[]string{"--project", "gh/acme/deploy", "-p", "replica=2"}, "replica: gh/acme/deploy declares no such parameter; did you mean replicas?"},
		{[]string{"--project", "gh/acme/deploy", "-p", "nope=1"}, "nope: gh/acme/deploy declares no such parameter; it declares deploy, env, flag, image-name, replicas, version"},
		{[]string{"--project", "gh/acme/deploy", "-p", "replicas=three"}, `replicas: gh/acme/deploy declares an integer; "three" is not one`},
		{[]string{"--project", "gh/acme/deploy", "-p", "replicas=1.5"}, `replicas: gh/acme/deploy declares an integer; "1.5" is not one`},
		{[]string{"--project", "gh/acme/deploy", "-p", "deploy=yes"}, `deploy: gh/acme/deploy declares a boolean; "yes" is not one (write true or false)`},
		{[]string{"--project", "gh/acme/deploy", "-p", "env=staging"}, `env: gh/acme/deploy allows only dev, prod; "staging" is not one of them`},
		{[]string{"--project", "gh/acme/deploy", "-p", "replicas:string=3"}, `replicas: gh/acme/deploy declares an integer, but --param forces the string "3"`},
		{[]string{"--project", "gh/acme/deploy", "--parameters-json", `{"deploy": "true"}`}, `deploy: gh/acme/deploy declares a boolean, but --parameters-json gives the string "true"`},
		{[]string{"--project", "gh/acme/deploy", "--parameters", "env=qa"}, `env: gh/acme/deploy allows only dev, prod; "qa" is not one of them`},
		{[]string{"--project", "gh/acme/app", "-p", "targt=x"}, "targt: gh/acme/app declares no such parameter; did you mean target?"},
		{[]string{"--project", "gh/acme/app", "-p", "shard=1", "--preflight", "strict"}, "shard: gh/acme/app declares it only in its continuation config, which a trigger does not reach; cannot tell whether CircleCI takes it (--preflight=strict sends nothing unchecked)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := w.baton(nil, append([]string{"trigger"}, tc.args...)...)
			assert.Equal(t, 2, r.code)
			assert.Equal(t, "baton: "+tc.want+"\n", r.stderr)
			assert.Len(t, w.triggers(), 3, "nothing was sent")
		})
	}
}

func TestPreflightRefusesAFanOutWholeWithOneLinePerProblem(t *testing.T) {
	w := preflightWorld(t)
	r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--project", "gh/acme/web", "--branch", "main",
		"-p", "replicas=2", "-p", "region=eu", "-p", "env=prod")
	assert.Equal(t, 2, r.code)
	assert.Equal(t, "baton: region: gh/acme/deploy declares no such parameter; it declares deploy, env, flag, image-name, replicas, version\n"+
		"baton: env: gh/acme/web declares no such parameter; it declares region, replicas; nothing was sent\n", r.stderr)
	assert.Len(t, w.triggers(), 3, "no project of the fan-out was triggered")
}

func TestPreflightPerProjectParametersFromAProjectsFile(t *testing.T) {
	w := preflightWorld(t)
	file := filepath.Join(t.TempDir(), "projects.yml")
	require.NoError(t, os.WriteFile(file, []byte(`# each project its own parameters, over the shared ones
projects:
  - slug: gh/acme/deploy
    branch: main
    parameters: {env: prod, version: 3}
  - slug: gh/acme/web
    branch: main
    parameters: {region: eu, replicas: 4}
`), 0o600))
	r := w.baton(nil, "trigger", "--projects-file", file, "-p", "replicas=2")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.ElementsMatch(t, []string{
		`{"branch":"main","parameters":{"replicas":2,"env":"prod","version":"3"}}`,
		`{"branch":"main","parameters":{"region":"eu","replicas":4}}`,
	}, w.triggers()[3:], "web's own replicas wins over the shared one; version is typed as deploy declares it")
}

func TestPreflightWhenItCannotKnow(t *testing.T) {
	w := preflightWorld(t)
	t.Run("on: one line saying why, then sent as typed", func(t *testing.T) {
		r := w.baton(nil, "trigger", "--project", "gh/acme/new", "-p", "x=3")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "baton: pre-flight: gh/acme/new: cannot check the parameters: no earlier pipeline on the default branch main; sending as given\n", r.stderr)
		assert.Equal(t, `{"parameters":{"x":3}}`, w.triggers()[len(w.triggers())-1], "today's inference")
	})
	t.Run("then a new branch is checked against the default branch's config", func(t *testing.T) {
		r := w.baton(nil, "trigger", "--project", "gh/acme/new", "--branch", "feature", "-p", "x=3")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		assert.Equal(t, `{"branch":"feature","parameters":{"x":"3"}}`, w.triggers()[len(w.triggers())-1])
	})
	t.Run("strict: refused, nothing sent", func(t *testing.T) {
		n := len(w.triggers())
		r := w.baton([]string{"BATON_PREFLIGHT=strict"}, "trigger", "--project", "gh/acme/never", "--branch", "feature", "-p", "x=3")
		assert.Equal(t, 2, r.code)
		assert.Equal(t, "baton: gh/acme/never: cannot check the parameters: no earlier pipeline on branch feature or on the default branch main (--preflight=strict sends nothing unchecked)\n", r.stderr)
		assert.Len(t, w.triggers(), n)
	})
	t.Run("an API error", func(t *testing.T) {
		r := w.baton([]string{"BATON_PREFLIGHT=on"}, "trigger", "--project", "gh/acme/nope", "-p", "x=3")
		assert.Equal(t, 3, r.code, "the trigger itself then meets the 404")
		assert.True(t, strings.HasPrefix(r.stderr, "baton: pre-flight: gh/acme/nope: cannot check the parameters: reading the project failed: GET /api/v2/project/gh%2Facme%2Fnope: 404"), r.stderr)
	})
	t.Run("off: no reads at all", func(t *testing.T) {
		before := len(w.sim.Requests())
		r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--preflight=off", "-p", "version=3")
		require.Equal(t, 0, r.code, r.stderr)
		reqs := w.sim.Requests()[before:]
		require.Len(t, reqs, 1)
		assert.Equal(t, `{"parameters":{"version":3}}`, string(reqs[0].Body), "today's inference")
	})
	t.Run("no parameters: nothing to check, nothing read", func(t *testing.T) {
		before := len(w.sim.Requests())
		r := w.baton(nil, "trigger", "--project", "gh/acme/new", "--preflight=strict")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Len(t, w.sim.Requests()[before:], 1)
	})
}

func TestPreflightInADryRun(t *testing.T) {
	w := preflightWorld(t)
	r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--branch", "main", "-p", "version=3", "-p", "replicas=2", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "dry run: nothing was sent\n", r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, `pre-flight: gh/acme/deploy declares deploy (boolean; default false), env (enum of dev, prod; default "dev"), flag (string; default "false"), image-name (string; default ""), replicas (integer; default 1), version (string; default "1") (learnt from its pipeline #1 on branch main)
pre-flight: version: sent as the string "3" (declared string)
pre-flight: replicas: sent as the integer 2 (declared integer)
POST `), r.stdout)
	assert.True(t, bytes.HasSuffix([]byte(r.stdout), []byte(`{"branch":"main","parameters":{"version":"3","replicas":2}}`+"\n")), r.stdout)
	assert.Len(t, w.triggers(), 3, "a dry run only reads")

	r = w.baton([]string{"CIRCLE_TOKEN="}, "trigger", "--project", "gh/acme/deploy", "-p", "version=3", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "baton: pre-flight: gh/acme/deploy: cannot check the parameters: $CIRCLE_TOKEN is not set, so its config cannot be read; sending as given\ndry run: nothing was sent\n", r.stderr)
}
