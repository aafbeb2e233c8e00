package report

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/safetext"
)

// This file holds what baton learnt about why a downstream job failed (its failing tests, the
// tail of its failing step) and the artifacts it brought back, and how the reports show them:
// lines under the job in progress output, test cases in JUnit, a list in the summary.

// TestCase is one test of a downstream job, as its store_test_results reported it.
type TestCase struct {
	Classname string  `json:"classname"`
	Name      string  `json:"name"`
	File      string  `json:"file"`
	Result    string  `json:"result"` // failure, error, success, skipped, …
	Message   string  `json:"message"`
	RunTime   float64 `json:"run_time"` // seconds
	Failed    bool    `json:"-"`        // the result counts as a failure (package detail decides)
}

// JobDetail is what was learnt about one failed job. Tests lists the failures first; passing
// tests only when asked for (--junit-all-tests).
type JobDetail struct {
	Tests     []TestCase
	Failed    int    // failing tests among those read
	Total     int    // tests read
	Truncated bool   // the job had more tests than were read
	Step      string // the step that failed; "" when unknown
	LogTail   []string
	Notes     []string // what could not be read, one line each
}

// ArtifactResult is one artifact of a downstream job, downloaded, refused or skipped.
type ArtifactResult struct {
	Job     string `json:"job"`
	Number  int64  `json:"job_number"`
	Path    string `json:"path"` // as the server named it
	File    string `json:"file"` // where it is on disk; "" when it is not
	Bytes   int64  `json:"bytes"`
	Error   string `json:"error"`   // why it was not written; "" when it was
	Skipped bool   `json:"skipped"` // not tried: the run's cap on count, size or time was reached first
	Note    string `json:"note"`    // why File is not where the server's path would put it (renamed)
}

// ArtifactsText says what became of a pipeline's artifacts, for a terminal: how many were saved
// and where; then, one line each, those saved under another name than their path and those
// refused; and those skipped for a bound of the run, counted on one line per bound.
func ArtifactsText(label, dir string, arts []ArtifactResult) string {
	var saved, notSaved int
	var bytes int64
	var lines, bounds []string
	skipped := map[string]int{}
	for _, a := range arts {
		what := a.Job
		if a.Path != "" {
			what += " " + a.Path
		}
		switch {
		case a.Skipped:
			if skipped[a.Error] == 0 {
				bounds = append(bounds, a.Error)
			}
			skipped[a.Error]++
			notSaved++
		case a.Error != "":
			lines = append(lines, "    "+safetext.Terminal(what+": "+a.Error))
			notSaved++
		default:
			saved++
			bytes += a.Bytes
			if a.Note != "" {
				lines = append(lines, "    "+safetext.Terminal(what+": "+a.Note))
			}
		}
	}
	for _, e := range bounds {
		lines = append(lines, fmt.Sprintf("    %d %s", skipped[e], safetext.Terminal(e)))
	}
	s := fmt.Sprintf("%s: saved %d artifact%s (%d bytes) below %s", safetext.Terminal(label), saved, plural(saved), bytes, safetext.Terminal(dir))
	if notSaved > 0 {
		s += fmt.Sprintf("; %d not saved", notSaved)
	}
	if len(lines) > 0 {
		s += ":\n" + strings.Join(lines, "\n")
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ShownFailures is how many failing tests the progress lines show under a job.
const ShownFailures = 5

// Title is "checkout › pays with card".
func (t TestCase) Title() string {
	class, name := strings.TrimSpace(t.Classname), strings.TrimSpace(t.Name)
	switch {
	case name == "":
		return firstOf(class, "(unnamed test)")
	case class == "" || strings.HasPrefix(name, class):
		return name
	}
	return class + " › " + name
}

// Line is "checkout › pays with card — expected 200, got 502 (spec/checkout_spec.rb)": the
// message's first line with text, cut to fit.
func (t TestCase) Line() string {
	s := t.Title()
	if m := firstLine(t.Message); m != "" {
		s += " — " + m
	}
	if f := strings.TrimSpace(t.File); f != "" {
		s += " (" + f + ")"
	}
	return cutRunes(s, 800)
}

// DetailLines are the lines shown under a failed job's line, unindented and not yet sanitized:
// its first failing tests, how many more, and the tail of its failing step.
func DetailLines(d *JobDetail) []string {
	if d == nil {
		return nil
	}
	var out []string
	shown := 0
	for _, t := range d.Tests {
		if !t.Failed || shown == ShownFailures {
			continue
		}
		out = append(out, "✗ "+t.Line())
		shown++
	}
	if more := d.Failed - shown; more > 0 {
		out = append(out, fmt.Sprintf("… and %d more", more))
	}
	if d.Failed > 0 {
		total := fmt.Sprint(d.Total)
		if d.Truncated {
			total = "more than " + total
		}
		out = append(out, fmt.Sprintf("%d of %s tests failed", d.Failed, total))
	}
	if len(d.LogTail) > 0 {
		out = append(out, fmt.Sprintf("last %d lines of step %q:", len(d.LogTail), d.Step))
		for _, l := range d.LogTail {
			out = append(out, "  │ "+l)
		}
	}
	out = append(out, d.Notes...)
	return out
}

// TerminalDetail is DetailLines, each indented and safe for a terminal.
func TerminalDetail(d *JobDetail, indent string) string {
	var b strings.Builder
	for _, l := range DetailLines(d) {
		b.WriteString("\n" + indent + safetext.Terminal(l))
	}
	return b.String()
}

// summaryDetail is the Markdown under a failed job in the summary: its failing tests (up to
// 20), and its log tail in a code block.
func summaryDetail(d *JobDetail, indent string) []string {
	if d == nil {
		return nil
	}
	var out []string
	shown := 0
	for _, t := range d.Tests {
		if !t.Failed || shown == 20 {
			continue
		}
		out = append(out, indent+"- ✗ "+mdText(t.Line()))
		shown++
	}
	if more := d.Failed - shown; more > 0 {
		out = append(out, fmt.Sprintf("%s- … and %d more", indent, more))
	}
	if len(d.LogTail) > 0 {
		out = append(out, indent+"- last lines of step "+mdText(`"`+d.Step+`"`)+":", "")
		fence := strings.Repeat("`", max(3, longestRun(d.LogTail, '`')+1))
		out = append(out, indent+"  "+fence)
		for _, l := range d.LogTail {
			out = append(out, indent+"  "+safetext.Terminal(l))
		}
		out = append(out, indent+"  "+fence, "")
	}
	for _, n := range d.Notes {
		out = append(out, indent+"- "+mdText(n))
	}
	return out
}

// longestRun is the longest run of c in any of lines, so a code fence can be longer.
func longestRun(lines []string, c byte) int {
	best := 0
	for _, l := range lines {
		run := 0
		for i := 0; i < len(l); i++ {
			if l[i] == c {
				run++
				best = max(best, run)
			} else {
				run = 0
			}
		}
	}
	return best
}

// testSuites are a downstream pipeline's jobs' tests as JUnit suites, one per job that has
// tests to show, named "gh/acme/e2e › browser › chrome" with cases whose classname continues
// it ("… › chrome › checkout") so the upstream's Tests tab reads where each test ran.
func testSuites(d Downstream) []xmlSuite {
	var out []xmlSuite
	for _, wf := range d.Workflows {
		for _, j := range wf.Jobs {
			if j.Detail == nil || len(j.Detail.Tests) == 0 {
				continue
			}
			prefix := firstOf(d.Project, "-") + " › " + wf.Name + " › " + j.Name
			s := xmlSuite{Name: prefix, Time: seconds(j.Duration)}
			if j.URL != "" {
				s.Properties = append(s.Properties, xmlProperty{"url", j.URL})
			}
			for _, t := range j.Detail.Tests {
				c := xmlCase{ClassName: prefix, Name: t.Name, Time: fmt.Sprintf("%.3f", max(t.RunTime, 0))}
				if cl := strings.TrimSpace(t.Classname); cl != "" {
					c.ClassName += " › " + cl
				}
				switch {
				case t.Failed:
					c.Failure = &xmlFailure{Message: firstOf(firstLine(t.Message), "failed"), Type: t.Result, Text: strings.TrimSpace(t.Message + "\n" + t.File + "\n" + j.URL)}
					s.Failures++
				case strings.EqualFold(t.Result, "skipped"):
					c.Skipped = &xmlSkipped{Message: "skipped"}
					s.Skipped++
				}
				s.Tests++
				s.Cases = append(s.Cases, c)
			}
			out = append(out, s)
		}
	}
	return out
}

// failuresShownAsTests reports whether a job's failure is shown by its failing tests, so its own
// job-level testcase is left out.
func failuresShownAsTests(j JobReport) bool { return j.Detail != nil && j.Detail.Failed > 0 }

// firstLine is the first line of s with text on it, trimmed and cut to fit a line.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if l := strings.TrimSpace(line); l != "" {
			return cutRunes(l, 400)
		}
	}
	return ""
}

// cutRunes shortens s to at most n runes, marking the cut with "…".
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
