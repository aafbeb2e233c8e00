package orbrun_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// keepResultsConfig waits for a downstream that fails (gh/acme/checkout: one failing test, one
// artifact) and keeps everything baton gathered: the JUnit, the artifacts and the result,
// which a later job that runs whatever the trigger job's outcome reads from the workspace.
const keepResultsConfig = `
version: 2.1
orbs:
  baton: baton-ci/baton@1.0
jobs:
  report:
    docker: [{image: cimg/base:2026.09}]
    steps:
      - attach_workspace: {at: workspace}
      - run:
          name: Read the result
          command: |
            jq -r '.pipelines[] | "\(.project): \(.outcome)"' workspace/baton/checkout.json
workflows:
  checkout:
    jobs:
      - baton/trigger-pipeline:
          context: circleci-api
          project_slug: gh/acme/checkout
          wait: finished
          junit: test-results/checkout/junit.xml
          artifacts_dir: downstream-artifacts
          persist_result: baton/checkout.json
      - report:
          requires: [{baton/trigger-pipeline: [success, failed]}]
`

func usageOf(t *testing.T, config string) map[string]any {
	t.Helper()
	var usage map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(config), &usage))
	return usage
}

// TestAFailedDownstreamLeavesItsResultsUpstream runs the orb under CircleCI's step rules:
// after the step that failed with the downstream, store_test_results and store_artifacts run
// anyway, persist_to_workspace would not, so the orb keeps baton's exit code until the result
// is persisted.
func TestAFailedDownstreamLeavesItsResultsUpstream(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(usageOf(t, keepResultsConfig))

	trigger := res["baton/trigger-pipeline"]
	assert.Equal(t, orbrun.JobFailed, trigger.Status, "the job fails with the downstream")
	failed, ok := trigger.FailedStep()
	require.True(t, ok)
	assert.Equal(t, "Exit as baton did", failed.Step.Name, "the job fails once everything is kept")
	assert.Equal(t, 1, failed.ExitCode, "with baton's exit code: a followed downstream pipeline failed")
	step, _ := trigger.Step("Trigger pipelines with baton")
	assert.Contains(t, step.Output, "pays with card", "baton names the failing test")
	assert.Contains(t, step.Output, `baton exited 1; its result (baton/checkout.json) is persisted first`)

	tests := trigger.Stored("store_test_results")
	require.Contains(t, tests, "junit.xml", "the JUnit reached the job's Tests tab")
	junit, err := os.ReadFile(tests["junit.xml"])
	require.NoError(t, err)
	assert.Contains(t, string(junit), `pays with card`)
	assert.Contains(t, string(junit), `expected 200, got 502`)

	var report string
	for path, copy := range trigger.Stored("store_artifacts") {
		if strings.HasSuffix(path, filepath.Join("browser-tests-1", "report", "index.html")) {
			data, err := os.ReadFile(copy)
			require.NoError(t, err)
			report = string(data)
		}
	}
	assert.Equal(t, "<h1>checkout report</h1>", report, "the downstream's artifact is kept as this job's")

	persist, _ := trigger.Step("Persist the result to the workspace")
	assert.True(t, persist.Recorded, "persisted before the job failed")
	assert.Zero(t, persist.ExitCode)
	later := res["report"]
	requireSuccess(t, later)
	read, _ := later.Step("Read the result")
	assert.Equal(t, "gh/acme/checkout: failed\n", read.Output, "the later job reads the persisted result")
}

// TestWithoutTheDeferredExitTheResultIsLost is the same workflow with an orb whose baton step
// fails at once, as it did before: CircleCI then skips persist_to_workspace, and the later job
// finds no result. It shows that the test above fails when the orb stops keeping the exit code.
func TestWithoutTheDeferredExitTheResultIsLost(t *testing.T) {
	dir := copyDir(t, srcDir())
	edit("scripts/trigger-pipeline.sh", `      defer_failure "$status" "$BATON_PERSIST_RESULT"
      return`, `      return "$status"`)(t, dir)
	w := newWorld(t, worldOptions{})
	w.orb = loadPinned(t, dir)
	res := w.run(usageOf(t, keepResultsConfig))

	trigger := res["baton/trigger-pipeline"]
	failed, ok := trigger.FailedStep()
	require.True(t, ok)
	assert.Equal(t, "Trigger pipelines with baton", failed.Step.Name)
	persist, _ := trigger.Step("Persist the result to the workspace")
	assert.False(t, persist.Recorded, "CircleCI skips persist_to_workspace after a failed step")
	assert.Contains(t, trigger.Stored("store_test_results"), "junit.xml", "test results are stored after a failure all the same")
	assert.Equal(t, orbrun.JobFailed, res["report"].Status, "the later job finds no result")
}

// loadPinned loads the orb source in dir with the release's version and sums in place of the
// placeholders, as scripts/pack-orb.sh fills them in.
func loadPinned(t *testing.T, dir string) *orbrun.Orb {
	t.Helper()
	o, err := orbrun.LoadSource(dir)
	require.NoError(t, err)
	sums, err := os.ReadFile(filepath.Join(release.Dist, "SHA256SUMS"))
	require.NoError(t, err)
	env := o.Commands["install"]["steps"].([]any)[0].(map[string]any)["run"].(map[string]any)["environment"].(map[string]any)
	env["BATON_INSTALL_PINNED_VERSION"] = release.Version
	env["BATON_INSTALL_PINNED_SHA256SUMS"] = string(sums)
	return o
}
