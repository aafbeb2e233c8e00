package report_test

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/report"
)

func TestAppURLFollowsTheHost(t *testing.T) {
	cases := []struct{ name, host, want string }{
		{"CircleCI cloud links to the app", "https://circleci.com", "https://app.circleci.com/pipelines/github/acme/api/7"},
		{"a server install links to itself", "https://circleci.example.com", "https://circleci.example.com/pipelines/github/acme/api/7"},
		{"the simulator keeps its port", "http://127.0.0.1:8080", "http://127.0.0.1:8080/pipelines/github/acme/api/7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.host)
			require.NoError(t, err)
			assert.Equal(t, tc.want, report.AppURL(u, "github/acme/api", 7))
		})
	}
}

func TestEnvLinesSurviveASourcingShell(t *testing.T) {
	r := report.Result{Pipelines: []report.Pipeline{
		{ID: "id-one", Number: 1, URL: "https://x/it's$(id)`id`"},
		{ID: "id-two", Number: 2, URL: "https://x/2"},
	}}
	file := filepath.Join(t.TempDir(), "env")
	require.NoError(t, os.WriteFile(file, []byte(report.EnvLines(r)), 0o600))
	out, err := exec.Command("bash", "-c", `source "$1" && printf '%s|' "$BATON_PIPELINE_URL" "$BATON_PIPELINE_ID_1" "$BATON_PIPELINE_IDS"`, "_", file).Output()
	require.NoError(t, err)
	assert.Equal(t, "https://x/it's$(id)`id`|id-two|id-one id-two|", string(out))
}

func TestTextIsOneLinePerPipeline(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Text(&buf, report.Result{Pipelines: []report.Pipeline{{
		Project: "gh/acme/api", ID: "5034460f", Number: 42, State: "created", Ref: "main", RefType: "branch", URL: "https://app.circleci.com/pipelines/github/acme/api/42",
	}, {Project: "gh/acme/web", Outcome: "not_sent"}}}))
	assert.Equal(t, "triggered gh/acme/api pipeline #42 (branch main): https://app.circleci.com/pipelines/github/acme/api/42\n", buf.String())
}

func TestTriggeredLineNamesTheRef(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    report.Pipeline
		want string
	}{
		{"a branch", report.Pipeline{Project: "gh/acme/api", Number: 42, Ref: "main", RefType: "branch", URL: "https://x/42"}, "triggered gh/acme/api pipeline #42 (branch main): https://x/42"},
		{"a tag", report.Pipeline{Project: "bb/acme/web", Number: 7, Ref: "v1.2.0", RefType: "tag", URL: "https://x/7"}, "triggered bb/acme/web pipeline #7 (tag v1.2.0): https://x/7"},
		{"the default branch", report.Pipeline{Project: "gh/acme/api", Number: 1, URL: "https://x/1"}, "triggered gh/acme/api pipeline #1 (default branch): https://x/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, report.TriggeredLine(tc.p))
		})
	}
}

func TestJSONListsAreNeverNull(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.JSON(&buf, report.Result{}))
	assert.JSONEq(t, `{"outcome": "", "exit_code": 0, "pipelines": []}`, buf.String())

	buf.Reset()
	require.NoError(t, report.JSON(&buf, report.Result{Pipelines: []report.Pipeline{{Project: "gh/acme/web", Outcome: "not_sent",
		Workflows: []report.WorkflowResult{{Name: "build"}}}}}))
	assert.Contains(t, buf.String(), `"workflows": [`)
	assert.Contains(t, buf.String(), `"failed_jobs": []`)
	assert.Contains(t, buf.String(), `"created_at": null`)
}

func TestEnvLinesAddTheOutcome(t *testing.T) {
	lines := report.EnvLines(report.Result{Outcome: "failed", Pipelines: []report.Pipeline{
		{ID: "a", Number: 1, URL: "u1", Outcome: "success"},
		{Project: "gh/acme/never", Outcome: "not_sent"},
		{ID: "b", Number: 2, URL: "u2", Outcome: "failed"},
	}})
	assert.Contains(t, lines, "export BATON_OUTCOME_0='success'\n")
	assert.Contains(t, lines, "export BATON_OUTCOME_1='failed'\n", "indexed like the pipeline ids: among pipelines created")
	assert.Contains(t, lines, "export BATON_PIPELINE_IDS='a b'\n")
	assert.True(t, strings.HasSuffix(lines, "export BATON_OUTCOME='failed'\n"), lines)
}
