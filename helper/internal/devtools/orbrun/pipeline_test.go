package orbrun_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// setupFlow is a setup config whose job writes its continuation and continues with the
// continuation orb (a stand-in here), and the continuation it writes.
const setupFlow = `
version: 2.1
setup: true
orbs:
  continuation: circleci/continuation@1.1.0
parameters:
  note: {type: string, default: ""}
  twice: {type: boolean, default: false}
jobs:
  continue:
    docker: [{image: cimg/base:2025.01}]
    parameters:
      parameters: {type: string, default: "{}"}
    steps:
      - run:
          name: Write the continuation
          command: |
            cat >next.yml \<<'EOF'
            version: 2.1
            parameters:
              note: {type: string, default: ""}
              twice: {type: boolean, default: false}
              extra: {type: string, default: ""}
            jobs:
              show:
                docker: [{image: cimg/base:2025.01}]
                steps:
                  - run: {name: show, command: 'echo "$NOTE/$EXTRA/$CIRCLE_CONTINUATION_KEY."', environment: {NOTE: \<< pipeline.parameters.note >>, EXTRA: \<< pipeline.parameters.extra >>}}
            workflows:
              after: {jobs: [show]}
            EOF
      - continuation/continue:
          configuration_path: next.yml
          parameters: << parameters.parameters >>
      - when:
          condition: << pipeline.parameters.twice >>
          steps:
            - continuation/continue: {configuration_path: next.yml}
workflows:
  setup:
    jobs:
      - continue: {parameters: '{"extra": "from setup"}'}
`

func newRunner(t *testing.T) (*orbrun.PipelineRunner, *simulator.Simulator) {
	t.Helper()
	sim := simulator.New(simulator.Config{
		Tokens: []simulator.Token{{Token: "tok"}},
		Projects: []simulator.Project{{Slug: "gh/acme/api", External: true, Parameters: []simulator.Parameter{
			{Name: "note", Type: "string", Default: ""}, {Name: "twice", Type: "boolean", Default: false},
		}}},
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	standIns := &orbrun.StandIns{APIURL: srv.URL}
	return &orbrun.PipelineRunner{
		Sim: sim, Resolve: standIns.Resolve,
		Machine: func(p orbrun.Pipeline) *orbrun.Machine {
			return &orbrun.Machine{Root: t.TempDir(), Env: orbrun.CircleEnv(p, "acme", "api"), StandIns: standIns.Steps(), StepTimeout: time.Minute}
		},
	}, sim
}

// mustJob is the named job of a run, which must have run.
func mustJob(t *testing.T, run *orbrun.PipelineRun, workflow, job string) *orbrun.JobResult {
	t.Helper()
	j := run.Job(workflow, job)
	require.NotNil(t, j, "%s/%s ran", workflow, job)
	return j
}

func runPipeline(t *testing.T, r *orbrun.PipelineRunner, sim *simulator.Simulator, params map[string]any, config string) *orbrun.PipelineRun {
	t.Helper()
	info, err := sim.Push("gh/acme/api", "main", "", "tok")
	require.NoError(t, err)
	run, err := r.Run(context.Background(), orbrun.Pipeline{ID: info.ID, Number: int(info.Number), Branch: "main", Parameters: params}, config)
	require.NoError(t, err)
	return run
}

func TestASetupConfigContinuesThePipeline(t *testing.T) {
	r, sim := newRunner(t)
	run := runPipeline(t, r, sim, map[string]any{"note": "from the trigger"}, setupFlow)
	require.Empty(t, run.Errors)
	assert.True(t, run.Continued)
	assert.Equal(t, []string{"setup/continue=success", "after/show=success"}, run.Statuses())
	show, _ := mustJob(t, run, "after", "show").Step("show")
	assert.Equal(t, "from the trigger/from setup/.\n", show.Output,
		"the trigger's and the continuation's parameters both reach the continued jobs, which get no continuation key")
	assert.Equal(t, "setup", run.Workflows[0].Name)
	assert.True(t, run.Workflows[0].Setup)

	var statuses []string
	for _, p := range sim.Pipelines() {
		statuses = append(statuses, p.State)
	}
	assert.Equal(t, []string{"created"}, statuses)
}

func TestASetupConfigCannotContinueTwice(t *testing.T) {
	r, sim := newRunner(t)
	run := runPipeline(t, r, sim, map[string]any{"twice": true}, setupFlow)
	assert.Equal(t, "failed", run.Workflows[0].Status, "the second continue call fails its step")
	j := mustJob(t, run, "setup", "continue")
	failed, ok := j.FailedStep()
	require.True(t, ok)
	assert.Equal(t, "Continue Pipeline", failed.Step.Name)
	assert.Contains(t, failed.Output, "Continuation key has expired. Please run a new pipeline.")
	assert.True(t, run.Continued, "the first call continued the pipeline")
}

func TestATriggerParameterTheConfigDoesNotDeclareErrorsThePipeline(t *testing.T) {
	r, sim := newRunner(t)
	run := runPipeline(t, r, sim, map[string]any{"nope": 1}, setupFlow)
	assert.Equal(t, []string{"Unexpected argument(s): nope"}, run.Errors)
	assert.Empty(t, run.Workflows)
}

func TestAContinuationThatIsASetupConfigErrorsThePipeline(t *testing.T) {
	r, sim := newRunner(t)
	old := "            version: 2.1\n            parameters:"
	require.Contains(t, setupFlow, old)
	run := runPipeline(t, r, sim, nil, strings.Replace(setupFlow, old, "            version: 2.1\n            setup: true\n            parameters:", 1))
	failed, ok := mustJob(t, run, "setup", "continue").FailedStep()
	require.True(t, ok)
	assert.Contains(t, failed.Output, "continuation config contains setup stanza whilst not in setup anymore.")
	assert.False(t, run.Continued)
	assert.Equal(t, "errored", sim.Pipelines()[0].State)
}
