package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/slug"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// WaitFlags are the flags of following downstream pipelines: `trigger --wait` and `wait`.
type WaitFlags struct {
	Timeout           time.Duration `env:"BATON_TIMEOUT" default:"30m"`
	PollInterval      time.Duration `env:"BATON_POLL_INTERVAL" default:"5s"`
	OnHold            string        `env:"BATON_ON_HOLD" enum:"wait,succeed,fail" default:"wait"`
	CancelOnTimeout   bool          `env:"BATON_CANCEL_ON_TIMEOUT"`
	CancelOnInterrupt bool          `env:"BATON_CANCEL_ON_INTERRUPT"`
	AllowNoWorkflows  bool          `env:"BATON_ALLOW_NO_WORKFLOWS"`
	JUnit             string        `name:"junit" env:"BATON_JUNIT"`
	Summary           string        `env:"BATON_SUMMARY"`
}

// flagDocs is how --help shows WaitFlags's flags (see help.go).
func (WaitFlags) flagDocs() map[string]flagDoc {
	return map[string]flagDoc{
		"timeout":             {"DURATION", "Stop waiting after DURATION and exit 4 (default: ${default})."},
		"poll-interval":       {"DURATION", "First wait between polls; it grows towards 30s while nothing changes (default: ${default})."},
		"on-hold":             {"", "What a workflow waiting for an approval means: wait, succeed or fail (default: ${default})."},
		"cancel-on-timeout":   {"", "Cancel the downstream workflows still running when --timeout passes."},
		"cancel-on-interrupt": {"", "Cancel the downstream workflows still running when baton is interrupted (SIGINT or SIGTERM, as when the upstream job is canceled)."},
		"allow-no-workflows":  {"", "Count a downstream pipeline that ran no workflow (its filters excluded all) as a success."},
		"junit":               {"FILE", "Write the downstream workflows and jobs as JUnit XML to FILE, for store_test_results; written even when they fail."},
		"summary":             {"FILE", "Write a short Markdown report of the downstream pipelines to FILE, for store_artifacts."},
	}
}

func (w *WaitFlags) validate(waiting bool) error {
	switch {
	case w.Timeout <= 0:
		return exitcode.Usagef("--timeout %s: must be positive", w.Timeout)
	case w.PollInterval <= 0:
		return exitcode.Usagef("--poll-interval %s: must be positive", w.PollInterval)
	case !waiting && (w.JUnit != "" || w.Summary != ""):
		return exitcode.Usagef("--junit and --summary report what happened downstream: they need --wait")
	}
	return nil
}

// follower follows pipelines with the watcher and renders what it sees.
type follower struct {
	flags    WaitFlags
	failFast bool // a follow whose context ends early was stopped by --fail-fast: cancel downstream
	api      watch.API
	deps     *Deps
	progress *progress
}

// followResult is one followed pipeline; it is what dispatch keeps as Outcome.Followed.
type followResult struct {
	label  string // gh/acme/deploy #12
	url    string // the pipeline's page
	result *watch.Result
}

func (r *followResult) ExitCode() int { return r.result.Outcome.ExitCode() }

func (f *follower) follow(ctx context.Context, pipelineID, label, pipelineURL string) (dispatch.Followed, error) {
	res, err := watch.Watch(ctx, f.api, pipelineID, watch.Options{
		PollInterval:      f.flags.PollInterval,
		OnHold:            watch.OnHold(f.flags.OnHold),
		AllowNoWorkflows:  f.flags.AllowNoWorkflows,
		CancelOnTimeout:   f.flags.CancelOnTimeout,
		CancelOnInterrupt: f.flags.CancelOnInterrupt || f.failFast,
		AllJobs:           f.flags.JUnit != "" || f.flags.Summary != "",
		Sleep:             f.deps.Sleep,
		OnEvent:           func(e watch.Event) { f.progress.event(label, pipelineURL, e) },
	})
	if res == nil || res.Outcome == "" {
		if err == nil {
			err = errors.New("the watch ended without an outcome")
		}
		return nil, fmt.Errorf("follow %s: %w", label, err)
	}
	f.progress.line("%s: %s after %s: %s", label, res.Outcome, res.Finished.Sub(res.Started).Round(time.Second), res.Reason)
	return &followResult{label: label, url: pipelineURL, result: res}, nil
}

func label(project string, number int64) string { return fmt.Sprintf("%s #%d", project, number) }

func triggeredLine(host *url.URL, project slug.Slug, number int64, recovered bool) string {
	line := fmt.Sprintf("%s: triggered %s", label(project.String(), number), report.AppURL(host, project.AppPath(), number))
	if recovered {
		line += " (its answer was lost; found by looking it up, not sent twice)"
	}
	return line
}

// progress writes the lines people read while baton waits, one at a time.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// event renders one change the watcher saw: what changed, when, and where to look.
func (p *progress) event(label, pipelineURL string, e watch.Event) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %s (%s)", label, e.Message, e.Elapsed.Round(time.Second))
	if e.Workflow != nil {
		sb.WriteString(" " + report.WorkflowURL(pipelineURL, e.Workflow.ID))
		for _, j := range e.FailedJobs {
			fmt.Fprintf(&sb, "\n    job %s %s", j.Name, j.Status)
			if j.JobNumber != nil {
				sb.WriteString(" " + report.JobURL(pipelineURL, e.Workflow.ID, *j.JobNumber))
			}
		}
	}
	p.line("%s", sb.String())
}

// worst is the command's error for its outcomes: every failure but the last is printed, the last
// is returned carrying the worst exit code; when only downstream pipelines failed, a line saying
// which.
func worst(d *Deps, failures []error, outcomes []dispatch.Outcome) error {
	code := dispatch.WorstExitCode(outcomes)
	switch {
	case len(failures) > 0:
		for _, err := range failures[:len(failures)-1] {
			fmt.Fprintf(d.Stderr, "baton: %s\n", d.redact(err.Error()))
		}
		return exitcode.Wrap(code, failures[len(failures)-1])
	case code != exitcode.OK:
		return exitcode.Wrap(code, errors.New(failedSummary(outcomes)))
	}
	return nil
}

func followResults(outcomes []dispatch.Outcome) []*followResult {
	var out []*followResult
	for _, o := range outcomes {
		if r, ok := o.Followed.(*followResult); ok {
			out = append(out, r)
		}
	}
	return out
}

// writeReports prints the end-of-run table and writes the JUnit and Markdown files; the files
// are written whatever the outcome, since a failure is when they are most wanted.
func (w *WaitFlags) writeReports(d *Deps, table bool, results []*followResult) error {
	ds := downstreams(results)
	if table && len(ds) > 0 {
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

// downstreams turns watch results into the report's terms.
func downstreams(results []*followResult) []report.Downstream {
	var ds []report.Downstream
	for _, r := range results {
		res := r.result
		d := report.Downstream{
			Label:    r.label,
			URL:      r.url,
			Outcome:  string(res.Outcome),
			Reason:   res.Reason,
			Duration: res.Finished.Sub(res.Started),
		}
		if res.Pipeline != nil {
			d.Project, d.Number = res.Pipeline.ProjectSlug, res.Pipeline.Number
		}
		for _, w := range res.Workflows {
			d.Workflows = append(d.Workflows, workflowReport(r.url, w))
		}
		ds = append(ds, d)
	}
	return ds
}

func workflowReport(pipelineURL string, w watch.WorkflowResult) report.WorkflowReport {
	wr := report.WorkflowReport{
		Name:     w.Workflow.Name,
		Status:   w.Workflow.Status,
		URL:      report.WorkflowURL(pipelineURL, w.Workflow.ID),
		Duration: span(&w.Workflow.CreatedAt, w.Workflow.StoppedAt),
	}
	for _, j := range w.Jobs {
		jr := report.JobReport{Name: j.Name, Status: j.Status, Duration: span(j.StartedAt, j.StoppedAt)}
		if j.JobNumber != nil {
			jr.URL = report.JobURL(pipelineURL, w.Workflow.ID, *j.JobNumber)
		}
		wr.Jobs = append(wr.Jobs, jr)
	}
	return wr
}

func span(start, stop *time.Time) time.Duration {
	if start == nil || stop == nil || start.IsZero() {
		return 0
	}
	return stop.Sub(*start)
}
