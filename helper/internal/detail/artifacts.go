package detail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/slug"
	"github.com/baton-ci/baton/helper/internal/userfile"
)

// ArtifactAPI is what a Downloader needs of the CircleCI client.
type ArtifactAPI interface {
	ListJobArtifacts(ctx context.Context, slug string, jobNumber int64) ([]circleci.Artifact, error)
	Download(ctx context.Context, rawURL string, w io.Writer, limit int64) (int64, error)
}

// The bounds of one run's downloads, used for a Downloader's zero fields; --help names them.
const (
	// DefaultMaxArtifactBytes caps what one run downloads in all.
	DefaultMaxArtifactBytes = 1 << 30
	// DefaultMaxArtifacts caps how many artifacts one run downloads: a job storing ten thousand
	// files is not a reason to spend an hour on it (--artifacts narrows what is wanted).
	DefaultMaxArtifacts = 500
	// DefaultArtifactsTime bounds the downloads in all. Nothing is printed while they run, and
	// CircleCI ends a step that prints nothing for 10 minutes: well under that.
	DefaultArtifactsTime = 5 * time.Minute
	// DefaultArtifactWorkers is how many listings or downloads run at once; each waits its turn
	// in the client's request budget like any other request.
	DefaultArtifactWorkers = 4
)

// Downloader saves jobs' artifacts below Dir, as Dir/<project>/<job>-<number>/<path>, a few at a
// time and within bounds on their count, their total size and the time taken. No two files of
// a run land on one path: a second artifact with a path already used (compared without regard
// to case, as macOS and Windows compare names) is saved under another name and says so, and
// each job has a folder of its own. What is reported saved is checked to be on disk as written.
type Downloader struct {
	API      ArtifactAPI
	Dir      string
	Pattern  string        // a glob (see Match); "" → every artifact
	MaxBytes int64         // 0 → DefaultMaxArtifactBytes
	MaxFiles int           // 0 → DefaultMaxArtifacts
	MaxTime  time.Duration // 0 → DefaultArtifactsTime
	Workers  int           // 0 → DefaultArtifactWorkers
}

// JobRef is a job whose artifacts are wanted.
type JobRef struct {
	Project string // its project slug: to list its artifacts, and to name its folder
	Name    string
	Number  int64
}

// JobArtifacts is what became of one job's artifacts.
type JobArtifacts struct {
	JobRef
	Saved []Saved // every artifact the pattern matched, in the server's order
	Err   error   // the artifacts could not be listed
}

// Saved is one artifact: written (File set), refused or skipped (Err set).
type Saved struct {
	Path    string // as the server named it
	File    string // where it was written, below Dir; "" when it was not
	Bytes   int64
	Err     error
	Skipped bool   // not tried: a bound of the run (count, size, time) was reached first
	Note    string // why File is not where the server's path would put it
}

// Errors of artifacts that were not downloaded because a bound was reached.
var (
	ErrCapReached = errors.New("not downloaded: the total size cap was reached")
	ErrTooMany    = errors.New("not downloaded: the cap on the number of artifacts was reached")
	ErrTimeUp     = errors.New("not downloaded: the time allowed for artifacts ran out")
)

// limits are a Downloader's bounds, defaults filled in.
type limits struct {
	bytes   int64
	files   int
	time    time.Duration
	workers int
}

func (d *Downloader) limits() limits {
	l := limits{bytes: d.MaxBytes, files: d.MaxFiles, time: d.MaxTime, workers: d.Workers}
	if l.bytes <= 0 {
		l.bytes = DefaultMaxArtifactBytes
	}
	if l.files <= 0 {
		l.files = DefaultMaxArtifacts
	}
	if l.time <= 0 {
		l.time = DefaultArtifactsTime
	}
	if l.workers <= 0 {
		l.workers = DefaultArtifactWorkers
	}
	return l
}

// download is one artifact to fetch: where its Saved is, and where it goes.
type download struct {
	job, i   int // out[job].Saved[i]
	dir, rel string
	url      string
}

// Download downloads the artifacts of jobs that match the pattern: the listings, then the
// files, a few at a time. The first MaxFiles artifacts (in the order of jobs, then of each
// listing) are downloaded while the size cap and the time allow; the rest are reported skipped.
// The result has one JobArtifacts per job, in the same order.
func (d *Downloader) Download(ctx context.Context, jobs []JobRef) []JobArtifacts {
	lim := d.limits()
	ctx, cancel := context.WithTimeoutCause(ctx, lim.time, ErrTimeUp)
	defer cancel()
	out := make([]JobArtifacts, len(jobs))
	lists := make([][]circleci.Artifact, len(jobs))
	each(len(jobs), lim.workers, func(i int) {
		out[i].JobRef = jobs[i]
		lists[i], out[i].Err = d.API.ListJobArtifacts(ctx, jobs[i].Project, jobs[i].Number)
		if out[i].Err != nil && errors.Is(context.Cause(ctx), ErrTimeUp) {
			out[i].Err = fmt.Errorf("%w (%s)", ErrTimeUp, lim.time)
		}
	})

	var todo []download
	dirs := claims{}
	for i, j := range jobs {
		if out[i].Err != nil {
			continue
		}
		dir, note := dirs.folder(projectFolder(j.Project) + "/" + SafeName(j.Name) + "-" + strconv.FormatInt(j.Number, 10))
		files := claims{}
		for _, a := range lists[i] {
			rel, err := SafeRel(a.Path)
			if err == nil && a.NodeIndex > 0 { // parallel containers may store the same path
				rel = "node" + strconv.FormatInt(a.NodeIndex, 10) + "/" + rel
			}
			if err == nil && !Match(d.Pattern, rel) {
				continue
			}
			s := Saved{Path: a.Path, Note: note}
			switch {
			case err != nil:
				s.Err = err
			case len(todo) >= lim.files:
				s.Err, s.Skipped = fmt.Errorf("%w (%d in a run)", ErrTooMany, lim.files), true
			default:
				var why string
				if rel, why, err = files.file(rel); err != nil {
					s.Err = err
					break
				}
				s.Note = joinNotes(note, why)
				todo = append(todo, download{job: i, i: len(out[i].Saved), dir: filepath.Join(d.Dir, filepath.FromSlash(dir)), rel: rel, url: a.URL})
			}
			out[i].Saved = append(out[i].Saved, s)
		}
	}

	written := make([]fs.FileInfo, len(todo))
	size := &sizeCap{limit: lim.bytes}
	each(len(todo), lim.workers, func(k int) {
		t := todo[k]
		s := &out[t.job].Saved[t.i]
		s.File, s.Bytes, written[k], s.Err = d.save(ctx, size, t)
		if s.Err != nil {
			s.Skipped = errors.Is(s.Err, ErrCapReached) || errors.Is(s.Err, ErrTimeUp)
			if errors.Is(s.Err, ErrTimeUp) {
				s.Err = fmt.Errorf("%w (%s)", ErrTimeUp, lim.time)
			}
		}
	})
	for k, t := range todo { // only what is on disk as written is reported saved
		s := &out[t.job].Saved[t.i]
		if s.File == "" {
			continue
		}
		if now, err := os.Lstat(s.File); err != nil || !os.SameFile(now, written[k]) || now.Size() != s.Bytes {
			s.File, s.Err = "", errors.New("saved, but no longer on disk as written (replaced or removed since)")
		}
	}
	return out
}

// each runs f(0) … f(n-1), at most workers at a time.
func each(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// save downloads one artifact to t.dir/t.rel within what is left of the size cap; a file cut off
// by the cap, or by the time limit, is removed.
func (d *Downloader) save(ctx context.Context, size *sizeCap, t download) (string, int64, fs.FileInfo, error) {
	switch {
	case errors.Is(context.Cause(ctx), ErrTimeUp):
		return "", 0, nil, ErrTimeUp
	case ctx.Err() != nil:
		return "", 0, nil, ctx.Err()
	case size.full():
		return "", 0, nil, fmt.Errorf("%w (%d bytes in all)", ErrCapReached, size.limit)
	}
	f, err := userfile.CreateIn(t.dir, t.rel)
	if err != nil {
		return "", 0, nil, err
	}
	n, err := d.API.Download(ctx, t.url, &capWriter{w: f, size: size}, size.limit)
	var info fs.FileInfo
	if err == nil {
		info, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err == nil:
		return f.Name(), n, info, nil
	case errors.Is(err, ErrCapReached) || errors.Is(err, circleci.ErrDownloadTooLarge):
		size.fill()
		err = fmt.Errorf("%w (%d bytes in all)", ErrCapReached, size.limit)
	case errors.Is(context.Cause(ctx), ErrTimeUp):
		err = ErrTimeUp
	}
	os.Remove(f.Name())
	return "", 0, nil, err
}

// sizeCap is the run's size cap, shared by the downloads in flight.
type sizeCap struct {
	limit int64
	mu    sync.Mutex
	used  int64
	over  bool
}

// take grants up to n more bytes; fewer once the cap is reached.
func (c *sizeCap) take(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := int(min(int64(n), max(c.limit-c.used, 0)))
	c.used += int64(got)
	if got < n {
		c.over = true
	}
	return got
}

func (c *sizeCap) full() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.over || c.used >= c.limit
}

func (c *sizeCap) fill() {
	c.mu.Lock()
	c.over = true
	c.mu.Unlock()
}

// capWriter writes into w what the shared cap allows, and fails with ErrCapReached past it.
type capWriter struct {
	w    io.Writer
	size *sizeCap
}

func (c *capWriter) Write(p []byte) (int, error) {
	ok := c.size.take(len(p))
	n, err := c.w.Write(p[:ok])
	if err == nil && ok < len(p) {
		err = ErrCapReached
	}
	return n, err
}

// claims are the paths a run has used, compared without regard to case: macOS and Windows
// compare names that way, so "Report.html" would overwrite "report.html" there.
type claims map[string]bool // folded path → true for a file, false for a folder

// folder claims a job's folder (a slash path); one already used gets "~2", "~3"… and a note.
func (c claims) folder(p string) (string, string) {
	got := p
	for n := 2; c.taken(got); n++ {
		got = p + "~" + strconv.Itoa(n)
	}
	c[fold(got)] = false
	if got != p {
		return got, "in folder " + path.Base(got) + ": another job of this run has the folder " + path.Base(p)
	}
	return got, ""
}

// file claims rel inside a job's folder. A path already used by another artifact is saved under
// another name (report~2.html) with a note saying so; a path whose folders another artifact is
// saved as, or that names a folder other artifacts are in, is refused.
func (c claims) file(rel string) (string, string, error) {
	segs := strings.Split(rel, "/")
	for i := 1; i < len(segs); i++ {
		if isFile, ok := c[fold(strings.Join(segs[:i], "/"))]; ok && isFile {
			return "", "", fmt.Errorf("refused: another artifact of the job is saved as %s, which this path needs as a folder", strings.Join(segs[:i], "/"))
		}
	}
	got := rel
	for n := 2; c.taken(got); n++ {
		if isFile := c[fold(got)]; !isFile && got == rel {
			return "", "", errors.New("refused: other artifacts of the job are saved in a folder of this name")
		}
		got = numbered(rel, n)
	}
	for i := 1; i < len(segs); i++ {
		c[fold(strings.Join(segs[:i], "/"))] = false
	}
	c[fold(got)] = true
	if got != rel {
		return got, "saved as " + got + ": another artifact of the job has the same path", nil
	}
	return got, "", nil
}

func (c claims) taken(p string) bool { _, ok := c[fold(p)]; return ok }

func fold(p string) string { return strings.ToLower(p) }

// numbered is rel with "~n" before its extension: a/report.html → a/report~2.html.
func numbered(rel string, n int) string {
	dir, base := path.Split(rel)
	ext := path.Ext(base)
	if ext == base { // .env: a name that is all extension
		ext = ""
	}
	return dir + strings.TrimSuffix(base, ext) + "~" + strconv.Itoa(n) + ext
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// projectFolder is a project's folder below the artifacts folder: the slug as baton writes it
// (gh/acme/e2e, whether the server said gh/ or github/), three folders deep; a slug that is not
// one (the server's to give) becomes one folder below _/_/, so that no project's folder can
// reach into another's.
func projectFolder(project string) string {
	if s, err := slug.Parse(project); err == nil {
		return s.String()
	}
	return "_/_/" + SafeName(project)
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
