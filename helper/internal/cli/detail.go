package cli

import (
	"context"
	"os"
	"strings"
	"sync"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/detail"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// DetailFlags say what baton reads about the downstream jobs: why a failed one failed (its
// failing tests and the tail of its failing step, read for failed jobs only) and, when asked,
// every job's artifacts.
type DetailFlags struct {
	LogLines      int    `name:"log-lines"`
	ArtifactsDir  string `name:"artifacts-dir"`
	Artifacts     string `name:"artifacts"`
	JUnitAllTests bool   `name:"junit-all-tests"`
}

// detailOnly are DetailFlags's flags, which mean something only while waiting.
var detailOnly = []string{"log-lines", "artifacts-dir", "artifacts", "junit-all-tests"}

// flagDocs is everything about DetailFlags's flags but their Go fields (see help.go).
func (DetailFlags) flagDocs() []flagDoc { return detailFlagDocs }

// detailFlagDocs is DetailFlags's flag table, laid out by the linker rather than built on each run.
var detailFlagDocs = []flagDoc{
	{name: "log-lines", env: "BATON_LOG_LINES", def: "20", placeholder: "N", help: "Print the last N lines of each failed job's failing step; 0: none (default: ${default}).", group: groupDetails},
	{name: "artifacts-dir", env: "BATON_ARTIFACTS_DIR", placeholder: "DIR", help: "Download the downstream jobs' artifacts into DIR/<project>/<job>-<number>/.", group: groupDetails},
	{name: "artifacts", env: "BATON_ARTIFACTS", placeholder: "GLOB", help: "Only the artifacts whose path matches GLOB (** for any folders).", group: groupDetails},
	{name: "junit-all-tests", env: "BATON_JUNIT_ALL_TESTS", help: "Also write the failed jobs' passing tests into --junit.", group: groupDetails},
}

// check refuses values that cannot work, before anything is sent.
func (f *DetailFlags) check() error {
	if f.LogLines < 0 || f.LogLines > detail.MaxLogLines {
		return exitcode.Usagef("--log-lines %d: must be between 0 and %d", f.LogLines, detail.MaxLogLines)
	}
	if f.Artifacts != "" && f.ArtifactsDir == "" {
		return exitcode.Usagef("--artifacts %s: filters what --artifacts-dir downloads; give --artifacts-dir too", f.Artifacts)
	}
	if err := detail.CheckPattern(f.Artifacts); err != nil {
		return exitcode.Usagef("--artifacts %v", err)
	}
	if f.ArtifactsDir != "" { // created when the first artifact is written; an existing file cannot become one
		if info, err := os.Stat(f.ArtifactsDir); err == nil && !info.IsDir() {
			return exitcode.Usagef("--artifacts-dir %s: not a directory", f.ArtifactsDir)
		}
	}
	return nil
}

// detailAPI is what the detailer needs of the client.
type detailAPI interface {
	detail.API
	detail.ArtifactAPI
}

// pipelineDetail is what was learnt about one followed pipeline's jobs.
type pipelineDetail struct {
	jobs      map[int64]*report.JobDetail // failed jobs, by number
	artifacts []report.ArtifactResult
}

// detailer reads the details of failed jobs as their workflows fail, and the artifacts of a
// pipeline once it ended; it prints them through the view, below the job's line.
type detailer struct {
	api  detailAPI
	opts detail.Options
	dl   *detail.Downloader // nil without --artifacts-dir

	mu    sync.Mutex
	byKey map[int]*pipelineDetail
	ended []endedPipeline // whose artifacts are downloaded once every pipeline has ended
}

// endedPipeline is a pipeline whose artifacts are still to be downloaded.
type endedPipeline struct {
	ref pipelineRef
	res *watch.Result
	p   *pipelineDetail
}

// newDetailer is nil when api cannot read details (a test's fake).
func newDetailer(api watch.API, f DetailFlags) *detailer {
	a, ok := api.(detailAPI)
	if !ok {
		return nil
	}
	d := &detailer{api: a, opts: detail.Options{LogLines: f.LogLines, AllTests: f.JUnitAllTests}, byKey: map[int]*pipelineDetail{}}
	if f.ArtifactsDir != "" {
		d.dl = &detail.Downloader{API: a, Dir: f.ArtifactsDir, Pattern: f.Artifacts}
	}
	return d
}

func (d *detailer) pipeline(key int) *pipelineDetail {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.byKey[key]
	if p == nil {
		p = &pipelineDetail{jobs: map[int64]*report.JobDetail{}}
		d.byKey[key] = p
	}
	return p
}

// onEvent reads the details of the failed jobs a workflow event names and prints them below
// the event's lines.
func (d *detailer) onEvent(ctx context.Context, ref pipelineRef, ev follow.Event, view renderer) {
	if d == nil || ev.Kind != watch.EventWorkflow || ev.Workflow == nil || len(ev.FailedJobs) == 0 {
		return
	}
	d.fetch(ctx, ref, ev.Workflow.ProjectSlug, ev.FailedJobs, view, len(ev.FailedJobs) > 1)
}

// fetch reads each failed job not read yet and shows what it found; withHeader names each job
// first (when several failed, or when the job's own line is not just above).
func (d *detailer) fetch(ctx context.Context, ref pipelineRef, slug string, jobs []circleci.Job, view renderer, withHeader bool) {
	p := d.pipeline(ref.key)
	for _, j := range jobs {
		if j.JobNumber == nil || ctx.Err() != nil {
			continue
		}
		d.mu.Lock()
		_, done := p.jobs[*j.JobNumber]
		d.mu.Unlock()
		if done {
			continue
		}
		got := jobDetailOf(detail.Fetch(ctx, d.api, firstNonEmpty(j.ProjectSlug, slug), *j.JobNumber, d.opts))
		d.mu.Lock()
		p.jobs[*j.JobNumber] = got
		d.mu.Unlock()
		if dv, ok := view.(detailView); ok {
			header := ""
			if withHeader {
				header = "job " + j.Name + " " + watch.StatusText(j.Status)
			}
			dv.detail(ref, header, got)
		}
	}
}

// onDone reads what the events did not bring: the failed jobs of workflows whose jobs were
// listed only at the end. It queues the pipeline for downloadArtifacts when artifacts are asked
// for, and returns what was learnt about the pipeline (its artifacts are added to it later).
func (d *detailer) onDone(ctx context.Context, ref pipelineRef, res *watch.Result, view renderer) *pipelineDetail {
	if d == nil || res == nil {
		return nil
	}
	p := d.pipeline(ref.key)
	slug := ""
	if res.Pipeline != nil {
		slug = res.Pipeline.ProjectSlug
	}
	for _, w := range res.Workflows {
		var failed []circleci.Job
		for _, j := range w.Jobs {
			if watch.JobFailed(j.Status) {
				failed = append(failed, j)
			}
		}
		d.fetch(ctx, ref, firstNonEmpty(w.Workflow.ProjectSlug, slug), failed, view, true)
	}
	if d.dl != nil {
		d.mu.Lock()
		d.ended = append(d.ended, endedPipeline{ref: ref, res: res, p: p})
		d.mu.Unlock()
	}
	return p
}

// downloadArtifacts downloads the artifacts of every pipeline that ended, in the order they
// ended, within the downloader's bounds for the whole run. It runs once the scheduler has
// returned: a download of up to a gigabyte inside OnDone would hold up every other pipeline's
// events and the heartbeat, which are serialized with it.
func (d *detailer) downloadArtifacts(ctx context.Context, view renderer) {
	if d == nil || d.dl == nil || ctx.Err() != nil {
		return
	}
	var jobs []detail.JobRef
	var owner []*pipelineDetail // the pipeline of each job
	for _, e := range d.ended {
		slug := ""
		if e.res.Pipeline != nil {
			slug = e.res.Pipeline.ProjectSlug
		}
		for _, w := range e.res.Workflows {
			for _, j := range w.Jobs {
				if j.JobNumber == nil || j.Type == "approval" {
					continue
				}
				jobs = append(jobs, detail.JobRef{Project: firstNonEmpty(j.ProjectSlug, w.Workflow.ProjectSlug, slug), Name: j.Name, Number: *j.JobNumber})
				owner = append(owner, e.p)
			}
		}
	}
	for i, got := range d.dl.Download(ctx, jobs) {
		p := owner[i]
		if got.Err != nil {
			p.artifacts = append(p.artifacts, report.ArtifactResult{Job: got.Name, Number: got.Number, Error: "the artifacts could not be listed: " + got.Err.Error()})
			continue
		}
		for _, s := range got.Saved {
			a := report.ArtifactResult{Job: got.Name, Number: got.Number, Path: s.Path, File: s.File, Bytes: s.Bytes, Skipped: s.Skipped, Note: s.Note}
			if s.Err != nil {
				a.Error = s.Err.Error()
			}
			p.artifacts = append(p.artifacts, a)
		}
	}
	if dv, ok := view.(detailView); ok {
		for _, e := range d.ended {
			if len(e.p.artifacts) > 0 {
				dv.artifacts(e.ref, d.dl.Dir, e.p.artifacts)
			}
		}
	}
}

// jobDetailOf turns what detail.Fetch found into the reports' terms.
func jobDetailOf(j *detail.Job) *report.JobDetail {
	d := &report.JobDetail{Failed: j.Failed, Total: j.Total, Truncated: j.Truncated, Step: j.Step, LogTail: j.Tail}
	for _, t := range j.Tests {
		d.Tests = append(d.Tests, report.TestCase{
			Classname: t.Classname, Name: t.Name, File: t.File, Result: t.Result, RunTime: t.RunTime,
			Message: detail.Cut(detail.StripANSI(t.Message), 4000), Failed: detail.Failing(t),
		})
	}
	if j.TestsErr != nil {
		d.Notes = append(d.Notes, "its tests could not be read: "+j.TestsErr.Error())
	}
	switch {
	case j.NoOutputAPI:
		d.Notes = append(d.Notes, "its step output is not served for this project (API v1.1 does not know circleci/ projects): see the job's page")
	case j.TailErr != nil:
		d.Notes = append(d.Notes, "its step output could not be read: "+j.TailErr.Error())
	}
	return d
}

// detailView is a renderer that shows job details and saved artifacts.
type detailView interface {
	detail(ref pipelineRef, header string, d *report.JobDetail)
	artifacts(ref pipelineRef, dir string, arts []report.ArtifactResult)
}

func (l *lines) detail(ref pipelineRef, header string, d *report.JobDetail) {
	if text := detailText(header, d); text != "" {
		l.line(strings.TrimPrefix(text, "\n"))
	}
}

func (l *lines) artifacts(ref pipelineRef, dir string, arts []report.ArtifactResult) {
	l.line(report.ArtifactsText(ref.label, dir, arts))
}

func (v *liveView) detail(ref pipelineRef, header string, d *report.JobDetail) {
	if text := detailText(header, d); text != "" {
		v.mu.Lock()
		defer v.mu.Unlock()
		// below the rows, once the view is closed; already safe, which close's sanitizing keeps
		v.after = append(v.after, strings.Split(strings.TrimPrefix(text, "\n"), "\n")...)
	}
}

func (v *liveView) artifacts(ref pipelineRef, dir string, arts []report.ArtifactResult) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.after = append(v.after, strings.Split(report.ArtifactsText(ref.label, dir, arts), "\n")...)
}

// detailText is a failed job's details as lines below its own, safe for a terminal.
func detailText(header string, d *report.JobDetail) string {
	body := report.TerminalDetail(d, "      ")
	if body == "" {
		return ""
	}
	if header != "" {
		return "\n    " + terminalText(header) + body
	}
	return body
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// failedJobResult adds to a failed job's JSON what was learnt about it.
func failedJobResult(fj *report.FailedJob, d *report.JobDetail) {
	if d == nil {
		return
	}
	for _, t := range d.Tests {
		if t.Failed && len(fj.FailedTests) < 100 {
			fj.FailedTests = append(fj.FailedTests, t)
		}
	}
	fj.TestsFailed, fj.TestsTotal, fj.FailedStep, fj.LogTail = d.Failed, d.Total, d.Step, d.LogTail
}

// jobDetail is the detail learnt about job number n of a pipeline, or nil.
func (p *pipelineDetail) jobDetail(n *int64) *report.JobDetail {
	if p == nil || n == nil {
		return nil
	}
	return p.jobs[*n]
}
