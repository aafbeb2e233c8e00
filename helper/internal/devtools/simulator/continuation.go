package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A project with External set has no scripted workflows: a runner outside the simulator (the
// orb runner, helper/internal/devtools/orbrun) runs its pipelines' configs and reports their
// workflows and jobs here as they go (ReportWorkflow), so that clients following those
// pipelines through the API see what really ran. A setup config's run asks for the pipeline's
// continuation key (StartSetup) and its continuation job calls POST /api/v2/pipeline/continue
// with it, as CircleCI's continuation orb does; the runner then reads what was continued
// (Continuation) and runs it as the same pipeline.
//
// The rules the continue endpoint holds a continuation to are CircleCI's (Dynamic
// configuration overview, "Config continuation constraints", and Pipeline values and
// parameters, "Pipeline parameters and dynamic configuration"):
//   - a pipeline is continued once; its key is single-use, and a second call (a rerun of the
//     setup workflow) is refused: 409 {"message": "Continuation key has expired. Please run a
//     new pipeline."}, the answer users quote (CircleCI-Public/orb-tools-orb#222);
//   - a pipeline can only be continued within six hours of its creation (same answer);
//   - it cannot be continued with another setup configuration;
//   - every pipeline parameter the setup config declares must be declared, with the same
//     default, in the continuation config;
//   - parameters given at continuation time must not repeat ones given when the pipeline was
//     triggered (the trigger's carry over by themselves), and must be declared in the
//     continuation config with values of their type.
//
// A continuation refused for what it holds errors the pipeline (as CircleCI's docs say) and
// is answered 400 with the same message. The request needs no API token: the continuation
// key is its credential, and the continuation orb sends none. Messages not quoted above are
// ours: CircleCI does not publish them.

const (
	opContinue = "continuePipeline"
	// continueWindow is how long after its creation a pipeline can be continued.
	continueWindow = 6 * time.Hour
	keyExpired     = "Continuation key has expired. Please run a new pipeline."
)

// continuation is what POST /pipeline/continue accepted for a pipeline.
type continuation struct {
	config string
	params []param // given at continuation time
}

// Continuation is a pipeline's continued config and its pipeline parameters: the trigger's
// merged with those given at continuation time.
type Continuation struct {
	Config     string
	Parameters map[string]any
}

// WorkflowReport is a workflow of an external project's pipeline as its runner reports it.
type WorkflowReport struct {
	ID     string // empty to create the workflow; ReportWorkflow returns the new ID
	Name   string
	Setup  bool   // a setup config's workflow (tag "setup")
	Status string // running, success, failed, …
	Jobs   []JobReport
}

// JobReport is one job of a reported workflow.
type JobReport struct {
	Name     string
	Type     string // build (default) or approval
	Status   string // queued, running, success, failed, not_run, …
	Requires []string
}

// WithPipelineHook calls fn with every pipeline a trigger creates for an external project,
// once it is stored and before it is answered: how a runner learns it has work. fn must not
// block (start the run in a goroutine).
func WithPipelineHook(fn func(PipelineInfo)) Option { return func(s *Simulator) { s.hook = fn } }

// Push creates a pipeline of the external project slug as a push of branch (or of tag, when not
// empty) by the user of token does: trigger type webhook, no parameters.
func (s *Simulator) Push(slug, branch, tag, token string) (PipelineInfo, error) {
	cs, _ := canonicalSlug(slug)
	proj := s.project(cs)
	if proj == nil || !proj.cfg.External {
		return PipelineInfo{}, fmt.Errorf("push to %s: no external project by that slug", slug)
	}
	user, ok := s.tokens[token]
	if !ok {
		return PipelineInfo{}, fmt.Errorf("push to %s: unknown token", slug)
	}
	p := &pipeline{operation: "push", branch: branch, tag: tag, trigger: "webhook"}
	s.mu.Lock()
	s.addPipeline(proj, p, user)
	info := s.info(p, s.now())
	s.mu.Unlock()
	return info, nil
}

// StartConfig records the config source an external project's pipeline runs (served by
// GET /pipeline/{id}/config). For a setup config it hands out the pipeline's continuation
// key, the one its jobs see as $CIRCLE_CONTINUATION_KEY; otherwise it returns "".
func (s *Simulator) StartConfig(pipelineID, source string, setup bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.externalPipeline(pipelineID)
	if err != nil {
		return "", err
	}
	if p.config != "" {
		return "", fmt.Errorf("pipeline %s already runs a config", pipelineID)
	}
	p.config = source
	if !setup {
		return "", nil
	}
	p.contKey = derivedUUID("continuation/" + p.id)
	s.keys[p.contKey] = p
	return p.contKey, nil
}

// Continuation is what POST /pipeline/continue accepted for the pipeline, if anything.
func (s *Simulator) Continuation(pipelineID string) (Continuation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byID[strings.ToLower(pipelineID)]
	if p == nil || p.continued == nil {
		return Continuation{}, false
	}
	params := map[string]any{}
	for _, pr := range append(slices.Clone(p.params), p.continued.params...) {
		params[pr.name] = goValue(pr.raw)
	}
	return Continuation{Config: p.continued.config, Parameters: params}, true
}

// ReportWorkflow creates (r.ID empty) or updates a workflow of an external project's
// pipeline, and returns its ID.
func (s *Simulator) ReportWorkflow(pipelineID string, r WorkflowReport) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.externalPipeline(pipelineID)
	if err != nil {
		return "", err
	}
	now := s.now()
	w := s.workflows[r.ID]
	if r.ID == "" {
		cfg := &Workflow{Name: r.Name}
		if r.Setup {
			cfg.Tag = "setup"
		}
		w = &workflow{id: s.newID(), p: p, cfg: cfg, createdAt: now, external: true}
		p.workflows = append(p.workflows, w)
		s.workflows[w.id] = w
	}
	if w == nil || w.p != p {
		return "", fmt.Errorf("pipeline %s has no workflow %s", pipelineID, r.ID)
	}
	w.status = r.Status
	w.stoppedAt = stoppedAt(w.stoppedAt, r.Status, now)
	ids := map[string]string{}
	for _, j := range w.jobs {
		ids[j.cfg.Name] = j.id
	}
	for _, jr := range r.Jobs {
		i := slices.IndexFunc(w.jobs, func(j *job) bool { return j.cfg.Name == jr.Name })
		if i < 0 {
			j := &job{id: s.newID(), cfg: &Job{Name: jr.Name, Type: jr.Type}, deps: []string{}}
			if jr.Type != "approval" {
				j.number = p.proj.nextJob
				p.proj.nextJob++
			}
			ids[jr.Name] = j.id
			w.jobs = append(w.jobs, j)
			i = len(w.jobs) - 1
		}
		j := w.jobs[i]
		j.deps = j.deps[:0]
		for _, req := range jr.Requires {
			if id, ok := ids[req]; ok {
				j.deps = append(j.deps, id)
			}
		}
		j.status = jr.Status
		j.stoppedAt = stoppedAt(j.stoppedAt, jr.Status, now)
	}
	return w.id, nil
}

func stoppedAt(prev *time.Time, status string, now time.Time) *time.Time {
	switch {
	case !slices.Contains(jobStopped, status) && !slices.Contains([]string{"error"}, status):
		return nil
	case prev != nil:
		return prev
	}
	return &now
}

// externalPipeline finds a pipeline of an external project. Caller holds s.mu.
func (s *Simulator) externalPipeline(id string) (*pipeline, error) {
	p := s.byID[strings.ToLower(id)]
	if p == nil {
		return nil, fmt.Errorf("no pipeline %s", id)
	}
	if !p.proj.cfg.External {
		return nil, fmt.Errorf("pipeline %s: project %s is scripted, not run by an outside runner", id, p.proj.cfg.Slug)
	}
	return p, nil
}

// continueBody is the body of POST /pipeline/continue.
type continueBody struct {
	Key           *string         `json:"continuation-key"`
	Configuration *string         `json:"configuration"`
	Parameters    json.RawMessage `json:"parameters"`
}

// continuePipeline serves POST /pipeline/continue.
func (s *Simulator) continuePipeline(w http.ResponseWriter, r *http.Request, body []byte) {
	var b continueBody
	if isJSON(r.Header.Get("Content-Type")) && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &b); err != nil {
			writeMessage(w, http.StatusBadRequest, "Invalid input")
			return
		}
	}
	if b.Key == nil || *b.Key == "" || b.Configuration == nil {
		writeMessage(w, http.StatusBadRequest, "continuation-key and configuration are required")
		return
	}
	params, err := readParameters(b.Parameters)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.keys[*b.Key]
	switch {
	case p == nil:
		writeMessage(w, http.StatusNotFound, "Continuation key not found")
		return
	case p.contUsed || s.now().Sub(p.createdAt) > continueWindow:
		writeMessage(w, http.StatusConflict, keyExpired)
		return
	}
	p.contUsed = true
	if msg := p.checkContinuation(*b.Configuration, params); msg != "" {
		p.errors = append(p.errors, pipelineError{Type: "config", Message: msg})
		writeMessage(w, http.StatusBadRequest, msg)
		return
	}
	p.continued = &continuation{config: *b.Configuration, params: params}
	writeMessage(w, http.StatusOK, "Pipeline continued")
}

// declared is a config's pipeline parameters: name → declaration.
type declared map[string]Parameter

// configParameters reads the parameters: a config declares.
func configParameters(source string) (map[string]any, declared, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(source), &doc); err != nil || doc == nil {
		return nil, nil, fmt.Errorf("the configuration is not a YAML mapping")
	}
	out := declared{}
	raw, _ := doc["parameters"].(map[string]any)
	for name, v := range raw {
		d, _ := v.(map[string]any)
		p := Parameter{Name: name, Default: d["default"]}
		p.Type, _ = d["type"].(string)
		for _, e := range anySlice(d["enum"]) {
			p.Enum = append(p.Enum, fmt.Sprint(e))
		}
		out[name] = p
	}
	return doc, out, nil
}

func anySlice(v any) []any {
	l, _ := v.([]any)
	return l
}

// checkContinuation holds a continuation to CircleCI's constraints; it returns the message of
// the first one broken, or "". Caller holds s.mu.
func (p *pipeline) checkContinuation(config string, params []param) string {
	doc, cont, err := configParameters(config)
	if err != nil {
		return "Unable to parse the continuation configuration: " + err.Error()
	}
	if setup, _ := doc["setup"].(bool); setup {
		return "continuation config contains setup stanza whilst not in setup anymore."
	}
	_, setup, _ := configParameters(p.config)
	for _, name := range sortedNames(setup) {
		c, ok := cont[name]
		switch {
		case !ok:
			return fmt.Sprintf("Pipeline parameter %s is declared in the setup configuration but not in the continuation configuration", name)
		case c.Type != setup[name].Type || fmt.Sprint(c.Default) != fmt.Sprint(setup[name].Default):
			return fmt.Sprintf("Pipeline parameter %s is declared differently in the setup and continuation configurations (type and default must match)", name)
		}
	}
	var conflicts []string
	for _, c := range params {
		if slices.ContainsFunc(p.params, func(t param) bool { return t.name == c.name }) {
			conflicts = append(conflicts, c.name)
		}
	}
	if len(conflicts) > 0 {
		return "Conflicting pipeline parameters: " + strings.Join(conflicts, ", ") + " were given when the pipeline was triggered and again at continuation"
	}
	decl := make([]Parameter, 0, len(cont))
	for _, name := range sortedNames(cont) {
		decl = append(decl, cont[name])
	}
	if errs := checkParameters(decl, params); len(errs) > 0 {
		return errs[0].Message
	}
	return ""
}

func sortedNames(d declared) []string {
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
