package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// Failure details as a user meets them: a downstream job fails 3 tests of 200 and its step prints 30
// coloured lines (one with the token in it); its artifacts include hostile paths.

func detailWorldConfig() string {
	var out strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&out, `\u001b[32mline %d\u001b[0m\n`, i)
	}
	return `
tokens: [{token: ` + token + `}]
page_size: 40
projects:
  - slug: gh/acme/e2e
    workflows:
      - name: browser
        status: failed
        duration: 2m
        jobs:
          - name: firefox
            status: success
            artifacts: [{path: report/firefox.html, content: "<h1>firefox</h1>"}]
          - name: chrome
            status: failed
            tests:
              passing: 197
              failures:
                - {classname: checkout, name: pays with card, message: "expected 200, got 502\n  at spec/checkout_spec.rb:12", file: spec/checkout_spec.rb}
                - {classname: checkout, name: refunds, message: "timeout after 5s"}
                - {classname: cart, name: adds an item, message: "nil is not an item"}
            steps:
              - {name: Checkout code, output: "cloned\n"}
              - {name: Run tests, failed: true, output: "` + out.String() + `token ` + token + `\n"}
            artifacts:
              - {path: report/index.html, content: "<h1>chrome</h1>"}
              - {path: ../../etc/passwd, content: "root:x:0:0"}
              - {path: /etc/shadow, content: "root"}
  - slug: gh/acme/green
    workflows:
      - name: build
        duration: 1m
        jobs: [{name: unit, tests: {passing: 5}, steps: [{name: test, output: "ok\n"}], artifacts: [{path: coverage.txt, content: "100%"}]}]
`
}

// newDetailWorld is filesWorld with detailWorldConfig.
func newDetailWorld(t *testing.T) *clockWorld { t.Helper(); return filesWorld(t, detailWorldConfig()) }

// filesWorld is a simulator with config and the hostile rewrites hs, whose step output and
// artifact contents come from a second host, as CircleCI's come from storage.
func filesWorld(t *testing.T, config string, hs ...simulator.Hostile) *clockWorld {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(config))
	require.NoError(t, err)
	w := newClockWorld(t, func(c *simulator.Config) { *c = cfg }, nil)
	files := httptest.NewServer(w.sim)
	t.Cleanup(files.Close)
	w.sim.SetFilesHost(files.URL)
	for _, h := range hs {
		require.NoError(t, w.sim.AddHostile(h))
	}
	return w
}

func TestAFailedJobShowsItsFailingTestsAndItsStepsLastLines(t *testing.T) {
	w := newDetailWorld(t)
	dir := t.TempDir()
	junit, summary, result := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md"), filepath.Join(dir, "result.json")
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/e2e", "--wait",
		"--junit", junit, "--summary", summary, "--result-file", result)
	require.Equal(t, 1, code, stderr)

	assert.Contains(t, stdout, "\n    job chrome failed ")
	assert.Contains(t, stdout, "\n      ✗ checkout › pays with card — expected 200, got 502 (spec/checkout_spec.rb)\n")
	assert.Contains(t, stdout, "\n      ✗ checkout › refunds — timeout after 5s\n")
	assert.Contains(t, stdout, "\n      ✗ cart › adds an item — nil is not an item\n")
	assert.Contains(t, stdout, "\n      3 of 200 tests failed\n")
	assert.NotContains(t, stdout, "… and", "3 failures are all shown")
	assert.Contains(t, stdout, "\n      last 20 lines of step \"Run tests\":\n")
	assert.NotContains(t, stdout, "line 11\n", "only the last 20 lines")
	assert.Contains(t, stdout, "        │ line 12\n")
	assert.Contains(t, stdout, "        │ line 30\n")
	assert.Contains(t, stdout, "        │ token [redacted]\n", "the token echoed in the output is scrubbed")
	assert.NotContains(t, stdout, "\x1b", "colour codes are removed")
	assert.NotContains(t, stdout, `\x1b`, "…not shown as escapes either")

	// JUnit: the job's tests as cases the Tests tab reads as gh/acme/e2e › browser › chrome › …
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Class   string `xml:"classname,attr"`
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(b, &doc), string(b))
	require.Len(t, doc.Suites, 2, string(b))
	jobs := doc.Suites[0]
	for _, c := range jobs.Cases {
		assert.NotEqual(t, "chrome", c.Name, "the job-level case gives way to its failing tests")
	}
	tests := doc.Suites[1]
	assert.Equal(t, "gh/acme/e2e › browser › chrome", tests.Name)
	require.Len(t, tests.Cases, 3, "passing tests only with --junit-all-tests")
	assert.Equal(t, "gh/acme/e2e › browser › chrome › checkout", tests.Cases[0].Class)
	assert.Equal(t, "pays with card", tests.Cases[0].Name)
	require.NotNil(t, tests.Cases[0].Failure)
	assert.Equal(t, "expected 200, got 502", tests.Cases[0].Failure.Message)
	assert.Contains(t, tests.Cases[0].Failure.Text, "at spec/checkout_spec.rb:12")

	md, err := os.ReadFile(summary)
	require.NoError(t, err)
	assert.Contains(t, string(md), "\n    - ✗ checkout › pays with card — expected 200, got 502 \\(spec/checkout\\_spec.rb\\)\n")
	assert.Contains(t, string(md), "line 30\n")

	var res struct {
		Pipelines []struct {
			Workflows []struct {
				FailedJobs []struct {
					Name        string `json:"name"`
					FailedTests []struct {
						Name string `json:"name"`
					} `json:"failed_tests"`
					TestsFailed int      `json:"tests_failed"`
					TestsTotal  int      `json:"tests_total"`
					FailedStep  string   `json:"failed_step"`
					LogTail     []string `json:"log_tail"`
				} `json:"failed_jobs"`
			} `json:"workflows"`
		} `json:"pipelines"`
	}
	b, err = os.ReadFile(result)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res))
	fj := res.Pipelines[0].Workflows[0].FailedJobs[0]
	assert.Equal(t, "chrome", fj.Name)
	assert.Len(t, fj.FailedTests, 3)
	assert.Equal(t, 3, fj.TestsFailed)
	assert.Equal(t, 200, fj.TestsTotal)
	assert.Equal(t, "Run tests", fj.FailedStep)
	assert.Len(t, fj.LogTail, 20)

	for _, r := range w.sim.Requests() {
		switch r.Operation {
		case "files:stepOutput":
			assert.Empty(t, r.Header.Get("Circle-Token"), "the presigned output URL on another host gets no token")
		case "getTests", "v1.1:getJob":
			assert.Equal(t, token, r.Header.Get("Circle-Token"))
		case "getJobArtifacts", "files:artifact", "files:artifactBlob":
			t.Errorf("artifacts were read without --artifacts-dir: %s", r.Path)
		}
	}
}

func TestJUnitAllTestsWritesThePassingOnesToo(t *testing.T) {
	w := newDetailWorld(t)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	code, _, stderr := w.baton("trigger", "--project", "gh/acme/e2e", "--wait", "--junit", junit, "--junit-all-tests", "--log-lines", "0")
	require.Equal(t, 1, code, stderr)
	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	assert.Equal(t, 200, strings.Count(string(b), `classname="gh/acme/e2e › browser › chrome › `))
	assert.Equal(t, 3, strings.Count(string(b), "<failure"))
	for _, r := range w.sim.Requests() {
		assert.NotEqual(t, "v1.1:getJob", r.Operation, "--log-lines 0 reads no step output")
	}
}

func TestASuccessfulWaitCostsNothingMore(t *testing.T) {
	w := newDetailWorld(t)
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/green", "--wait", "--junit", filepath.Join(t.TempDir(), "j.xml"))
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stdout, "✗")
	for _, r := range w.sim.Requests() {
		switch r.Operation {
		case "getTests", "v1.1:getJob", "files:stepOutput", "getJobArtifacts":
			t.Errorf("a successful wait asked for %s", r.Path)
		}
	}
}

func TestArtifactsAreDownloadedBelowTheirJobsFolderOnly(t *testing.T) {
	w := newDetailWorld(t)
	dir := filepath.Join(t.TempDir(), "artifacts")
	result := filepath.Join(t.TempDir(), "result.json")
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/e2e", "--wait", "--artifacts-dir", dir, "--result-file", result)
	require.Equal(t, 1, code, stderr)

	var files []string
	require.NoError(t, filepath.Walk(filepath.Dir(dir), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && p != result {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"gh/acme/e2e/firefox-1/report/firefox.html", "gh/acme/e2e/chrome-2/report/index.html"}, files,
		"successful and failed jobs' artifacts, each below its own job's folder; nothing else anywhere")
	b, err := os.ReadFile(filepath.Join(dir, "gh/acme/e2e/chrome-2/report/index.html"))
	require.NoError(t, err)
	assert.Equal(t, "<h1>chrome</h1>", string(b))
	assert.Contains(t, stdout, "gh/acme/e2e #1: saved 2 artifacts (31 bytes) below "+dir+"; 2 not saved:\n")
	assert.Contains(t, stdout, "    chrome ../../etc/passwd: refused: the path leaves the job's folder (..)\n")
	assert.Contains(t, stdout, "    chrome /etc/shadow: refused: an absolute path\n")

	var blobTokens, fileTokens int
	for _, r := range w.sim.Requests() {
		switch r.Operation {
		case "files:artifact":
			assert.Equal(t, token, r.Header.Get("Circle-Token"), "the API host's artifact link gets the token")
			fileTokens++
		case "files:artifactBlob":
			assert.Empty(t, r.Header.Get("Circle-Token"), "the redirect to the files host carries no token")
			blobTokens++
		}
	}
	assert.Equal(t, 2, fileTokens)
	assert.Equal(t, 2, blobTokens)
	b, err = os.ReadFile(result)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"path": "../../etc/passwd"`)
}

func TestArtifactsAreDownloadedOnceEveryPipelineEnded(t *testing.T) {
	w := newDetailWorld(t)
	dir := filepath.Join(t.TempDir(), "artifacts")
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/green", "--project", "gh/acme/e2e", "--wait", "--artifacts-dir", dir)
	require.Equal(t, 1, code, stderr)
	greenSaved := strings.Index(stdout, "gh/acme/green #1: saved 1 artifact")
	e2eFailed := strings.Index(stdout, "gh/acme/e2e #1: workflow browser failed")
	require.True(t, greenSaved >= 0 && e2eFailed >= 0, stdout)
	assert.Less(t, e2eFailed, greenSaved,
		"gh/acme/green ends a minute before gh/acme/e2e, but its download waits for the end of the follow, so that a large one holds up nobody's lines or heartbeat")
	assert.FileExists(t, filepath.Join(dir, "gh/acme/green/unit-1/coverage.txt"))
}

func TestDetailFlagsAreCheckedBeforeAnythingIsSent(t *testing.T) {
	for _, args := range [][]string{
		{"--wait", "--log-lines", "-1"},
		{"--wait", "--log-lines", "5000"},
		{"--wait", "--artifacts", "**/*.html"},
		{"--wait", "--artifacts-dir", "d", "--artifacts", "a/[b"},
		{"--wait", "--artifacts-dir", "detail_e2e_test.go"},
		{"--log-lines", "5"},
		{"--junit-all-tests"},
	} {
		w := newDetailWorld(t)
		code, _, stderr := w.baton(append([]string{"trigger", "--project", "gh/acme/e2e"}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "%v: one line: %s", args, stderr)
		assert.Empty(t, w.sim.Requests(), "%v: nothing sent", args)
	}
}

func TestOnATerminalTheDetailsFollowTheRows(t *testing.T) {
	terminal := func(d *cli.Deps) { d.Terminal = func() bool { return true } }
	w := newDetailWorld(t)
	code, stdout, stderr := w.run(nil, terminal, "trigger", "--project", "gh/acme/e2e", "--wait")
	require.Equal(t, 1, code, stderr)
	rows := strings.LastIndex(stdout, "\r\x1b[2K")
	require.Positive(t, rows)
	below := stdout[rows:]
	assert.Regexp(t, `\ngh/acme/e2e #1: workflow browser: job chrome failed \S+/jobs/2\n      ✗ checkout › pays with card — expected 200, got 502 \(spec/checkout_spec.rb\)\n`, below, "below the rows, under the job's line")
	assert.Contains(t, below, "        │ line 30\n")
	assert.Equal(t, 1, strings.Count(stdout, "✗ checkout › pays with card"), "not redrawn with the rows")
}

// A step that printed more than any other answer may hold (6 MiB here) still shows its last
// lines, and a carriage return in them hides nothing.
func TestAHugeStepOutputStillShowsItsLastLines(t *testing.T) {
	var out strings.Builder
	for i := 0; out.Len() < 6<<20; i++ {
		fmt.Fprintf(&out, `progress line %d of a long, long test run\n`, i)
	}
	out.WriteString(`FAILED checkout_spec.rb:12\r\u001b[Kok\n`)
	config := `
tokens: [{token: ` + token + `}]
projects:
  - slug: gh/acme/noisy
    workflows:
      - name: build
        status: failed
        duration: 1m
        jobs:
          - name: test
            status: failed
            steps: [{name: Run tests, failed: true, output: "` + out.String() + `"}]
`
	w := filesWorld(t, config)
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/noisy", "--wait", "--log-lines", "2")
	require.Equal(t, 1, code, stderr)
	assert.Contains(t, stdout, "\n      last 2 lines of step \"Run tests\":\n")
	assert.Regexp(t, `\n        │ progress line \d+ of a long, long test run\n        │ FAILED checkout_spec.rb:12\\rok\n`, stdout)
	assert.NotContains(t, stdout, "could not be read")
}

// onDisk lists the files below dir, by slash path.
func onDisk(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			b, _ := os.ReadFile(p)
			files[filepath.ToSlash(rel)] = string(b)
		}
		return err
	}))
	return files
}

// A server that lists one path twice, or names two projects' jobs alike, cannot make artifacts
// overwrite each other while the result reports them all saved: every artifact reported saved is
// on disk, in a file of its own, and what was renamed says so.
func TestArtifactsReportedSavedAreAllOnDisk(t *testing.T) {
	w := filesWorld(t, `
tokens: [{token: `+token+`}]
projects:
  - slug: gh/acme/one
    workflows:
      - name: build
        duration: 1m
        jobs: [{name: build, artifacts: [{path: out.txt, content: "one"}, {path: out.txt, content: "one again"}, {path: OUT.txt, content: "ONE"}]}]
  - slug: gh/acme/two
    workflows:
      - name: build
        duration: 1m
        jobs: [{name: build, artifacts: [{path: out.txt, content: "two"}]}]
`, simulator.Hostile{Operation: "listWorkflowJobs", Set: map[string]any{"project_slug": "gh/acme/one"}})
	dir := filepath.Join(t.TempDir(), "artifacts")
	result := filepath.Join(t.TempDir(), "result.json")
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/one", "--project", "gh/acme/two", "--wait", "--artifacts-dir", dir, "--result-file", result)
	require.Equal(t, 0, code, stderr)

	var res struct {
		Pipelines []struct {
			Artifacts []struct {
				Path, File, Error, Note string
				Bytes                   int64
			}
		}
	}
	b, err := os.ReadFile(result)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res))
	files := onDisk(t, dir)
	reported := 0
	for _, p := range res.Pipelines {
		for _, a := range p.Artifacts {
			require.Empty(t, a.Error)
			rel, err := filepath.Rel(dir, a.File)
			require.NoError(t, err)
			content, ok := files[filepath.ToSlash(rel)]
			require.True(t, ok, "%s is reported saved but is not on disk", a.File)
			assert.Equal(t, int64(len(content)), a.Bytes)
			reported++
		}
	}
	assert.Equal(t, 6, reported, "three artifacts of each job: gh/acme/two's jobs claim to be gh/acme/one's")
	assert.Len(t, files, reported, "one file for each artifact reported saved: %v", files)
	assert.Equal(t, "one again", files["gh/acme/one/build-1/out~2.txt"])
	assert.Contains(t, stdout, "    build out.txt: saved as out~2.txt: another artifact of the job has the same path\n")
	assert.Contains(t, stdout, "    build OUT.txt: saved as OUT~3.txt: another artifact of the job has the same path\n")
	assert.Contains(t, stdout, "in folder build-1~2: another job of this run has the folder build-1")
}

// A job storing thousands of files costs a bounded number of downloads: the first 500 of the
// run, 4 at a time, and the result says how many were skipped and why.
func TestArtifactDownloadsAreBoundedInNumber(t *testing.T) {
	var arts strings.Builder
	for i := range 520 {
		fmt.Fprintf(&arts, "{path: f/%d.txt, content: \"%d\"}, ", i, i)
	}
	w := filesWorld(t, `
tokens: [{token: `+token+`}]
projects:
  - slug: gh/acme/many
    workflows:
      - name: build
        duration: 1m
        jobs: [{name: build, artifacts: [`+arts.String()+`]}]
`)
	dir := filepath.Join(t.TempDir(), "artifacts")
	code, stdout, stderr := w.baton("trigger", "--project", "gh/acme/many", "--wait", "--artifacts-dir", dir)
	require.Equal(t, 0, code, stderr)
	assert.Len(t, onDisk(t, dir), 500)
	assert.Contains(t, stdout, "gh/acme/many #1: saved 500 artifacts (1390 bytes) below "+dir+"; 20 not saved:\n"+
		"    20 not downloaded: the cap on the number of artifacts was reached (500 in a run)\n")
	downloads := 0
	for _, r := range w.sim.Requests() {
		if r.Operation == "files:artifact" {
			downloads++
		}
	}
	assert.Equal(t, 500, downloads, "nothing past the cap is asked for")
}
