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
	a, err := ParseAllowList("gh/acme/deploy:await-e2e, github/Acme/Web:approve\n# the release train\nbb/acme/mail:*  circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz:hold")
	require.NoError(t, err)
	for _, s := range []string{"gh/acme/deploy", "gh/ACME/Deploy", "gh/acme/web", "bb/acme/mail", "circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz"} {
		assert.True(t, a.Allows(s), s)
	}
	for _, s := range []string{"gh/acme/deploy-fork", "gh/evil/deploy", "bb/acme/deploy", "", "gh/acme/deploy/x", "circleci/8e4z1akd74woxagxnvlt5q/v29cenkg8eaiszarmwm8lz"} {
		assert.False(t, a.Allows(s), s)
	}
	assert.Equal(t, "gh/acme/deploy:await-e2e, gh/Acme/Web:approve, bb/acme/mail:*, circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz:hold", a.String())
}

func TestParseAllowListRefusesWhatDoesNotNameAnApprovalJob(t *testing.T) {
	tests := []struct{ name, text, err string }{
		{"an empty list", "", "--allowed-projects is required: the upstream approval jobs this pipeline may approve, as PROJECT:JOB (e.g. gh/acme/deploy:await-e2e); nothing was approved"},
		{"comments only", "  \n# none\n", "--allowed-projects is required"},
		{"separators only", ",", "--allowed-projects is required"},
		{"a project alone", "gh/acme/deploy",
			"--allowed-projects gh/acme/deploy: name the approval job too, as gh/acme/deploy:JOB (or gh/acme/deploy:* for any approval job of that project)"},
		{"a project alone beside PROJECT:JOB entries", "gh/acme/deploy:await-e2e gh/acme/web gh/acme/deploy:approve",
			"--allowed-projects gh/acme/web: name the approval job too, as gh/acme/web:JOB (or gh/acme/web:* for any approval job of that project)"},
		{"a colon and no job", "gh/acme/deploy:", `--allowed-projects "gh/acme/deploy:": the approval job's name is empty`},
		{"a job with a control character", "gh/acme/deploy:a\x1bb", "control character"},
		{"a project that is not one", "gh/acme/deploy:x gh/acme:y", `--allowed-projects: project slug "gh/acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAllowList(tt.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.NotContains(t, err.Error(), "any approval job of its", "a project alone is never described as allowing everything")
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		})
	}
}

func TestCheckWorkflowTrustsTheAPIsProjectOnly(t *testing.T) {
	a, err := ParseAllowList("gh/acme/deploy:await-e2e")
	require.NoError(t, err)
	assert.NoError(t, CheckWorkflow(&circleci.Workflow{ID: wfID, ProjectSlug: "gh/acme/deploy"}, a))
	err = CheckWorkflow(&circleci.Workflow{ID: wfID, ProjectSlug: "gh/evil/deploy"}, a)
	assert.EqualError(t, err, `refused, nothing approved: workflow `+wfID+` belongs to "gh/evil/deploy", which is not in --allowed-projects (gh/acme/deploy:await-e2e)`)
	assert.Equal(t, exitcode.Usage, exitcode.Of(err))
}

func TestCheckJobAllowsOnlyTheJobsNamedOrAnnouncesTheWildcard(t *testing.T) {
	a, err := ParseAllowList("gh/acme/deploy:wait-for-tests gh/acme/web:* gh/acme/web:approve")
	require.NoError(t, err)
	deploy := &circleci.Workflow{ID: wfID, ProjectSlug: "gh/ACME/deploy"}
	web := &circleci.Workflow{ID: wfID, ProjectSlug: "github/acme/web"}
	tests := []struct {
		name     string
		w        *circleci.Workflow
		job      string
		wildcard string
		refused  string
	}{
		{"the job named is allowed", deploy, "wait-for-tests", "", ""},
		{"another approval job of the same project is refused", deploy, "approve-prod", "",
			`refused, nothing approved: job "approve-prod" of "gh/ACME/deploy" is not among the approval jobs --allowed-projects allows (gh/acme/deploy:wait-for-tests, gh/acme/web:*, gh/acme/web:approve)`},
		{"names are compared exactly", deploy, "Wait-For-Tests", "", "is not among the approval jobs"},
		{"the wildcard allows any job, and says so", web, "approve-prod", "gh/acme/web:*", ""},
		{"a job also named exactly is not put down to the wildcard", web, "approve", "", ""},
		{"a project not in the list is refused", &circleci.Workflow{ID: wfID, ProjectSlug: "gh/evil/deploy"}, "wait-for-tests", "", "is not among the approval jobs"},
		{"a project the API names oddly is refused", &circleci.Workflow{ID: wfID, ProjectSlug: "gh/acme"}, "wait-for-tests", "", "is not among the approval jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wildcard, err := CheckJob(tt.w, tt.job, a)
			if tt.refused != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.refused)
				assert.Equal(t, exitcode.Usage, exitcode.Of(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wildcard, wildcard)
		})
	}
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

func FuzzParseAllowList(f *testing.F) {
	f.Add("gh/acme/deploy:await-e2e, gh/acme/web:*\n# c\nbb/a/b:x")
	f.Add("gh/acme/deploy")
	f.Add("gh/acme/deploy::")
	f.Fuzz(func(t *testing.T, text string) {
		a, err := ParseAllowList(text)
		if err != nil {
			assert.NotContains(t, err.Error(), "\n")
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			return
		}
		for _, entry := range strings.Split(a.String(), ", ") {
			project, job, ok := strings.Cut(entry, ":")
			require.True(t, ok, "every entry accepted names a job: %q", entry)
			allowed, wildcard := a.Match(project, job)
			assert.True(t, allowed, "%q allows itself", entry)
			assert.Equal(t, job == Wildcard, wildcard != "", "%q", entry)
		}
	})
}
