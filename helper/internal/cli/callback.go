package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/callback"
	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// CallbackFlags are trigger's side of the callback pattern (orb/README.md, "The callback pattern").
type CallbackFlags struct {
	Callback          string
	CallbackParameter string

	ref string // the reference sent, once prepare has built it
}

// flagDocs is everything about CallbackFlags's flags but their Go fields (see help.go).
func (CallbackFlags) flagDocs() []flagDoc { return callbackFlagDocs }

// callbackFlagDocs is CallbackFlags's flag table, laid out by the linker rather than built on each run.
var callbackFlagDocs = []flagDoc{
	{name: "callback", env: "BATON_CALLBACK", placeholder: "JOB", help: "Approval job of this workflow that the downstream approves when done.", group: groupWaiting},
	{name: "callback-parameter", env: "BATON_CALLBACK_PARAMETER", def: "baton_callback", placeholder: "NAME", help: "Parameter for the --callback reference (default: ${default}).", group: groupWaiting},
}

// isParamName reports whether s is what CircleCI accepts as a pipeline parameter's name: a
// letter, then letters, digits, _ and -. (A loop, not a regular expression compiled when the
// process starts, which every command would pay for.)
func isParamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '_' || c == '-')) {
			return false
		}
	}
	return s != ""
}

// prepare builds the reference of --callback from CircleCI's built-in $CIRCLE_WORKFLOW_ID and
// reports whether there is one. A callback waits until the pipelines start (an errored one, or
// one that runs nothing, would leave the approval on hold for ever), and not until they end:
// that is what it saves.
func (f *CallbackFlags) prepare(d *Deps, wait bool) (bool, error) {
	if f.Callback == "" {
		if d.givenFlag("callback-parameter") {
			return false, exitcode.Usagef("--callback-parameter names the parameter of --callback: give --callback too")
		}
		return false, nil
	}
	if wait {
		return false, exitcode.Usagef("--callback %s: the downstream pipeline approves %s when it is done, so waiting for it here (--wait) would pay for the wait the callback saves; drop --wait", f.Callback, f.Callback)
	}
	if !isParamName(f.CallbackParameter) || len(f.CallbackParameter) > params.MaxKeyLen {
		return false, exitcode.Usagef("--callback-parameter %q: not a pipeline parameter name (a letter, then letters, digits, _ and -)", f.CallbackParameter)
	}
	if d.secrets().Contains(f.Callback) { // the reference is a pipeline parameter anyone can read
		return false, exitcode.Usagef("--callback holds the API token; CircleCI shows pipeline parameters to everyone who can see the project, so nothing was sent")
	}
	workflow, _ := d.LookupEnv("CIRCLE_WORKFLOW_ID")
	ref, err := callback.New(strings.TrimSpace(workflow), f.Callback)
	if err != nil {
		return false, err
	}
	f.ref = ref.String()
	return true, nil
}

// addParam adds the reference to a trigger's parameters, as a string.
func (f *CallbackFlags) addParam(t *request.Trigger) error {
	if f.ref == "" {
		return nil
	}
	for _, p := range t.Params {
		if p.Key == f.CallbackParameter {
			return exitcode.Usagef("pipeline parameter %s: --callback sends it itself; remove it from the parameters", p.Key)
		}
	}
	t.Params = append(t.Params, params.Param{Key: f.CallbackParameter, Value: f.ref})
	return nil
}

// settle counts, with a callback, a pipeline that had already ended when it was first read
// (fast, or failing early) as started: it ran its workflows, so its last job calls back, and
// the upstream's result job reports how it ended. A pipeline that could not call back (errored,
// ran nothing, canceled) or was not triggered still fails the trigger.
func (f *CallbackFlags) settle(d *Deps, rows []row) {
	if f.ref == "" {
		return
	}
	for i := range rows {
		r := &rows[i]
		switch r.outcome {
		case "success", "failed":
			fmt.Fprintf(d.Stderr, "baton: %s had already %s when first read; its callback approves %s, and the result job reports it\n", r.label, report.OutcomeText(r.outcome), terminalText(f.Callback))
			r.outcome, r.reason, r.code = "started", "", exitcode.OK
		}
	}
}

// CallbackCmd is `baton callback`, run by the downstream pipeline's last job.
type CallbackCmd struct {
	Reference       string
	AllowedProjects string
	Timeout         time.Duration
	PollInterval    time.Duration
	APIFlags        `embed:""`
}

// flagDocs is everything about CallbackCmd's flags but their Go fields (see help.go).
func (CallbackCmd) flagDocs() []flagDoc { return callbackCmdDocs }

// callbackCmdDocs is CallbackCmd's flag table, laid out by the linker rather than built on each run.
var callbackCmdDocs = []flagDoc{
	{name: "reference", env: "BATON_CALLBACK_REFERENCE", placeholder: "REF", help: "The callback reference this pipeline was triggered with (its baton_callback parameter); empty: not called back, nothing to do."},
	{name: "allowed-projects", env: "BATON_ALLOWED_PROJECTS", placeholder: "ENTRIES", help: "Upstream approval jobs this pipeline may approve, each as PROJECT:JOB (e.g. gh/acme/deploy:await-e2e), separated by spaces, commas or lines; required with a reference. A project alone is refused; PROJECT:* allows any approval job of PROJECT, and each approval it grants says so."},
	{name: "timeout", env: "BATON_TIMEOUT", def: "10m", placeholder: "DURATION", help: "How long to wait for this pipeline's other workflows to end, and for the upstream approval job to go on hold (default: ${default})."},
	{name: "poll-interval", env: "BATON_POLL_INTERVAL", def: "5s", placeholder: "DURATION", help: "First wait between looks while waiting; it doubles up to 30s (default: ${default})."},
}

// Help is the long help shown by `baton callback --help`.
func (c *CallbackCmd) Help() string {
	return `Approves the upstream workflow's approval job named in the callback reference, so that the upstream
(which triggered this pipeline with baton trigger --callback and stopped at that job without a
running container) goes on to read this pipeline's result. Run it as the last job of the
downstream workflow, after every other job whatever their outcome (requires: [{test: terminal}]):
it approves on failure too, and the upstream's pipeline-result job fails with this pipeline.

It approves only when all of these hold, and otherwise approves nothing:
  - the reference is well-formed (an empty one means this pipeline was not called back: exit 0);
  - --allowed-projects names the job with the upstream workflow's project as the API names it
    (PROJECT:JOB), or allows any of that project's approval jobs (PROJECT:*);
  - the named job is the one job of that name in it, of type approval, and on hold (while it is
    still blocked behind the upstream trigger job, baton waits up to --timeout).
The reference is a pipeline parameter: anyone who can start this pipeline with a value of their
choosing can write one. --allowed-projects is what limits it to the approval jobs you name.

Before approving it waits (up to --timeout, then goes on) for this pipeline's other workflows
to end, so the upstream reads a finished pipeline. An approval already given, or an upstream
workflow canceled or ended meanwhile, is said in one line and exits 0: a rerun is harmless.

The host and token are this pipeline's own (--host, --token-env); the reference carries neither.

Examples:
  # The downstream's last job (the orb's callback job does this): only the await-e2e approval
  # job of gh/acme/deploy's workflows may be approved.
  baton callback --reference "$BATON_CALLBACK_REFERENCE" --allowed-projects gh/acme/deploy:await-e2e

  # Any approval job of gh/acme/deploy (each approval says it was allowed by the wildcard):
  baton callback --reference "$BATON_CALLBACK_REFERENCE" --allowed-projects 'gh/acme/deploy:*'

` + exitCodes + `
  (callback: 2 also when the reference is refused — a job --allowed-projects does not name, not
  an approval job — and nothing was approved)`
}

// Run approves the referenced approval job when every condition holds.
func (c *CallbackCmd) Run(d *Deps) error {
	raw := strings.TrimSpace(c.Reference)
	// A list given is checked even without a reference, so that a wrong one fails the pipelines
	// nobody called back too, not first the one that matters.
	var allow callback.AllowList
	var err error
	if raw != "" || strings.TrimSpace(c.AllowedProjects) != "" {
		if allow, err = callback.ParseAllowList(c.AllowedProjects); err != nil {
			return err
		}
	}
	if raw == "" {
		fmt.Fprintln(d.Stdout, "baton: no callback reference: this pipeline was not triggered with baton trigger --callback; nothing to approve")
		return nil
	}
	ref, err := callback.Parse(raw)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"timeout", c.Timeout}, {"poll-interval", c.PollInterval}} {
		if f.d <= 0 {
			return exitcode.Usagef("--%s %s: must be positive", f.name, f.d)
		}
	}
	token, err := c.requireToken(d)
	if err != nil {
		return err
	}
	host, err := c.host()
	if err != nil {
		return err
	}
	client, err := c.client(d, host, token)
	if err != nil {
		return err
	}
	ctx, stop := d.interruptible(d.Context)
	defer stop()
	cb := &caller{cmd: c, d: d, api: client, ref: ref}

	upstream, err := client.GetWorkflow(ctx, ref.WorkflowID)
	if err != nil {
		return c.explain(fmt.Errorf("upstream workflow %s: %w", ref.WorkflowID, err))
	}
	if err := callback.CheckWorkflow(upstream, allow); err != nil {
		return err
	}
	wildcard, err := callback.CheckJob(upstream, ref.Job, allow)
	if err != nil {
		return err
	}
	cb.wildcard = wildcard
	cb.upstream = upstream
	cb.url = upstreamURL(host, upstream)
	if own, ok := d.LookupEnv("CIRCLE_WORKFLOW_ID"); ok && slug.IsUUID(strings.TrimSpace(own)) {
		if err := cb.waitForSiblings(ctx, strings.TrimSpace(own)); err != nil {
			return err
		}
	}
	return cb.approve(ctx)
}

// caller carries one callback through its steps.
type caller struct {
	cmd      *CallbackCmd
	d        *Deps
	api      *circleci.Client
	ref      callback.Reference
	upstream *circleci.Workflow
	url      string
	wildcard string // the PROJECT:* entry that alone allows the job; "" when it is named
}

// what names the approval job and its workflow for messages.
func (cb *caller) what() string {
	return fmt.Sprintf("approval job %s of %s workflow %s", terminalText(cb.ref.Job), terminalText(cb.upstream.ProjectSlug), terminalText(cb.upstream.Name))
}

// pause waits the current interval (never past deadline, on the injected clock) and doubles
// it, up to 30s; false when the deadline has come or ctx ended.
func (cb *caller) pause(ctx context.Context, interval *time.Duration, deadline time.Time) bool {
	left := deadline.Sub(cb.d.clock())
	if left <= 0 {
		return false
	}
	sleep := cb.d.Sleep
	if sleep == nil {
		sleep = circleci.Sleep
	}
	err := sleep(ctx, min(*interval, left))
	*interval = min(*interval*2, max(30*time.Second, cb.cmd.PollInterval))
	return err == nil && ctx.Err() == nil
}

// waitForSiblings waits, up to --timeout, until this pipeline's workflows other than own are
// no longer running, so the upstream's result job reads them finished. After that it goes on:
// the result job follows whatever still runs.
func (cb *caller) waitForSiblings(ctx context.Context, own string) error {
	self, err := cb.api.GetWorkflow(ctx, own)
	if err != nil {
		return cb.cmd.explain(fmt.Errorf("this workflow %s: %w", own, err))
	}
	deadline := cb.d.clock().Add(cb.cmd.Timeout)
	interval, told := cb.cmd.PollInterval, false
	for {
		all, err := cb.api.ListPipelineWorkflows(ctx, self.PipelineID)
		if err != nil {
			return cb.cmd.explain(fmt.Errorf("this pipeline's workflows: %w", err))
		}
		var running []string
		for _, w := range all {
			if w.ID != self.ID && (w.Status == circleci.WorkflowRunning || w.Status == circleci.WorkflowFailing) {
				running = append(running, terminalText(w.Name))
			}
		}
		if len(running) == 0 {
			return nil
		}
		if !told {
			fmt.Fprintf(cb.d.Stdout, "baton: waiting for this pipeline's other workflows to end before calling back: %s\n", strings.Join(running, ", "))
			told = true
		}
		if !cb.pause(ctx, &interval, deadline) {
			if ctx.Err() != nil {
				return context.Cause(ctx) // a signal: its exit code
			}
			fmt.Fprintf(cb.d.Stdout, "baton: %s still running after %s; calling back anyway (the upstream's result job follows them)\n", strings.Join(running, ", "), cb.cmd.Timeout)
			return nil
		}
	}
}

// approve approves the job once it is on hold, waiting up to --timeout while it is blocked.
func (cb *caller) approve(ctx context.Context) error {
	deadline := cb.d.clock().Add(cb.cmd.Timeout)
	interval, told := cb.cmd.PollInterval, false
	for {
		if callback.WorkflowOver(cb.upstream.Status) {
			fmt.Fprintf(cb.d.Stdout, "baton: nothing approved: the upstream workflow is %s, so its %s can no longer be approved (%s)\n", terminalText(cb.upstream.Status), cb.what(), cb.url)
			return nil
		}
		jobs, err := cb.api.ListWorkflowJobs(ctx, cb.ref.WorkflowID)
		if err != nil {
			return cb.cmd.explain(fmt.Errorf("upstream workflow %s: %w", cb.ref.WorkflowID, err))
		}
		d, err := callback.Choose(jobs, cb.ref.Job)
		if err != nil {
			return err
		}
		switch d.Verdict {
		case callback.Approve:
			return cb.post(ctx, d.RequestID)
		case callback.Approved:
			fmt.Fprintf(cb.d.Stdout, "baton: %s was already approved; nothing to do (%s)\n", cb.what(), cb.url)
			return nil
		case callback.Over:
			fmt.Fprintf(cb.d.Stdout, "baton: nothing approved: %s is %s (%s)\n", cb.what(), terminalText(d.Status), cb.url)
			return nil
		}
		if !told {
			fmt.Fprintf(cb.d.Stdout, "baton: %s is %s, not on hold yet; waiting for it\n", cb.what(), terminalText(d.Status))
			told = true
		}
		if !cb.pause(ctx, &interval, deadline) {
			if ctx.Err() != nil {
				return context.Cause(ctx) // a signal: its exit code
			}
			return exitcode.Wrap(exitcode.Timeout, fmt.Errorf("%s was still %s after %s; nothing approved", cb.what(), terminalText(d.Status), cb.cmd.Timeout))
		}
		if cb.upstream, err = cb.api.GetWorkflow(ctx, cb.ref.WorkflowID); err != nil {
			return cb.cmd.explain(fmt.Errorf("upstream workflow %s: %w", cb.ref.WorkflowID, err))
		}
	}
}

// post sends the approval. An error after which the job shows approved was an attempt that
// went through (its answer lost); anything else is the error.
func (cb *caller) post(ctx context.Context, requestID string) error {
	err := cb.api.ApproveJob(ctx, cb.ref.WorkflowID, requestID)
	if err != nil {
		jobs, lerr := cb.api.ListWorkflowJobs(ctx, cb.ref.WorkflowID)
		if d, cerr := callback.Choose(jobs, cb.ref.Job); lerr != nil || cerr != nil || d.Verdict != callback.Approved {
			return cb.cmd.explain(fmt.Errorf("approve %s: %w", cb.what(), err))
		}
	}
	by := ""
	if cb.wildcard != "" {
		by = " (allowed by the wildcard " + terminalText(cb.wildcard) + ")"
	}
	fmt.Fprintf(cb.d.Stdout, "baton: approved %s%s (%s)\n", cb.what(), by, cb.url)
	return nil
}

// upstreamURL is the upstream workflow's page ("" when the API named no usable project).
func upstreamURL(host *url.URL, w *circleci.Workflow) string {
	p, err := slug.Parse(w.ProjectSlug)
	if err != nil {
		return ""
	}
	return report.WorkflowURL(report.AppURL(host, p.AppPath(), w.PipelineNumber), w.ID)
}
