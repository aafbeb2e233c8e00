package orbrun_test

import (
	"context"
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
