package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/slug"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// WaitFlags are the flags of following downstream pipelines: `trigger --wait` (or --wait-start)
// and `wait`.
type WaitFlags struct {
	WaitStart         bool
	Timeout           time.Duration
	PollInterval      time.Duration
	MaxInterval       time.Duration
	Heartbeat         time.Duration
	OnHold            string
	CancelOnTimeout   bool
	CancelOnInterrupt bool
	AllowNoWorkflows  bool
	NoWorkflowsGrace  time.Duration
	SoftFail          bool
	JUnit             string `name:"junit"`
	Summary           string
	DetailFlags       `embed:""` // why downstream jobs failed, and their artifacts (detail.go)
}

// flagDocs is everything about WaitFlags's flags but their Go fields (see help.go).
func (WaitFlags) flagDocs() []flagDoc { return waitFlagDocs }

// waitFlagDocs is WaitFlags's flag table, laid out by the linker rather than built on each run.
var waitFlagDocs = []flagDoc{
	{name: "wait-start", env: "BATON_WAIT_START", help: "Wait only until the pipelines' workflows have started, then exit.", group: groupWaiting},
	{name: "timeout", env: "BATON_TIMEOUT", def: "30m", placeholder: "DURATION", help: "Stop waiting after DURATION and exit 4 (default: ${default}).", group: groupWaiting},
	{name: "poll-interval", env: "BATON_POLL_INTERVAL", def: "5s", placeholder: "DURATION", help: "First wait between polls, and after a change (default: ${default}).", group: groupWaiting},
	{name: "max-interval", env: "BATON_MAX_INTERVAL", def: "30s", placeholder: "DURATION", help: "Longest wait between polls while nothing changes (default: ${default}).", group: groupWaiting},
	{name: "heartbeat", env: "BATON_HEARTBEAT", def: "3m", placeholder: "DURATION", help: "Print what is still running at least this often (default: ${default}).", group: groupWaiting},
	{name: "on-hold", env: "BATON_ON_HOLD", def: "wait", enum: "wait,succeed,fail", help: "On hold for an approval means: wait, succeed or fail (default: ${default}).", group: groupWaiting},
	{name: "cancel-on-timeout", env: "BATON_CANCEL_ON_TIMEOUT", help: "Cancel the downstream workflows still running at --timeout.", group: groupWaiting},
	{name: "cancel-on-interrupt", env: "BATON_CANCEL_ON_INTERRUPT", help: "Cancel them when baton is interrupted (SIGINT or SIGTERM).", group: groupWaiting},
	{name: "allow-no-workflows", env: "BATON_ALLOW_NO_WORKFLOWS", help: "Count a pipeline that ran no workflow as a success.", group: groupWaiting},
	{name: "no-workflows-grace", env: "BATON_NO_WORKFLOWS_GRACE", def: "2m", placeholder: "DURATION", help: "How long a pipeline may show no workflow (default: ${default}).", group: groupWaiting},
	{name: "soft-fail", env: "BATON_SOFT_FAIL", help: "Report a downstream pipeline that failed, but exit 0 for it.", group: groupWaiting},
	{name: "junit", env: "BATON_JUNIT", placeholder: "FILE", help: "Write the downstream workflows and jobs as JUnit XML to FILE.", group: groupResults},
	{name: "summary", env: "BATON_SUMMARY", placeholder: "FILE", help: "Write a Markdown summary of the downstream pipelines to FILE.", group: groupResults},
}

// waitOnly are the flags that mean something only while waiting: given on the command line
// without --wait or --wait-start they are refused; set only in the environment (the orb sets
// them all) they are ignored.
var waitOnly = []string{"timeout", "poll-interval", "max-interval", "heartbeat", "on-hold",
	"cancel-on-timeout", "cancel-on-interrupt", "allow-no-workflows", "no-workflows-grace",
	"soft-fail", "junit", "summary", "log-lines", "artifacts-dir", "artifacts", "junit-all-tests"}

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
	return w.DetailFlags.check()
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
		AllJobs:           w.JUnit != "" || w.Summary != "" || w.ArtifactsDir != "",
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
	// created is the line saying it was triggered (report.TriggeredLine); "" for a pipeline
	// baton wait was given.
	created string
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
	detail *pipelineDetail // failed jobs' tests and log tails, artifacts (detail.go)
	stop   error           // with an interrupted outcome: why the follow was stopped (a signal)
}

// ExitCode is the outcome's, except that an interrupted one exits with the code of what
// interrupted it: 143 for SIGTERM, 130 for SIGINT.
func (r *followResult) ExitCode() int {
	if r.result.Outcome == watch.Interrupted && exitcode.Coded(r.stop) {
		return exitcode.Of(r.stop)
	}
	return r.result.Outcome.ExitCode()
}

// run follows every pipeline received on in until each has ended and in is closed, telling
// done of each as it ends.
func (f *follower) run(ctx context.Context, in <-chan pipelineRef, done func(key int, r *followResult, err error)) {
	var mu sync.Mutex
	refs := map[int]pipelineRef{}
	watchOpts := f.flags.watchOptions(f.failFast)
	if api, ok := f.api.(watch.Insights); ok { // one history for all the pipelines
		watchOpts.Expect = watch.NewHistory(api).Expect
	}
	dt := newDetailer(f.api, f.flags.DetailFlags) // reads why failed jobs failed, as they fail
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
			dt.onEvent(ctx, ref, ev, f.view)
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
			details := dt.onDone(ctx, ref, res, f.view)
			f.view.ended(ref, res, nil)
			fr := &followResult{pipelineRef: ref, result: res, detail: details}
			if res.Outcome == watch.Interrupted {
				fr.stop = context.Cause(ctx)
			}
			done(key, fr, nil)
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
	dt.downloadArtifacts(ctx, f.view)
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
