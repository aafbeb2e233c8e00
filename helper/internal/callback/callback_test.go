package callback

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

const wfID = "c2abcb97-ec23-47ef-9666-a9f34ac24501"

func TestReferenceRoundTrips(t *testing.T) {
	r, err := New(strings.ToUpper(wfID), "await e2e: staging")
	require.NoError(t, err)
	assert.Equal(t, "baton-callback:v1:"+wfID+":await e2e: staging", r.String(), "the id is lower-cased; a colon in the name is kept")
	back, err := Parse(r.String())
	require.NoError(t, err)
	assert.Equal(t, r, back)
}

func TestNewRefusesWhatNoUpstreamJobHas(t *testing.T) {
	tests := []struct{ name, workflow, job, err string }{
		{"outside CircleCI", "", "await", "--callback needs $CIRCLE_WORKFLOW_ID"},
		{"a workflow id that is no UUID", "42", "await", `$CIRCLE_WORKFLOW_ID "42": not a UUID`},
		{"an empty job", wfID, "", "--callback: the approval job's name is empty"},
		{"a line break", wfID, "a\nb", "control character"},
		{"spaces around", wfID, " await", "surrounding spaces"},
		{"too long", wfID, strings.Repeat("j", 257), "longer than 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.workflow, tt.job)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		})
	}
}

func TestParseRefusesForgedOrBrokenReferences(t *testing.T) {
	tests := []struct{ name, ref, err string }{
		{"another format", "https://circleci.com/workflow/" + wfID, "not a baton callback reference"},
		{"a future version", "baton-callback:v2:" + wfID + ":await", "not a baton callback reference"},
		{"no job", "baton-callback:v1:" + wfID, "the workflow id is not a UUID"},
		{"an id that is a path", "baton-callback:v1:../../me:await", "the workflow id is not a UUID"},
		{"an empty job", "baton-callback:v1:" + wfID + ":", "the approval job's name is empty"},
		{"an escape code", "baton-callback:v1:" + wfID + ":a\x1b[2Jb", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.ref)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.NotContains(t, err.Error(), "\x1b", "the value is quoted escaped")
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("baton-callback:v1:" + wfID + ":await-e2e")
	f.Add("baton-callback:v1::")
	f.Add("baton-callback:v1:" + wfID + ":\xff")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			assert.NotContains(t, err.Error(), "\n")
			return
		}
		back, err := Parse(r.String())
		require.NoError(t, err, "what Parse accepts, String writes back readable")
		assert.Equal(t, r, back)
		assert.NoError(t, checkJobName("job", r.Job))
	})
}

func TestAllowList(t *testing.T) {
	a, err := ParseAllowList("gh/acme/deploy, github/Acme/Web\n# the release train\nbb/acme/mail  circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz")
	require.NoError(t, err)
	for _, s := range []string{"gh/acme/deploy", "gh/ACME/Deploy", "gh/acme/web", "bb/acme/mail", "circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz"} {
		assert.True(t, a.Allows(s), s)
	}
	for _, s := range []string{"gh/acme/deploy-fork", "gh/evil/deploy", "bb/acme/deploy", "", "gh/acme/deploy/x", "circleci/8e4z1akd74woxagxnvlt5q/v29cenkg8eaiszarmwm8lz"} {
		assert.False(t, a.Allows(s), s)
	}
	assert.Equal(t, "gh/acme/deploy, gh/Acme/Web, bb/acme/mail, circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz", a.String())

	for _, text := range []string{"", "  \n# none\n", ","} {
		_, err := ParseAllowList(text)
		assert.ErrorContains(t, err, "--allowed-projects is required", "%q", text)
	}
	_, err = ParseAllowList("gh/acme/deploy gh/acme")
	assert.ErrorContains(t, err, "--allowed-projects: project slug \"gh/acme\"")
}

func TestCheckWorkflowTrustsTheAPIsProjectOnly(t *testing.T) {
	a, err := ParseAllowList("gh/acme/deploy")
	require.NoError(t, err)
	assert.NoError(t, CheckWorkflow(&circleci.Workflow{ID: wfID, ProjectSlug: "gh/acme/deploy"}, a))
	err = CheckWorkflow(&circleci.Workflow{ID: wfID, ProjectSlug: "gh/evil/deploy"}, a)
	assert.EqualError(t, err, `refused, nothing approved: workflow `+wfID+` belongs to "gh/evil/deploy", which is not in --allowed-projects (gh/acme/deploy)`)
	assert.Equal(t, exitcode.Usage, exitcode.Of(err))
}

func TestCheckJobLimitsAProjectToTheJobsItWasGivenWith(t *testing.T) {
	a, err := ParseAllowList("gh/acme/deploy:await-e2e gh/acme/web")
	require.NoError(t, err)
	deploy := &circleci.Workflow{ID: wfID, ProjectSlug: "gh/ACME/deploy"}
	assert.NoError(t, CheckJob(deploy, "await-e2e", a))
	err = CheckJob(deploy, "approve_prod", a)
	assert.EqualError(t, err, `refused, nothing approved: job "approve_prod" of "gh/ACME/deploy" is not among the approval jobs --allowed-projects allows (gh/acme/deploy, gh/acme/deploy:await-e2e, gh/acme/web)`)
	assert.Equal(t, exitcode.Usage, exitcode.Of(err))
	assert.NoError(t, CheckJob(&circleci.Workflow{ID: wfID, ProjectSlug: "gh/acme/web"}, "approve_prod", a), "a project given alone allows any of its approval jobs")
	assert.Error(t, CheckJob(&circleci.Workflow{ID: wfID, ProjectSlug: "gh/evil/deploy"}, "await-e2e", a))
	_, err = ParseAllowList("gh/acme/deploy:")
	assert.ErrorContains(t, err, "no job name after the colon")
}

func TestChoose(t *testing.T) {
	const reqID = "949f0edf-83c6-4a0e-a34e-c376f8fc7499"
	approval := func(name, status, id string) circleci.Job {
		return circleci.Job{Name: name, Type: "approval", Status: status, ApprovalRequestID: id}
	}
	build := circleci.Job{Name: "start-e2e", Type: "build", Status: "success"}
	tests := []struct {
		name   string
		jobs   []circleci.Job
		want   Decision
		refuse string
	}{
		{"an approval job on hold is approved", []circleci.Job{build, approval("await-e2e", "on_hold", strings.ToUpper(reqID))}, Decision{Approve, reqID, "on_hold"}, ""},
		{"an approved one is left alone", []circleci.Job{approval("await-e2e", "success", reqID)}, Decision{Approved, "", "success"}, ""},
		{"a blocked one is waited for", []circleci.Job{approval("await-e2e", "blocked", "")}, Decision{NotYet, "", "blocked"}, ""},
		{"a canceled one is over", []circleci.Job{approval("await-e2e", "canceled", reqID)}, Decision{Over, "", "canceled"}, ""},
		{"a build job is refused, whatever its status", []circleci.Job{{Name: "await-e2e", Type: "build", Status: "on_hold"}}, Decision{}, `job "await-e2e" of the upstream workflow is of type "build", not an approval job`},
		{"no such job", []circleci.Job{build}, Decision{}, `the upstream workflow has no job named "await-e2e"`},
		{"two of that name", []circleci.Job{approval("await-e2e", "on_hold", reqID), approval("await-e2e", "on_hold", reqID)}, Decision{}, "2 jobs named"},
		{"an on-hold job without a request id", []circleci.Job{approval("await-e2e", "on_hold", "")}, Decision{}, "no usable approval_request_id"},
		{"names are compared exactly", []circleci.Job{approval("Await-E2E", "on_hold", reqID)}, Decision{}, "no job named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Choose(tt.jobs, "await-e2e")
			if tt.refuse != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.refuse)
				var r *RefusedError
				assert.ErrorAs(t, err, &r)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWorkflowOver(t *testing.T) {
	for _, s := range []string{"running", "failing", "on_hold"} {
		assert.False(t, WorkflowOver(s), s)
	}
	for _, s := range []string{"success", "failed", "error", "canceled", "not_run", "unauthorized", ""} {
		assert.True(t, WorkflowOver(s), s)
	}
}
