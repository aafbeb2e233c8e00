package report_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/report"
)

func TestJUnitGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.JUnit(&buf, downstreams(t)))
	golden(t, "junit.golden.xml", buf.Bytes())
}

// The shape CircleCI's store_test_results reads, decoded independently of the writer's types.
type suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			ClassName string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitReadsBack(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.JUnit(&buf, downstreams(t)))
	var doc suites
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))

	require.Len(t, doc.Suites, 6)
	names := []string{}
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{
		"gh/acme/api #42", "gh/acme/deploy #7", "circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz #3",
		"gh/acme/e2e #19", "gh/acme/docs 3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b", "gh/acme/odd #3",
	}, names)

	api := doc.Suites[0]
	assert.Equal(t, 3, api.Tests, "two jobs and a workflow whose jobs were not listed")
	assert.Zero(t, api.Failures)
	assert.Equal(t, "build", api.Cases[0].ClassName, "classname is the workflow")
	assert.Equal(t, "compile", api.Cases[0].Name)
	assert.Equal(t, "40.000", api.Cases[0].Time)

	deploy := doc.Suites[1]
	assert.Equal(t, 7, deploy.Tests)
	assert.Equal(t, 3, deploy.Failures, "failed, canceled and timed out")
	assert.Equal(t, 3, deploy.Skipped, "not run, on hold, blocked")
	rollout := deploy.Cases[1]
	require.NotNil(t, rollout.Failure)
	assert.Equal(t, "job rollout failed", rollout.Failure.Message)
	assert.Equal(t, "failed", rollout.Failure.Type)
	assert.Equal(t, "https://app.circleci.com/pipelines/github/acme/deploy/7/workflows/0b9d2f7e-3f41-4c55-8f8e-6b3a1c2d4e02/jobs/13", rollout.Failure.Text)
	assert.Equal(t, "canceled", deploy.Cases[2].Failure.Type)
	assert.Equal(t, "job e2e timed out", deploy.Cases[3].Failure.Message)

	errored := doc.Suites[2]
	require.Len(t, errored.Cases, 1, "a pipeline with nothing to show gets a testcase of its own")
	assert.Equal(t, "pipeline", errored.Cases[0].ClassName)
	assert.Equal(t, "pipeline #3 errored: Unexpected argument(s): foo", errored.Cases[0].Failure.Message)
	assert.Equal(t, "errored", errored.Cases[0].Failure.Type)

	timedOut := doc.Suites[3]
	require.Len(t, timedOut.Cases, 2, "the running job (skipped) and the pipeline (failed)")
	assert.NotNil(t, timedOut.Cases[0].Skipped)
	assert.Equal(t, "timed_out", timedOut.Cases[1].Failure.Type)

	odd := doc.Suites[5]
	assert.Equal(t, "a<b & \"c\" | d_e\nline two", odd.Cases[0].Name, "names survive escaping")
	assert.Equal(t, "w*1", odd.Cases[0].ClassName)

	tests, failures := 0, 0
	for _, s := range doc.Suites {
		tests += s.Tests
		failures += s.Failures
	}
	assert.Equal(t, tests, doc.Tests)
	assert.Equal(t, failures, doc.Failures)
}

func TestJUnitOfNothingIsAnEmptyReport(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.JUnit(&buf, nil))
	var doc suites
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
	assert.Zero(t, doc.Tests)
}

// Whatever the names, the report is well-formed XML that reads back as the names, except for
// what XML 1.0 cannot hold (control characters, invalid UTF-8), which becomes U+FFFD.
func FuzzJUnitReadsBack(f *testing.F) {
	for _, seed := range [][3]string{
		{"build", "test", "https://app.circleci.com/pipelines/github/acme/api/1"},
		{"w*1", "a<b & \"c\" | d_e\nline two", "x'y'>z"},
		{"tab\there", "cr\r\nlf", "\x00\x1f\x7f"},
		{"\xff\xfe", "\uFFFD \uFFFE \U0001F680", "\ud7ff\ue000"},
		{"", "", ""},
		{"]]>", "<![CDATA[x]]>", "&amp; &#34;"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, workflow, job, link string) {
		ds := []report.Downstream{{
			Project: "gh/acme/" + job, Number: 1, Outcome: "failed", Reason: job,
			Workflows: []report.WorkflowReport{{Name: workflow, Status: "failed", Jobs: []report.JobReport{
				{Name: job, Status: "failed", URL: link},
				{Name: workflow, Status: "not_run"},
			}}},
		}}
		var buf bytes.Buffer
		require.NoError(t, report.JUnit(&buf, ds))
		var doc suites
		require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc), "%s", buf.String())
		require.Len(t, doc.Suites, 1)
		s := doc.Suites[0]
		assert.Equal(t, "gh/acme/"+xmlSafe(job)+" #1", s.Name)
		require.Len(t, s.Cases, 2)
		assert.Equal(t, xmlSafe(workflow), s.Cases[0].ClassName)
		assert.Equal(t, xmlSafe(job), s.Cases[0].Name)
		require.NotNil(t, s.Cases[0].Failure)
		if strings.TrimSpace(link) == "" {
			link = "" // a blank link is no link: the workflow's, here none, stands in
		}
		assert.Equal(t, xmlSafe(link), s.Cases[0].Failure.Text)
		require.NotNil(t, s.Cases[1].Skipped)
		assert.Equal(t, "job "+xmlSafe(workflow)+" did not run", s.Cases[1].Skipped.Message)
		assert.Equal(t, 2, s.Tests)
		assert.Equal(t, 1, s.Failures)
		assert.Equal(t, 1, s.Skipped)
	})
}

// xmlSafe is s with every rune XML 1.0 cannot hold replaced by U+FFFD, written independently
// of the writer's own escaping.
func xmlSafe(s string) string {
	var b strings.Builder
	for _, r := range s { // each invalid byte is one U+FFFD

		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}
