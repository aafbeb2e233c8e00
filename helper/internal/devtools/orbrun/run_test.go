package orbrun_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

func runStep(name, command string) orbrun.Step {
	return orbrun.Step{Type: "run", Name: name, Command: command, When: "on_success"}
}

func TestMachineRunsStepsAsCircleCIDoes(t *testing.T) {
	m := &orbrun.Machine{
		Root:     t.TempDir(),
		Env:      orbrun.CircleEnv(pipeline, "acme", "api"),
		Contexts: map[string]map[string]string{"ctx": {"FROM_CONTEXT": "context", "OVERRIDDEN": "context"}},
	}
	always := runStep("Always", `echo "always after $FAILED_AT"`)
	always.When = "always"
	onFail := runStep("On fail", "echo on fail")
	onFail.When = "on_fail"
	withEnv := runStep("Step environment", `echo "$OVERRIDDEN $FROM_CONTEXT $CIRCLECI $CIRCLE_PROJECT_REPONAME"`)
	withEnv.Environment = map[string]string{"OVERRIDDEN": "step"}
	job := &orbrun.Job{
		Name: "j", Contexts: []string{"ctx"}, WorkingDirectory: "~/project",
		Executor: orbrun.Executor{Kind: "docker"},
		Steps: []orbrun.Step{
			runStep("Export", `echo 'export FROM_STEP_ONE=one' >>"$BASH_ENV"; pwd`),
			runStep("Sees BASH_ENV", `echo "$FROM_STEP_ONE"`),
			withEnv,
			{Type: "checkout", Name: "Checkout code", When: "on_success"},
			runStep("Fails", `echo 'export FAILED_AT=Fails' >>"$BASH_ENV"; false; echo never`),
			runStep("Skipped", "echo skipped"),
			always,
			onFail,
		},
	}
	res, err := m.RunJob(context.Background(), job)
	require.NoError(t, err)
	assert.Equal(t, orbrun.JobFailed, res.Status)
	out := func(name string) string {
		s, ok := res.Step(name)
		require.True(t, ok, name)
		return s.Output
	}
	assert.Equal(t, res.WorkDir+"\n", out("Export"), "steps run in ~/project")
	assert.Equal(t, "one\n", out("Sees BASH_ENV"), "every step sources $BASH_ENV")
	assert.Equal(t, "step context true api\n", out("Step environment"), "a step's environment wins over a context's")
	checkout, _ := res.Step("Checkout code")
	assert.True(t, checkout.Recorded)
	fails, _ := res.Step("Fails")
	assert.Equal(t, 1, fails.ExitCode, "bash -e stops at the first failing command")
	assert.Empty(t, fails.Output)
	skipped, _ := res.Step("Skipped")
	assert.False(t, skipped.Ran)
	assert.Equal(t, "always after Fails\n", out("Always"))
	assert.Equal(t, "on fail\n", out("On fail"))
}

func TestWorkflowBlocksJobsAfterAFailure(t *testing.T) {
	m := &orbrun.Machine{Root: t.TempDir()}
	mk := func(name, command string, requires ...string) *orbrun.Job {
		return &orbrun.Job{Name: name, Requires: requires, Executor: orbrun.Executor{Kind: "docker"}, WorkingDirectory: "~/project",
			Steps: []orbrun.Step{runStep(name, command)}}
	}
	res, err := m.RunWorkflow(context.Background(), []*orbrun.Job{
		mk("a", "false"), mk("b", "true"), mk("c", "true", "a"), mk("d", "true", "b"),
	})
	require.NoError(t, err)
	var got []string
	for _, r := range res {
		got = append(got, r.Job.Name+"="+r.Status)
	}
	assert.Equal(t, []string{"a=failed", "b=success", "c=blocked", "d=success"}, got)
}

func TestAMissingContextIsAnError(t *testing.T) {
	m := &orbrun.Machine{Root: t.TempDir()}
	_, err := m.RunJob(context.Background(), &orbrun.Job{Name: "j", Contexts: []string{"nope"}, WorkingDirectory: "~/project",
		Steps: []orbrun.Step{runStep("x", "true")}})
	assert.ErrorContains(t, err, `context "nope" does not exist`)
}

// runSteps expands a job of these steps (a YAML list, indented by six spaces) on cimg/base and
// runs it.
func runSteps(t *testing.T, steps string) *orbrun.JobResult {
	t.Helper()
	jobs, err := expandConfig(t, "version: 2.1\njobs:\n  j:\n    docker: [{image: cimg/base:2026.09}]\n    steps:"+steps+"workflows:\n  w: {jobs: [j]}\n", pipeline)
	require.NoError(t, err)
	res, err := (&orbrun.Machine{Root: t.TempDir()}).RunJob(context.Background(), jobs[0])
	require.NoError(t, err)
	return res
}

// TestAfterAFailureOnlyWhatCircleCIRunsThenRuns: after a failed step, store_test_results and
// store_artifacts still store what their paths hold at that moment, run steps with when:
// always or on_fail run, and persist_to_workspace and on_success steps do not.
func TestAfterAFailureOnlyWhatCircleCIRunsThenRuns(t *testing.T) {
	res := runSteps(t, `
      - run:
          name: Test
          command: |
            mkdir -p results/unit ws
            echo '<testsuite><testcase name="pays"><failure/></testcase></testsuite>' >results/unit/junit.xml
            echo log >ws/result.json
            exit 1
      - store_test_results: {path: results}
      - store_artifacts: {path: ws/result.json}
      - persist_to_workspace: {root: ws, paths: [result.json]}
      - run: {name: On success, command: "echo never"}
      - run: {name: Rewrite the results, command: "echo '<testsuite/>' >results/unit/junit.xml", when: always}
      - run: {name: On fail, command: "echo after the failure", when: on_fail}
      - store_test_results: {path: missing}
`)
	assert.Equal(t, orbrun.JobFailed, res.Status)

	ran := map[string]bool{}
	for _, s := range res.Steps {
		ran[s.Step.Name] = s.Ran || s.Recorded
	}
	assert.Equal(t, map[string]bool{
		"Test": true, "Uploading test results": true, "Uploading artifacts": true, "Persisting to workspace": false,
		"On success": false, "Rewrite the results": true, "On fail": true,
	}, ran)

	tests := res.Stored("store_test_results")
	require.Contains(t, tests, "unit/junit.xml")
	data, err := os.ReadFile(tests["unit/junit.xml"])
	require.NoError(t, err)
	assert.Contains(t, string(data), `<failure/>`, "the file as it was when the step ran, not as a later step rewrote it")
	artifacts := res.Stored("store_artifacts")
	assert.Contains(t, artifacts, "result.json", "a single file is stored under its own name")
	missing := res.Steps[len(res.Steps)-1]
	assert.Zero(t, missing.ExitCode, "a path that holds nothing is no failure")
	assert.Contains(t, missing.Output, "Found no test results, skipping")
}

func TestPersistToWorkspaceNeedsAMatch(t *testing.T) {
	res := runSteps(t, `
      - run: {name: Write, command: "mkdir -p ws/baton && echo 1 >ws/baton/a.json && echo 2 >ws/baton/b.json"}
      - persist_to_workspace: {root: ws, paths: ["baton/*.json"]}
      - persist_to_workspace: {name: Nothing there, root: ws, paths: [baton/none.json]}
`)
	glob := res.Steps[1]
	assert.Zero(t, glob.ExitCode, "paths are globs")
	none := res.Steps[2]
	assert.Equal(t, 1, none.ExitCode)
	assert.Contains(t, none.Output, "the specified path baton/none.json did not match any files in ws")
}

func TestTheShellIsBashOnlyWhereTheImageHasIt(t *testing.T) {
	for image, bash := range map[string]bool{
		"cimg/base:2026.09": true, "cimg/go:1.26": true, "ubuntu:24.04": true, "python:3.13": true,
		"alpine:3.21": false, "alpine": false, "docker:27-cli": false, "docker.io/library/alpine:3": false,
		"busybox:1.37": false, "node:22-alpine": false, "python:3.13-alpine3.21": false,
		"cimg/base:2026.09@sha256:0123": true,
	} {
		e := orbrun.Executor{Kind: "docker", Image: image}
		assert.Equal(t, bash, orbrun.HasBash(e), image)
		want := []string{"/bin/sh", "-eo", "pipefail"}
		if bash {
			want = []string{"/bin/bash", "-eo", "pipefail"}
		}
		assert.Equal(t, want, orbrun.StepShell(e, orbrun.Step{}), image)
	}
	assert.True(t, orbrun.HasBash(orbrun.Executor{Kind: "machine"}))
	alpine := orbrun.Executor{Kind: "docker", Image: "alpine:3.21", Shell: "/bin/ash -e"}
	assert.Equal(t, []string{"/bin/ash", "-e"}, orbrun.StepShell(alpine, orbrun.Step{}), "the job's shell wins")
	assert.Equal(t, []string{"bash"}, orbrun.StepShell(alpine, orbrun.Step{Shell: "bash"}), "the step's shell wins")

	if _, err := exec.LookPath("dash"); err != nil {
		t.Skip("dash is not installed: scripts/ensure-tools.sh dash")
	}
	m := &orbrun.Machine{Root: t.TempDir()}
	for image, want := range map[string]string{"alpine:3.21": "posix", "cimg/base:2026.09": "bash"} {
		res, err := m.RunJob(context.Background(), &orbrun.Job{Name: "j", WorkingDirectory: "~/project",
			Executor: orbrun.Executor{Kind: "docker", Image: image},
			Steps:    []orbrun.Step{runStep("Which shell", `if [ -n "${BASH_VERSION:-}" ]; then echo bash; else echo posix; fi`)}})
		require.NoError(t, err)
		assert.Equal(t, want+"\n", res.Steps[0].Output, image)
	}
}
