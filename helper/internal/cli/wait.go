package cli

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// WaitCmd is `baton wait`.
type WaitCmd struct {
	PipelineIDs []string `arg:"" optional:"" name:"pipeline-id"`
	WaitFlags   `embed:""`
	MaxParallel int
	OutputFlags `embed:""`
	APIFlags    `embed:""`
}

// flagDocs is everything about WaitCmd's flags but their Go fields (see help.go).
func (WaitCmd) flagDocs() []flagDoc { return waitCmdDocs }

// waitCmdDocs is WaitCmd's flag table, laid out by the linker rather than built on each run.
var waitCmdDocs = []flagDoc{
	{name: "env-file", help: "Append export BATON_OUTCOME=… and the pipelines' BATON_PIPELINE_ID=…, BATON_PIPELINE_URL=… to FILE, e.g. $BASH_ENV."},
	{name: "pipeline-id", help: "Pipelines to wait for (default: $BATON_PIPELINE_IDS, which trigger --env-file exports)."},
	{name: "max-parallel", env: "BATON_MAX_PARALLEL", def: "8", placeholder: "N", help: "Pipelines read at once to start with; all of them are followed together (default: ${default}).", group: groupWaiting},
}

// Help is the long help shown by `baton wait --help`.
func (c *WaitCmd) Help() string {
	return `Follows pipelines triggered earlier (by baton trigger, in an earlier step) until every workflow has
finished, printing a line when something changes and what is still running every --heartbeat,
and exits 1 when one of them failed (6 when one was canceled and none failed).

Examples:
  # In a later step of the job that ran baton trigger --env-file "$BASH_ENV":
  baton wait

  # Specific pipelines, at most 10 minutes, cancelling them if that is not enough:
  baton wait 5034460f-c7c4-4c43-9457-de07e2029e7b --timeout 10m --cancel-on-timeout

  # How they ended, for a later step:
  baton wait --output json --result-file results/downstream.json

` + exitCodes
}

// Run waits for every pipeline and returns the worst outcome.
func (c *WaitCmd) Run(d *Deps) error {
	ids := c.PipelineIDs
	if len(ids) == 0 {
		env, _ := d.LookupEnv("BATON_PIPELINE_IDS")
		ids = strings.Fields(env)
	}
	if len(ids) == 0 {
		return exitcode.Usagef("no pipeline to wait for: give pipeline ids, or run baton trigger --env-file \"$BASH_ENV\" in an earlier step so that $BATON_PIPELINE_IDS is set")
	}
	for _, id := range ids {
		if !slug.IsUUID(id) {
			return exitcode.Usagef("pipeline id %q: not a UUID (a pipeline's id, as baton trigger prints it)", id)
		}
	}
	token, err := c.requireToken(d)
	if err != nil {
		return err
	}
	if err := c.WaitFlags.check(d, true); err != nil {
		return err
	}
	if err := checkOutputs([2]string{"--result-file", c.ResultFile}, [2]string{"--env-file", c.EnvFile},
		[2]string{"--junit", c.JUnit}, [2]string{"--summary", c.Summary}); err != nil {
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
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	view := newRenderer(d, d.Stdout)
	if c.Output == "json" {
		view = &lines{w: d.Stderr}
	}
	f := &follower{flags: c.WaitFlags, api: client, deps: d, view: view, total: len(ids), deadline: d.clock().Add(c.Timeout)}

	rows := make([]row, len(ids))
	var mu sync.Mutex // readPipelines reports failures from its goroutines
	var panicked atomic.Pointer[dispatch.PanicError]
	in := make(chan pipelineRef)
	go readPipelines(ctx, client, host, ids, c.MaxParallel, in, func(i int, err error) {
		var p *dispatch.PanicError
		if errors.As(err, &p) {
			panicked.CompareAndSwap(nil, p)
			cancel()
		}
		err = c.explain(err)
		mu.Lock()
		defer mu.Unlock()
		rows[i] = unreadRow(ids[i], err)
	})
	f.run(ctx, in, func(key int, r *followResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		rows[key] = waitRow(ids[key], r, err)
	})
	view.close()
	if p := panicked.Load(); p != nil {
		panic(p) // re-raised here, where Run's recover redacts it
	}
	if c.SoftFail {
		applySoftFail(rows)
	}
	if err := c.OutputFlags.emitResult(d, result(rows)); err != nil {
		return err
	}
	if err := c.WaitFlags.writeReports(d, c.Output == "text", rows); err != nil {
		return err
	}
	return conclude(d, rows, true)
}

// unreadRow is the row of a pipeline baton wait could not read or follow to an outcome.
func unreadRow(id string, err error) row {
	return row{id: id, label: id, outcome: "unknown", reason: err.Error(), code: exitcode.Of(err), err: err}
}

// waitRow is the row of a pipeline baton wait followed.
func waitRow(id string, r *followResult, err error) row {
	if r == nil {
		return unreadRow(id, err)
	}
	res := r.result
	rw := row{label: r.label, url: r.url, result: res, detail: r.detail, outcome: string(res.Outcome), reason: res.Reason, code: r.ExitCode()}
	if p := res.Pipeline; p != nil {
		rw.project = p.ProjectSlug
		if p.VCS != nil {
			rw.ref = request.Ref{Branch: p.VCS.Branch, Tag: p.VCS.Tag}
		}
	}
	return rw
}
