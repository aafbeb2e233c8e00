package detail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	assert.Equal(t, "gh/acme/e2e", FolderOf("gh/acme/e2e"))
	assert.Equal(t, "gh/_/_", FolderOf("gh/../.."))
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

// fakeArtifacts serves a job's artifacts from memory.
type fakeArtifacts struct {
	arts  []circleci.Artifact
	blobs map[string]string
	got   []string
}

func (f *fakeArtifacts) ListJobArtifacts(context.Context, string, int64) ([]circleci.Artifact, error) {
	return f.arts, nil
}

func (f *fakeArtifacts) Download(_ context.Context, u string, w io.Writer, limit int64) (int64, error) {
	f.got = append(f.got, u)
	b := f.blobs[u]
	if int64(len(b)) > limit {
		n, _ := io.WriteString(w, b[:limit])
		return int64(n), circleci.ErrDownloadTooLarge
	}
	n, err := io.WriteString(w, b)
	return int64(n), err
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
			{Path: "skip.bin", URL: "u6"},
		},
		blobs: map[string]string{"u1": "<h1>", "u2": "root", "u3": "root", "u4": "via link", "u5": "node 1"},
	}
	jobDir := filepath.Join(dir, "gh", "acme", "e2e", "chrome-12")
	require.NoError(t, os.MkdirAll(jobDir, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	t.Cleanup(func() { os.RemoveAll(outside) })
	require.NoError(t, os.Symlink(outside, filepath.Join(jobDir, "linked")))

	d := &Downloader{API: api, Dir: dir, Pattern: "**/*.{html,txt}"}
	d.Pattern = ""
	saved, err := d.Job(context.Background(), "gh/acme/e2e", "chrome", 12)
	require.NoError(t, err)
	byPath := map[string]Saved{}
	for _, s := range saved {
		byPath[s.Path] = s
	}
	require.NoError(t, byPath["report/index.html"].Err)
	b, err := os.ReadFile(filepath.Join(jobDir, "report", "index.html"))
	require.NoError(t, err)
	assert.Equal(t, "<h1>", string(b))
	assert.ErrorContains(t, byPath["../../etc/passwd"].Err, "leaves the job's folder")
	assert.ErrorContains(t, byPath["/etc/passwd"].Err, "absolute")
	assert.Error(t, byPath["linked/x.txt"].Err, "a link out of the job's folder is not followed")
	_, err = os.Stat(filepath.Join(outside, "x.txt"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "nothing was written through the link")
	b, err = os.ReadFile(filepath.Join(jobDir, "node1", "shard.txt"))
	require.NoError(t, err)
	assert.Equal(t, "node 1", string(b))
	assert.NotContains(t, api.got, "u2")
	assert.NotContains(t, api.got, "u3")
}

func TestDownloaderFiltersAndCapsTheTotal(t *testing.T) {
	dir := t.TempDir()
	api := &fakeArtifacts{
		arts:  []circleci.Artifact{{Path: "a/report.html", URL: "a"}, {Path: "b.log", URL: "b"}, {Path: "c/report-2.html", URL: "c"}, {Path: "d/report-3.html", URL: "d"}},
		blobs: map[string]string{"a": strings.Repeat("a", 60), "b": "log", "c": strings.Repeat("c", 60), "d": "d"},
	}
	d := &Downloader{API: api, Dir: dir, Pattern: "**/report*.html", MaxBytes: 100}
	saved, err := d.Job(context.Background(), "gh/acme/e2e", "chrome", 7)
	require.NoError(t, err)
	require.Len(t, saved, 3, "b.log does not match the pattern")
	assert.NoError(t, saved[0].Err)
	assert.ErrorIs(t, saved[1].Err, ErrCapReached, "the artifact that would pass the cap is not kept")
	assert.ErrorIs(t, saved[2].Err, ErrCapReached, "nor is any after it")
	_, err = os.Stat(filepath.Join(dir, "gh", "acme", "e2e", "chrome-7", "c", "report-2.html"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "a file cut off by the cap is removed")
	assert.Equal(t, []string{"a", "c"}, api.got)
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
