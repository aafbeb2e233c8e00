package simulator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Simulator is a CircleCI API v2 simulator; it is an http.Handler. Serve it with
// httptest.NewServer (or http.Server) and point a client at URL + "/api/v2".
// All methods are safe for concurrent use.
type Simulator struct {
	cfg      Config
	now      func() time.Time
	log      io.Writer
	projects map[string]*project // by canonical slug
	tokens   map[string]*Token

	mu        sync.Mutex
	pipelines []*pipeline // in creation order
	byID      map[string]*pipeline
	workflows map[string]*workflow
	nextID    int
	faults    []Fault
	hostile   []Hostile // see hostile.go
	records   []Request
	limiter   *rateLimiter
	logBodies bool
	filesHost string               // see WithFilesHost
	keys      map[string]*pipeline // continuation keys handed out (continuation.go)
	hook      func(PipelineInfo)   // see WithPipelineHook
}

// Option configures a Simulator.
type Option func(*Simulator)

// WithClock makes the simulator read time from now instead of time.Now: workflow progress,
// timestamps and the rate limit window all follow it.
func WithClock(now func() time.Time) Option { return func(s *Simulator) { s.now = now } }

// WithLog writes one line per recorded request to w (method, path, status, operation, fault).
func WithLog(w io.Writer) Option { return func(s *Simulator) { s.log = w } }

// WithLogBodies adds each request's body, exactly as received, under its log line.
func WithLogBodies() Option { return func(s *Simulator) { s.logBodies = true } }

// New builds a simulator for cfg. cfg is validated as ParseConfig does; an invalid Config is a
// programming error in the test that built it, and New panics with the validation error.
func New(cfg Config, opts ...Option) *Simulator {
	cfg, err := cfg.normalized()
	if err != nil {
		panic("simulator.New: invalid config: " + err.Error())
	}
	s := &Simulator{
		cfg:       cfg,
		now:       time.Now,
		projects:  map[string]*project{},
		tokens:    map[string]*Token{},
		byID:      map[string]*pipeline{},
		workflows: map[string]*workflow{},
		keys:      map[string]*pipeline{},
		faults:    slices.Clone(cfg.Faults),
		hostile:   slices.Clone(cfg.Hostile),
	}
	for i := range cfg.Projects {
		p := &cfg.Projects[i]
		s.projects[p.Slug] = &project{cfg: p, nextNumber: p.FirstNumber, nextJob: 1}
	}
	for i := range cfg.Tokens {
		s.tokens[cfg.Tokens[i].Token] = &cfg.Tokens[i]
	}
	if rl := cfg.RateLimit; rl != nil {
		s.limiter = &rateLimiter{limit: rl.Requests, window: rl.Window.D()}
	}
	for _, o := range opts {
		o(s)
	}
	s.now = skewed(s.now, cfg.ClockSkew.D())
	return s
}

// Requests returns a copy of every recorded request, in arrival order.
func (s *Simulator) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.records))
	for i, r := range s.records {
		out[i] = r.clone()
	}
	return out
}

// Reset forgets the recorded requests. Pipelines, pending faults and the rate limit window
// are kept.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = nil
}

// AddFault queues f after the pending faults. It returns an error naming the bad field when f
// is invalid.
func (s *Simulator) AddFault(f Fault) error {
	nf, err := f.normalized()
	if err != nil {
		return fmt.Errorf("fault %s", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, nf)
	return nil
}

// Faults returns the faults still pending, with their remaining Times.
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.faults)
}

// ServeHTTP answers the CircleCI API under /api/v2, app links under /pipelines/, and the
// simulator's own admin endpoints under /_sim/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path == "/_sim" || strings.HasPrefix(path, "/_sim/") {
		s.serveAdmin(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return // the client went away mid-body; there is nobody to answer
	}
	rec := Request{
		Time: s.now(), Method: r.Method, Path: path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body,
	}
	rt, found := resolve(r.Method, path)
	if found {
		rec.Operation = rt.op
	}
	hostile := s.hostileFor(rec.Operation)
	r, page := hostileRequest(r, hostile)
	a := newAnswer()
	a.header.Set("Date", s.now().UTC().Format(http.TimeFormat)) // the server's clock, as a real server's

	s.mu.Lock()
	limited := false
	if s.limiter != nil && strings.HasPrefix(path, apiPrefix) {
		ok, remaining, reset := s.limiter.allow(rec.Time)
		if !ok || !s.cfg.RateLimit.OnlyWhenThrottled {
			setRateHeaders(a.header, s.limiter.limit, remaining, reset)
		}
		limited = !ok
	}
	var fault Fault
	hasFault := false
	if !limited {
		fault, hasFault = s.takeFault(rec.Operation)
	}
	s.mu.Unlock()

	switch {
	case limited:
		rec.Fault = "rate_limit"
		a.header.Set("Retry-After", a.header.Get("RateLimit-Reset"))
		writeMessage(a, http.StatusTooManyRequests, "Rate limit exceeded")
	case hasFault:
		rec.Fault = fault.Kind
		if fault.Delay > 0 && !wait(r.Context(), fault.Delay.D()) {
			s.store(rec) // the client gave up: no answer
			return
		}
		switch fault.Kind {
		case FaultStatus:
			s.writeStatusFault(a, fault)
		case FaultDrop:
			rec.Dropped = true
			s.store(rec)
			hangUp(w)
			return
		case FaultProcessed:
			s.handle(newAnswer(), r, rt, found, body) // done, and its answer replaced
			s.writeStatusFault(a, fault)
		case FaultLost:
			s.handle(a, r, rt, found, body)
			rec.Status, rec.ResponseHeader, rec.ResponseBody = a.status, a.header.Clone(), a.body.Bytes()
			rec.Dropped = true
			s.store(rec)
			hangUp(w)
			return
		default: // slow: the delay is done, answer normally
			s.handle(a, r, rt, found, body)
		}
	default:
		s.handle(a, r, rt, found, body)
	}
	rewrite(a, r, hostile, page)
	rec.Status, rec.ResponseHeader, rec.ResponseBody = a.status, a.header.Clone(), a.body.Bytes()
	s.store(rec) // before delivering, so a client that has its answer finds it recorded
	a.deliver(w)
}

// wait sleeps d unless ctx ends first; it reports whether the full delay passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hangUp closes the connection without answering.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort the response instead
	}
	_ = conn.Close()
}

func (s *Simulator) store(rec Request) {
	s.mu.Lock()
	s.records = append(s.records, rec)
	s.mu.Unlock()
	if s.log != nil {
		line := fmt.Sprintf("%s %s", rec.Method, rec.Path)
		if rec.RawQuery != "" {
			line += "?" + rec.RawQuery
		}
		if rec.Dropped {
			line += " -> dropped"
		} else {
			line += fmt.Sprintf(" -> %d", rec.Status)
		}
		if rec.Operation != "" {
			line += " " + rec.Operation
		}
		if rec.Fault != "" {
			line += " [fault: " + rec.Fault + "]"
		}
		if s.logBodies && len(rec.Body) > 0 {
			line += "\n  body: " + string(rec.Body)
		}
		s.mu.Lock()
		fmt.Fprintln(s.log, line)
		s.mu.Unlock()
	}
}

// handle answers a request that no fault stopped: method check, authentication, then the
// operation.
func (s *Simulator) handle(w http.ResponseWriter, r *http.Request, rt route, found bool, body []byte) {
	if !found {
		writeMessage(w, http.StatusNotFound, "Not found")
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if rt.op == opAppPage {
		s.appPage(w, rt)
		return
	}
	if rt.op == opContinue { // the continuation key is its credential: no token
		s.continuePipeline(w, r, body)
		return
	}
	user, msg := s.authenticate(r)
	if s.serveFile(w, r, rt, user) {
		return
	}
	if user == nil {
		writeMessage(w, http.StatusUnauthorized, msg)
		return
	}
	switch rt.op {
	case "getCurrentUser":
		writeJSON(w, http.StatusOK, userJSON(user))
	case "getProjectBySlug":
		s.getProject(w, rt, user)
	case "triggerPipeline":
		s.triggerPipeline(w, r, rt, user, body)
	case "triggerPipelineRun":
		s.triggerPipelineRun(w, r, rt, user, body)
	case "getPipelineById":
		s.getPipeline(w, rt, user)
	case opPipelineConfig:
		s.getPipelineConfig(w, rt, user)
	case "listPipelinesForProject":
		s.listPipelines(w, r, rt, user)
	case "listWorkflowsByPipelineId":
		s.listWorkflows(w, r, rt, user)
	case "getWorkflowById":
		s.getWorkflow(w, rt, user)
	case "listWorkflowJobs":
		s.listJobs(w, r, rt, user)
	case "cancelWorkflow":
		s.cancelWorkflow(w, rt, user)
	case opApproveJob:
		s.approveJob(w, rt, user)
	case opWorkflowSummary:
		s.getWorkflowSummary(w, r, rt, user)
	case opGetTests:
		s.getTests(w, r, rt, user)
	case opJobArtifacts:
		s.getJobArtifacts(w, r, rt, user)
	case opV1Job:
		s.getV1Job(w, r, rt, user)
	}
}

// authenticate finds the user behind the request's token: the Circle-Token header, or HTTP
// basic auth with the token as user name (both in the spec). A token in the query string is
// refused, as the real API now does.
func (s *Simulator) authenticate(r *http.Request) (*Token, string) {
	tok := r.Header.Get("Circle-Token")
	if tok == "" {
		if u, _, ok := r.BasicAuth(); ok {
			tok = u
		}
	}
	if tok == "" {
		if r.URL.Query().Has("circle-token") {
			return nil, "Support for query parameter authentication has been deprecated to improve security. Please use a supported authentication method such as header-based, or basic authentication."
		}
		return nil, "You must log in first."
	}
	t, ok := s.tokens[tok]
	if !ok {
		return nil, "Invalid token provided."
	}
	return t, ""
}

// canSee reports whether user may see the project with canonical slug.
func canSee(user *Token, slug string) bool {
	return len(user.Projects) == 0 || slices.Contains(user.Projects, slug)
}

type userBody struct {
	ID        string  `json:"id"`
	Login     string  `json:"login"`
	Name      string  `json:"name"`
	AvatarURL *string `json:"avatar_url"`
}

func userJSON(t *Token) userBody {
	return userBody{ID: t.ID, Login: t.Login, Name: t.Name, AvatarURL: avatar(t)}
}

func avatar(t *Token) *string {
	if t.AvatarURL == "" {
		return nil
	}
	return &t.AvatarURL
}
