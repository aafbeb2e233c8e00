package detail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/userfile"
)

// ArtifactAPI is what a Downloader needs of the CircleCI client.
type ArtifactAPI interface {
	ListJobArtifacts(ctx context.Context, slug string, jobNumber int64) ([]circleci.Artifact, error)
	Download(ctx context.Context, rawURL string, w io.Writer, limit int64) (int64, error)
}

// DefaultMaxArtifactBytes caps what one run downloads in all.
const DefaultMaxArtifactBytes = 1 << 30

// Downloader saves jobs' artifacts below Dir, as Dir/<project>/<job>-<number>/<path>; it is safe
// for concurrent use, and its byte cap is shared by every job.
type Downloader struct {
	API      ArtifactAPI
	Dir      string
	Pattern  string // a glob (see Match); "" → every artifact
	MaxBytes int64  // 0 → DefaultMaxArtifactBytes

	mu   sync.Mutex
	used int64
	full bool
}

// Saved is one artifact written, or refused (Err set).
type Saved struct {
	Path  string // as the server named it
	File  string // where it was written, below Dir; "" when refused
	Bytes int64
	Err   error
}

// ErrCapReached is the error of the artifacts not downloaded because the byte cap was reached.
var ErrCapReached = errors.New("not downloaded: the total size cap was reached")

// Job downloads the artifacts of one job that match the pattern. err is about the listing;
// each artifact's own failure is in its Saved.
func (d *Downloader) Job(ctx context.Context, project, job string, number int64) ([]Saved, error) {
	arts, err := d.API.ListJobArtifacts(ctx, project, number)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.Dir, filepath.FromSlash(FolderOf(project)), SafeName(job)+"-"+strconv.FormatInt(number, 10))
	var out []Saved
	for _, a := range arts {
		rel, err := SafeRel(a.Path)
		if err == nil && a.NodeIndex > 0 { // parallel containers may store the same path
			rel = "node" + strconv.FormatInt(a.NodeIndex, 10) + "/" + rel
		}
		if err == nil && !Match(d.Pattern, rel) {
			continue
		}
		s := Saved{Path: a.Path}
		if err != nil {
			s.Err = err
		} else {
			s.File = filepath.Join(dir, filepath.FromSlash(rel))
			s.Bytes, s.Err = d.save(ctx, dir, rel, a.URL)
			if s.Err != nil {
				s.File = ""
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// save downloads one artifact to dir/rel within what is left of the cap; a file cut off by the
// cap is removed, and no later artifact is downloaded.
func (d *Downloader) save(ctx context.Context, dir, rel, url string) (int64, error) {
	d.mu.Lock()
	limit := max(d.MaxBytes, 0)
	if limit == 0 {
		limit = DefaultMaxArtifactBytes
	}
	left, full := limit-d.used, d.full
	d.mu.Unlock()
	if full || left <= 0 {
		return 0, ErrCapReached
	}
	f, err := userfile.CreateIn(dir, rel)
	if err != nil {
		return 0, err
	}
	n, err := d.API.Download(ctx, url, f, left)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	d.mu.Lock()
	d.used += n
	if errors.Is(err, circleci.ErrDownloadTooLarge) {
		d.full = true
		err = fmt.Errorf("%w (%d bytes in all)", ErrCapReached, limit)
	}
	d.mu.Unlock()
	if err != nil {
		os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}

// SafeRel checks an artifact path from the server and returns it cleaned, slash-separated and
// relative: empty, absolute (/x, \x, C:x), ".." anywhere, backslashes and control characters
// are refused, so the path cannot leave its job's folder.
func SafeRel(p string) (string, error) {
	switch {
	case strings.TrimSpace(p) == "":
		return "", errors.New("refused: an empty path")
	case strings.ContainsFunc(p, unicode.IsControl):
		return "", errors.New("refused: a control character in the path")
	case strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || len(p) >= 2 && p[1] == ':':
		return "", errors.New("refused: an absolute path")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", errors.New("refused: the path leaves the job's folder (..)")
		}
	}
	c := path.Clean(p)
	if c == "." || !filepathLocal(c) {
		return "", errors.New("refused: not a path inside the job's folder")
	}
	return c, nil
}

// filepathLocal is filepath.IsLocal for the slash path c on this system (it refuses names such
// as NUL or COM1 on Windows too).
func filepathLocal(c string) bool { return filepath.IsLocal(filepath.FromSlash(c)) }

// SafeName is one folder name made of any text: path separators, control characters and the
// names "." and ".." become "_".
func SafeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return Cut(s, 100)
}

// FolderOf is a project's folder below the artifacts folder: gh/acme/e2e stays three folders,
// each made safe.
func FolderOf(project string) string {
	parts := strings.Split(project, "/")
	for i, p := range parts {
		parts[i] = SafeName(p)
	}
	return strings.Join(parts, "/")
}

// Match reports whether the slash path p matches the glob pattern: path.Match per segment, and
// "**" for any number of segments. A pattern without "/" is matched against the file name at any
// depth ("*.html"); the empty pattern matches everything.
func Match(pattern, p string) bool {
	if pattern == "" {
		return true
	}
	if !strings.Contains(pattern, "/") {
		ok, _ := path.Match(pattern, path.Base(p))
		return ok
	}
	return matchSegs(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for k := 0; k <= len(segs); k++ {
				if matchSegs(pat[1:], segs[k:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// CheckPattern refuses a glob path.Match cannot read.
func CheckPattern(pattern string) error {
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("%q is not a valid glob: %v", pattern, err)
		}
	}
	return nil
}
