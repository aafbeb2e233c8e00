package detail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

func TestSafeRelRefusesPathsThatLeaveTheFolder(t *testing.T) {
	for _, p := range []string{"", " ", "../../etc/passwd", "a/../../b", "..", "/etc/passwd", `\\server\share`, `C:\x`, "c:/x", `a\..\..\b`, "a/\x00b", "a\nb"} {
		_, err := SafeRel(p)
		assert.Error(t, err, "%q", p)
	}
	for in, want := range map[string]string{
		"report/index.html":    "report/index.html",
		"./a//b/./c.txt":       "a/b/c.txt",
		"tmp/..hidden/x":       "tmp/..hidden/x",
		"résumé/データ.json":      "résumé/データ.json",
		"dir/":                 "dir",
		"coverage/lcov-report": "coverage/lcov-report",
	} {
		got, err := SafeRel(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got)
		}
	}
}

func TestSafeNameAndFolder(t *testing.T) {
	assert.Equal(t, "_", SafeName(".."))
	assert.Equal(t, "_", SafeName(""))
	assert.Equal(t, "a_b_c", SafeName(`a/b\c`))
	assert.Equal(t, "test (chrome)", SafeName("test (chrome)"))
	assert.Equal(t, "gh/acme/e2e", projectFolder("gh/acme/e2e"))
	assert.Equal(t, "gh/acme/e2e", projectFolder("github/acme/e2e"))
	assert.Equal(t, "_/_/gh_.._..", projectFolder("gh/../.."))
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"", "anything/at/all", true},
		{"**/report*.html", "report.html", true},
		{"**/report*.html", "a/b/report-chrome.html", true},
		{"**/report*.html", "a/b/report.txt", false},
		{"*.html", "deep/down/x.html", true},
		{"coverage/**", "coverage/lcov/index.html", true},
		{"coverage/**", "other/index.html", false},
		{"a/*/c", "a/b/c", true},
		{"a/*/c", "a/b/b/c", false},
		{"a/**/c", "a/c", true},
	} {
		assert.Equal(t, tc.want, Match(tc.pattern, tc.path), "%s ~ %s", tc.pattern, tc.path)
	}
	assert.Error(t, CheckPattern("a/[b"))
	assert.NoError(t, CheckPattern("**/*.html"))
}

// fakeArtifacts serves jobs' artifacts from memory; hook, when set, runs instead of a download.
type fakeArtifacts struct {
	arts  []circleci.Artifact           // every job's, unless byJob has the job
	byJob map[int64][]circleci.Artifact // by job number
	blobs map[string]string
	hook  func(ctx context.Context, u string, w io.Writer) (int64, error)

	mu      sync.Mutex
	got     []string
	running int
	most    int // downloads at once, at most
}

func (f *fakeArtifacts) ListJobArtifacts(_ context.Context, _ string, n int64) ([]circleci.Artifact, error) {
	if arts, ok := f.byJob[n]; ok {
		return arts, nil
	}
	return f.arts, nil
}

func (f *fakeArtifacts) Download(ctx context.Context, u string, w io.Writer, limit int64) (int64, error) {
	f.mu.Lock()
	f.got = append(f.got, u)
	f.running++
	f.most = max(f.most, f.running)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.running--; f.mu.Unlock() }()
	if f.hook != nil {
		return f.hook(ctx, u, w)
	}
	b := f.blobs[u]
	if int64(len(b)) > limit {
		n, _ := io.WriteString(w, b[:limit])
		return int64(n), circleci.ErrDownloadTooLarge
	}
	n, err := io.WriteString(w, b)
	return int64(n), err
}

func (f *fakeArtifacts) downloaded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.got))
}

// one downloads one job's artifacts.
func one(d *Downloader, project, job string, number int64) JobArtifacts {
	return d.Download(context.Background(), []JobRef{{Project: project, Name: job, Number: number}})[0]
}

func byPath(saved []Saved) map[string]Saved {
	m := map[string]Saved{}
	for _, s := range saved {
		m[s.Path] = s
	}
	return m
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestDownloaderWritesBelowTheJobFolderOnly(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(filepath.Dir(dir), "escaped-"+filepath.Base(dir))
	api := &fakeArtifacts{
		arts: []circleci.Artifact{
			{Path: "report/index.html", URL: "u1"},
			{Path: "../../etc/passwd", URL: "u2"},
			{Path: "/etc/passwd", URL: "u3"},
			{Path: "linked/x.txt", URL: "u4"},
			{Path: "shard.txt", NodeIndex: 1, URL: "u5"},
		},
		blobs: map[string]string{"u1": "<h1>", "u2": "root", "u3": "root", "u4": "via link", "u5": "node 1"},
	}
	jobDir := filepath.Join(dir, "gh", "acme", "e2e", "chrome-12")
	require.NoError(t, os.MkdirAll(jobDir, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	t.Cleanup(func() { os.RemoveAll(outside) })
	require.NoError(t, os.Symlink(outside, filepath.Join(jobDir, "linked")))

	got := one(&Downloader{API: api, Dir: dir}, "gh/acme/e2e", "chrome", 12)
	require.NoError(t, got.Err)
	saved := byPath(got.Saved)
	require.NoError(t, saved["report/index.html"].Err)
	assert.Equal(t, filepath.Join(jobDir, "report", "index.html"), saved["report/index.html"].File)
	assert.Equal(t, "<h1>", read(t, filepath.Join(jobDir, "report", "index.html")))
	assert.ErrorContains(t, saved["../../etc/passwd"].Err, "leaves the job's folder")
	assert.ErrorContains(t, saved["/etc/passwd"].Err, "absolute")
	assert.Error(t, saved["linked/x.txt"].Err, "a link out of the job's folder is not followed")
	assert.Empty(t, saved["linked/x.txt"].File)
	_, err := os.Stat(filepath.Join(outside, "x.txt"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "nothing was written through the link")
	assert.Equal(t, "node 1", read(t, filepath.Join(jobDir, "node1", "shard.txt")))
	assert.NotContains(t, api.downloaded(), "u2")
	assert.NotContains(t, api.downloaded(), "u3")
}

func TestDownloaderFiltersAndCapsTheTotal(t *testing.T) {
	dir := t.TempDir()
	api := &fakeArtifacts{
		arts:  []circleci.Artifact{{Path: "a/report.html", URL: "a"}, {Path: "b.log", URL: "b"}, {Path: "c/report-2.html", URL: "c"}, {Path: "d/report-3.html", URL: "d"}},
		blobs: map[string]string{"a": strings.Repeat("a", 60), "b": "log", "c": strings.Repeat("c", 60), "d": "d"},
	}
	d := &Downloader{API: api, Dir: dir, Pattern: "**/report*.html", MaxBytes: 100, Workers: 1}
	got := one(d, "gh/acme/e2e", "chrome", 7)
	require.NoError(t, got.Err)
	saved := got.Saved
	require.Len(t, saved, 3, "b.log does not match the pattern")
	assert.NoError(t, saved[0].Err)
	assert.ErrorIs(t, saved[1].Err, ErrCapReached, "the artifact that would pass the cap is not kept")
	assert.ErrorIs(t, saved[2].Err, ErrCapReached, "nor is any after it")
	assert.True(t, saved[2].Skipped)
	_, err := os.Stat(filepath.Join(dir, "gh", "acme", "e2e", "chrome-7", "c", "report-2.html"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "a file cut off by the cap is removed")
	assert.Equal(t, []string{"a", "c"}, api.downloaded())
}

// Two artifacts with one path would overwrite each other, yet both be reported saved: the
// second is saved under another name, and says so.
func TestNoTwoArtifactsLandOnOnePath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		arts  []circleci.Artifact
		files map[string]string // path below the job's folder → content; "" for refused
		notes map[string]string // the server's path → note or error
	}{
		{"the same path twice",
			[]circleci.Artifact{{Path: "report/index.html", URL: "1"}, {Path: "report/index.html", URL: "2"}},
			map[string]string{"report/index.html": "one", "report/index~2.html": "two"}, nil},
		{"paths that differ only in case, as macOS and Windows compare names",
			[]circleci.Artifact{{Path: "Report.html", URL: "1"}, {Path: "report.html", URL: "2"}},
			map[string]string{"Report.html": "one", "report~2.html": "two"}, nil},
		{"a parallel container's path and a path that looks like one",
			[]circleci.Artifact{{Path: "node1/out.txt", URL: "1"}, {Path: "out.txt", NodeIndex: 1, URL: "2"}},
			map[string]string{"node1/out.txt": "one", "node1/out~2.txt": "two"}, nil},
		{"a name that is all extension",
			[]circleci.Artifact{{Path: ".env", URL: "1"}, {Path: ".env", URL: "2"}, {Path: ".env", URL: "3"}},
			map[string]string{".env": "one", ".env~2": "two", ".env~3": "three"}, nil},
		{"a file where another needs a folder",
			[]circleci.Artifact{{Path: "logs", URL: "1"}, {Path: "logs/a.txt", URL: "2"}},
			map[string]string{"logs": "one"},
			map[string]string{"logs/a.txt": "refused: another artifact of the job is saved as logs, which this path needs as a folder"}},
		{"a folder where another is a file",
			[]circleci.Artifact{{Path: "logs/a.txt", URL: "1"}, {Path: "Logs", URL: "2"}},
			map[string]string{"logs/a.txt": "one"},
			map[string]string{"Logs": "refused: other artifacts of the job are saved in a folder of this name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			api := &fakeArtifacts{arts: tc.arts, blobs: map[string]string{"1": "one", "2": "two", "3": "three"}}
			got := one(&Downloader{API: api, Dir: dir}, "gh/acme/e2e", "chrome", 12)
			jobDir := filepath.Join(dir, "gh", "acme", "e2e", "chrome-12")
			for rel, content := range tc.files {
				assert.Equal(t, content, read(t, filepath.Join(jobDir, filepath.FromSlash(rel))), rel)
			}
			reported := 0
			for _, s := range got.Saved {
				if s.Err != nil {
					assert.EqualError(t, s.Err, tc.notes[s.Path])
					continue
				}
				reported++
				rel, err := filepath.Rel(jobDir, s.File)
				require.NoError(t, err)
				assert.Contains(t, tc.files, filepath.ToSlash(rel), "reported saved where it is")
				if strings.Contains(rel, "~") {
					assert.Equal(t, "saved as "+filepath.ToSlash(rel)+": another artifact of the job has the same path", s.Note)
				} else {
					assert.Empty(t, s.Note)
				}
			}
			assert.Equal(t, len(tc.files), reported, "every file reported saved is there, and no more")
		})
	}
}

// In a fan-out, two projects' jobs never share a folder: each project has its own, the forms of
// one slug (gh/, github/) name the same one, and a job's folder that is already used (a server
// naming the same job twice) gets another name.
func TestEachJobHasAFolderOfItsOwn(t *testing.T) {
	dir := t.TempDir()
	api := &fakeArtifacts{arts: []circleci.Artifact{{Path: "report.html", URL: "r"}}, blobs: map[string]string{"r": "x"}}
	got := (&Downloader{API: api, Dir: dir}).Download(context.Background(), []JobRef{
		{Project: "gh/acme/api", Name: "test", Number: 12},
		{Project: "gh/acme/web", Name: "test", Number: 12},
		{Project: "github/acme/cli", Name: "test", Number: 3},
		{Project: "gh/acme/api", Name: "test", Number: 12},
		{Project: "gh/ACME/API", Name: "TEST", Number: 12},
		{Project: "gh/a/b/../../x", Name: "test", Number: 1},
	})
	var files []string
	for _, j := range got {
		require.Len(t, j.Saved, 1)
		require.NoError(t, j.Saved[0].Err)
		rel, err := filepath.Rel(dir, j.Saved[0].File)
		require.NoError(t, err)
		files = append(files, filepath.ToSlash(rel))
	}
	assert.Equal(t, []string{
		"gh/acme/api/test-12/report.html",
		"gh/acme/web/test-12/report.html",
		"gh/acme/cli/test-3/report.html",
		"gh/acme/api/test-12~2/report.html",
		"gh/ACME/API/TEST-12~3/report.html",
		"_/_/gh_a_b_.._.._x/test-1/report.html",
	}, files)
	assert.Equal(t, "in folder test-12~2: another job of this run has the folder test-12", got[3].Saved[0].Note)
}

// The count and the time of a run's downloads are bounded, and what was skipped says why.
func TestDownloadsAreBoundedInCountAndTime(t *testing.T) {
	t.Run("the first MaxFiles artifacts of the run are downloaded, the rest skipped", func(t *testing.T) {
		var arts []circleci.Artifact
		blobs := map[string]string{}
		for i := range 5 {
			u := fmt.Sprint(i)
			arts, blobs[u] = append(arts, circleci.Artifact{Path: "f" + u, URL: u}), u
		}
		api := &fakeArtifacts{arts: arts, blobs: blobs}
		got := (&Downloader{API: api, Dir: t.TempDir(), MaxFiles: 3}).Download(context.Background(), []JobRef{
			{Project: "gh/acme/a", Name: "x", Number: 1}, {Project: "gh/acme/b", Name: "y", Number: 2},
		})
		var saved, skipped int
		for _, j := range got {
			for _, s := range j.Saved {
				if s.Err != nil {
					assert.ErrorIs(t, s.Err, ErrTooMany)
					assert.EqualError(t, s.Err, "not downloaded: the cap on the number of artifacts was reached (3 in a run)")
					assert.True(t, s.Skipped)
					skipped++
					continue
				}
				saved++
			}
		}
		assert.Equal(t, 3, saved)
		assert.Equal(t, 7, skipped)
		assert.Len(t, api.downloaded(), 3, "nothing past the cap is asked for")
	})
	t.Run("what the time limit stops is skipped and leaves no file", func(t *testing.T) {
		dir := t.TempDir()
		api := &fakeArtifacts{
			arts: []circleci.Artifact{{Path: "quick", URL: "q"}, {Path: "slow", URL: "s"}, {Path: "never", URL: "n"}},
			hook: func(ctx context.Context, u string, w io.Writer) (int64, error) {
				if u == "q" {
					n, err := io.WriteString(w, "done")
					return int64(n), err
				}
				_, _ = io.WriteString(w, "half")
				<-ctx.Done()
				return 4, ctx.Err()
			},
		}
		got := one(&Downloader{API: api, Dir: dir, MaxTime: 100 * time.Millisecond, Workers: 1}, "gh/acme/e2e", "chrome", 1)
		saved := byPath(got.Saved)
		assert.NoError(t, saved["quick"].Err)
		for _, p := range []string{"slow", "never"} {
			assert.ErrorIs(t, saved[p].Err, ErrTimeUp, p)
			assert.EqualError(t, saved[p].Err, "not downloaded: the time allowed for artifacts ran out (100ms)")
			assert.True(t, saved[p].Skipped, p)
			_, err := os.Stat(filepath.Join(dir, "gh", "acme", "e2e", "chrome-1", p))
			assert.True(t, errors.Is(err, os.ErrNotExist), "%s left a file", p)
		}
		assert.Equal(t, []string{"q", "s"}, api.downloaded(), "nothing is started once the time is up")
	})
	t.Run("a few download at once, and the size cap holds across them", func(t *testing.T) {
		var arts []circleci.Artifact
		for i := range 20 {
			arts = append(arts, circleci.Artifact{Path: fmt.Sprint("f", i), URL: fmt.Sprint(i)})
		}
		release := make(chan struct{})
		api := &fakeArtifacts{arts: arts, hook: func(ctx context.Context, u string, w io.Writer) (int64, error) {
			<-release
			n, err := w.Write(bytes.Repeat([]byte("x"), 10))
			return int64(n), err
		}}
		go func() {
			for {
				api.mu.Lock()
				busy := api.running
				api.mu.Unlock()
				if busy == 4 {
					close(release)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		dir := t.TempDir()
		got := one(&Downloader{API: api, Dir: dir, MaxBytes: 95}, "gh/acme/e2e", "chrome", 1)
		assert.Equal(t, 4, api.most, "4 at a time")
		var onDisk int64
		for _, s := range got.Saved {
			if s.Err == nil {
				info, err := os.Stat(s.File)
				require.NoError(t, err)
				onDisk += info.Size()
			} else {
				assert.ErrorIs(t, s.Err, ErrCapReached)
			}
		}
		assert.Equal(t, int64(90), onDisk, "whole files only, within the cap")
	})
}

// What is reported saved is on disk as written: a file replaced after it was written (here by
// a later download's hook, as another writer could) is reported as not saved.
func TestOnlyWhatIsOnDiskIsReportedSaved(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "gh", "acme", "e2e", "chrome-1", "first.txt")
	api := &fakeArtifacts{
		arts: []circleci.Artifact{{Path: "first.txt", URL: "1"}, {Path: "second.txt", URL: "2"}},
		hook: func(ctx context.Context, u string, w io.Writer) (int64, error) {
			if u == "2" {
				require.NoError(t, os.Remove(first))
				require.NoError(t, os.WriteFile(first, []byte("someone else's"), 0o644))
			}
			n, err := io.WriteString(w, "mine")
			return int64(n), err
		},
	}
	got := one(&Downloader{API: api, Dir: dir, Workers: 1}, "gh/acme/e2e", "chrome", 1)
	saved := byPath(got.Saved)
	assert.EqualError(t, saved["first.txt"].Err, "saved, but no longer on disk as written (replaced or removed since)")
	assert.Empty(t, saved["first.txt"].File)
	assert.NoError(t, saved["second.txt"].Err)
}

func FuzzSafeRel(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "/x", `a\b`, "a/./b/../c", "...", "C:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := SafeRel(p)
		if err != nil {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(rel)) || strings.HasPrefix(rel, "/") || strings.Contains(rel, "..") && hasDotDot(rel) {
			t.Fatalf("SafeRel(%q) = %q leaves the folder", p, rel)
		}
		joined := filepath.Join("/base", filepath.FromSlash(rel))
		if !strings.HasPrefix(joined, "/base/") {
			t.Fatalf("SafeRel(%q) = %q joins to %q", p, rel, joined)
		}
	})
}

func hasDotDot(rel string) bool {
	for _, s := range strings.Split(rel, "/") {
		if s == ".." {
			return true
		}
	}
	return false
}

func FuzzMatch(f *testing.F) {
	f.Add("**/report*.html", "a/b/report.html")
	f.Add("a/**/**/c", "a/b/c")
	f.Fuzz(func(t *testing.T, pattern, p string) {
		if strings.Count(pattern, "**") > 4 {
			return // each ** multiplies the work; real patterns have one or two
		}
		_ = Match(pattern, p)
		var b bytes.Buffer
		b.WriteString(p)
	})
}
