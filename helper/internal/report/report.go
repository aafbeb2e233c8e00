// Package report renders what baton did for people (one line per pipeline), for programs (JSON),
// and for later CircleCI steps (shell lines appended to $BASH_ENV).
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/safetext"
)

// Pipeline is one project of a run as the result shows it, whatever became of it: triggered,
// followed to its end, never sent, or refused. Lists are [] rather than null, and times are
// null when unknown.
type Pipeline struct {
	Project string `json:"project"`
	Ref     string `json:"ref"`      // the branch or tag asked for; "" for the project's default branch
	RefType string `json:"ref_type"` // "branch", "tag" or "" (the default branch)
	ID      string `json:"id"`       // "" when no pipeline was created
	Number  int64  `json:"number"`   // 0 when no pipeline was created
	URL     string `json:"url"`
	State   string `json:"state"` // CircleCI's pipeline state as last read ("created", "errored", …)
	// Outcome is how it ended, with the exit code it gives (package exitcode):
	//   success, started (--wait-start), triggered (not waited for)   0
	//   failed, errored, no_workflows (the pipeline did not succeed)  1
	//   canceled (a workflow was canceled and none failed, or --fail-fast stopped it)  6
	//   timed_out  4
	//   interrupted  130 (SIGINT) or 143 (SIGTERM)
	//   not_sent  6 (--fail-fast stopped the run first), 130 or 143 (a signal did), 4 (timed out)
	//   trigger_failed  3 (the API refused the trigger, or created no pipeline)
	//   unknown  5 (the API could not be reached, or the trigger's outcome is unknown), or 3
	//            (the API refused to show the pipeline, e.g. a 404 for baton wait's id)
	// ExitCode is that code, or 0 for one --soft-fail lets pass.
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason"` // one line; "" for a plain success
	ExitCode int    `json:"exit_code"`
	// Attempts is how many times the trigger was sent (more than 1 only after an answer was
	// lost and no pipeline was found); Recovered: the pipeline was found by looking it up.
	Attempts  int  `json:"attempts"`
	Recovered bool `json:"recovered"`
	// CreatedAt is the pipeline's created_at; FinishedAt is when its last workflow stopped (or
	// when baton stopped waiting); Duration is the seconds between them.
	CreatedAt  *time.Time       `json:"created_at"`
	FinishedAt *time.Time       `json:"finished_at"`
	Duration   float64          `json:"duration_seconds"`
	Workflows  []WorkflowResult `json:"workflows"`
	Artifacts  []ArtifactResult `json:"artifacts"` // with --artifacts-dir
}

// WorkflowResult is one workflow (its latest attempt) in the result.
type WorkflowResult struct {
	Name       string      `json:"name"`
	ID         string      `json:"id"`
	Status     string      `json:"status"` // CircleCI's workflow status
	URL        string      `json:"url"`
	FailedJobs []FailedJob `json:"failed_jobs"`
}

// FailedJob is a job whose status means failure (or an approval left waiting).
type FailedJob struct {
	Name   string `json:"name"`
	Number int64  `json:"number"` // 0 for jobs that never ran (approvals)
	Status string `json:"status"`
	URL    string `json:"url"`
	// What was learnt about why it failed (detail.go): its failing tests (the first 100), how many
	// of how many failed, and the last lines of the step that failed.
	FailedTests []TestCase `json:"failed_tests"`
	TestsFailed int        `json:"tests_failed"`
	TestsTotal  int        `json:"tests_total"`
	FailedStep  string     `json:"failed_step"`
	LogTail     []string   `json:"log_tail"`
}

// Result is everything one baton invocation did: the overall outcome (that of the project
// whose exit code is the run's), the exit code, and every project.
type Result struct {
	Outcome   string     `json:"outcome"`
	ExitCode  int        `json:"exit_code"`
	Pipelines []Pipeline `json:"pipelines"`
}

// AppURL is the web page of pipeline number in the project whose app path is appPath
// (github/acme/api). CircleCI cloud serves it from app.circleci.com; a server install, or the
// simulator, from its own host.
func AppURL(host *url.URL, appPath string, number int64) string {
	base := host.Scheme + "://" + host.Host
	if strings.EqualFold(host.Hostname(), "circleci.com") {
		base = "https://app.circleci.com"
	}
	return fmt.Sprintf("%s/pipelines/%s/%d", base, appPath, number)
}

// Text writes one line per pipeline created: what was triggered and where to look.
func Text(w io.Writer, r Result) error {
	for _, p := range r.Pipelines {
		if p.ID == "" {
			continue
		}
		if _, err := fmt.Fprintln(w, TriggeredLine(p)); err != nil {
			return err
		}
	}
	return nil
}

// TriggeredLine is how baton says a pipeline was created, whether it then waits for it or not:
// "triggered gh/acme/api pipeline #42 (branch main): https://app.circleci.com/pipelines/…".
func TriggeredLine(p Pipeline) string {
	on := "default branch"
	if p.Ref != "" {
		on = p.RefType + " " + p.Ref
	}
	return fmt.Sprintf("triggered %s pipeline #%d (%s): %s", p.Project, p.Number, on, p.URL)
}

// JSON writes r as one indented JSON document; lists are [] even when empty.
func JSON(w io.Writer, r Result) error {
	r.Pipelines = nonNil(r.Pipelines)
	for i := range r.Pipelines {
		p := &r.Pipelines[i]
		p.Workflows = nonNil(p.Workflows)
		p.Artifacts = nonNil(p.Artifacts)
		for j := range p.Workflows {
			p.Workflows[j].FailedJobs = nonNil(p.Workflows[j].FailedJobs)
			for k := range p.Workflows[j].FailedJobs {
				fj := &p.Workflows[j].FailedJobs[k]
				fj.FailedTests, fj.LogTail = nonNil(fj.FailedTests), nonNil(fj.LogTail)
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := w.Write(safetext.JSON(b.Bytes())) // server text: no raw C1 or bidi controls
	return err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// EnvLines are `export NAME='value'` lines for a shell to source, for the pipelines created.
// The first is also exported without an index, which is what a job triggering one project
// wants. BATON_OUTCOME is the run's outcome (and BATON_OUTCOME_i each pipeline's, in a
// fan-out), when there is one.
func EnvLines(r Result) string {
	var created []Pipeline
	for _, p := range r.Pipelines {
		if p.ID != "" {
			created = append(created, p)
		}
	}
	var sb strings.Builder
	export := func(name, value string) { fmt.Fprintf(&sb, "export %s=%s\n", name, shellQuote(value)) }
	for i, p := range created {
		if i == 0 {
			export("BATON_PIPELINE_ID", p.ID)
			export("BATON_PIPELINE_NUMBER", fmt.Sprint(p.Number))
			export("BATON_PIPELINE_URL", p.URL)
		}
		if len(created) > 1 {
			export(fmt.Sprintf("BATON_PIPELINE_ID_%d", i), p.ID)
			export(fmt.Sprintf("BATON_PIPELINE_NUMBER_%d", i), fmt.Sprint(p.Number))
			export(fmt.Sprintf("BATON_PIPELINE_URL_%d", i), p.URL)
			if p.Outcome != "" {
				export(fmt.Sprintf("BATON_OUTCOME_%d", i), p.Outcome)
			}
		}
	}
	if len(created) > 0 {
		ids := make([]string, len(created))
		for i, p := range created {
			ids[i] = p.ID
		}
		export("BATON_PIPELINE_IDS", strings.Join(ids, " "))
	}
	if r.Outcome != "" {
		export("BATON_OUTCOME", r.Outcome)
	}
	return sb.String()
}

// shellQuote single-quotes s for POSIX shells: the only byte needing care inside is the quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
