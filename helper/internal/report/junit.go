package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JUnit writes the downstream pipelines as JUnit XML, the format CircleCI's store_test_results
// reads, so the upstream job's Tests tab shows what the downstream jobs did:
//
//   - <testsuites> holds one <testsuite> per pipeline, named "gh/acme/api #42", with the
//     pipeline's link, ID and outcome as properties;
//   - each job is a <testcase> with classname = its workflow and name = the job; a workflow
//     whose jobs were not listed is one testcase of its own (name = classname = the workflow);
//   - failed, timed-out, canceled, unauthorized and otherwise broken jobs (and workflows) get a
//     <failure> whose type is the status, whose message says what happened and whose text is the
//     link; jobs that did not run, wait for an approval or were still running get <skipped>;
//   - a pipeline that did not succeed without any failed testcase to show it (errored, no
//     workflows, timed out with every job still running) gets one more testcase,
//     classname "pipeline", failing with the pipeline's reason; so does an empty suite, passing.
func JUnit(w io.Writer, ds []Downstream) error {
	doc := xmlSuites{Name: "baton"}
	var total time.Duration
	for _, d := range ds {
		for _, s := range append([]xmlSuite{suiteOf(d)}, testSuites(d)...) {
			doc.Suites = append(doc.Suites, s)
			doc.Tests += s.Tests
			doc.Failures += s.Failures
			doc.Skipped += s.Skipped
		}
		total += d.Duration
	}
	doc.Time = seconds(total)
	var x xmlWriter
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	doc.write(&x)
	_, err := io.WriteString(w, x.String())
	return err
}

type xmlSuites struct {
	Name                             string
	Tests, Failures, Errors, Skipped int
	Time                             string
	Suites                           []xmlSuite
}

type xmlSuite struct {
	Name                             string
	Tests, Failures, Errors, Skipped int
	Time                             string
	Properties                       []xmlProperty
	Cases                            []xmlCase
}

type xmlProperty struct{ Name, Value string }

type xmlCase struct {
	ClassName, Name, Time string
	Failure               *xmlFailure
	Skipped               *xmlSkipped
}

type xmlFailure struct{ Message, Type, Text string }

type xmlSkipped struct{ Message string }

// suiteOf is one pipeline's testsuite.
func suiteOf(d Downstream) xmlSuite {
	title := displayName(d)
	s := xmlSuite{Name: title, Time: seconds(d.Duration)}
	for _, p := range []xmlProperty{{"url", d.URL}, {"pipeline_id", d.ID}, {"outcome", d.Outcome}, {"reason", d.Reason}} {
		if p.Value != "" {
			s.Properties = append(s.Properties, p)
		}
	}
	shownAsTests := false
	for _, wf := range d.Workflows {
		if wf.Jobs == nil {
			s.Cases = append(s.Cases, caseOf(wf.Name, wf.Name, "workflow", wf.Status, wf.URL, wf.Duration))
			continue
		}
		for _, j := range wf.Jobs {
			if failuresShownAsTests(j) { // its failing tests are its cases, in a suite of its own
				shownAsTests = true
				continue
			}
			s.Cases = append(s.Cases, caseOf(wf.Name, j.Name, "job", j.Status, firstOf(j.URL, wf.URL), j.Duration))
		}
	}
	failed := shownAsTests
	for _, c := range s.Cases {
		failed = failed || c.Failure != nil
	}
	if (d.Outcome != "success" && !failed) || len(s.Cases) == 0 {
		c := xmlCase{ClassName: "pipeline", Name: title, Time: seconds(d.Duration)}
		if d.Outcome != "success" {
			msg := "pipeline " + OutcomeText(d.Outcome)
			if d.Reason != "" {
				msg = d.Reason
			}
			c.Failure = &xmlFailure{Message: msg, Type: firstOf(d.Outcome, "unknown"), Text: d.URL}
		}
		s.Cases = append(s.Cases, c)
	}
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

// caseOf is one job (or workflow) with what its status means for a test report.
func caseOf(class, name, kind, status, link string, d time.Duration) xmlCase {
	c := xmlCase{ClassName: class, Name: name, Time: seconds(d)}
	what := kind + " " + name + " " + statusPhrase(status)
	switch status {
	case "success":
	case "not_run", "not_running", "blocked", "queued", "on_hold", "retried", "running":
		c.Skipped = &xmlSkipped{Message: what}
	default: // failed, error, failing, canceled, unauthorized, timedout, infrastructure_fail, terminated-unknown, …
		c.Failure = &xmlFailure{Message: what, Type: firstOf(status, "unknown"), Text: link}
	}
	return c
}

// statusPhrase finishes "job NAME …" for a status.
func statusPhrase(status string) string {
	switch status {
	case "success":
		return "succeeded"
	case "error":
		return "errored"
	case "canceled":
		return "was canceled"
	case "unauthorized":
		return "was not authorized"
	case "not_run", "not_running":
		return "did not run"
	case "blocked", "queued":
		return "did not start (" + status + ")"
	case "on_hold":
		return "is on hold for an approval"
	case "retried":
		return "was retried"
	case "timedout":
		return "timed out"
	case "infrastructure_fail":
		return "failed (infrastructure failure)"
	case "terminated-unknown":
		return "was terminated"
	case "running", "failing":
		return "was still " + status + " when baton stopped waiting"
	case "":
		return "ended in an unknown status"
	}
	return statusText(status)
}

// seconds is a JUnit time attribute: seconds with millisecond precision.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", max(d, 0).Seconds())
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// The report is written by hand rather than with encoding/xml: its shape is fixed and small, and
// encoding/xml would add 78 KB to a binary with a size goal. The output is what
// encoding/xml's indenting encoder wrote before, byte for byte (the golden file has not changed),
// and the tests read it back with encoding/xml.

func (d xmlSuites) write(x *xmlWriter) {
	x.open(0, "testsuites", "name", d.Name, "tests", strconv.Itoa(d.Tests), "failures", strconv.Itoa(d.Failures),
		"errors", strconv.Itoa(d.Errors), "skipped", strconv.Itoa(d.Skipped), "time", d.Time)
	for _, s := range d.Suites {
		s.write(x)
	}
	x.close(len(d.Suites) > 0, 0, "testsuites")
}

func (s xmlSuite) write(x *xmlWriter) {
	x.open(1, "testsuite", "name", s.Name, "tests", strconv.Itoa(s.Tests), "failures", strconv.Itoa(s.Failures),
		"errors", strconv.Itoa(s.Errors), "skipped", strconv.Itoa(s.Skipped), "time", s.Time)
	if len(s.Properties) > 0 {
		x.open(2, "properties")
		for _, p := range s.Properties {
			x.open(3, "property", "name", p.Name, "value", p.Value)
			x.close(false, 3, "property")
		}
		x.close(true, 2, "properties")
	}
	for _, c := range s.Cases {
		x.open(2, "testcase", "classname", c.ClassName, "name", c.Name, "time", c.Time)
		switch {
		case c.Failure != nil:
			x.open(3, "failure", "message", c.Failure.Message, "type", c.Failure.Type)
			x.text(c.Failure.Text)
			x.close(false, 3, "failure")
		case c.Skipped != nil:
			x.open(3, "skipped", "message", c.Skipped.Message)
			x.close(false, 3, "skipped")
		}
		x.close(c.Failure != nil || c.Skipped != nil, 2, "testcase")
	}
	x.close(true, 1, "testsuite")
}

// xmlWriter writes elements indented by two spaces a level, never self-closed.
type xmlWriter struct{ strings.Builder }

// open starts an element, on a line of its own below the root; attrs are name, value pairs.
func (x *xmlWriter) open(depth int, name string, attrs ...string) {
	if depth > 0 {
		x.WriteString("\n" + strings.Repeat("  ", depth))
	}
	x.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.WriteString(" " + attrs[i] + `="`)
		x.text(attrs[i+1])
		x.WriteByte('"')
	}
	x.WriteByte('>')
}

// close ends an element: on a line of its own after children, right after its start or text
// otherwise.
func (x *xmlWriter) close(hadChildren bool, depth int, name string) {
	if hadChildren {
		x.WriteString("\n" + strings.Repeat("  ", depth))
	}
	x.WriteString("</" + name + ">")
	if depth == 0 {
		x.WriteByte('\n')
	}
}

// text writes s escaped for both character data and attribute values: markup characters and
// whitespace other than spaces as references, and what XML 1.0 cannot hold (control characters,
// invalid UTF-8) as U+FFFD.
func (x *xmlWriter) text(s string) {
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		switch {
		case r == '"':
			x.WriteString("&#34;")
		case r == '\'':
			x.WriteString("&#39;")
		case r == '&':
			x.WriteString("&amp;")
		case r == '<':
			x.WriteString("&lt;")
		case r == '>':
			x.WriteString("&gt;")
		case r == '\t':
			x.WriteString("&#x9;")
		case r == '\n':
			x.WriteString("&#xA;")
		case r == '\r':
			x.WriteString("&#xD;")
		case r == utf8.RuneError && width == 1, !xmlChar(r):
			x.WriteRune(utf8.RuneError)
		default:
			x.WriteString(s[i-width : i])
		}
	}
}

// xmlChar reports whether XML 1.0 allows r in a document (its Char production).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
