package orbrun

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Release is a release made by the project's own scripts: the archives and SHA256SUMS from
// scripts/build-release.sh, and the orb packed and filled in by scripts/pack-orb.sh.
type Release struct {
	Version string
	Dist    string // the archives and SHA256SUMS
	Orb     string // the packed orb pinning Version
}

// EnvRelease names a directory holding a release made by scripts/test-orb.sh (dist/ and
// orb.yml, for version EnvReleaseVersion), so that tests do not build it again.
const (
	EnvRelease        = "BATON_ORB_RELEASE"
	EnvReleaseVersion = "BATON_ORB_RELEASE_VERSION"
)

// MakeRelease builds version into dir/dist and packs the orb into dir/orb.yml with the
// repository's scripts, writing their output to log.
func MakeRelease(root, dir, version string, log io.Writer) (*Release, error) {
	r := &Release{Version: version, Dist: filepath.Join(dir, "dist"), Orb: filepath.Join(dir, "orb.yml")}
	for _, args := range [][]string{
		{"scripts/build-release.sh", version, r.Dist},
		{"scripts/pack-orb.sh", version, r.Dist, r.Orb},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	return r, nil
}

// ReleaseFromEnv is the release EnvRelease points at, or nil when it is not set.
func ReleaseFromEnv() (*Release, error) {
	dir := os.Getenv(EnvRelease)
	if dir == "" {
		return nil, nil
	}
	r := &Release{Version: os.Getenv(EnvReleaseVersion), Dist: filepath.Join(dir, "dist"), Orb: filepath.Join(dir, "orb.yml")}
	if r.Version == "" {
		return nil, fmt.Errorf("%s is set but %s is not", EnvRelease, EnvReleaseVersion)
	}
	for _, f := range []string{filepath.Join(r.Dist, "SHA256SUMS"), r.Orb} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvRelease, dir, err)
		}
	}
	return r, nil
}

// RepoRoot is the directory holding go.mod, found upwards from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReleaseServer serves release archives the way GitHub releases (or a mirror) do:
// GET /vVERSION/NAME answers the file NAME of that version's directory.
type ReleaseServer struct {
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	dirs     map[string]string // version → directory
	swapped  map[string][]byte // file name → bytes served instead
	failures int
	requests []string
}

// NewReleaseServer serves dist as version.
func NewReleaseServer(version, dist string) *ReleaseServer {
	s := &ReleaseServer{dirs: map[string]string{version: dist}, swapped: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// AddVersion serves dir as version too.
func (s *ReleaseServer) AddVersion(version, dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs[version] = dir
}

// Swap serves data instead of the file name (in every version): a tampered archive.
func (s *ReleaseServer) Swap(name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swapped[name] = data
}

// FailNext answers the next n requests with 503, as a flaky mirror would.
func (s *ReleaseServer) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = n
}

// Requests are the paths requested so far, with the status answered ("GET /v1.0.0/x 200").
func (s *ReleaseServer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Close stops the server.
func (s *ReleaseServer) Close() { s.srv.Close() }

func (s *ReleaseServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status := s.answer(w, r)
	s.requests = append(s.requests, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
}

func (s *ReleaseServer) answer(w http.ResponseWriter, r *http.Request) int {
	if s.failures > 0 {
		s.failures--
		http.Error(w, "mirror overloaded", http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable
	}
	version, name, ok := strings.Cut(strings.TrimPrefix(path.Clean(r.URL.Path), "/v"), "/")
	dir, known := s.dirs[version]
	if r.Method != http.MethodGet || !ok || !known || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	data, swapped := s.swapped[name]
	if !swapped {
		var err error
		if data, err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			http.NotFound(w, r)
			return http.StatusNotFound
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
	return http.StatusOK
}
