package report

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/safetext"
)

// This file holds the downstream report types that the CLI fills from watch results (this
// package does not know the watcher), the app links of workflows and jobs, and the Markdown
// summary. junit.go and table.go render the same types.

// Downstream is one followed pipeline, as the end-of-run reports show it.
type Downstream struct {
	Label     string        // optional name for the pipeline in text, e.g. "gh/acme/deploy #12"; "" → Project and pipeline number
	Project   string        // project slug, e.g. gh/acme/deploy
	ID        string        // pipeline ID
	Number    int64         // pipeline number; 0 when unknown (then ID is shown)
	URL       string        // the pipeline's app page, as AppURL builds it
	Outcome   string        // as Pipeline.Outcome: success, failed, errored, no_workflows, canceled, timed_out, interrupted, …
	Reason    string        // one line, e.g. "workflow deploy failed (job rollout failed)"
	Duration  time.Duration // how long it ran (or was waited for); 0 when unknown
	Workflows []WorkflowReport
}

// WorkflowReport is one workflow (its latest attempt) of a downstream pipeline.
type WorkflowReport struct {
	Name     string
	Status   string // the API's workflow status: success, failed, on_hold, …
	URL      string // WorkflowURL(pipeline URL, workflow ID)
	Duration time.Duration
	Jobs     []JobReport // nil when the jobs were not listed
}

// JobReport is one job of a workflow.
type JobReport struct {
	Name     string
	Status   string // the API's job status: success, failed, timedout, blocked, …
	URL      string // JobURL(…); "" for approval jobs and jobs that never started
	Duration time.Duration
	Detail   *JobDetail // why it failed (tests, log tail); nil when not looked at (detail.go)
}

// WorkflowURL is the app page of a workflow, below the page of its pipeline (as AppURL builds
// it): …/pipelines/github/acme/api/42/workflows/<id>. "" when either part is missing.
func WorkflowURL(pipelineURL, workflowID string) string {
	if pipelineURL == "" || workflowID == "" {
		return ""
	}
	return strings.TrimRight(pipelineURL, "/") + "/workflows/" + url.PathEscape(workflowID)
}

// JobURL is the app page of a job: …/workflows/<id>/jobs/<number>. "" when the job has no
// number (approval jobs, jobs that never started) or a part is missing.
func JobURL(pipelineURL, workflowID string, jobNumber int64) string {
	w := WorkflowURL(pipelineURL, workflowID)
	if w == "" || jobNumber <= 0 {
		return ""
	}
	return w + "/jobs/" + strconv.FormatInt(jobNumber, 10)
}

// Summary writes a short Markdown report: a table of the pipelines (project, pipeline, status,
// duration, link), then, for each pipeline that did not succeed, its reason and the workflows
// and jobs that did not succeed, with links.
func Summary(w io.Writer, ds []Downstream) error {
	var b bytes.Buffer
	b.WriteString("## Downstream pipelines\n\n")
	b.WriteString("| Project | Pipeline | Status | Duration | Link |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, d := range ds {
		link := "-"
		if d.URL != "" {
			link = mdLink("open", d.URL)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
			mdCell(d.Project), mdCell(pipelineLabel(d)), mdCell(OutcomeText(d.Outcome)), duration(d.Duration), link)
	}
	for _, d := range ds {
		if succeeded(d.Outcome) {
			continue
		}
		fmt.Fprintf(&b, "\n### %s: %s\n", mdText(displayName(d)), mdText(OutcomeText(d.Outcome)))
		if d.Reason != "" {
			fmt.Fprintf(&b, "\n%s\n", mdText(d.Reason))
		}
		var lines []string
		for _, wf := range d.Workflows {
			if wf.Status == "success" {
				continue
			}
			lines = append(lines, fmt.Sprintf("- workflow %s: %s", linked(wf.Name, wf.URL), mdText(statusText(wf.Status))))
			for _, j := range wf.Jobs {
				if j.Status == "success" {
					continue
				}
				lines = append(lines, fmt.Sprintf("  - job %s: %s", linked(j.Name, j.URL), mdText(statusText(j.Status))))
				lines = append(lines, summaryDetail(j.Detail, "    ")...)
			}
		}
		if len(lines) > 0 {
			b.WriteString("\n" + strings.Join(lines, "\n") + "\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// displayName is how a pipeline is named in text: its Label, else "gh/acme/api #42".
func displayName(d Downstream) string {
	if d.Label != "" {
		return d.Label
	}
	return firstOf(d.Project, "-") + " " + pipelineLabel(d)
}

// pipelineLabel is "#42", or the ID when the number is unknown.
func pipelineLabel(d Downstream) string {
	switch {
	case d.Number > 0:
		return "#" + strconv.FormatInt(d.Number, 10)
	case d.ID != "":
		return d.ID
	}
	return "-"
}

// OutcomeText is an outcome for people: no_workflows → "no workflows".
func OutcomeText(o string) string {
	switch o {
	case "":
		return "unknown"
	case "success":
		return "succeeded"
	}
	return strings.ReplaceAll(o, "_", " ")
}

// succeeded reports whether an outcome needs no reason shown: success, started (with
// --wait-start), triggered (not waited for).
func succeeded(o string) bool { return o == "success" || o == "started" || o == "triggered" }

// statusText is a workflow or job status for people.
func statusText(s string) string {
	switch s {
	case "timedout":
		return "timed out"
	case "infrastructure_fail":
		return "infrastructure failure"
	case "terminated-unknown":
		return "terminated"
	case "on_hold":
		return "waiting for approval"
	case "":
		return "unknown"
	}
	return strings.ReplaceAll(s, "_", " ")
}

// duration is a duration for a report: 2m30s, 1h5m, 45s; "-" when unknown.
func duration(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d < time.Second {
		return "<1s"
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// mdText is s (server text included) as literal Markdown text on one line (see
// safetext.Markdown).
func mdText(s string) string { return safetext.Markdown(s) }

// mdCell is s as a table cell.
func mdCell(s string) string {
	if s == "" || s == "-" { // "-" stands for nothing, not for a list
		return "-"
	}
	return mdText(s)
}

// mdLink is [text](url), the URL's parentheses and spaces escaped.
func mdLink(text, u string) string {
	u = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u)
	return "[" + mdText(text) + "](" + u + ")"
}

// linked is name as a link to u, or plain when there is no link.
func linked(name, u string) string {
	if u == "" {
		return mdText(name)
	}
	return mdLink(name, u)
}
