package orbrun_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// whenConfig deploys (the step fails or not, as %s says), then rolls back with a trigger that
// runs only on failure, and promotes with one that runs only on success.
const whenConfig = `
version: 2.1
orbs:
  baton: baton-ci/baton@1.0
jobs:
  deploy:
    docker: [{image: cimg/base:2026.09}]
    steps:
      - run: {name: Deploy, command: "%s"}
      - baton/trigger-pipeline:
          project_slug: gh/acme/deploy
          parameters: image-name=rollback
          step_name: Roll back with baton
          when: on_fail
      - baton/trigger-pipeline:
          project_slug: gh/acme/deploy
          parameters: image-name=next
          step_name: Promote with baton
workflows:
  deploy:
    jobs: [{deploy: {context: circleci-api}}]
`

func TestWhenDecidesWhetherACommandRuns(t *testing.T) {
	for name, tc := range map[string]struct {
		deploy          string
		ran, skipped    string
		image           string
		installsThatRan int
	}{
		"on_fail runs after a failed step, on_success does not": {deploy: "exit 1", ran: "Roll back with baton", skipped: "Promote with baton", image: "rollback"},
		"after a step that succeeded it is the other way round": {deploy: "true", ran: "Promote with baton", skipped: "Roll back with baton", image: "next"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			res := w.run(usageOf(t, fmt.Sprintf(whenConfig, tc.deploy)))
			job := res["deploy"]
			ran, ok := job.Step(tc.ran)
			require.True(t, ok)
			assert.True(t, ran.Ran, "%s ran", tc.ran)
			assert.Zero(t, ran.ExitCode, ran.Output)
			skipped, _ := job.Step(tc.skipped)
			assert.False(t, skipped.Ran, "%s did not run", tc.skipped)
			installs := 0
			for _, s := range job.Steps {
				if s.Step.Name == "Install baton" && s.Ran {
					installs++
					assert.Zero(t, s.ExitCode, "baton is installed for the command that runs, whatever its when")
				}
			}
			assert.Equal(t, 1, installs, "only the command that runs installs baton")
			reqs := w.triggers()
			require.Len(t, reqs, 1)
			var body struct{ Parameters map[string]string }
			require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
			assert.Equal(t, tc.image, body.Parameters["image-name"])
		})
	}
}

// TestAnImageWithoutBashGetsOneLine: on Alpine, CircleCI runs the steps with /bin/sh; the
// orb's first step stops with one line that says what to do, and nothing is sent.
func TestAnImageWithoutBashGetsOneLine(t *testing.T) {
	if _, err := exec.LookPath("dash"); err != nil {
		t.Skip("dash is not installed: scripts/ensure-tools.sh dash")
	}
	const needsBash = "baton orb: this step needs bash, but it runs in another shell (the image has no /bin/bash, or the step sets shell:): use an image with bash, e.g. cimg/base, or install it in an earlier step (on Alpine: apk add bash)\n"
	for name, tc := range map[string]struct {
		skipInstall bool
		step        string
	}{
		"the install step":                    {false, "Install baton"},
		"with skip_install, the trigger step": {true, "Trigger pipelines with baton"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			res := w.run(usageOf(t, fmt.Sprintf(`
version: 2.1
orbs:
  baton: baton-ci/baton@1.0
jobs:
  deploy:
    docker: [{image: alpine:3.21}]
    steps:
      - baton/trigger-pipeline: {project_slug: gh/acme/deploy, skip_install: %t}
workflows:
  deploy:
    jobs: [{deploy: {context: circleci-api}}]
`, tc.skipInstall)))
			job := res["deploy"]
			assert.Equal(t, orbrun.JobFailed, job.Status)
			failed, ok := job.FailedStep()
			require.True(t, ok)
			assert.Equal(t, tc.step, failed.Step.Name)
			assert.Equal(t, 127, failed.ExitCode)
			assert.Equal(t, needsBash, failed.Output, "one line, and nothing else")
			assert.Equal(t, []string{"/bin/sh", "-eo", "pipefail"}, orbrun.StepShell(job.Job.Executor, failed.Step))
			assert.Empty(t, w.sim.Requests(), "nothing reached the API")
		})
	}
}

// TestWhenReachesEveryRunStepOfACommand expands each command and job that takes when, with
// each value: every run step gets it (baton's install included), the steps that keep results
// still run always, and the workspace steps only while the job succeeds, as CircleCI has it.
func TestWhenReachesEveryRunStepOfACommand(t *testing.T) {
	o, err := orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	// Arguments that bring out every optional step: stores, persist, the deferred exit.
	for _, tc := range []struct {
		kind, name string
		args       map[string]any
	}{
		{"command", "trigger-pipeline", map[string]any{"junit": "j.xml", "artifacts_dir": "a", "persist_result": "r.json", "callback": "approve"}},
		{"job", "trigger-pipeline", map[string]any{"junit": "j.xml", "artifacts_dir": "a", "persist_result": "r.json", "callback": "approve"}},
		{"command", "wait-for-pipeline", map[string]any{"junit": "j.xml", "artifacts_dir": "a", "persist_result": "r.json"}},
		{"command", "pipeline-result", map[string]any{"junit": "j.xml"}},
		{"command", "callback", map[string]any{"reference": "r"}},
		{"job", "callback", map[string]any{"reference": "r"}},
		{"command", "install", map[string]any{}},
	} {
		for _, when := range []string{"on_success", "on_fail", "always", ""} {
			t.Run(fmt.Sprintf("%s %s, when %q", tc.kind, tc.name, when), func(t *testing.T) {
				args := maps.Clone(tc.args)
				want := "on_success" // the default
				if when != "" {
					args["when"], want = when, when
				}
				call := []any{map[string]any{"baton/" + tc.name: args}}
				usage := map[string]any{"version": 2.1, "orbs": map[string]any{"baton": "baton-ci/baton@1.0"},
					"workflows": map[string]any{"w": map[string]any{"jobs": call}}}
				if tc.kind == "command" {
					usage["jobs"] = map[string]any{"j": map[string]any{
						"docker": []any{map[string]any{"image": "cimg/base:2026.09"}}, "steps": call}}
					usage["workflows"] = map[string]any{"w": map[string]any{"jobs": []any{"j"}}}
				}
				cfg, err := orbrun.ParseConfig(usage, func(string) (*orbrun.Orb, error) { return o, nil })
				require.NoError(t, err)
				jobs, err := (&orbrun.Expander{Config: cfg, Pipeline: pipeline}).Workflow("w")
				require.NoError(t, err)
				types := map[string]int{}
				for _, s := range jobs[0].Steps {
					types[s.Type]++
					switch s.Type {
					case "run":
						assert.Equal(t, want, s.When, "run step %q", s.Name)
					case "store_test_results", "store_artifacts":
						assert.Equal(t, "always", s.When, s.Name)
					default:
						assert.Equal(t, "on_success", s.When, s.Name)
					}
				}
				assert.NotZero(t, types["run"])
			})
		}
	}
}

// TestCommaJoinedParametersAreNamedInTheStep: parameters written as other tools take them,
// comma-joined on one line, get a warning in the step's output that names the pairs they would
// have been; the value is still sent as written.
func TestCommaJoinedParametersAreNamedInTheStep(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(usageOf(t, `
version: 2.1
orbs:
  baton: baton-ci/baton@1.0
workflows:
  deploy:
    jobs:
      - baton/trigger-pipeline:
          context: circleci-api
          project_slug: gh/acme/worker
          parameters: build-number=42,queue=fast
`))
	job := res["baton/trigger-pipeline"]
	requireSuccess(t, job)
	step, _ := job.Step("Trigger pipelines with baton")
	assert.Contains(t, step.Output, `baton: warning: --parameters "build-number=42,queue=fast" is one parameter build-number="42,queue=fast"; if you meant 2 parameters, put one per line: build-number=42, queue=fast`+"\n")
	reqs := w.triggers()
	require.Len(t, reqs, 1)
	assert.JSONEq(t, `{"parameters": {"build-number": "42,queue=fast"}}`, string(reqs[0].Body), "sent as written")
}
