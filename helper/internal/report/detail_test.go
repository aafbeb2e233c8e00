package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func failing(n int) *JobDetail {
	d := &JobDetail{Failed: n, Total: 200, Step: "Run tests", LogTail: []string{"a", "b"}}
	for i := range n {
		d.Tests = append(d.Tests, TestCase{Classname: "checkout", Name: fmt.Sprintf("case %d", i+1), Message: "expected 200, got 502\nstack", File: "spec/c.rb", Result: "failure", Failed: true})
	}
	d.Tests = append(d.Tests, TestCase{Name: "passes", Result: "success"})
	return d
}

func TestDetailLinesShowFiveFailuresAndCountTheRest(t *testing.T) {
	lines := DetailLines(failing(8))
	assert.Equal(t, []string{
		"✗ checkout › case 1 — expected 200, got 502 (spec/c.rb)",
		"✗ checkout › case 2 — expected 200, got 502 (spec/c.rb)",
		"✗ checkout › case 3 — expected 200, got 502 (spec/c.rb)",
		"✗ checkout › case 4 — expected 200, got 502 (spec/c.rb)",
		"✗ checkout › case 5 — expected 200, got 502 (spec/c.rb)",
		"… and 3 more",
		"8 of 200 tests failed",
		`last 2 lines of step "Run tests":`,
		"  │ a",
		"  │ b",
	}, lines)
	assert.Nil(t, DetailLines(nil))
}

func TestTerminalDetailMakesServerTextSafe(t *testing.T) {
	d := &JobDetail{Failed: 1, Total: 1, Tests: []TestCase{{Name: "x\x1b]0;pwned\x07", Message: "\u202egnp.exe", Result: "failure", Failed: true}}}
	out := TerminalDetail(d, "  ")
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "\u202e")
}

func TestLineIsCut(t *testing.T) {
	l := TestCase{Name: strings.Repeat("n", 2000), Message: strings.Repeat("m", 2000)}.Line()
	assert.LessOrEqual(t, utf8.RuneCountInString(l), 800)
}

func TestJUnitHasASuitePerJobWithTests(t *testing.T) {
	d := Downstream{Project: "gh/acme/e2e", Number: 41, Outcome: "failed", Workflows: []WorkflowReport{{
		Name: "browser", Status: "failed", Jobs: []JobReport{
			{Name: "chrome", Status: "failed", URL: "https://x/jobs/7", Detail: failing(2)},
			{Name: "lint", Status: "failed"},
		},
	}}}
	var b bytes.Buffer
	require.NoError(t, JUnit(&b, []Downstream{d}))
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Class string `xml:"classname,attr"`
				Name  string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc), b.String())
	require.Len(t, doc.Suites, 2)
	require.Len(t, doc.Suites[0].Cases, 1, "lint keeps its job case; chrome's gives way to its tests")
	assert.Equal(t, "lint", doc.Suites[0].Cases[0].Name)
	assert.Equal(t, "gh/acme/e2e › browser › chrome", doc.Suites[1].Name)
	require.Len(t, doc.Suites[1].Cases, 3, "what the detail holds: 2 failures and the passing test it was asked to keep")
	assert.Equal(t, "gh/acme/e2e › browser › chrome › checkout", doc.Suites[1].Cases[0].Class)
	assert.Equal(t, 3, doc.Failures, "lint, and chrome's 2 failing tests")
}

func TestSummaryFencesTheLogTail(t *testing.T) {
	d := Downstream{Project: "gh/acme/e2e", Number: 41, Outcome: "failed", Workflows: []WorkflowReport{{
		Name: "browser", Status: "failed", Jobs: []JobReport{{Name: "chrome", Status: "failed", Detail: &JobDetail{Step: "s", LogTail: []string{"```", "<b>x</b>"}}}},
	}}}
	var b bytes.Buffer
	require.NoError(t, Summary(&b, []Downstream{d}))
	assert.Contains(t, b.String(), "      ````\n      ```\n      <b>x</b>\n      ````\n", "a fence longer than any in the log keeps it inside")
}

func TestArtifactsTextSaysWhatIsWhereAndCountsWhatWasSkipped(t *testing.T) {
	arts := []ArtifactResult{
		{Job: "chrome", Path: "report.html", File: "/a/report.html", Bytes: 10},
		{Job: "chrome", Path: "report.html", File: "/a/report~2.html", Bytes: 5, Note: "saved as report~2.html: another artifact of the job has the same path"},
		{Job: "chrome", Path: "../x", Error: "refused: the path leaves the job's folder (..)"},
		{Job: "chrome", Path: "a\x1b[2J", Error: "not downloaded: the cap on the number of artifacts was reached (500 in a run)", Skipped: true},
		{Job: "firefox", Path: "b", Error: "not downloaded: the cap on the number of artifacts was reached (500 in a run)", Skipped: true},
		{Job: "firefox", Path: "c", Error: "not downloaded: the time allowed for artifacts ran out (5m0s)", Skipped: true},
	}
	assert.Equal(t, "gh/acme/e2e #3: saved 2 artifacts (15 bytes) below /a; 4 not saved:\n"+
		"    chrome report.html: saved as report~2.html: another artifact of the job has the same path\n"+
		"    chrome ../x: refused: the path leaves the job's folder (..)\n"+
		"    2 not downloaded: the cap on the number of artifacts was reached (500 in a run)\n"+
		"    1 not downloaded: the time allowed for artifacts ran out (5m0s)",
		ArtifactsText("gh/acme/e2e #3", "/a", arts))
	assert.Equal(t, `x #1: saved 1 artifact (3 bytes) below d\x1b`, ArtifactsText("x #1", "d\x1b", []ArtifactResult{{Job: "j", Path: "p", File: "f", Bytes: 3}}),
		"one saved, nothing to list; server and user text shown safely")
}
