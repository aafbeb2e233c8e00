package orbrun_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// githubReleases stands in for the part of GitHub's REST API a release uses
// (https://docs.github.com/rest/releases): the tags pushed (git/ref/tags), releases created
// (draft or not), listed, found by tag, published and deleted; assets uploaded to the uploads
// host, listed and deleted. It checks the bearer token and refuses a second release of a tag
// (422 already_exists), as GitHub does. The API and the uploads host are the same server here.
type githubReleases struct {
	URL   string
	token string
	tags  []string // pushed

	mu       sync.Mutex
	nextID   int
	releases map[int]*ghRelease
}

type ghRelease struct {
	ID        int       `json:"id"`
	Tag       string    `json:"tag_name"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	Draft     bool      `json:"draft"`
	Assets    []ghAsset `json:"assets"`
	UploadURL string    `json:"upload_url"`
	HTMLURL   string    `json:"html_url"`
}

type ghAsset struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Size   int    `json:"size"`
	State  string `json:"state"`
	Digest string `json:"digest"` // sha256:…, as GitHub reports it
	data   []byte
}

func newGitHubReleases(t *testing.T, token string, tags ...string) *githubReleases {
	g := &githubReleases{token: token, tags: tags, releases: map[int]*ghRelease{}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Published are the releases that are not drafts, with their assets' SHA-256 by name.
func (g *githubReleases) Published() map[string]map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]map[string]string{}
	for _, r := range g.releases {
		if r.Draft {
			continue
		}
		assets := map[string]string{}
		for _, a := range r.Assets {
			assets[a.Name] = strings.TrimPrefix(a.Digest, "sha256:")
		}
		out[r.Tag] = assets
	}
	return out
}

var (
	ghTagRefRE   = regexp.MustCompile(`^/repos/[^/]+/[^/]+/git/ref/tags/([^/]+)$`)
	ghReleasesRE = regexp.MustCompile(`^/repos/[^/]+/[^/]+/releases$`)
	ghByTagRE    = regexp.MustCompile(`^/repos/[^/]+/[^/]+/releases/tags/([^/]+)$`)
	ghReleaseRE  = regexp.MustCompile(`^/repos/[^/]+/[^/]+/releases/([0-9]+)$`)
	ghAssetsRE   = regexp.MustCompile(`^/repos/[^/]+/[^/]+/releases/([0-9]+)/assets$`)
	ghAssetRE    = regexp.MustCompile(`^/repos/[^/]+/[^/]+/releases/assets/([0-9]+)$`)
)

func (g *githubReleases) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+g.token && auth != "token "+g.token {
		g.answer(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	path := r.URL.Path
	id := func(re *regexp.Regexp) int {
		n, _ := strconv.Atoi(re.FindStringSubmatch(path)[1])
		return n
	}
	switch {
	case r.Method == http.MethodGet && ghTagRefRE.MatchString(path):
		tag := ghTagRefRE.FindStringSubmatch(path)[1]
		if !slices.Contains(g.tags, tag) {
			g.notFound(w)
			return
		}
		g.answer(w, http.StatusOK, map[string]any{"ref": "refs/tags/" + tag})
	case r.Method == http.MethodGet && ghReleasesRE.MatchString(path): // one page holds them all here
		list := []*ghRelease{}
		for _, id := range slices.Sorted(maps.Keys(g.releases)) {
			list = append(list, g.releases[id])
		}
		g.answer(w, http.StatusOK, list)
	case r.Method == http.MethodPost && ghReleasesRE.MatchString(path):
		var in ghRelease
		if err := json.Unmarshal(body, &in); err != nil || in.Tag == "" {
			g.answer(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed"})
			return
		}
		for _, old := range g.releases {
			if old.Tag == in.Tag {
				g.alreadyExists(w, "Release", "tag_name")
				return
			}
		}
		g.nextID++
		in.ID, in.Assets = g.nextID, []ghAsset{}
		in.UploadURL = fmt.Sprintf("%s%s/%d/assets{?name,label}", g.URL, path, in.ID)
		in.HTMLURL = fmt.Sprintf("%s/releases/tag/%s", g.URL, in.Tag)
		g.releases[in.ID] = &in
		g.answer(w, http.StatusCreated, in)
	case r.Method == http.MethodGet && ghByTagRE.MatchString(path):
		tag := ghByTagRE.FindStringSubmatch(path)[1]
		for _, rel := range g.releases {
			if rel.Tag == tag && !rel.Draft {
				g.answer(w, http.StatusOK, rel)
				return
			}
		}
		g.notFound(w)
	case ghReleaseRE.MatchString(path):
		rel, ok := g.releases[id(ghReleaseRE)]
		switch {
		case !ok:
			g.notFound(w)
		case r.Method == http.MethodGet:
			g.answer(w, http.StatusOK, rel)
		case r.Method == http.MethodPatch:
			var patch map[string]json.RawMessage
			_ = json.Unmarshal(body, &patch)
			if d, ok := patch["draft"]; ok {
				_ = json.Unmarshal(d, &rel.Draft)
			}
			g.answer(w, http.StatusOK, rel)
		case r.Method == http.MethodDelete:
			delete(g.releases, rel.ID)
			w.WriteHeader(http.StatusNoContent)
		default:
			g.notFound(w)
		}
	case ghAssetsRE.MatchString(path):
		rel, ok := g.releases[id(ghAssetsRE)]
		switch {
		case !ok:
			g.notFound(w)
		case r.Method == http.MethodGet:
			g.answer(w, http.StatusOK, rel.Assets)
		case r.Method == http.MethodPost:
			name := r.URL.Query().Get("name")
			for _, a := range rel.Assets {
				if a.Name == name {
					g.alreadyExists(w, "ReleaseAsset", "name")
					return
				}
			}
			sum := sha256.Sum256(body)
			g.nextID++
			a := ghAsset{ID: g.nextID, Name: name, Size: len(body), State: "uploaded", Digest: "sha256:" + hex.EncodeToString(sum[:]), data: body}
			rel.Assets = append(rel.Assets, a)
			g.answer(w, http.StatusCreated, a)
		default:
			g.notFound(w)
		}
	case r.Method == http.MethodDelete && ghAssetRE.MatchString(path):
		n := id(ghAssetRE)
		for _, rel := range g.releases {
			for i, a := range rel.Assets {
				if a.ID == n {
					rel.Assets = append(rel.Assets[:i], rel.Assets[i+1:]...)
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
		}
		g.notFound(w)
	default:
		g.notFound(w)
	}
}

// alreadyExists is GitHub's answer to creating what exists.
func (g *githubReleases) alreadyExists(w http.ResponseWriter, resource, field string) {
	g.answer(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
		"errors": []map[string]string{{"resource": resource, "code": "already_exists", "field": field}}})
}

func (g *githubReleases) notFound(w http.ResponseWriter) {
	g.answer(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
}

func (g *githubReleases) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
