package simulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// workflow is one materialised workflow (one attempt of a scripted workflow). Its status is
// computed from the clock: running (or failing) until createdAt+duration, then the scripted
// outcome, unless it was canceled first.
type workflow struct {
	id         string
	p          *pipeline
	cfg        *Workflow
	attempt    int // 0 for the original run, n for the nth automatic rerun
	createdAt  time.Time
	dur        time.Duration // how long this run takes (Workflow.Duration or Durations)
	canceledAt *time.Time
	canceledBy string
	followed   bool // its rerun or continuation has been materialised
	jobs       []*job
	approvedAt *time.Time // its last approval job on hold was approved (approvals.go)

	// A workflow an outside runner reports (continuation.go): its status as reported.
	external  bool
	status    string
	stoppedAt *time.Time
}

type job struct {
	id     string
	cfg    *Job
	number int64 // 0 for approval jobs, which have none
	status string
	dur    time.Duration
	deps   []string
	// approval jobs approved through the API: when, and by whom
	approvedAt *time.Time
	approvedBy string
	stoppedAt  *time.Time // a reported job's, once it stopped
}

// Job statuses that mean the job has stopped (and so has a stopped_at).
var jobStopped = []string{"success", "failed", "canceled", "unauthorized", "not_run", "retried", "infrastructure_fail", "timedout", "terminated-unknown"}

// Job statuses that make a still-running workflow "failing".
var jobFailed = []string{"failed", "infrastructure_fail", "timedout", "terminated-unknown"}

func (w *workflow) end() time.Time { return w.createdAt.Add(w.dur) }

// outcome is the scripted final status of this attempt.
func (w *workflow) outcome() string {
	if n := len(w.cfg.Outcomes); n > 0 {
		return w.cfg.Outcomes[min(w.attempt, n-1)]
	}
	return w.cfg.Status
}

// statusAt is the workflow's status and stopped_at at now.
func (w *workflow) statusAt(now time.Time) (string, *time.Time) {
	if w.external {
		return w.status, w.stoppedAt
	}
	if w.canceledAt != nil && !now.Before(*w.canceledAt) {
		return "canceled", w.canceledAt
	}
	if st, stopped, ok := w.afterApproval(now); ok {
		return st, stopped
	}
	end := w.end()
	if now.Before(end) {
		for _, j := range w.jobs {
			if slices.Contains(jobFailed, j.status) && !now.Before(w.createdAt.Add(j.dur)) {
				return "failing", nil
			}
		}
		return "running", nil
	}
	st := w.outcome()
	if st == "on_hold" {
		return st, nil
	}
	return st, &end
}

// jobAt is a job's status and stopped_at at now.
func (w *workflow) jobAt(j *job, now time.Time) (string, *time.Time) {
	if w.external {
		return j.status, j.stoppedAt
	}
	if st, stopped, ok := w.jobAfterApproval(j, now); ok {
		return st, stopped
	}
	end := w.createdAt.Add(j.dur)
	if c := w.canceledAt; c != nil && !now.Before(*c) && (c.Before(end) || !slices.Contains(jobStopped, j.status)) {
		return "canceled", c
	}
	if now.Before(end) {
		if j.cfg.Type == "approval" {
			return "blocked", nil
		}
		return "running", nil
	}
	if !slices.Contains(jobStopped, j.status) {
		return j.status, nil
	}
	return j.status, &end
}

// advance materialises whatever workflows have started by now: the first ones once the start
// delay has passed, the continued ones when a setup workflow succeeds, and an automatic rerun
// when a failed attempt has reruns left. Caller holds s.mu.
func (s *Simulator) advance(p *pipeline, now time.Time) {
	if len(p.errors) > 0 {
		return
	}
	cfg := p.proj.cfg
	if !p.started {
		if now.Before(p.start()) {
			return
		}
		p.started = true
		setup := p.proj.setup()
		for i := range cfg.Workflows {
			if !setup || cfg.Workflows[i].Tag == "setup" {
				s.materialize(p, &cfg.Workflows[i], 0, p.start())
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, w := range slices.Clone(p.workflows) {
			if w.external || w.followed || w.canceledAt != nil || now.Before(w.end()) {
				continue
			}
			w.followed, changed = true, true
			switch st := w.outcome(); {
			case st == "success" && w.cfg.Tag == "setup" && p.continuedAt == nil:
				at := w.end()
				p.continuedAt = &at
				for i := range cfg.Workflows {
					if cfg.Workflows[i].Tag != "setup" {
						s.materialize(p, &cfg.Workflows[i], 0, at)
					}
				}
			case st == "failed" && w.attempt < w.cfg.MaxAutoReruns:
				s.materialize(p, w.cfg, w.attempt+1, w.end())
			}
		}
	}
}

// materialise creates attempt of the scripted workflow cfg, started at at. Caller holds s.mu.
func (s *Simulator) materialize(p *pipeline, cfg *Workflow, attempt int, at time.Time) {
	w := &workflow{id: s.newID(), p: p, cfg: cfg, attempt: attempt, createdAt: at, dur: cfg.Duration.D()}
	if n := int64(len(cfg.Durations)); n > 0 {
		w.dur = cfg.Durations[(p.number-p.proj.cfg.FirstNumber)%n].D()
	}
	final := w.outcome()
	lastDefault := -1
	for i, jc := range cfg.Jobs {
		if jc.Status == "" && len(jc.Outcomes) == 0 {
			lastDefault = i
		}
	}
	ids := map[string]string{}
	for i := range cfg.Jobs {
		jc := &cfg.Jobs[i]
		j := &job{id: s.newID(), cfg: jc, dur: jc.Duration.D(), deps: []string{}}
		if j.dur == 0 {
			j.dur = w.dur
		}
		switch {
		case len(jc.Outcomes) > 0:
			j.status = jc.Outcomes[min(attempt, len(jc.Outcomes)-1)]
		case jc.Status != "":
			j.status = jc.Status
		default:
			j.status = defaultJobStatus(final, jc.Type, i == lastDefault)
		}
		if jc.Type != "approval" {
			j.number = p.proj.nextJob
			p.proj.nextJob++
		}
		for _, r := range jc.Requires {
			j.deps = append(j.deps, ids[r])
		}
		ids[jc.Name] = j.id
		w.jobs = append(w.jobs, j)
	}
	p.workflows = append(p.workflows, w)
	s.workflows[w.id] = w
}

// defaultJobStatus is a job's final status when the script leaves it to the workflow's
// outcome: a failed (or errored) workflow fails its last such job and passes the others.
func defaultJobStatus(workflow, jobType string, last bool) string {
	switch workflow {
	case "success":
		return "success"
	case "failed", "error":
		if last {
			return "failed"
		}
		return "success"
	case "on_hold":
		if jobType == "approval" {
			return "on_hold"
		}
		return "success"
	}
	return workflow // canceled, unauthorized, not_run
}

type workflowBody struct {
	PipelineID      string  `json:"pipeline_id"`
	CanceledBy      string  `json:"canceled_by,omitempty"`
	ID              string  `json:"id"`
	AutoRerunNumber int     `json:"auto_rerun_number,omitempty"`
	Name            string  `json:"name"`
	ProjectSlug     string  `json:"project_slug"`
	Tag             string  `json:"tag,omitempty"`
	Status          string  `json:"status"`
	StartedBy       string  `json:"started_by"`
	MaxAutoReruns   int     `json:"max_auto_reruns,omitempty"`
	PipelineNumber  int64   `json:"pipeline_number"`
	CreatedAt       string  `json:"created_at"`
	StoppedAt       *string `json:"stopped_at"`
}

func workflowJSON(w *workflow, now time.Time) workflowBody {
	st, stopped := w.statusAt(now)
	b := workflowBody{
		PipelineID: w.p.id, ID: w.id, AutoRerunNumber: w.attempt, Name: w.cfg.Name,
		ProjectSlug: w.p.proj.cfg.Slug, Tag: w.cfg.Tag, Status: st, StartedBy: w.p.actor.ID,
		MaxAutoReruns: w.cfg.MaxAutoReruns, PipelineNumber: w.p.number,
		CreatedAt: timestamp(w.createdAt), StoppedAt: timestampPtr(stopped),
	}
	if st == "canceled" {
		b.CanceledBy = w.canceledBy
	}
	return b
}

type jobBody struct {
	CanceledBy        string   `json:"canceled_by,omitempty"`
	Dependencies      []string `json:"dependencies"`
	JobNumber         *int64   `json:"job_number,omitempty"`
	ID                string   `json:"id"`
	StartedAt         string   `json:"started_at"`
	Name              string   `json:"name"`
	ApprovedBy        string   `json:"approved_by,omitempty"`
	ProjectSlug       string   `json:"project_slug"`
	Status            string   `json:"status"`
	Type              string   `json:"type"`
	StoppedAt         *string  `json:"stopped_at"`
	ApprovalRequestID string   `json:"approval_request_id,omitempty"`
}

func jobJSON(w *workflow, j *job, now time.Time) jobBody {
	st, stopped := w.jobAt(j, now)
	b := jobBody{
		Dependencies: j.deps, ID: j.id, StartedAt: timestamp(w.createdAt), Name: j.cfg.Name,
		ProjectSlug: w.p.proj.cfg.Slug, Status: st, Type: j.cfg.Type, StoppedAt: timestampPtr(stopped),
	}
	if j.number != 0 {
		n := j.number
		b.JobNumber = &n
	}
	if j.cfg.Type == "approval" {
		b.ApprovalRequestID = j.id
		if st == "success" {
			b.ApprovedBy = w.p.actor.ID
			if j.approvedBy != "" {
				b.ApprovedBy = j.approvedBy
			}
		}
	}
	if st == "canceled" && w.canceledAt != nil {
		b.CanceledBy = w.canceledBy
	}
	return b
}

// visibleWorkflow finds a workflow user may see, with its pipeline advanced to now.
// Caller holds s.mu.
func (s *Simulator) visibleWorkflow(id string, user *Token, now time.Time) *workflow {
	w := s.workflows[strings.ToLower(id)]
	if w == nil || !canSee(user, w.p.proj.cfg.Slug) {
		return nil
	}
	s.advance(w.p, now)
	return w
}

// listWorkflows serves GET /pipeline/{pipeline-id}/workflow, in creation order.
func (s *Simulator) listWorkflows(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	s.mu.Lock()
	now := s.now()
	p := s.visiblePipeline(rt.id, user)
	var items []workflowBody
	if p != nil {
		s.advance(p, now)
		items = []workflowBody{}
		for _, wf := range p.workflows {
			items = append(items, workflowJSON(wf, now))
		}
	}
	s.mu.Unlock()
	if p == nil {
		writeMessage(w, http.StatusNotFound, "Pipeline not found")
		return
	}
	writePage(w, r, items, "workflows:"+p.id, s.cfg.PageSize)
}

// getWorkflow serves GET /workflow/{id}.
func (s *Simulator) getWorkflow(w http.ResponseWriter, rt route, user *Token) {
	s.mu.Lock()
	now := s.now()
	wf := s.visibleWorkflow(rt.id, user, now)
	var body workflowBody
	if wf != nil {
		body = workflowJSON(wf, now)
	}
	s.mu.Unlock()
	if wf == nil {
		writeMessage(w, http.StatusNotFound, "Workflow not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// listJobs serves GET /workflow/{id}/job, in the scripted order.
func (s *Simulator) listJobs(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	s.mu.Lock()
	now := s.now()
	wf := s.visibleWorkflow(rt.id, user, now)
	var items []jobBody
	if wf != nil {
		items = []jobBody{}
		for _, j := range wf.jobs {
			items = append(items, jobJSON(wf, j, now))
		}
	}
	s.mu.Unlock()
	if wf == nil {
		writeMessage(w, http.StatusNotFound, "Workflow not found")
		return
	}
	writePage(w, r, items, "jobs:"+wf.id, s.cfg.PageSize)
}

// cancelWorkflow serves POST /workflow/{id}/cancel: a running, failing or on_hold workflow
// becomes canceled, and so do its jobs that had not stopped. Canceling a workflow that has
// already stopped changes nothing and is still accepted.
func (s *Simulator) cancelWorkflow(w http.ResponseWriter, rt route, user *Token) {
	s.mu.Lock()
	now := s.now()
	wf := s.visibleWorkflow(rt.id, user, now)
	if wf != nil {
		if st, _ := wf.statusAt(now); st == "running" || st == "failing" || st == "on_hold" {
			wf.canceledAt, wf.canceledBy = &now, user.ID
		}
	}
	s.mu.Unlock()
	if wf == nil {
		writeMessage(w, http.StatusNotFound, "Workflow not found")
		return
	}
	writeMessage(w, http.StatusAccepted, "Accepted.")
}
