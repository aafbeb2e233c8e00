package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// WaitCmd is `baton wait`.
type WaitCmd struct {
	PipelineIDs []string `arg:"" optional:"" name:"pipeline-id"`
	MaxParallel int      `env:"BATON_MAX_PARALLEL" default:"8"`
	WaitFlags   `embed:""`
	APIFlags    `embed:""`
}

// flagDocs is how --help shows WaitCmd's flags (see help.go).
func (WaitCmd) flagDocs() map[string]flagDoc {
	return map[string]flagDoc{
		"pipeline-id":  {"", "Pipelines to wait for (default: $BATON_PIPELINE_IDS, which trigger --env-file exports)."},
		"max-parallel": {"N", "Pipelines followed at once (default: ${default})."},
	}
}

// Help is the long help shown by `baton wait --help`.
func (c *WaitCmd) Help() string {
	return `Follows pipelines triggered earlier (by baton trigger, in an earlier step) until every workflow has
finished, printing a line when something changes, and exits 1 when one of them failed.

Examples:
  # In a later step of the job that ran baton trigger --env-file "$BASH_ENV":
  baton wait

  # Specific pipelines, at most 10 minutes, cancelling them if that is not enough:
  baton wait 5034460f-c7c4-4c43-9457-de07e2029e7b --timeout 10m --cancel-on-timeout

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
	if err := c.WaitFlags.validate(true); err != nil {
		return err
	}
	if err := checkOutputs([2]string{"--junit", c.JUnit}, [2]string{"--summary", c.Summary}); err != nil {
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
	f := &follower{flags: c.WaitFlags, api: client, deps: d, progress: newProgress(d.Stdout)}

	outcomes := make([]dispatch.Outcome, len(ids))
	slots := make(chan struct{}, max(c.MaxParallel, 1))
	var wg sync.WaitGroup
	var panicked atomic.Pointer[dispatch.PanicError]
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { // re-raised below, in the goroutine whose recover redacts it
				if v := recover(); v != nil {
					panicked.CompareAndSwap(nil, &dispatch.PanicError{Value: v, Stack: debug.Stack()})
					cancel()
				}
			}()
			slots <- struct{}{}
			defer func() { <-slots }()
			p, err := client.GetPipeline(ctx, id)
			if err != nil {
				outcomes[i].Err = fmt.Errorf("pipeline %s: %w", id, c.explain(err))
				return
			}
			project, err := slug.Parse(p.ProjectSlug)
			if err != nil {
				outcomes[i].Err = fmt.Errorf("pipeline %s: the API named its project %q: %w", id, p.ProjectSlug, err)
				return
			}
			outcomes[i].Followed, outcomes[i].Err = f.follow(ctx, id, label(p.ProjectSlug, p.Number), report.AppURL(host, project.AppPath(), p.Number))
		}()
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p)
	}

	if err := c.WaitFlags.writeReports(d, true, followResults(outcomes)); err != nil {
		return err
	}
	var failures []error
	for _, o := range outcomes {
		if o.Err != nil {
			failures = append(failures, o.Err)
		}
	}
	return worst(d, failures, outcomes)
}
