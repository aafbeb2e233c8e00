package report_test

import (
	"bytes"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got))
}

// downstreams is one of each kind of ending, with links built as the CLI builds them.
func downstreams(t *testing.T) []report.Downstream {
	t.Helper()
	cloud, err := url.Parse("https://circleci.com")
	require.NoError(t, err)
	api := report.AppURL(cloud, "github/acme/api", 42)
	deploy := report.AppURL(cloud, "github/acme/deploy", 7)
	e2e := report.AppURL(cloud, "github/acme/e2e", 19)
	odd := report.AppURL(cloud, "github/acme/odd", 3)
	const (
		buildID  = "8a6c6f4c-4b5e-4a8e-9d4b-1d2f1e6c0a01"
		deployID = "0b9d2f7e-3f41-4c55-8f8e-6b3a1c2d4e02"
		holdID   = "c7e1a9b2-5d6f-4e3a-9b8c-7d6e5f4a3b03"
		e2eID    = "f3a2b1c0-9e8d-4c7b-a6f5-e4d3c2b1a004"
		oddID    = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c05"
	)
	return []report.Downstream{
		{
			Project: "gh/acme/api", ID: "5034460f-c7c4-4c43-9457-de07e2029e7b", Number: 42, URL: api,
			Outcome: "success", Reason: "all 2 workflows succeeded", Duration: 2*time.Minute + 30*time.Second,
			Workflows: []report.WorkflowReport{
				{Name: "build", Status: "success", URL: report.WorkflowURL(api, buildID), Duration: 2*time.Minute + 20*time.Second, Jobs: []report.JobReport{
					{Name: "compile", Status: "success", URL: report.JobURL(api, buildID, 101), Duration: 40 * time.Second},
					{Name: "test", Status: "success", URL: report.JobURL(api, buildID, 102), Duration: 100 * time.Second},
				}},
				{Name: "lint", Status: "success", URL: report.WorkflowURL(api, "lint-id"), Duration: 30 * time.Second},
			},
		},
		{
			Project: "gh/acme/deploy", ID: "6f2d1b3a-0c9e-4d8f-b7a6-5e4d3c2b1a00", Number: 7, URL: deploy,
			Outcome: "failed", Reason: "workflow deploy failed (job rollout failed)", Duration: 5 * time.Minute,
			Workflows: []report.WorkflowReport{
				{Name: "deploy", Status: "failed", URL: report.WorkflowURL(deploy, deployID), Duration: 4 * time.Minute, Jobs: []report.JobReport{
					{Name: "package", Status: "success", URL: report.JobURL(deploy, deployID, 12), Duration: time.Minute},
					{Name: "rollout", Status: "failed", URL: report.JobURL(deploy, deployID, 13), Duration: 2*time.Minute + 500*time.Millisecond},
					{Name: "smoke", Status: "canceled", URL: report.JobURL(deploy, deployID, 14), Duration: 3 * time.Second},
					{Name: "e2e", Status: "timedout", URL: report.JobURL(deploy, deployID, 15), Duration: 10 * time.Minute},
					{Name: "notify", Status: "not_run"},
				}},
				{Name: "promote", Status: "on_hold", URL: report.WorkflowURL(deploy, holdID), Jobs: []report.JobReport{
					{Name: "approve", Status: "on_hold"},
					{Name: "ship", Status: "blocked"},
				}},
			},
		},
		{
			Project: "circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz", ID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", Number: 3,
			URL:     "https://app.circleci.com/pipelines/circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz/3",
			Outcome: "errored", Reason: "pipeline #3 errored: Unexpected argument(s): foo",
		},
		{
			Project: "gh/acme/e2e", ID: "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", Number: 19, URL: e2e,
			Outcome: "timed_out", Reason: "timed out after 30m waiting for e2e (running); canceled e2e", Duration: 30 * time.Minute,
			Workflows: []report.WorkflowReport{
				{Name: "e2e", Status: "running", URL: report.WorkflowURL(e2e, e2eID), Duration: 29 * time.Minute, Jobs: []report.JobReport{
					{Name: "cypress", Status: "running", URL: report.JobURL(e2e, e2eID, 77), Duration: 29 * time.Minute},
				}},
			},
		},
		{
			Project: "gh/acme/docs", ID: "3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b", Outcome: "no_workflows",
			Reason: "no workflow appeared within 2m", Duration: 2 * time.Minute,
		},
		{
			Project: "gh/acme/odd", Number: 3, URL: odd, Outcome: "failed", Reason: "workflow w*1 failed (job a<b & \"c\" | d_e failed)", Duration: 1500 * time.Millisecond,
			Workflows: []report.WorkflowReport{
				{Name: "w*1", Status: "failed", URL: report.WorkflowURL(odd, oddID), Jobs: []report.JobReport{
					{Name: "a<b & \"c\" | d_e\nline two", Status: "failed", URL: report.JobURL(odd, oddID, 5)},
				}},
			},
		},
	}
}

func TestSummaryGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Summary(&buf, downstreams(t)))
	golden(t, "summary.golden.md", buf.Bytes())
}

func TestSummaryOfSuccessesHasNoDetails(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Summary(&buf, downstreams(t)[:1]))
	assert.Equal(t, `## Downstream pipelines

| Project | Pipeline | Status | Duration | Link |
| --- | --- | --- | --- | --- |
| gh/acme/api | \#42 | succeeded | 2m30s | [open](https://app.circleci.com/pipelines/github/acme/api/42) |
`, buf.String())
}

func TestLinksExtendThePipelineLink(t *testing.T) {
	p := "https://app.circleci.com/pipelines/github/acme/api/42"
	assert.Equal(t, p+"/workflows/8a6c6f4c", report.WorkflowURL(p, "8a6c6f4c"))
	assert.Equal(t, p+"/workflows/8a6c6f4c", report.WorkflowURL(p+"/", "8a6c6f4c"), "a trailing slash is not doubled")
	assert.Equal(t, p+"/workflows/8a6c6f4c/jobs/101", report.JobURL(p, "8a6c6f4c", 101))
	assert.Equal(t, p+"/workflows/a%2Fb", report.WorkflowURL(p, "a/b"), "an ID is one path segment")
	assert.Empty(t, report.JobURL(p, "8a6c6f4c", 0), "approval jobs have no number and no page")
	assert.Empty(t, report.WorkflowURL("", "8a6c6f4c"))
	assert.Empty(t, report.WorkflowURL(p, ""))
}
