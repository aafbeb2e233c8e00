package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
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
		s := suiteOf(d)
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		total += d.Duration
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteJUnitFile writes JUnit to path (e.g. test-results/baton/results.xml, under the directory
// given to store_test_results), replacing what was there and creating its directory.
func WriteJUnitFile(path string, ds []Downstream) error {
	return writeFile(path, func(w io.Writer) error { return JUnit(w, ds) })
}

type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name       string        `xml:"name,attr"`
	Tests      int           `xml:"tests,attr"`
	Failures   int           `xml:"failures,attr"`
	Errors     int           `xml:"errors,attr"`
	Skipped    int           `xml:"skipped,attr"`
	Time       string        `xml:"time,attr"`
	Properties []xmlProperty `xml:"properties>property,omitempty"`
	Cases      []xmlCase     `xml:"testcase"`
}

type xmlProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xmlCase struct {
	ClassName string      `xml:"classname,attr"`
	Name      string      `xml:"name,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlFailure `xml:"failure,omitempty"`
	Skipped   *xmlSkipped `xml:"skipped,omitempty"`
}

type xmlFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type xmlSkipped struct {
	Message string `xml:"message,attr"`
}

// suiteOf is one pipeline's testsuite.
func suiteOf(d Downstream) xmlSuite {
	title := displayName(d)
	s := xmlSuite{Name: title, Time: seconds(d.Duration)}
	for _, p := range []xmlProperty{{"url", d.URL}, {"pipeline_id", d.ID}, {"outcome", d.Outcome}, {"reason", d.Reason}} {
		if p.Value != "" {
			s.Properties = append(s.Properties, p)
		}
	}
	for _, wf := range d.Workflows {
		if wf.Jobs == nil {
			s.Cases = append(s.Cases, caseOf(wf.Name, wf.Name, "workflow", wf.Status, wf.URL, wf.Duration))
			continue
		}
		for _, j := range wf.Jobs {
			s.Cases = append(s.Cases, caseOf(wf.Name, j.Name, "job", j.Status, firstOf(j.URL, wf.URL), j.Duration))
		}
	}
	failed := false
	for _, c := range s.Cases {
		failed = failed || c.Failure != nil
	}
	if (d.Outcome != "success" && !failed) || len(s.Cases) == 0 {
		c := xmlCase{ClassName: "pipeline", Name: title, Time: seconds(d.Duration)}
		if d.Outcome != "success" {
			msg := "pipeline " + outcomeText(d.Outcome)
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
