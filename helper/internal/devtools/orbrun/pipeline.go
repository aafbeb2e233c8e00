package orbrun

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// PipelineRunner runs a project's pipelines as CircleCI does, against the API simulator, whose
// project must be external (simulator/continuation.go):
//   - the config's pipeline parameters are checked against what the pipeline was triggered
//     with (undeclared or mistyped ones error the pipeline, as the compiler does);
//   - a workflow runs when its when/unless allow, with the jobs its filters allow for the
//     pipeline's branch or tag; each workflow has its own workspace;
//   - a setup config (setup: true) may run one workflow; its jobs see the pipeline's
//     continuation key as $CIRCLE_CONTINUATION_KEY, and when a job continued the pipeline
//     (POST /api/v2/pipeline/continue), the config it gave runs next as the same pipeline, with
//     the trigger's parameters and those given at continuation. Its workflows are reported
//     before the setup workflow ends, as CircleCI creates them when it accepts the continuation.
//
// Every workflow and job is reported to the simulator as it goes, so that an API client
// following the pipeline (baton) sees what ran.
type PipelineRunner struct {
	Sim       *simulator.Simulator
	Resolve   OrbResolver    // registry orbs (e.g. StandIns.Resolve)
	Overrides map[string]any // see Expander.Overrides
	// Machine gives the machine the jobs of pipeline p run on, its Env that of p's jobs
	// (CircleEnv). A continued config runs on a machine of its own.
	Machine func(p Pipeline) *Machine
}

// PipelineRun is what became of a pipeline.
type PipelineRun struct {
	Pipeline  Pipeline
	Errors    []string       // why the pipeline errored, if it did
	Workflows []*WorkflowRun // in the order they ran: the setup config's, then the continuation's
	Continued bool
}

// WorkflowRun is what became of one workflow.
type WorkflowRun struct {
	ID     string // in the simulator
	Name   string
	Setup  bool
	Status string // success or failed
	Jobs   []*JobResult
}

// Workflow returns the run of the named workflow, or nil.
func (r *PipelineRun) Workflow(name string) *WorkflowRun {
	for _, w := range r.Workflows {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Job returns the named job of the named workflow, or nil.
func (r *PipelineRun) Job(workflow, job string) *JobResult {
	if w := r.Workflow(workflow); w != nil {
		for _, j := range w.Jobs {
			if j.Job.Name == job {
				return j
			}
		}
	}
	return nil
}

// WorkflowNames names the workflows that ran, in order.
func (r *PipelineRun) WorkflowNames() []string {
	var out []string
	for _, w := range r.Workflows {
		out = append(out, w.Name)
	}
	return out
}

// plannedWorkflow is a workflow that runs, its jobs expanded.
type plannedWorkflow struct {
	name string
	jobs []*Job
	run  *WorkflowRun
}

// Run runs the pipeline p of the config source. An error is the runner's own failure; a
// config CircleCI would refuse errors the pipeline (PipelineRun.Errors).
func (r *PipelineRunner) Run(ctx context.Context, p Pipeline, source string) (*PipelineRun, error) {
	run := &PipelineRun{Pipeline: p}
	cfg, err := r.compile(p, source)
	if err != nil {
		run.Errors = append(run.Errors, err.Error())
		return run, nil
	}
	key, err := r.Sim.StartConfig(p.ID, source, cfg.Setup)
	if err != nil {
		return nil, err
	}
	plan, err := r.plan(cfg, p)
	if err != nil {
		run.Errors = append(run.Errors, err.Error())
		return run, nil
	}
	if cfg.Setup && len(plan) > 1 {
		run.Errors = append(run.Errors, fmt.Sprintf("a setup configuration must run one workflow in a pipeline, not %d", len(plan)))
		return run, nil
	}
	m := r.Machine(p)
	if key != "" {
		m.Env = maps.Clone(m.Env)
		m.Env["CIRCLE_CONTINUATION_KEY"] = key
	}
	var continued func() error
	if cfg.Setup {
		continued = func() error { return r.continuation(ctx, run) }
	}
	for _, w := range plan {
		if err := r.runWorkflow(ctx, m, run, w, cfg.Setup, continued); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// compile reads the config and checks the pipeline's parameters against its declarations.
func (r *PipelineRunner) compile(p Pipeline, source string) (*Config, error) {
	doc, err := decodeYAML([]byte(source))
	if err != nil {
		return nil, fmt.Errorf("the config is not YAML: %w", err)
	}
	m, err := mapping(doc, "the config")
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(m, r.Resolve)
	if err != nil {
		return nil, err
	}
	var unexpected []string
	for _, name := range sortedKeys(p.Parameters) {
		decl, ok := cfg.Parameters[name]
		if !ok {
			unexpected = append(unexpected, name)
			continue
		}
		if err := checkValue(decl, p.Parameters[name]); err != nil {
			return nil, fmt.Errorf("pipeline parameter %w", err)
		}
	}
	if len(unexpected) > 0 {
		return nil, fmt.Errorf("Unexpected argument(s): %s", strings.Join(unexpected, ", "))
	}
	return cfg, nil
}

// plan expands the workflows that run for p, in name order; a workflow left with no job runs
// not at all.
func (r *PipelineRunner) plan(cfg *Config, p Pipeline) ([]*plannedWorkflow, error) {
	x := &Expander{Config: cfg, Pipeline: p, Overrides: r.Overrides}
	var out []*plannedWorkflow
	for _, name := range sortedKeys(cfg.Workflows) {
		ok, err := x.Runs(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		jobs, err := x.Workflow(name)
		if err != nil {
			return nil, err
		}
		if len(jobs) > 0 {
			out = append(out, &plannedWorkflow{name: name, jobs: jobs})
		}
	}
	return out, nil
}

// report tells the simulator the workflow's state, with its jobs' statuses by name (jobs not
// in status are queued).
func (r *PipelineRunner) report(p Pipeline, w *plannedWorkflow, setup bool, wfStatus string, status map[string]string) error {
	rep := simulator.WorkflowReport{Name: w.name, Setup: setup, Status: wfStatus}
	if w.run != nil {
		rep.ID = w.run.ID
	}
	for _, j := range w.jobs {
		jr := simulator.JobReport{Name: j.Name, Requires: j.Requires, Status: "queued"}
		if j.Approval {
			jr.Type = "approval"
		}
		if st, ok := status[j.Name]; ok {
			jr.Status = st
		}
		rep.Jobs = append(rep.Jobs, jr)
	}
	id, err := r.Sim.ReportWorkflow(p.ID, rep)
	if err != nil {
		return err
	}
	if w.run == nil {
		w.run = &WorkflowRun{ID: id, Name: w.name, Setup: setup}
	}
	return nil
}

// runWorkflow runs one planned workflow on m, reporting as it goes; before reporting a setup
// workflow done it calls beforeEnd (the continuation's start).
func (r *PipelineRunner) runWorkflow(ctx context.Context, m *Machine, run *PipelineRun, w *plannedWorkflow, setup bool, beforeEnd func() error) error {
	p := run.Pipeline
	status := map[string]string{}
	if err := r.report(p, w, setup, "running", status); err != nil {
		return err
	}
	var reportErr error
	m.AfterJob = func(res *JobResult) {
		status[res.Job.Name] = apiJobStatus(res.Status)
		if err := r.report(p, w, setup, "running", status); err != nil && reportErr == nil {
			reportErr = err
		}
	}
	results, err := m.RunNamedWorkflow(ctx, w.name, w.jobs)
	m.AfterJob = nil
	if err != nil {
		return err
	}
	if reportErr != nil {
		return reportErr
	}
	w.run.Jobs, w.run.Status = results, "success"
	for _, res := range results {
		if res.Status != JobSuccess {
			w.run.Status = "failed"
		}
	}
	run.Workflows = append(run.Workflows, w.run)
	if beforeEnd != nil {
		if err := beforeEnd(); err != nil {
			return err
		}
	}
	return r.report(p, w, setup, w.run.Status, status)
}

// continuation runs what the pipeline was continued with, if it was.
func (r *PipelineRunner) continuation(ctx context.Context, run *PipelineRun) error {
	c, ok := r.Sim.Continuation(run.Pipeline.ID)
	if !ok {
		return nil
	}
	run.Continued = true
	p := run.Pipeline
	p.Parameters = maps.Clone(run.Pipeline.Parameters) // the trigger's carry over
	if p.Parameters == nil {
		p.Parameters = map[string]any{}
	}
	for name, v := range c.Parameters {
		if n, ok := v.(int64); ok { // the API's JSON integers, as YAML gives them
			v = int(n)
		}
		p.Parameters[name] = v
	}
	cfg, err := r.compile(p, c.Config)
	if err == nil && cfg.Setup {
		err = fmt.Errorf("continuation config contains setup stanza whilst not in setup anymore.")
	}
	var plan []*plannedWorkflow
	if err == nil {
		plan, err = r.plan(cfg, p)
	}
	if err != nil {
		run.Errors = append(run.Errors, "the continuation: "+err.Error())
		return nil
	}
	for _, w := range plan { // CircleCI creates them as it accepts the continuation
		if err := r.report(p, w, false, "running", nil); err != nil {
			return err
		}
	}
	m := r.Machine(p)
	cont := &PipelineRun{Pipeline: p}
	for _, w := range plan {
		if err := r.runWorkflow(ctx, m, cont, w, false, nil); err != nil {
			return err
		}
	}
	run.Workflows = append(run.Workflows, cont.Workflows...)
	return nil
}

// apiJobStatus is a job's status as the API reports it once it stopped: a job that never ran
// because a job it requires failed is not_run.
func apiJobStatus(st string) string {
	if st == JobBlocked {
		return "not_run"
	}
	return st
}

// Statuses lists every job of the run as workflow/job=status, in the order they ran.
func (r *PipelineRun) Statuses() []string {
	var out []string
	for _, w := range r.Workflows {
		for _, j := range w.Jobs {
			out = append(out, w.Name+"/"+j.Job.Name+"="+j.Status)
		}
	}
	return slices.Clip(out)
}
