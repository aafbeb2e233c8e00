package simulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// project is a configured project and its counters.
type project struct {
	cfg        *Project
	nextNumber int64
	nextJob    int64
}

func (p *project) setup() bool {
	return slices.ContainsFunc(p.cfg.Workflows, func(w Workflow) bool { return w.Tag == "setup" })
}

// pipeline is a created pipeline. Its workflows are materialised lazily, as the clock passes
// the moments they start (see advance).
type pipeline struct {
	id           string
	proj         *project
	number       int64
	createdAt    time.Time
	actor        *Token
	operation    string // triggerPipeline or triggerPipelineRun
	definitionID string
	branch, tag  string
	params       []param // as received, in order; nil when none or ignored
	errors       []pipelineError

	started     bool
	continuedAt *time.Time // setup workflow succeeded: the rest appeared then
	workflows   []*workflow

	// An external project's pipeline (continuation.go).
	trigger   string        // trigger.type when not the project's (a push: webhook)
	config    string        // the config it ran (its setup config, for a setup pipeline)
	contKey   string        // its continuation key, once its setup config started
	contUsed  bool          // the key was spent
	continued *continuation // what it was continued with
}

type pipelineError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// param is one received pipeline parameter: its name and raw JSON value.
type param struct {
	name string
	raw  json.RawMessage
}

// PipelineInfo describes a created pipeline, for tests that count what clients created.
type PipelineInfo struct {
	ID           string         `json:"id"`
	ProjectSlug  string         `json:"project_slug"`
	Number       int64          `json:"number"`
	State        string         `json:"state"`
	Operation    string         `json:"operation"`
	DefinitionID string         `json:"definition_id,omitempty"`
	Branch       string         `json:"branch,omitempty"`
	Tag          string         `json:"tag,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"` // string, int64, bool, float64 ...
	Errors       []string       `json:"errors,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
}

// Pipelines describes every pipeline created so far, oldest first, with its state now.
func (s *Simulator) Pipelines() []PipelineInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]PipelineInfo, 0, len(s.pipelines))
	for _, p := range s.pipelines {
		s.advance(p, now)
		out = append(out, s.info(p, now))
	}
	return out
}

// info describes p. Caller holds s.mu.
func (s *Simulator) info(p *pipeline, now time.Time) PipelineInfo {
	info := PipelineInfo{
		ID: p.id, ProjectSlug: p.proj.cfg.Slug, Number: p.number, State: p.state(now),
		Operation: p.operation, DefinitionID: p.definitionID, Branch: p.branch, Tag: p.tag,
		CreatedAt: p.createdAt,
	}
	if p.params != nil {
		info.Parameters = map[string]any{}
		for _, pr := range p.params {
			info.Parameters[pr.name] = goValue(pr.raw)
		}
	}
	for _, e := range p.errors {
		info.Errors = append(info.Errors, e.Message)
	}
	return info
}

// goValue decodes a parameter value: integers become int64, other numbers float64.
func goValue(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return v
}

// state is the pipeline's state at now.
func (p *pipeline) state(now time.Time) string {
	switch {
	case len(p.errors) > 0:
		return "errored"
	case p.proj.cfg.External && p.contKey != "" && p.continued == nil:
		return "setup"
	case p.proj.cfg.External:
		return "created"
	case p.proj.setup() && now.Before(p.start()):
		return "setup-pending"
	case p.proj.setup() && p.continuedAt == nil:
		return "setup"
	case now.Before(p.start()):
		return "pending"
	}
	return "created"
}

// updatedAt is when the pipeline's state last changed, as of now.
func (p *pipeline) updatedAt(now time.Time) time.Time {
	switch {
	case p.continuedAt != nil:
		return *p.continuedAt
	case len(p.errors) == 0 && !now.Before(p.start()):
		return p.start()
	}
	return p.createdAt
}

func (p *pipeline) start() time.Time { return p.createdAt.Add(p.proj.cfg.StartDelay.D()) }

// lookupProject finds a project by any slug spelling, hiding those user cannot see.
func (s *Simulator) lookupProject(slug string, user *Token) *project {
	cs, ok := canonicalSlug(slug)
	if !ok {
		return nil
	}
	p := s.project(cs)
	if p == nil || !canSee(user, p.cfg.Slug) {
		return nil
	}
	return p
}

// isJSON reports whether a Content-Type header names JSON; without it the real API ignores
// the body.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// legacyBody is the body of POST /project/{project-slug}/pipeline.
type legacyBody struct {
	Branch     *string         `json:"branch"`
	Tag        *string         `json:"tag"`
	Parameters json.RawMessage `json:"parameters"`
}

// triggerPipeline serves POST /project/{project-slug}/pipeline.
func (s *Simulator) triggerPipeline(w http.ResponseWriter, r *http.Request, rt route, user *Token, body []byte) {
	proj := s.lookupProject(rt.slug, user)
	if proj == nil {
		writeMessage(w, http.StatusNotFound, "Project not found")
		return
	}
	if strings.HasPrefix(proj.cfg.Slug, "circleci/") {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf("Project %s is a GitHub App or GitLab project; this endpoint does not trigger those. Use POST /api/v2/project/%s/pipeline/run with a definition_id.", proj.cfg.Slug, proj.cfg.Slug))
		return
	}
	var b legacyBody
	if isJSON(r.Header.Get("Content-Type")) && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &b); err != nil {
			writeMessage(w, http.StatusBadRequest, "Invalid input")
			return
		}
	}
	if b.Branch != nil && b.Tag != nil {
		writeMessage(w, http.StatusBadRequest, "Only one of branch or tag may be given, not both")
		return
	}
	if (b.Branch != nil && *b.Branch == "") || (b.Tag != nil && *b.Tag == "") {
		writeMessage(w, http.StatusBadRequest, "Invalid input")
		return
	}
	params, err := readParameters(b.Parameters)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	p := &pipeline{operation: "triggerPipeline", params: params}
	p.branch, p.tag = ref(b.Branch, b.Tag, proj.cfg.DefaultBranch)
	s.create(w, proj, p, user)
}

// runBody is the body of POST /project/{provider}/{organization}/{project}/pipeline/run;
// the spec gives it additionalProperties: false at every level.
type runBody struct {
	DefinitionID *string         `json:"definition_id"`
	Config       *refBody        `json:"config"`
	Checkout     *refBody        `json:"checkout"`
	Parameters   json.RawMessage `json:"parameters"`
}

type refBody struct {
	Branch *string `json:"branch"`
	Tag    *string `json:"tag"`
}

// unexpectedBody is the spec's 400_unexpected_request_body message.
const unexpectedBody = "Unexpected request body provided."

// triggerPipelineRun serves POST /project/{provider}/{organization}/{project}/pipeline/run.
func (s *Simulator) triggerPipelineRun(w http.ResponseWriter, r *http.Request, rt route, user *Token, body []byte) {
	if prov, _, _ := strings.Cut(rt.slug, "/"); providers[prov] == "" {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf("Unsupported provider %q; use github, gh, bitbucket, bb or circleci", prov))
		return
	}
	proj := s.lookupProject(rt.slug, user)
	if proj == nil {
		writeMessage(w, http.StatusNotFound, "Project not found")
		return
	}
	var b runBody
	if isJSON(r.Header.Get("Content-Type")) && len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil || dec.More() {
			writeMessage(w, http.StatusBadRequest, unexpectedBody)
			return
		}
	}
	for _, rb := range []*refBody{b.Config, b.Checkout} {
		if rb != nil && rb.Branch != nil && rb.Tag != nil {
			writeMessage(w, http.StatusBadRequest, "Only one of branch or tag may be given, not both")
			return
		}
	}
	if b.DefinitionID == nil || *b.DefinitionID == "" {
		writeMessage(w, http.StatusBadRequest, "definition_id is required")
		return
	}
	if !slices.Contains(proj.cfg.DefinitionIDs, *b.DefinitionID) {
		writeMessage(w, http.StatusNotFound, "Pipeline definition not found")
		return
	}
	params, err := readParameters(b.Parameters)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	p := &pipeline{operation: "triggerPipelineRun", definitionID: *b.DefinitionID, params: params}
	switch {
	case b.Checkout != nil && (b.Checkout.Branch != nil || b.Checkout.Tag != nil):
		p.branch, p.tag = ref(b.Checkout.Branch, b.Checkout.Tag, proj.cfg.DefaultBranch)
	case b.Config != nil:
		p.branch, p.tag = ref(b.Config.Branch, b.Config.Tag, proj.cfg.DefaultBranch)
	default:
		p.branch = proj.cfg.DefaultBranch
	}
	if p.branch != "" && slices.Contains(proj.cfg.CISkipBranches, p.branch) {
		writeMessage(w, http.StatusOK, "Ignoring pipeline due to CI skip in the commit")
		return
	}
	s.create(w, proj, p, user)
}

func ref(branch, tag *string, def string) (string, string) {
	switch {
	case tag != nil:
		return "", *tag
	case branch != nil:
		return *branch, ""
	}
	return def, ""
}

// create numbers and stores p, checks its parameters against the project's declarations, and
// answers 201 as the real API does: state "pending" whatever happens next (an errored pipeline
// is only visible by reading it back).
func (s *Simulator) create(w http.ResponseWriter, proj *project, p *pipeline, user *Token) {
	s.mu.Lock()
	s.addPipeline(proj, p, user)
	info := s.info(p, s.now())
	s.mu.Unlock()
	if s.hook != nil && proj.cfg.External {
		s.hook(info)
	}
	writeJSON(w, http.StatusCreated, struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		Number    int64  `json:"number"`
		CreatedAt string `json:"created_at"`
	}{p.id, "pending", p.number, timestamp(p.createdAt)})
}

// addPipeline numbers and stores p and checks its parameters. Caller holds s.mu.
func (s *Simulator) addPipeline(proj *project, p *pipeline, user *Token) {
	now := s.now()
	p.proj, p.actor, p.createdAt = proj, user, now
	p.id = s.newID()
	p.number = proj.nextNumber
	proj.nextNumber++
	p.errors = checkParameters(proj.cfg.Parameters, p.params)
	s.pipelines = append(s.pipelines, p)
	s.byID[p.id] = p
	s.advance(p, now)
}

// newID hands out the next deterministic UUID. Caller holds s.mu.
func (s *Simulator) newID() string {
	s.nextID++
	return derivedUUID(fmt.Sprintf("id/%d", s.nextID))
}

// Pipeline parameter limits from the spec.
const (
	maxParams      = 100
	maxParamKey    = 128
	maxParamValue  = 512
	paramLimitsFix = "pipeline parameters allow at most 100 entries, keys of 128 characters and values of 512"
)

// readParameters reads the parameters object keeping the order the client sent, and enforces
// the spec's size limits. nil raw (or null) means no parameters.
func readParameters(raw json.RawMessage) ([]param, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New(unexpectedBody)
	}
	out := []param{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New(unexpectedBody)
		}
		name := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New(unexpectedBody)
		}
		if utf8.RuneCountInString(name) > maxParamKey {
			return nil, fmt.Errorf("Pipeline parameter name %q is too long; %s", string([]rune(name)[:32])+"...", paramLimitsFix)
		}
		if valueLength(v) > maxParamValue {
			return nil, fmt.Errorf("Pipeline parameter %s has a value that is too long; %s", name, paramLimitsFix)
		}
		out = append(out, param{name: name, raw: v})
	}
	if len(out) > maxParams {
		return nil, fmt.Errorf("Too many pipeline parameters (%d); %s", len(out), paramLimitsFix)
	}
	return out, nil
}

func valueLength(v json.RawMessage) int {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return utf8.RuneCountInString(s)
	}
	return len(v)
}

// checkParameters compiles the received parameters against the declared ones the way
// CircleCI's config compiler reports it: every undeclared name in one "Unexpected argument(s)"
// error, then one "Type error" per mistyped argument.
func checkParameters(declared []Parameter, params []param) []pipelineError {
	decl := map[string]Parameter{}
	for _, d := range declared {
		decl[d.Name] = d
	}
	errs := []pipelineError{}
	var unexpected []string
	for _, p := range params {
		if _, ok := decl[p.name]; !ok {
			unexpected = append(unexpected, p.name)
		}
	}
	if len(unexpected) > 0 {
		errs = append(errs, pipelineError{Type: "config", Message: "Unexpected argument(s): " + strings.Join(unexpected, ", ")})
	}
	for _, p := range params {
		d, ok := decl[p.name]
		if !ok {
			continue
		}
		if msg := typeError(d, p.raw); msg != "" {
			errs = append(errs, pipelineError{Type: "config", Message: msg})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// typeError returns the compiler's message when raw does not fit d, or "".
func typeError(d Parameter, raw json.RawMessage) string {
	kind, shown := jsonKind(raw)
	expected := d.Type
	switch d.Type {
	case "string", "integer", "boolean":
		if kind == d.Type {
			return ""
		}
	case "enum":
		var s string
		if kind == "string" && json.Unmarshal(raw, &s) == nil && slices.Contains(d.Enum, s) {
			return ""
		}
		expected = "enum (" + strings.Join(quoteAll(d.Enum), ", ") + ")"
	}
	return fmt.Sprintf("Type error for argument %s: expected type: %s, actual value: %s (type %s)", d.Name, expected, shown, kind)
}

// jsonKind names a JSON value's type the way the messages do, with the value as shown.
func jsonKind(raw json.RawMessage) (kind, shown string) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "unknown", string(raw)
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		shown = compact.String()
	}
	switch x := v.(type) {
	case string:
		return "string", jsonString(x)
	case bool:
		return "boolean", shown
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer", shown
		}
		return "float", shown
	case nil:
		return "null", "null"
	case map[string]any:
		return "map", shown
	case []any:
		return "list", shown
	}
	return "unknown", shown
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = jsonString(s)
	}
	return out
}

// getPipeline serves GET /pipeline/{pipeline-id}.
func (s *Simulator) getPipeline(w http.ResponseWriter, rt route, user *Token) {
	s.mu.Lock()
	p := s.visiblePipeline(rt.id, user)
	var body any
	if p != nil {
		now := s.now()
		s.advance(p, now)
		body = s.pipelineJSON(p, now)
	}
	s.mu.Unlock()
	if p == nil {
		writeMessage(w, http.StatusNotFound, "Pipeline not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// visiblePipeline finds a pipeline user may see. Caller holds s.mu.
func (s *Simulator) visiblePipeline(id string, user *Token) *pipeline {
	p := s.byID[strings.ToLower(id)]
	if p == nil || !canSee(user, p.proj.cfg.Slug) {
		return nil
	}
	return p
}

type pipelineBody struct {
	ID                string          `json:"id"`
	Errors            []pipelineError `json:"errors"`
	ProjectSlug       string          `json:"project_slug"`
	UpdatedAt         string          `json:"updated_at"`
	Number            int64           `json:"number"`
	TriggerParameters map[string]any  `json:"trigger_parameters"`
	State             string          `json:"state"`
	CreatedAt         string          `json:"created_at"`
	Trigger           triggerBody     `json:"trigger"`
	VCS               *vcsBody        `json:"vcs,omitempty"`
}

type triggerBody struct {
	Type       string    `json:"type"`
	ReceivedAt string    `json:"received_at"`
	Actor      actorBody `json:"actor"`
}

type actorBody struct {
	Login     string  `json:"login"`
	AvatarURL *string `json:"avatar_url"`
}

type vcsBody struct {
	ProviderName        string  `json:"provider_name"`
	OriginRepositoryURL string  `json:"origin_repository_url"`
	TargetRepositoryURL string  `json:"target_repository_url"`
	Revision            *string `json:"revision"`
	Branch              string  `json:"branch,omitempty"`
	Tag                 string  `json:"tag,omitempty"`
}

// pipelineJSON builds the spec's Pipeline object. Caller holds s.mu.
func (s *Simulator) pipelineJSON(p *pipeline, now time.Time) pipelineBody {
	errs := p.errors
	if errs == nil {
		errs = []pipelineError{}
	}
	git := map[string]any{}
	if p.tag != "" {
		git["tag"] = p.tag
	} else {
		git["branch"] = p.branch
	}
	b := pipelineBody{
		ID: p.id, Errors: errs, ProjectSlug: p.proj.cfg.Slug, UpdatedAt: timestamp(p.updatedAt(now)),
		Number: p.number, State: p.state(now), CreatedAt: timestamp(p.createdAt),
		TriggerParameters: map[string]any{
			"circleci": map[string]any{"event_type": "api", "trigger_type": "api", "actor_id": p.actor.ID},
			"git":      git,
		},
		Trigger: triggerBody{
			Type: cmp.Or(p.trigger, p.proj.cfg.TriggerType), ReceivedAt: timestamp(p.createdAt),
			Actor: actorBody{Login: p.actor.Login, AvatarURL: avatar(p.actor)},
		},
	}
	if url, provider := repoURL(p.proj.cfg); url != "" {
		rev := revision(p.proj.cfg.Slug, p.branch+p.tag)
		b.VCS = &vcsBody{
			ProviderName: provider, OriginRepositoryURL: url, TargetRepositoryURL: url,
			Revision: &rev, Branch: p.reportedBranch(), Tag: p.tag,
		}
	}
	return b
}

// repoURL is the project's repository URL and VCS provider name, or "" for a project with no
// VCS to report.
func repoURL(p *Project) (string, string) {
	prov, rest, _ := strings.Cut(p.Slug, "/")
	name := map[string]string{"gh": "GitHub", "bb": "Bitbucket", "circleci": "GitHub"}[prov]
	switch {
	case p.VCSURL != "":
		return p.VCSURL, name
	case prov == "gh":
		return "https://github.com/" + rest, name
	case prov == "bb":
		return "https://bitbucket.org/" + rest, name
	}
	return "", ""
}

// listPipelines serves GET /project/{project-slug}/pipeline: newest first, optionally only one
// branch. The page token is a cursor (the last number shown), so pages stay stable while new
// pipelines arrive.
func (s *Simulator) listPipelines(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	proj := s.lookupProject(rt.slug, user)
	if proj == nil {
		writeMessage(w, http.StatusNotFound, "Project not found")
		return
	}
	q := r.URL.Query()
	branch := q.Get("branch")
	before := int64(-1)
	if tok := q.Get("page-token"); tok != "" {
		n, ok := decodeToken(tok, "pipelines:"+proj.cfg.Slug+":"+branch)
		if !ok {
			writeMessage(w, http.StatusBadRequest, "Invalid page-token.")
			return
		}
		before = int64(n)
	}
	s.mu.Lock()
	now := s.now()
	var items []pipelineBody
	var next *string
	for i := len(s.pipelines) - 1; i >= 0; i-- {
		p := s.pipelines[i]
		if p.proj != proj || (branch != "" && p.branch != branch) || (before >= 0 && p.number >= before) || !p.listed(now) {
			continue
		}
		if len(items) == s.cfg.PageSize {
			t := encodeToken("pipelines:"+proj.cfg.Slug+":"+branch, int(items[len(items)-1].Number))
			next = &t
			break
		}
		s.advance(p, now)
		items = append(items, s.pipelineJSON(p, now))
	}
	s.mu.Unlock()
	if items == nil {
		items = []pipelineBody{}
	}
	writeJSON(w, http.StatusOK, struct {
		Items         []pipelineBody `json:"items"`
		NextPageToken *string        `json:"next_page_token"`
	}{items, next})
}
