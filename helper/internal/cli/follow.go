package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/slug"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// WaitFlags are the flags of following downstream pipelines: `trigger --wait` (or --wait-start)
// and `wait`.
type WaitFlags struct {
	WaitStart         bool          `env:"BATON_WAIT_START"`
	Timeout           time.Duration `env:"BATON_TIMEOUT" default:"30m"`
	PollInterval      time.Duration `env:"BATON_POLL_INTERVAL" default:"5s"`
	MaxInterval       time.Duration `env:"BATON_MAX_INTERVAL" default:"30s"`
	Heartbeat         time.Duration `env:"BATON_HEARTBEAT" default:"3m"`
	OnHold            string        `env:"BATON_ON_HOLD" enum:"wait,succeed,fail" default:"wait"`
	CancelOnTimeout   bool          `env:"BATON_CANCEL_ON_TIMEOUT"`
	CancelOnInterrupt bool          `env:"BATON_CANCEL_ON_INTERRUPT"`
	AllowNoWorkflows  bool          `env:"BATON_ALLOW_NO_WORKFLOWS"`
	NoWorkflowsGrace  time.Duration `env:"BATON_NO_WORKFLOWS_GRACE" default:"2m"`
	SoftFail          bool          `env:"BATON_SOFT_FAIL"`
	JUnit             string        `name:"junit" env:"BATON_JUNIT"`
	Summary           string        `env:"BATON_SUMMARY"`
}

// flagDocs is how --help shows WaitFlags's flags (see help.go).
func (WaitFlags) flagDocs() map[string]flagDoc {
	return map[string]flagDoc{
		"wait-start":          {"", "Wait only until the pipelines' workflows have started (or a pipeline errored or ran nothing), then exit: catches undeclared parameters and config errors in seconds."},
		"timeout":             {"DURATION", "Stop waiting after DURATION and exit 4 (default: ${default})."},
		"poll-interval":       {"DURATION", "First wait between polls, and the wait after a change (default: ${default})."},
		"max-interval":        {"DURATION", "Longest wait between polls while nothing changes; a change is seen at most this late (default: ${default})."},
		"heartbeat":           {"DURATION", "While waiting, print what is still running at least this often, so CI does not end a quiet step (default: ${default})."},
		"on-hold":             {"", "What a workflow waiting for an approval means: wait, succeed or fail (default: ${default})."},
		"cancel-on-timeout":   {"", "Cancel the downstream workflows still running when --timeout passes."},
		"cancel-on-interrupt": {"", "Cancel the downstream workflows still running when baton is interrupted (SIGINT or SIGTERM, as when the upstream job is canceled)."},
		"allow-no-workflows":  {"", "Count a downstream pipeline that ran no workflow (its filters excluded all) as a success."},
		"no-workflows-grace":  {"DURATION", "How long a pipeline may show no workflow (or a setup workflow nothing to continue to) before it counts as having run none (default: ${default})."},
		"soft-fail":           {"", "Report a downstream pipeline that failed, errored, ran nothing or was canceled, but exit 0 for it; trigger, API, usage errors and timeouts still fail."},
		"junit":               {"FILE", "Write the downstream workflows and jobs as JUnit XML to FILE, for store_test_results; written even when they fail."},
		"summary":             {"FILE", "Write a short Markdown report of the downstream pipelines to FILE, for store_artifacts."},
	}
}

// waitOnly are the flags that mean something only while waiting: given on the command line
// without --wait or --wait-start they are refused; set only in the environment (the orb sets
// them all) they are ignored.
var waitOnly = []string{"timeout", "poll-interval", "max-interval", "heartbeat", "on-hold",
	"cancel-on-timeout", "cancel-on-interrupt", "allow-no-workflows", "no-workflows-grace",
	"soft-fail", "junit", "summary"}

// check validates the flags for a command that waits (waiting) or not. Without waiting, the
// wait-only flags given on the command line are refused and those from the environment cleared.
func (w *WaitFlags) check(d *Deps, waiting bool) error {
	if !waiting {
		for _, name := range waitOnly {
			if d.givenFlag(name) {
				return exitcode.Usagef("--%s is about waiting for the pipelines: it needs --wait or --wait-start", name)
			}
		}
		*w = WaitFlags{}
		return nil
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"timeout", w.Timeout}, {"poll-interval", w.PollInterval}, {"max-interval", w.MaxInterval},
		{"heartbeat", w.Heartbeat}, {"no-workflows-grace", w.NoWorkflowsGrace}} {
		if f.d <= 0 {
			return exitcode.Usagef("--%s %s: must be positive", f.name, f.d)
		}
	}
	if w.MaxInterval < w.PollInterval {
		return exitcode.Usagef("--max-interval %s: shorter than --poll-interval %s", w.MaxInterval, w.PollInterval)
	}
	return nil
}

// watchOptions are the tracker options the flags ask for.
func (w *WaitFlags) watchOptions(cancelWhenStopped bool) watch.Options {
	return watch.Options{
		PollInterval:      w.PollInterval,
		MaxInterval:       w.MaxInterval,
		OnHold:            watch.OnHold(w.OnHold),
		AllowNoWorkflows:  w.AllowNoWorkflows,
		NoWorkflowsGrace:  w.NoWorkflowsGrace,
		WaitStart:         w.WaitStart,
		CancelOnTimeout:   w.CancelOnTimeout,
		CancelOnInterrupt: w.CancelOnInterrupt || cancelWhenStopped,
		AllJobs:           w.JUnit != "" || w.Summary != "",
	}
}

// OutputFlags say where the result goes: stdout as text or JSON, a JSON file, shell lines.
type OutputFlags struct {
	Output     string `enum:"text,json" default:"text"`
	ResultFile string `env:"BATON_RESULT_FILE"`
	EnvFile    string `env:"BATON_ENV_FILE"`
}

// flagDocs is how --help shows OutputFlags's flags (see help.go).
func (OutputFlags) flagDocs() map[string]flagDoc {
	return map[string]flagDoc{
		"output":      {"", "How to print the result: text or json, which lists every project with its outcome (default: ${default})."},
		"result-file": {"FILE", "Also write the result as JSON to FILE."},
		"env-file":    {"FILE", "Append export BATON_PIPELINE_ID=…, BATON_PIPELINE_NUMBER=…, BATON_PIPELINE_URL=… (and BATON_OUTCOME once waited for) to FILE (point it at $BASH_ENV)."},
	}
}

// clock is Deps.Now, or time.Now.
func (d *Deps) clock() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// pipelineRef is a pipeline to follow, as the CLI names it.
type pipelineRef struct {
	key   int
	id    string
	label string // gh/acme/deploy #12
	url   string // the pipeline's page
}

// follower follows pipelines with one scheduler and renders what it sees.
type follower struct {
	flags    WaitFlags
	failFast bool // a pipeline stopped early was stopped by --fail-fast: cancel downstream
	api      watch.API
	deps     *Deps
	view     renderer
	total    int       // pipelines in all, for the heartbeat
	deadline time.Time // when --timeout passes
}

// followResult is one followed pipeline; it is what dispatch keeps as Outcome.Followed.
type followResult struct {
	pipelineRef
	result *watch.Result
}

func (r *followResult) ExitCode() int { return r.result.Outcome.ExitCode() }

// run follows every pipeline received on in until each has ended and in is closed, telling
// done of each as it ends.
func (f *follower) run(ctx context.Context, in <-chan pipelineRef, done func(key int, r *followResult, err error)) {
	var mu sync.Mutex
	refs := map[int]pipelineRef{}
	watchOpts := f.flags.watchOptions(f.failFast)
	if api, ok := f.api.(watch.Insights); ok { // one history for all the pipelines
		watchOpts.Expect = watch.NewHistory(api).Expect
	}
	opts := follow.Options{
		Watch:     watchOpts,
		Heartbeat: f.flags.Heartbeat,
		Total:     f.total,
		Sleep:     f.deps.Sleep,
		Now:       f.deps.Now,
		Deadline:  f.deadline,
		OnEvent: func(ev follow.Event) {
			mu.Lock()
			ref := refs[ev.Key]
			mu.Unlock()
			f.view.event(ref, ev)
		},
		OnDone: func(key int, res *watch.Result, err error) {
			mu.Lock()
			ref := refs[key]
			mu.Unlock()
			if res == nil || res.Outcome == "" {
				if err == nil {
					err = errors.New("the watch ended without an outcome")
				}
				f.view.ended(ref, nil, err)
				done(key, nil, fmt.Errorf("follow %s: %w", ref.label, err))
				return
			}
			if res.Outcome == watch.NoWorkflows {
				res.Reason += "; --allow-no-workflows counts that as a success"
			}
			f.view.ended(ref, res, nil)
			done(key, &followResult{pipelineRef: ref, result: res}, nil)
		},
	}
	if f.view.live() {
		opts.Heartbeat = time.Second // the live view redraws its clocks on each beat
	}
	s := follow.New(f.api, opts)
	go func() {
		for ref := range in {
			mu.Lock()
			refs[ref.key] = ref
			mu.Unlock()
			s.Add(follow.Pipeline{Key: ref.key, ID: ref.id, Label: ref.label})
		}
		s.Close()
	}()
	s.Run(ctx)
}

// triggerFollower is the follower as dispatch.Run's Follower.
type triggerFollower struct {
	*follower
	host *url.URL
}

func (t triggerFollower) Follow(ctx context.Context, created <-chan dispatch.Created, done func(dispatch.Created, dispatch.Followed, error)) {
	in := make(chan pipelineRef)
	var mu sync.Mutex
	byKey := map[int]dispatch.Created{}
	go func() {
		defer close(in)
		for c := range created {
			mu.Lock()
			byKey[c.Index] = c
			mu.Unlock()
			p := c.Target.Trigger.Project
			in <- pipelineRef{key: c.Index, id: c.Triggered.Creation.ID,
				label: label(p.String(), c.Triggered.Creation.Number),
				url:   report.AppURL(t.host, p.AppPath(), c.Triggered.Creation.Number)}
		}
	}()
	t.run(ctx, in, func(key int, r *followResult, err error) {
		mu.Lock()
		c := byKey[key]
		mu.Unlock()
		if r == nil {
			done(c, nil, err)
			return
		}
		done(c, r, err)
	})
}

func label(project string, number int64) string { return fmt.Sprintf("%s #%d", project, number) }

// row is one project of a run as the reports show it, whatever became of it.
type row struct {
	project   string
	id        string // the pipeline's ID, when nothing else gives it (baton wait could not read it)
	ref       request.Ref
	label     string // gh/acme/deploy #12, or the project alone when no pipeline was created
	url       string
	triggered *dispatch.Triggered // nil when not triggered
	result    *watch.Result       // nil when not followed
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
			r.result = f.result
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
			r.soft = r.code == exitcode.Failed
		case "not_sent":
			r.soft = r.code == exitcode.Failed && strings.Contains(r.reason, "--fail-fast")
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

// result is the rows as the JSON result and env file show them.
func result(rows []row) report.Result {
	res := report.Result{Pipelines: make([]report.Pipeline, 0, len(rows))}
	code, worst := exitCode(rows)
	res.ExitCode = code
	if len(rows) > 0 {
		res.Outcome = rows[worst].outcome
	}
	for _, r := range rows {
		p := report.Pipeline{Project: r.project, ID: r.id, Ref: r.ref.Branch, URL: r.url, Outcome: r.outcome, Reason: r.reason, ExitCode: r.code}
		switch {
		case r.ref.Tag != "":
			p.Ref, p.RefType = r.ref.Tag, "tag"
		case r.ref.Branch != "":
			p.RefType = "branch"
		}
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
				p.Workflows = append(p.Workflows, workflowResult(r.url, w))
			}
		}
		res.Pipelines = append(res.Pipelines, p)
	}
	return res
}

func workflowResult(pipelineURL string, w watch.WorkflowResult) report.WorkflowResult {
	wr := report.WorkflowResult{Name: w.Workflow.Name, ID: w.Workflow.ID, Status: w.Workflow.Status, URL: report.WorkflowURL(pipelineURL, w.Workflow.ID)}
	for _, j := range w.Jobs {
		if !slices.Contains([]string{"failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized", "on_hold"}, j.Status) {
			continue
		}
		fj := report.FailedJob{Name: j.Name, Status: j.Status}
		if j.JobNumber != nil {
			fj.Number = *j.JobNumber
			fj.URL = report.JobURL(pipelineURL, w.Workflow.ID, *j.JobNumber)
		}
		wr.FailedJobs = append(wr.FailedJobs, fj)
	}
	return wr
}

// emitResult prints the JSON result when asked and writes the result and env files.
func (o *OutputFlags) emitResult(d *Deps, res report.Result) error {
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
				d.Workflows = append(d.Workflows, workflowReport(r.url, w))
			}
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
		return exitcode.Wrap(code, rowError(rows[worst]))
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

// readPipelines reads the pipelines baton wait was given, at most parallel at a time, and sends
// each one read on out, as it is read; it closes out once every one is read or failed.
func readPipelines(ctx context.Context, api interface {
	GetPipeline(context.Context, string) (*circleci.Pipeline, error)
}, host *url.URL, ids []string, parallel int, out chan<- pipelineRef, failed func(i int, err error)) {
	defer close(out)
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() { // carried to the caller, whose recover redacts it
				if v := recover(); v != nil {
					failed(i, &dispatch.PanicError{Value: v, Stack: debug.Stack()})
				}
			}()
			p, err := api.GetPipeline(ctx, id)
			if err != nil {
				failed(i, fmt.Errorf("pipeline %s: %w", id, err))
				return
			}
			project, err := slug.Parse(p.ProjectSlug)
			if err != nil {
				failed(i, fmt.Errorf("pipeline %s: the API named its project %q: %w", id, p.ProjectSlug, err))
				return
			}
			out <- pipelineRef{key: i, id: id, label: label(p.ProjectSlug, p.Number), url: report.AppURL(host, project.AppPath(), p.Number)}
		}()
	}
	wg.Wait()
}
