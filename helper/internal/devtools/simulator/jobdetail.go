package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// What a scripted job leaves behind once it stopped: test results (GET
// /project/{slug}/{job-number}/tests, paged), steps with their output (API v1.1's job details,
// whose output_url points at another host, presigned: no token needed or expected), and
// artifacts (GET /project/{slug}/{job-number}/artifacts; each url is on the API host, which
// asks for the token and, when a files host is set, redirects to it, as CircleCI's artifact
// hosts redirect to storage).

// Operations of this file: two of the description's, and the ones it does not describe.
const (
	opGetTests      = "getTests"
	opJobArtifacts  = "getJobArtifacts"
	opV1Job         = "v1.1:getJob"
	opStepOutput    = "files:stepOutput"   // on the files host, no token
	opArtifactFile  = "files:artifact"     // on the API host, token required
	opArtifactBlob  = "files:artifactBlob" // on the files host, no token
	filesPrefix     = "/_files/"
	v1ProjectPrefix = "/api/v1.1/project/"
)

// JobTests scripts a job's test results: Passing passing tests named test-1, test-2, …, then
// the Failures (listed first among failures in the answer order they are given).
type JobTests struct {
	Passing  int        `yaml:"passing,omitempty"`
	Failures []TestCase `yaml:"failures,omitempty"`
}

// TestCase is one scripted failing test.
type TestCase struct {
	Classname string `yaml:"classname,omitempty"`
	Name      string `yaml:"name"`
	Message   string `yaml:"message,omitempty"`
	File      string `yaml:"file,omitempty"`
}

// JobStep scripts one step of a job: its name, output, and whether it failed.
type JobStep struct {
	Name   string `yaml:"name"`
	Output string `yaml:"output,omitempty"`
	Failed bool   `yaml:"failed,omitempty"`
}

// JobArtifact scripts one artifact: its path exactly as the API lists it (hostile ones
// included) and its content, or Size bytes of "x" when Content is empty.
type JobArtifact struct {
	Path      string `yaml:"path"`
	Content   string `yaml:"content,omitempty"`
	Size      int64  `yaml:"size,omitempty"`
	NodeIndex int64  `yaml:"node_index,omitempty"`
}

// WithFilesHost serves step output and artifact contents from base (e.g. a second httptest
// server with the same simulator as its handler), as CircleCI serves them from storage hosts:
// clients can then prove which host got the token. Without it they come from the API host.
func WithFilesHost(base string) Option {
	return func(s *Simulator) { s.filesHost = strings.TrimSuffix(base, "/") }
}

// SetFilesHost is WithFilesHost for a simulator already serving (its files host may only be
// known once started).
func (s *Simulator) SetFilesHost(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.filesHost = strings.TrimSuffix(base, "/")
}

// resolveDetail maps the paths of this file outside API v2 to routes: v1.1's job details and
// the files.
func resolveDetail(escaped string) (route, bool) {
	if rest, ok := strings.CutPrefix(escaped, v1ProjectPrefix); ok {
		p := strings.Split(strings.TrimSuffix(rest, "/"), "/")
		if len(p) == 4 && isNumber(p[3]) {
			return route{op: opV1Job, method: "GET", slug: p[0] + "/" + p[1] + "/" + p[2], number: p[3]}, true
		}
		return route{}, false
	}
	if rest, ok := strings.CutPrefix(escaped, filesPrefix); ok {
		p := strings.Split(rest, "/")
		if len(p) == 3 && isNumber(p[2]) {
			switch p[0] {
			case "output":
				return route{op: opStepOutput, method: "GET", id: p[1], number: p[2]}, true
			case "artifact":
				return route{op: opArtifactFile, method: "GET", id: p[1], number: p[2]}, true
			case "blob":
				return route{op: opArtifactBlob, method: "GET", id: p[1], number: p[2]}, true
			}
		}
	}
	return route{}, false
}

// resolveJobDetail maps v2's tests and artifacts routes (the slug escaped as one segment or
// plain, then a numeric job number).
func resolveJobDetail(seg []string) (route, bool) {
	n := len(seg)
	if n < 4 || seg[0] != "project" || !isNumber(seg[n-2]) || !(n == 4 && strings.Count(seg[1], "/") == 2 || n == 6) {
		return route{}, false
	}
	slug := strings.Join(seg[1:n-2], "/")
	switch seg[n-1] {
	case "tests":
		return route{op: opGetTests, method: "GET", slug: slug, number: seg[n-2]}, true
	case "artifacts":
		return route{op: opJobArtifacts, method: "GET", slug: slug, number: seg[n-2]}, true
	}
	return route{}, false
}

func isNumber(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil && s != "" && s[0] != '-' && s[0] != '+'
}

// stoppedJob finds the job numbered number in the project user sees, and whether it stopped.
// Caller holds s.mu.
func (s *Simulator) stoppedJob(slug, number string, user *Token, now time.Time) (*workflow, *job, bool) {
	proj := s.lookupProject(slug, user)
	n, err := strconv.ParseInt(number, 10, 64)
	if proj == nil || err != nil {
		return nil, nil, false
	}
	for _, w := range s.workflows {
		if w.p.proj != proj {
			continue
		}
		s.advance(w.p, now)
		for _, j := range w.jobs {
			if j.number == n {
				_, stopped := w.jobAt(j, now)
				return w, j, stopped != nil
			}
		}
	}
	return nil, nil, false
}

// jobOr404 is stoppedJob for a request, answered 404 when there is no such job.
func (s *Simulator) jobOr404(w http.ResponseWriter, rt route, user *Token) (*workflow, *job, bool) {
	s.mu.Lock()
	wf, j, stopped := s.stoppedJob(rt.slug, rt.number, user, s.now())
	s.mu.Unlock()
	if j == nil {
		writeMessage(w, http.StatusNotFound, "Job not found")
	}
	return wf, j, stopped
}

type testBody struct {
	Message   *string `json:"message"`
	Source    string  `json:"source"`
	RunTime   float64 `json:"run_time"`
	File      string  `json:"file"`
	Result    string  `json:"result"`
	Name      string  `json:"name"`
	Classname string  `json:"classname"`
}

// getTests serves GET /project/{slug}/{job-number}/tests: nothing until the job stopped; then
// the passing tests with the failures spread among them, as a real report interleaves them.
func (s *Simulator) getTests(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	wf, j, stopped := s.jobOr404(w, rt, user)
	if j == nil {
		return
	}
	items := []testBody{}
	if t := j.cfg.Tests; stopped && t != nil {
		total := t.Passing + len(t.Failures)
		every := total / max(len(t.Failures), 1)
		for i, p, f := 0, 0, 0; i < total; i++ {
			if f < len(t.Failures) && (p >= t.Passing || (i+1)%every == 0) {
				c := t.Failures[f]
				msg := c.Message
				items = append(items, testBody{Message: &msg, Source: "rspec", RunTime: 0.5, File: c.File, Result: "failure", Name: c.Name, Classname: c.Classname})
				f++
				continue
			}
			p++
			items = append(items, testBody{Source: "rspec", RunTime: 0.01, File: "spec/generated_spec.rb", Result: "success", Name: fmt.Sprintf("test-%d", p), Classname: "generated"})
		}
	}
	writePage(w, r, items, "tests:"+wf.id+":"+rt.number, s.cfg.PageSize)
}

type artifactBody struct {
	Path      string `json:"path"`
	NodeIndex int64  `json:"node_index"`
	URL       string `json:"url"`
}

// getJobArtifacts serves GET /project/{slug}/{job-number}/artifacts.
func (s *Simulator) getJobArtifacts(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	_, j, stopped := s.jobOr404(w, rt, user)
	if j == nil {
		return
	}
	items := []artifactBody{}
	if stopped {
		for i, a := range j.cfg.Artifacts {
			items = append(items, artifactBody{Path: a.Path, NodeIndex: a.NodeIndex,
				URL: "http://" + r.Host + filesPrefix + "artifact/" + url.PathEscape(j.id) + "/" + strconv.Itoa(i)})
		}
	}
	writePage(w, r, items, "artifacts:"+j.id, s.cfg.PageSize)
}

// getV1Job serves the part of API v1.1's GET /project/{vcs}/{org}/{repo}/{num} a client reads
// for step output: steps[].actions[] with status, failed, exit_code and output_url.
func (s *Simulator) getV1Job(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	s.mu.Lock()
	_, j, stopped := s.stoppedJob(rt.slug, rt.number, user, s.now())
	files := s.filesHost
	s.mu.Unlock()
	if j == nil {
		writeMessage(w, http.StatusNotFound, "Job not found")
		return
	}
	if files == "" {
		files = "http://" + r.Host
	}
	type action struct {
		Name      string  `json:"name"`
		Status    string  `json:"status"`
		Failed    *bool   `json:"failed"`
		Index     int     `json:"index"`
		Step      int     `json:"step"`
		ExitCode  *int    `json:"exit_code"`
		HasOutput bool    `json:"has_output"`
		OutputURL *string `json:"output_url"`
	}
	type step struct {
		Name    string   `json:"name"`
		Actions []action `json:"actions"`
	}
	steps := []step{}
	if stopped {
		for i, st := range j.cfg.Steps {
			a := action{Name: st.Name, Status: "success", Step: i, HasOutput: st.Output != ""}
			code := 0
			if st.Failed {
				failed := true
				a.Status, a.Failed, code = "failed", &failed, 1
			}
			a.ExitCode = &code
			if a.HasOutput { // presigned: the signature is the authorization
				u := files + filesPrefix + "output/" + url.PathEscape(j.id) + "/" + strconv.Itoa(i) + "?X-Amz-Signature=sim"
				a.OutputURL = &u
			}
			steps = append(steps, step{Name: st.Name, Actions: []action{a}})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"build_num": j.number, "status": j.status, "steps": steps})
}

// serveFile serves step output and artifact contents; it reports whether rt was one of them.
// Only the API host's artifact route asks for the token (user is nil without one).
func (s *Simulator) serveFile(w http.ResponseWriter, r *http.Request, rt route, user *Token) bool {
	switch rt.op {
	case opStepOutput, opArtifactFile, opArtifactBlob:
	default:
		return false
	}
	i, _ := strconv.Atoi(rt.number)
	s.mu.Lock()
	var j *job
	for _, wf := range s.workflows {
		for _, jb := range wf.jobs {
			if jb.id == rt.id {
				j = jb
			}
		}
	}
	files := s.filesHost
	s.mu.Unlock()
	switch {
	case j == nil:
		writeMessage(w, http.StatusNotFound, "Not found")
	case rt.op == opStepOutput && i < len(j.cfg.Steps):
		writeJSON(w, http.StatusOK, []map[string]string{{"type": "out", "time": "2026-01-01T00:00:00.000Z", "message": j.cfg.Steps[i].Output}})
	case rt.op == opArtifactFile && user == nil:
		writeMessage(w, http.StatusUnauthorized, "You must log in first.")
	case rt.op == opArtifactFile && files != "" && i < len(j.cfg.Artifacts):
		w.Header().Set("Location", files+filesPrefix+"blob/"+url.PathEscape(j.id)+"/"+rt.number)
		w.WriteHeader(http.StatusFound)
	case (rt.op == opArtifactFile || rt.op == opArtifactBlob) && i < len(j.cfg.Artifacts):
		a := j.cfg.Artifacts[i]
		body := []byte(a.Content)
		if len(body) == 0 {
			body = []byte(strings.Repeat("x", int(max(min(a.Size, 64<<20), 0))))
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	default:
		writeMessage(w, http.StatusNotFound, "Not found")
	}
	return true
}
