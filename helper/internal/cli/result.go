package cli

// What a run came to: one row per project whatever became of it, the JSON result and env file
// made of the rows, the end table, JUnit and summary, and the command's error and exit code.

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// OutputFlags say where the result goes: stdout as text or JSON, a JSON file, shell lines.
type OutputFlags struct {
	Output     string
	ResultFile string
	EnvFile    string
}

// flagDocs is everything about OutputFlags's flags but their Go fields (see help.go).
func (OutputFlags) flagDocs() []flagDoc { return outputFlagDocs }

// outputFlagDocs is OutputFlags's flag table, laid out by the linker rather than built on each run.
var outputFlagDocs = []flagDoc{
	{name: "output", def: "text", enum: "text,json", help: "text, or json listing every pipeline with its outcome (default: ${default}).", group: groupResults},
	{name: "result-file", env: "BATON_RESULT_FILE", placeholder: "FILE", help: "Also write the result as JSON to FILE.", group: groupResults},
	{name: "env-file", env: "BATON_ENV_FILE", placeholder: "FILE", help: "Append the result to FILE as export lines, e.g. to $BASH_ENV.", group: groupResults},
}

// row is one project of a run as the reports show it, whatever became of it.
type row struct {
	project   string
	id        string // the pipeline's ID, when nothing else gives it (baton wait could not read it)
	ref       request.Ref
	label     string // gh/acme/deploy #12, or the project alone when no pipeline was created
	url       string
	triggered *dispatch.Triggered // nil when not triggered
	result    *watch.Result       // nil when not followed
	detail    *pipelineDetail     // what was learnt about its jobs; nil when nothing
	outcome   string
	reason    string
	code      int
	err       error // what went wrong, for a row not followed to an outcome
	soft      bool  // --soft-fail: a downstream failure that does not fail the run
}

// rowsOf turns dispatch's outcomes into rows.
func rowsOf(host *url.URL, outcomes []dispatch.Outcome, explain func(error) error) []row {
	rows := make([]row, len(outcomes))
	for i, o := range outcomes {
		t := o.Target.Trigger
		r := row{project: t.Project.String(), ref: t.Ref, label: t.Project.String(), triggered: o.Triggered, code: o.ExitCode()}
		if o.Triggered != nil && o.Triggered.Creation != nil {
			r.label = label(r.project, o.Triggered.Creation.Number)
			r.url = report.AppURL(host, t.Project.AppPath(), o.Triggered.Creation.Number)
			r.outcome = "triggered"
		}
		if f, ok := o.Followed.(*followResult); ok {
			r.result, r.detail = f.result, f.detail
			r.outcome, r.reason = string(f.result.Outcome), f.result.Reason
		}
		if o.Err != nil {
			err := explain(o.Err)
			r.err = err
			var canceled *dispatch.CanceledError
			switch {
			case o.Triggered == nil && o.Started.IsZero():
				r.outcome = "not_sent"
				if errors.As(err, &canceled) {
					r.reason = "not sent: canceled by --fail-fast after " + canceled.By + " failed"
				} else {
					r.reason = strings.TrimPrefix(err.Error(), "trigger "+r.project+": ")
				}
			case o.Triggered == nil && (errors.Is(err, circleci.ErrOutcomeUnknown) || exitcode.Of(err) == exitcode.Unreachable):
				r.outcome, r.reason = "unknown", err.Error()
			case o.Triggered == nil || o.Triggered.Creation == nil:
				r.outcome, r.reason = "trigger_failed", err.Error()
			case r.result == nil:
				r.outcome, r.reason = "unknown", err.Error() // the follow gave up on API errors
			}
		}
		rows[i] = r
	}
	return rows
}

// applySoftFail marks the rows --soft-fail lets pass: a downstream pipeline that failed,
// errored, ran nothing or was canceled (also by --fail-fast), and the projects --fail-fast did
// not send because of one.
func applySoftFail(rows []row) {
	for i := range rows {
		r := &rows[i]
		switch r.outcome {
		case "failed", "errored", "no_workflows", "canceled":
			r.soft = r.code == exitcode.Failed || r.code == exitcode.Canceled
		case "not_sent":
			r.soft = r.code == exitcode.Canceled && strings.Contains(r.reason, "--fail-fast")
		}
	}
}

// exitCode is the run's exit code: the worst of the rows' (see dispatch.WorstExitCode), those
// --soft-fail lets pass counted as 0; and the row it comes from.
func exitCode(rows []row) (int, int) {
	outcomes := make([]dispatch.Outcome, len(rows))
	for i, r := range rows {
		if r.code != exitcode.OK && !r.soft {
			outcomes[i].Err = exitcode.Wrap(r.code, errors.New(r.outcome))
		}
	}
	code := dispatch.WorstExitCode(outcomes)
	for i, o := range outcomes {
		if o.ExitCode() == code {
			return code, i
		}
	}
	return code, 0
}

// refFields is a ref as the result shows it: the branch or tag and which it is; "", "" for the
// project's default branch.
func refFields(ref request.Ref) (name, kind string) {
	switch {
	case ref.Tag != "":
		return ref.Tag, "tag"
	case ref.Branch != "":
		return ref.Branch, "branch"
	}
	return "", ""
}

// result is the rows as the JSON result and env file show them.
func result(rows []row) report.Result {
	res := report.Result{Pipelines: make([]report.Pipeline, 0, len(rows))}
	code, worst := exitCode(rows)
	res.ExitCode = code
	if len(rows) > 0 {
		res.Outcome = rows[worst].outcome
	}
	for _, r := range rows {
		p := report.Pipeline{Project: r.project, ID: r.id, URL: r.url, Outcome: r.outcome, Reason: r.reason, ExitCode: r.code}
		p.Ref, p.RefType = refFields(r.ref)
		if r.soft {
			p.ExitCode = exitcode.OK
		}
		if tr := r.triggered; tr != nil {
			p.Attempts, p.Recovered = tr.Attempts, tr.Recovered
			if c := tr.Creation; c != nil {
				p.ID, p.Number, p.State = c.ID, c.Number, c.State
				created := c.CreatedAt
				p.CreatedAt = &created
			}
		}
		if res := r.result; res != nil {
			if pl := res.Pipeline; pl != nil {
				p.ID, p.Number, p.State = pl.ID, pl.Number, pl.State
			}
			start, end := res.Span()
			p.CreatedAt, p.FinishedAt = &start, &end
			p.Duration = end.Sub(start).Round(time.Second).Seconds()
			for _, w := range res.Workflows {
				p.Workflows = append(p.Workflows, workflowResult(r.url, w, r.detail))
			}
			if r.detail != nil {
				p.Artifacts = r.detail.artifacts
			}
		}
		res.Pipelines = append(res.Pipelines, p)
	}
	return res
}

func workflowResult(pipelineURL string, w watch.WorkflowResult, details *pipelineDetail) report.WorkflowResult {
	wr := report.WorkflowResult{Name: w.Workflow.Name, ID: w.Workflow.ID, Status: w.Workflow.Status, URL: report.WorkflowURL(pipelineURL, w.Workflow.ID)}
	for _, j := range w.Jobs {
		if !watch.JobFailed(j.Status) && j.Status != circleci.WorkflowOnHold {
			continue
		}
		fj := report.FailedJob{Name: j.Name, Status: j.Status}
		if j.JobNumber != nil {
			fj.Number = *j.JobNumber
			fj.URL = report.JobURL(pipelineURL, w.Workflow.ID, *j.JobNumber)
		}
		failedJobResult(&fj, details.jobDetail(j.JobNumber))
		wr.FailedJobs = append(wr.FailedJobs, fj)
	}
	return wr
}

// emitResult prints the JSON result when asked and writes the result and env files. A run
// that did not succeed and was interrupted by a signal exits with the signal's code, and its
// result says so.
func (o *OutputFlags) emitResult(d *Deps, res report.Result) error {
	if sig := d.signaled(); sig != nil && res.ExitCode != exitcode.OK {
		res.ExitCode = sig.ExitCode()
	}
	if o.Output == "json" {
		if err := report.JSON(d.Stdout, res); err != nil {
			return err
		}
	}
	if o.ResultFile != "" {
		if err := d.writeFile(o.ResultFile, false, func(w io.Writer) error { return report.JSON(w, res) }); err != nil {
			return fmt.Errorf("--result-file %s: %w", o.ResultFile, err)
		}
	}
	if o.EnvFile != "" {
		if err := d.writeFile(o.EnvFile, true, func(w io.Writer) error { _, err := io.WriteString(w, report.EnvLines(res)); return err }); err != nil {
			return fmt.Errorf("--env-file %s: %w", o.EnvFile, err)
		}
	}
	return nil
}

// writeReports prints the end-of-run table (for more than one project) and writes the JUnit and
// Markdown files; the files are written whatever the outcome, since a failure is when they are
// most wanted.
func (w *WaitFlags) writeReports(d *Deps, table bool, rows []row) error {
	ds := downstreams(rows)
	if table && len(ds) > 1 {
		if err := report.Table(d.Stdout, ds); err != nil {
			return err
		}
	}
	if w.JUnit != "" {
		if err := d.writeFile(w.JUnit, false, func(out io.Writer) error { return report.JUnit(out, ds) }); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if w.Summary != "" {
		if err := d.writeFile(w.Summary, false, func(out io.Writer) error { return report.Summary(out, ds) }); err != nil {
			return fmt.Errorf("--summary: %w", err)
		}
	}
	return nil
}

// downstreams turns rows into the report's terms.
func downstreams(rows []row) []report.Downstream {
	var ds []report.Downstream
	for _, r := range rows {
		d := report.Downstream{Label: r.label, Project: r.project, URL: r.url, Outcome: r.outcome, Reason: r.reason}
		if r.triggered != nil && r.triggered.Creation != nil {
			d.ID, d.Number = r.triggered.Creation.ID, r.triggered.Creation.Number
		}
		if res := r.result; res != nil {
			d.Duration = res.Duration()
			if res.Pipeline != nil {
				d.ID, d.Number = res.Pipeline.ID, res.Pipeline.Number
			}
			for _, w := range res.Workflows {
				d.Workflows = append(d.Workflows, workflowReport(r.url, res, w, r.detail))
			}
		}
		ds = append(ds, d)
	}
	return ds
}

func workflowReport(pipelineURL string, res *watch.Result, w watch.WorkflowResult, details *pipelineDetail) report.WorkflowReport {
	wr := report.WorkflowReport{
		Name:     w.Workflow.Name,
		Status:   w.Workflow.Status,
		URL:      report.WorkflowURL(pipelineURL, w.Workflow.ID),
		Duration: res.WorkflowDuration(w.Workflow),
	}
	for _, j := range w.Jobs {
		jr := report.JobReport{Name: j.Name, Status: j.Status, Duration: res.JobDuration(j), Detail: details.jobDetail(j.JobNumber)}
		if j.JobNumber != nil {
			jr.URL = report.JobURL(pipelineURL, w.Workflow.ID, *j.JobNumber)
		}
		wr.Jobs = append(wr.Jobs, jr)
	}
	return wr
}

// conclude returns the command's error for its rows: nil when the exit code is 0; else the
// error of the row that carries the worst exit code. With one project it says what happened to
// it; with several, which ones did not succeed (the table above gave the reasons). The failures
// of rows not waited for (a fan-out without --wait) are printed first, one line each.
func conclude(d *Deps, rows []row, waited bool) error {
	code, worst := exitCode(rows)
	var soft []string
	for _, r := range rows {
		if r.soft {
			soft = append(soft, r.label+" "+report.OutcomeText(r.outcome))
		}
	}
	if len(soft) > 0 {
		fmt.Fprintf(d.Stderr, "baton: --soft-fail: exit %d although %s\n", code, terminalText(strings.Join(soft, ", ")))
	}
	if code == exitcode.OK {
		return nil
	}
	if len(rows) == 1 || !waited {
		// Each failure in a line of its own, the worst last, carrying the exit code.
		for i, r := range rows {
			if r.code != exitcode.OK && !r.soft && i != worst {
				fmt.Fprintf(d.Stderr, "baton: %s\n", d.redact(rowError(r).Error()))
			}
		}
		err := exitcode.Wrap(code, rowError(rows[worst]))
		if len(rows) == 1 && rows[0].outcome == string(watch.Interrupted) && rows[0].result != nil {
			// Its end line said why and what was canceled; saying it again would be noise.
			return &toldError{err}
		}
		return err
	}
	var bad []string
	for _, r := range rows {
		if r.code != exitcode.OK && !r.soft {
			bad = append(bad, r.label+" "+report.OutcomeText(r.outcome))
		}
	}
	return exitcode.Wrap(code, fmt.Errorf("%d of %d downstream pipelines did not succeed: %s", len(bad), len(rows), strings.Join(bad, ", ")))
}

// rowError says what became of a row that did not succeed, in one line.
func rowError(r row) error {
	if r.result != nil {
		return errors.New(terminalText(endLine(r.label, r.result, true)))
	}
	if r.err != nil {
		return r.err
	}
	return errors.New(r.label + ": " + report.OutcomeText(r.outcome))
}
