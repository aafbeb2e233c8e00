package orbrun_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Pipelines broken the ways CircleCI punishes, each failing here as it would there.

// inlined is a continuation config with this run's packed orb inlined, as the setup stage's
// continue job writes it (scripts/continuation-config.sh).
func inlined(t *testing.T, config string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "continuation.yml")
	cmd := exec.Command("scripts/continuation-config.sh", config, release.Orb, out, filepath.Join(t.TempDir(), "parameters.json"))
	cmd.Dir = root
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(data)
}

func TestJobsAttachingAWorkspaceNoUpstreamJobPersistedFail(t *testing.T) {
	w := newPipelineWorld(t, pipelineOptions{})
	run := w.run("main", "", canonicalURL, inlined(t, filepath.Join(root, "helper", "internal", "devtools", "orbrun", "testdata", "broken", "continue.yml")))
	require.Empty(t, run.Errors)
	assert.Equal(t, []string{"dogfood/dogfood=failed", "publish/publish-dev=failed"}, run.Statuses(),
		"dogfood and the publish job attach workspaces of workflows in which nothing ran before them")
	for _, job := range []struct{ workflow, name string }{{"dogfood", "dogfood"}, {"publish", "publish-dev"}} {
		attach, ok := mustJob(t, run, job.workflow, job.name).Step("Attaching workspace")
		require.True(t, ok)
		assert.Contains(t, attach.Output, "no job upstream of "+job.name+" in workflow "+job.workflow+" persisted to the workspace")
	}
	assert.Empty(t, w.triggered)
	assert.Empty(t, w.registry.Published())
}

// publishConfig has a job persisting a packed orb, with or without orb_source.tar.gz, and
// orb-tools/publish after it.
func publishConfig(withTarball bool) string {
	persist := "[dist]"
	tarball := ""
	if withTarball {
		persist = "[dist, orb_source.tar.gz]"
		tarball = `
      - run:
          name: Tar the orb as orb-tools/pack does
          command: mkdir orb && cp dist/orb.yml orb/ && tar -czf orb_source.tar.gz -C orb .`
	}
	return `
version: 2.1
orbs:
  orb-tools: circleci/orb-tools@12.3.1
jobs:
  release:
    docker: [{image: cimg/base:2025.01}]
    steps:
      - run:
          name: Pack
          command: mkdir -p dist && cp "` + release.Orb + `" dist/orb.yml` + tarball + `
      - persist_to_workspace: {root: ., paths: ` + persist + `}
workflows:
  release:
    jobs:
      - release
      - orb-tools/publish:
          orb_name: baton-ci/baton
          vcs_type: github
          pub_type: dev
          enable_pr_comment: false
          context: orb-publishing
          requires: [release]
`
}

func TestPublishNeedsTheOrbSourceTarballInItsWorkspace(t *testing.T) {
	t.Run("without orb_source.tar.gz the publish job fails and publishes nothing", func(t *testing.T) {
		w := newPipelineWorld(t, pipelineOptions{})
		run := w.run("main", "", canonicalURL, publishConfig(false))
		assert.Equal(t, []string{"release/release=success", "release/orb-tools/publish=failed"}, run.Statuses())
		prep, _ := mustJob(t, run, "release", "orb-tools/publish").Step("Prep Workspace")
		assert.Contains(t, prep.Output, "orb_source.tar.gz")
		assert.Empty(t, w.registry.Published())
	})
	t.Run("with it, the orb it holds is published", func(t *testing.T) {
		w := newPipelineWorld(t, pipelineOptions{})
		run := w.run("main", "", canonicalURL, publishConfig(true))
		assert.Equal(t, []string{"release/release=success", "release/orb-tools/publish=success"}, run.Statuses())
		orb, err := os.ReadFile(release.Orb)
		require.NoError(t, err)
		published := w.registry.Published()
		require.Len(t, published, 2)
		assert.Equal(t, "dev:"+revision, published[0].Version)
		assert.Equal(t, orb, published[0].Source)
	})
}

func TestAJobRequiringAJobOfAnotherWorkflowErrorsThePipeline(t *testing.T) {
	w := newPipelineWorld(t, pipelineOptions{})
	config := inlined(t, filepath.Join(root, ".circleci", "continue.yml")) + `
  release-elsewhere:
    jobs:
      - github-release:
          requires: [build]
`
	require.True(t, strings.HasSuffix(strings.TrimSpace(strings.Split(config, "\nworkflows:\n")[1]), "requires: [build]"), "the workflow is appended to workflows:")
	run := w.run("main", "", canonicalURL, config)
	assert.Equal(t, []string{"Job 'github-release' requires 'build', which is the name of 0 other jobs in workflow 'release-elsewhere'"}, run.Errors)
	assert.Empty(t, run.Workflows, "an errored pipeline runs nothing")
}
