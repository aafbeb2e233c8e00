package simulator_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

const externalConfig = `
tokens: [{token: tok, login: octocat}]
projects:
  - slug: gh/acme/api
    external: true
    parameters:
      - {name: run-tests, type: boolean, default: false}
      - {name: note, type: string, default: ""}
`

const setupConfig = `version: 2.1
setup: true
parameters:
  run-tests: {type: boolean, default: false}
  note: {type: string, default: ""}
workflows:
  setup: {jobs: [continue]}
`

// continuedConfig declares the setup config's parameters again, and one of its own.
const continuedConfig = `version: 2.1
parameters:
  run-tests: {type: boolean, default: false}
  note: {type: string, default: ""}
  orb-sha256: {type: string, default: ""}
workflows:
  test: {jobs: [test]}
`

// continueBody is the continuation orb's request body; it always sends parameters, {} by
// default.
func continueBody(key, config string, params map[string]any) string {
	if params == nil {
		params = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"continuation-key": key, "configuration": config, "parameters": params})
	return string(b)
}

// postContinue calls the continue endpoint as the continuation orb does: JSON, no token.
func (e *env) postContinue(body string) response {
	e.t.Helper()
	return e.do("POST", "/api/v2/pipeline/continue", body, http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}})
}

func TestAPipelineIsContinuedOnceWithItsKey(t *testing.T) {
	e := start(t, externalConfig)
	id := e.trigger("gh/acme/api", `{"branch":"main","parameters":{"note":"from the trigger"}}`)
	key, err := e.sim.StartConfig(id, setupConfig, true)
	require.NoError(t, err)
	assert.Equal(t, "setup", gjsonGet(e.api("GET", "/api/v2/pipeline/"+id, "").body, "state"))

	r := e.postContinue(continueBody(key, continuedConfig, map[string]any{"orb-sha256": "abc"}))
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.JSONEq(t, `{"message": "Pipeline continued"}`, r.body)
	c, ok := e.sim.Continuation(id)
	require.True(t, ok)
	assert.Equal(t, continuedConfig, c.Config)
	assert.Equal(t, map[string]any{"note": "from the trigger", "orb-sha256": "abc"}, c.Parameters, "the trigger's parameters carry over")

	again := e.postContinue(continueBody(key, continuedConfig, nil))
	assert.Equal(t, http.StatusConflict, again.status, "a continuation key is single-use")
	assert.JSONEq(t, `{"message": "Continuation key has expired. Please run a new pipeline."}`, again.body)

	cfg := e.api("GET", "/api/v2/pipeline/"+id+"/config", "")
	assert.Equal(t, setupConfig, gjsonGet(cfg.body, "setup-config"))
	assert.Equal(t, continuedConfig, gjsonGet(cfg.body, "source"))
	assert.Equal(t, "created", gjsonGet(e.api("GET", "/api/v2/pipeline/"+id, "").body, "state"))
}

func TestAContinuationBreakingCircleCIsRulesErrorsThePipeline(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trigger string
		config  string
		params  map[string]any
		want    string
	}{
		{"another setup config", `{}`, "version: 2.1\nsetup: true\n" + continuedConfig[len("version: 2.1\n"):], nil,
			"continuation config contains setup stanza whilst not in setup anymore."},
		{"a setup parameter the continuation does not declare", `{}`, "version: 2.1\nparameters:\n  note: {type: string, default: \"\"}\n", nil,
			"Pipeline parameter run-tests is declared in the setup configuration but not in the continuation configuration"},
		{"a setup parameter declared with another default", `{}`, "version: 2.1\nparameters:\n  run-tests: {type: boolean, default: true}\n  note: {type: string, default: \"\"}\n", nil,
			"Pipeline parameter run-tests is declared differently in the setup and continuation configurations (type and default must match)"},
		{"a parameter given at trigger time given again", `{"parameters":{"run-tests":true}}`, continuedConfig, map[string]any{"run-tests": true},
			"Conflicting pipeline parameters: run-tests were given when the pipeline was triggered and again at continuation"},
		{"a parameter the continuation does not declare", `{}`, continuedConfig, map[string]any{"nope": 1},
			"Unexpected argument(s): nope"},
		{"a parameter of the wrong type", `{}`, continuedConfig, map[string]any{"orb-sha256": 3},
			"Type error for argument orb-sha256: expected type: string, actual value: 3 (type integer)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, externalConfig)
			id := e.trigger("gh/acme/api", tt.trigger)
			key, err := e.sim.StartConfig(id, setupConfig, true)
			require.NoError(t, err)
			r := e.postContinue(continueBody(key, tt.config, tt.params))
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, tt.want, gjsonGet(r.body, "message"))
			p := e.api("GET", "/api/v2/pipeline/"+id, "")
			assert.Equal(t, "errored", gjsonGet(p.body, "state"))
			assert.Equal(t, tt.want, gjsonGet(p.body, "errors.0.message"))
			_, ok := e.sim.Continuation(id)
			assert.False(t, ok)
		})
	}
}

func TestTheContinueEndpointRefusesBadKeysAndBodies(t *testing.T) {
	e := start(t, externalConfig)
	id := e.trigger("gh/acme/api", `{}`)
	key, err := e.sim.StartConfig(id, setupConfig, true)
	require.NoError(t, err)

	r := e.postContinue(continueBody("00000000-0000-4000-8000-000000000000", continuedConfig, nil))
	assert.Equal(t, http.StatusNotFound, r.status)
	r = e.postContinue(`{"configuration": "version: 2.1"}`)
	assert.Equal(t, http.StatusBadRequest, r.status, "no key")
	r = e.do("POST", "/api/v2/pipeline/continue", continueBody(key, continuedConfig, nil), nil)
	assert.Equal(t, http.StatusBadRequest, r.status, "without Content-Type the body is ignored")

	e.clock.Advance(6*time.Hour + time.Second)
	r = e.postContinue(continueBody(key, continuedConfig, nil))
	assert.Equal(t, http.StatusConflict, r.status, "six hours after its creation a pipeline cannot be continued")
}

func TestARunnerReportsTheWorkflowsOfAnExternalProject(t *testing.T) {
	var created []simulator.PipelineInfo
	e := start(t, externalConfig, simulator.WithPipelineHook(func(p simulator.PipelineInfo) { created = append(created, p) }))
	id := e.trigger("gh/acme/api", `{"branch":"main","parameters":{"run-tests":true}}`)
	require.Len(t, created, 1, "the hook hears of the triggered pipeline")
	assert.Equal(t, map[string]any{"run-tests": true}, created[0].Parameters)
	assert.Empty(t, e.workflowStatuses(id), "nothing scripted: no workflow until the runner reports one")

	wf, err := e.sim.ReportWorkflow(id, simulator.WorkflowReport{Name: "setup", Setup: true, Status: "running",
		Jobs: []simulator.JobReport{{Name: "continue", Status: "running"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"setup=running"}, e.workflowStatuses(id))
	_, err = e.sim.ReportWorkflow(id, simulator.WorkflowReport{ID: wf, Status: "success",
		Jobs: []simulator.JobReport{{Name: "continue", Status: "success"}}})
	require.NoError(t, err)
	w := e.api("GET", "/api/v2/workflow/"+wf, "")
	assert.Equal(t, "setup", gjsonGet(w.body, "tag"))
	assert.True(t, gjsonHas(w.body, "stopped_at") && gjsonGet(w.body, "stopped_at") != "")
	jobs := e.api("GET", "/api/v2/workflow/"+wf+"/job", "")
	assert.Equal(t, "success", gjsonGet(jobs.body, "items.0.status"))

	push, err := e.sim.Push("gh/acme/api", "main", "", "tok")
	require.NoError(t, err)
	assert.Equal(t, "push", push.Operation)
	assert.Len(t, created, 1, "a push is the runner's own doing: no hook")
	assert.Equal(t, "webhook", gjsonGet(e.api("GET", "/api/v2/pipeline/"+push.ID, "").body, "trigger.type"))
	_, err = e.sim.ReportWorkflow("00000000-0000-4000-8000-000000000000", simulator.WorkflowReport{Name: "x"})
	assert.Error(t, err)
}
