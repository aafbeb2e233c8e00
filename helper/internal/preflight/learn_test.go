package preflight_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
	"github.com/baton-ci/baton/helper/internal/preflight"
	"github.com/baton-ci/baton/helper/internal/request"
)

const simConfig = `
tokens: [{token: tok}]
projects:
  - slug: gh/acme/deploy
    default_branch: main
    parameters:
      - {name: image-name, type: string}
      - {name: replicas, type: integer, default: 1}
      - {name: env, type: enum, enum: [dev, prod], default: dev}
    workflows: [{name: deploy}]
  - slug: gh/acme/app
    parameters: [{name: target, type: string}]
    continuation_parameters: [{name: shard, type: integer}]
    workflows: [{name: setup, tag: setup}, {name: main}]
  - slug: gh/acme/bare
`

type world struct {
	sim    *simulator.Simulator
	client *circleci.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(simConfig))
	require.NoError(t, err)
	clock := testkit.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := circleci.New(circleci.Config{Host: srv.URL, Token: "tok", Sleep: clock.Sleep, Now: clock.Now})
	require.NoError(t, err)
	return &world{sim: sim, client: client}
}

// run triggers a pipeline of slug with body, as an earlier run of the project would have.
func (w *world) run(t *testing.T, slug, body string) {
	t.Helper()
	_, err := w.client.TriggerPipeline(context.Background(), slug, []byte(body))
	require.NoError(t, err)
}

// since is the operations of the requests after the first n.
func (w *world) since(n int) []string {
	var ops []string
	for _, r := range w.sim.Requests()[n:] {
		ops = append(ops, r.Operation+" "+r.RawQuery)
	}
	return ops
}

func TestLearnFindsTheConfigOfTheLatestPipelineOnTheRef(t *testing.T) {
	w := newWorld(t)
	w.run(t, "gh/acme/deploy", `{"branch": "main"}`)
	w.run(t, "gh/acme/deploy", `{"branch": "feature"}`)
	w.run(t, "gh/acme/deploy", `{"tag": "v1.0.0"}`)
	tests := []struct {
		name     string
		ref      request.Ref
		from     string
		ops      []string
		borrowed bool
	}{
		// The project and the list of all branches are read at once (in either order): the
		// newest on the default branch is among them, behind a tag's and another branch's.
		{"the default branch: the project and the list of all at once, the config", request.Ref{}, "pipeline #1 on branch main, the default branch",
			[]string{"getProjectBySlug ", "listPipelinesForProject ", "getPipelineConfigById "}, false},
		{"a branch with a pipeline: its list and the config", request.Ref{Branch: "feature"}, "pipeline #2 on branch feature",
			[]string{"listPipelinesForProject branch=feature", "getPipelineConfigById "}, false},
		{"a tag with a pipeline: the list of all and the config", request.Ref{Tag: "v1.0.0"}, "pipeline #3 on tag v1.0.0",
			[]string{"listPipelinesForProject ", "getPipelineConfigById "}, false},
		{"a new branch: the default branch's", request.Ref{Branch: "new"}, "pipeline #1 on branch main, the default branch",
			[]string{"listPipelinesForProject branch=new", "getProjectBySlug ", "listPipelinesForProject branch=main", "getPipelineConfigById "}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(w.sim.Requests())
			l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", tt.ref)
			require.NotNil(t, l.Decls, l.Why)
			assert.Equal(t, tt.from, l.Decls.From)
			assert.Equal(t, []string{"env", "image-name", "replicas"}, (&preflight.Config{Params: l.Decls.Params}).Names())
			assert.Equal(t, preflight.EnumOf("dev", "prod"), l.Decls.Params["env"].Enum)
			ops := w.since(n)
			if tt.ref == (request.Ref{}) && len(ops) == len(tt.ops) { // the first two at once
				assert.ElementsMatch(t, tt.ops[:2], ops[:2])
				ops[0], ops[1] = tt.ops[0], tt.ops[1]
			}
			assert.Equal(t, tt.ops, ops)
			assert.Equal(t, tt.borrowed, l.Decls.Borrowed, "only a ref's fallback to the default branch borrows")
		})
	}
}

func TestLearnReadsTheSetupConfigOfASetupWorkflow(t *testing.T) {
	w := newWorld(t)
	w.run(t, "gh/acme/app", `{}`)
	l := preflight.Learn(context.Background(), w.client, "gh/acme/app", request.Ref{})
	require.NotNil(t, l.Decls, l.Why)
	assert.Equal(t, []string{"target"}, (&preflight.Config{Params: l.Decls.Params}).Names())
	assert.Equal(t, []string{"shard"}, (&preflight.Config{Params: l.Decls.Continuation}).Names())
}

func TestLearnSaysWhyItCannotKnow(t *testing.T) {
	t.Run("no earlier pipeline", func(t *testing.T) {
		w := newWorld(t)
		l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", request.Ref{})
		assert.Nil(t, l.Decls)
		assert.Equal(t, "no earlier pipeline on the default branch main", l.Why)
		ops := w.since(0)
		require.Len(t, ops, 3)
		assert.ElementsMatch(t, []string{"getProjectBySlug ", "listPipelinesForProject "}, ops[:2], "read at once")
		assert.Equal(t, "listPipelinesForProject branch=main", ops[2], "none of the newest of all branches is on the default branch: its own list is asked")
	})
	t.Run("the default branch's pipelines behind a full page of others", func(t *testing.T) {
		w := newWorld(t)
		w.run(t, "gh/acme/deploy", `{"branch": "main"}`)
		for range 20 {
			w.run(t, "gh/acme/deploy", `{"branch": "busy"}`)
		}
		n := len(w.sim.Requests())
		l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", request.Ref{})
		require.NotNil(t, l.Decls, l.Why)
		assert.Equal(t, "pipeline #1 on branch main, the default branch", l.Decls.From)
		assert.Equal(t, []string{"listPipelinesForProject branch=main", "getPipelineConfigById "}, w.since(n)[2:])
	})
	t.Run("the project cannot be read while the list is", func(t *testing.T) {
		w := newWorld(t)
		w.run(t, "gh/acme/deploy", `{"branch": "main"}`)
		require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "getProjectBySlug", Status: 403}))
		l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", request.Ref{})
		assert.Nil(t, l.Decls)
		assert.Contains(t, l.Why, "reading the project failed: ")
		assert.Contains(t, l.Why, "403")
	})
	t.Run("no earlier pipeline on the branch nor the default branch", func(t *testing.T) {
		w := newWorld(t)
		l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", request.Ref{Tag: "v2"})
		assert.Equal(t, "no earlier pipeline on tag v2 or on the default branch main", l.Why)
	})
	t.Run("no earlier pipeline on the default branch, named", func(t *testing.T) {
		w := newWorld(t)
		l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", request.Ref{Branch: "main"})
		assert.Equal(t, "no earlier pipeline on branch main", l.Why)
	})
	t.Run("an API error", func(t *testing.T) {
		w := newWorld(t)
		w.run(t, "gh/acme/deploy", `{}`)
		require.NoError(t, w.sim.AddFault(simulator.Fault{Operation: "getPipelineConfigById", Status: 403}))
		l := preflight.Learn(context.Background(), w.client, "gh/acme/deploy", request.Ref{Branch: "main"})
		assert.Nil(t, l.Decls)
		assert.Contains(t, l.Why, "reading the config of its pipeline #1 on branch main failed: GET /api/v2/pipeline/")
		assert.Contains(t, l.Why, "403")
	})
	t.Run("an unknown project", func(t *testing.T) {
		w := newWorld(t)
		l := preflight.Learn(context.Background(), w.client, "gh/acme/nope", request.Ref{})
		assert.Contains(t, l.Why, "reading the project failed: ")
		assert.Contains(t, l.Why, "404")
	})
	for _, tt := range []struct {
		name string
		cfg  circleci.PipelineConfig
		why  string
	}{
		{"no config source", circleci.PipelineConfig{}, "the config of its pipeline #7 on branch main: it has no config source"},
		{"a config that is not YAML", circleci.PipelineConfig{Source: "parameters: [\n"}, "the config of its pipeline #7 on branch main: the config is not readable YAML"},
		{"a setup config that is not YAML", circleci.PipelineConfig{Source: "version: 2.1", SetupConfig: "{"}, "the config of its pipeline #7 on branch main: its setup config: the config is not readable YAML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := preflight.Learn(context.Background(), fakeAPI{cfg: tt.cfg}, "gh/acme/x", request.Ref{Branch: "main"})
			assert.Nil(t, l.Decls)
			assert.Contains(t, l.Why, tt.why)
		})
	}
}

// fakeAPI answers with one pipeline #7 whose config is cfg.
type fakeAPI struct{ cfg circleci.PipelineConfig }

func (fakeAPI) GetProject(context.Context, string) (*circleci.Project, error) {
	return nil, errors.New("not asked")
}

func (fakeAPI) NewestPipeline(_ context.Context, _, branch string, match func(*circleci.Pipeline) bool) (*circleci.Pipeline, error) {
	if p := (&circleci.Pipeline{ID: "p7", Number: 7, VCS: &circleci.PipelineVCS{Branch: branch}}); match(p) {
		return p, nil
	}
	return nil, nil
}

func (f fakeAPI) GetPipelineConfig(context.Context, string) (*circleci.PipelineConfig, error) {
	return &f.cfg, nil
}

func trigger(t *testing.T, project, branch string, ps ...string) *request.Trigger {
	t.Helper()
	tr, err := request.New(request.Input{Project: project, Branch: branch, Params: ps, NoExpand: true})
	require.NoError(t, err)
	return tr
}

func TestCheckAllChecksEachTriggerAgainstItsOwnProject(t *testing.T) {
	w := newWorld(t)
	w.run(t, "gh/acme/deploy", `{"branch": "main"}`)
	w.run(t, "gh/acme/app", `{"branch": "main"}`)
	n := len(w.sim.Requests())
	triggers := []*request.Trigger{
		trigger(t, "gh/acme/deploy", "main", "replicas=3", "image_name=x"),
		trigger(t, "gh/acme/app", "main", "target=3"),
		trigger(t, "gh/acme/bare", "main"), // no parameters: nothing to check, nothing asked
		trigger(t, "gh/acme/bare", "other", "x=1"),
	}
	results := preflight.CheckAll(context.Background(), w.client, triggers, 2)
	require.Len(t, results, 4)

	assert.True(t, results[0].Checked)
	assert.Equal(t, []string{"image_name: gh/acme/deploy declares no such parameter; did you mean image-name?"}, results[0].Problems)
	assert.Equal(t, []string{"target"}, []string{results[1].Params[0].Key})
	assert.Equal(t, "3", results[1].Params[0].Value, "typed by the app's setup config")
	assert.False(t, results[2].Checked)
	assert.Equal(t, []string{"gh/acme/bare: cannot check the parameters: no earlier pipeline on branch other or on the default branch main"}, results[3].Unknown)
	assert.Equal(t, triggers[3].Params, results[3].Params, "unchecked parameters are sent as typed")

	ops := w.since(n)
	assert.Len(t, ops, 2+2+3, "two GETs for each project with a pipeline on the ref, three for bare's fallback; none for the trigger without parameters")
	for _, op := range ops {
		assert.NotContains(t, op, "triggerPipeline", "pre-flight only reads")
	}
}

func TestCheckAllReadsTheConfigRefOfAPipelineRunTrigger(t *testing.T) {
	w := newWorld(t)
	w.run(t, "gh/acme/deploy", `{"branch": "release"}`)
	tr, err := request.New(request.Input{Project: "gh/acme/deploy", Branch: "feature", DefinitionID: "2338d0ae-5541-4bbf-88a2-55e9f7281f80",
		ConfigBranch: "release", Params: []string{"replicas=3"}, NoExpand: true})
	require.NoError(t, err)
	n := len(w.sim.Requests())
	results := preflight.CheckAll(context.Background(), w.client, []*request.Trigger{tr}, 1)
	require.NotNil(t, results[0].Decls, results[0].Why)
	assert.Equal(t, "pipeline #1 on branch release", results[0].Decls.From, "the config comes from --config-branch, not the checkout")
	assert.Equal(t, []string{"listPipelinesForProject branch=release", "getPipelineConfigById "}, w.since(n))
}
