package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitHub answers the release endpoints of GitHub's REST API as github.com does, from its
// own state, and lets a test make any request fail the way a broken or hostile server would.
// Behaviour modelled, with its source:
//   - GET /repos/{o}/{r}/releases/tags/{tag} finds published releases only; drafts are found
//     by listing the releases (docs.github.com/rest/releases/releases#get-a-release-by-tag-name;
//     github.com/github/developer.github.com/pull/784).
//   - Creating a release whose tag already has one answers 422 Validation Failed with
//     errors [{resource: Release, code: already_exists, field: tag_name}].
//   - An upload whose name the release already has answers 422 already_exists (field name);
//     a 502 during an upload "may leave an empty asset with a state of starter"
//     (docs.github.com/rest/releases/assets#upload-a-release-asset).
//   - Deleting a release deletes its assets; GET /git/ref/tags/{tag} is 404 for a missing tag.
type fakeGitHub struct {
	*httptest.Server
	mu       sync.Mutex
	token    string
	tags     map[string]bool
	releases []*hostedRelease
	nextID   int64
	log      []string // "METHOD PATH STATUS", in order
	auth     []string // the Authorization header of every request
	queries  []string // every request's raw query
	faults   []fault
}

type hostedRelease struct {
	ID     int64
	Tag    string
	Draft  bool
	Assets []*fakeAsset
}

type fakeAsset struct {
	Name  string
	Size  int64
	State string
	Data  []byte
}

// fault answers instead of the fake for requests whose "METHOD PATH" match matches.
type fault struct {
	match  *regexp.Regexp
	skip   int // let this many matching requests through first
	times  int
	after  bool
	answer func(w http.ResponseWriter)
	seen   int
	fired  int
}

const fakeToken = "ghp_fakeTOKENfor-tests-0123456789"

func newFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{token: fakeToken, tags: map[string]bool{}, nextID: 100}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

// fail makes requests matching pattern answer with answer: after skip matching requests, times
// times (0: every time). With after, the request is carried out and then its answer lost.
func (g *fakeGitHub) fail(pattern string, skip, times int, after bool, answer func(w http.ResponseWriter)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, fault{match: regexp.MustCompile(pattern), skip: skip, times: times, after: after, answer: answer})
}

// status answers code with GitHub's JSON error body.
func status(code int, message string, errs ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { writeError(w, code, message, errs...) }
}

// hangUp closes the connection without an answer: the request's outcome is unknown.
func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeError(w http.ResponseWriter, code int, message string, errs ...string) {
	body := map[string]any{"message": message, "documentation_url": "https://docs.github.com/rest"}
	var list []map[string]string
	for _, e := range errs {
		field, c, _ := strings.Cut(e, " ")
		list = append(list, map[string]string{"resource": "Release", "field": field, "code": c})
	}
	if list != nil {
		body["errors"] = list
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (g *fakeGitHub) setTag(tag string, pushed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tags[tag] = pushed
}

func (g *fakeGitHub) setToken(token string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.token = token
}

// seen is what every request carried: its Authorization header and its query.
func (g *fakeGitHub) seen() (s struct{ auth, queries []string }) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.auth = append(s.auth, g.auth...)
	s.queries = append(s.queries, g.queries...)
	return s
}

// requests is the log of requests answered, "METHOD PATH STATUS".
func (g *fakeGitHub) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.log...)
}

// count is the number of logged requests starting with prefix ("POST /repos").
func (g *fakeGitHub) count(prefix string) int {
	n := 0
	for _, r := range g.requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (g *fakeGitHub) state() []hostedRelease {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []hostedRelease
	for _, r := range g.releases {
		out = append(out, *r)
	}
	return out
}

func (g *fakeGitHub) addRelease(tag string, draft bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	g.releases = append(g.releases, &hostedRelease{ID: g.nextID, Tag: tag, Draft: draft})
}

func (g *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.auth = append(g.auth, r.Header.Get("Authorization"))
	g.queries = append(g.queries, r.URL.RawQuery)
	key := r.Method + " " + r.URL.Path
	body, _ := io.ReadAll(r.Body)
	for i := range g.faults {
		f := &g.faults[i]
		if !f.match.MatchString(key) {
			continue
		}
		f.seen++
		if f.seen <= f.skip || (f.times > 0 && f.fired >= f.times) {
			continue
		}
		f.fired++
		if f.after {
			g.handle(httptest.NewRecorder(), r, body)
		}
		rec := &statusRecorder{ResponseWriter: w, code: 0}
		f.answer(rec)
		g.log = append(g.log, fmt.Sprintf("%s %d", key, rec.code))
		return
	}
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	g.handle(rec, r, body)
	g.log = append(g.log, fmt.Sprintf("%s %d", key, rec.code))
}

// statusRecorder notes the status written; it still hijacks like the real writer.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return s.ResponseWriter.(http.Hijacker).Hijack()
}

var (
	refRoute      = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/git/ref/tags/([^/]+)$`)
	byTagRoute    = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/releases/tags/([^/]+)$`)
	releasesRoute = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/releases$`)
	releaseRoute  = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/releases/([0-9]+)$`)
	assetsRoute   = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/releases/([0-9]+)/assets$`)
)

func (g *fakeGitHub) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		writeError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && refRoute.MatchString(p):
		tag := refRoute.FindStringSubmatch(p)[2]
		if !g.tags[tag] {
			writeError(w, http.StatusNotFound, "Not Found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ref": "refs/tags/" + tag, "object": map[string]string{"type": "commit", "sha": strings.Repeat("a", 40)}})
	case r.Method == http.MethodGet && byTagRoute.MatchString(p):
		tag := byTagRoute.FindStringSubmatch(p)[2]
		for _, rel := range g.releases {
			if rel.Tag == tag && !rel.Draft {
				writeJSON(w, http.StatusOK, g.releaseJSON(rel))
				return
			}
		}
		writeError(w, http.StatusNotFound, "Not Found")
	case r.Method == http.MethodGet && releasesRoute.MatchString(p):
		perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if perPage == 0 {
			perPage = 30
		}
		page = max(page, 1)
		list := []any{}
		for i := len(g.releases) - 1; i >= 0; i-- { // newest first
			list = append(list, g.releaseJSON(g.releases[i]))
		}
		lo, hi := min((page-1)*perPage, len(list)), min(page*perPage, len(list))
		writeJSON(w, http.StatusOK, list[lo:hi])
	case r.Method == http.MethodPost && releasesRoute.MatchString(p):
		var req struct {
			TagName string `json:"tag_name"`
			Draft   bool   `json:"draft"`
		}
		if json.Unmarshal(body, &req) != nil || req.TagName == "" {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", "tag_name missing_field")
			return
		}
		for _, rel := range g.releases {
			if rel.Tag == req.TagName && !rel.Draft {
				writeError(w, http.StatusUnprocessableEntity, "Validation Failed", "tag_name already_exists")
				return
			}
		}
		g.nextID++
		rel := &hostedRelease{ID: g.nextID, Tag: req.TagName, Draft: req.Draft}
		g.releases = append(g.releases, rel)
		writeJSON(w, http.StatusCreated, g.releaseJSON(rel))
	case releaseRoute.MatchString(p):
		rel := g.release(releaseRoute.FindStringSubmatch(p)[2])
		if rel == nil {
			writeError(w, http.StatusNotFound, "Not Found")
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, g.releaseJSON(rel))
		case http.MethodPatch:
			var req struct {
				Draft *bool `json:"draft"`
			}
			json.Unmarshal(body, &req)
			if req.Draft != nil {
				rel.Draft = *req.Draft
			}
			writeJSON(w, http.StatusOK, g.releaseJSON(rel))
		case http.MethodDelete:
			for i, x := range g.releases {
				if x == rel {
					g.releases = append(g.releases[:i], g.releases[i+1:]...)
					break
				}
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		}
	case assetsRoute.MatchString(p):
		rel := g.release(assetsRoute.FindStringSubmatch(p)[2])
		if rel == nil {
			writeError(w, http.StatusNotFound, "Not Found")
			return
		}
		switch r.Method {
		case http.MethodGet:
			list := []any{}
			for _, a := range rel.Assets {
				list = append(list, map[string]any{"name": a.Name, "size": a.Size, "state": a.State})
			}
			writeJSON(w, http.StatusOK, list)
		case http.MethodPost:
			name := r.URL.Query().Get("name")
			for _, a := range rel.Assets {
				if a.Name == name {
					writeError(w, http.StatusUnprocessableEntity, "Validation Failed", "name already_exists")
					return
				}
			}
			a := &fakeAsset{Name: name, Size: int64(len(body)), State: "uploaded", Data: body}
			rel.Assets = append(rel.Assets, a)
			writeJSON(w, http.StatusCreated, map[string]any{"name": a.Name, "size": a.Size, "state": a.State, "content_type": r.Header.Get("Content-Type")})
		}
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (g *fakeGitHub) release(id string) *hostedRelease {
	for _, rel := range g.releases {
		if strconv.FormatInt(rel.ID, 10) == id {
			return rel
		}
	}
	return nil
}

func (g *fakeGitHub) releaseJSON(rel *hostedRelease) map[string]any {
	url := fmt.Sprintf("https://github.com/baton-ci/baton/releases/tag/%s", rel.Tag)
	if rel.Draft {
		url = fmt.Sprintf("https://github.com/baton-ci/baton/releases/tag/untagged-%d", rel.ID)
	}
	return map[string]any{"id": rel.ID, "tag_name": rel.Tag, "draft": rel.Draft, "html_url": url,
		"upload_url": "https://uploads.github.com/repos/baton-ci/baton/releases/" + strconv.FormatInt(rel.ID, 10) + "/assets{?name,label}"}
}
