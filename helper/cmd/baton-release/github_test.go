package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

const testChangelog = `# Changelog

## [Unreleased]

## [1.2.0] - 2026-03-02

### Added
- A flag.

## [1.1.0] - 2026-01-10

### Fixed
- A bug.

[Unreleased]: https://github.com/baton-ci/baton/compare/v1.2.0...HEAD
[1.2.0]: https://github.com/baton-ci/baton/compare/v1.1.0...v1.2.0
`

// releaseTree is what the github-release job sees: dist/ with the archives, SHA256SUMS and the
// orb pinning them for version, and CHANGELOG.md.
func releaseTree(t *testing.T, version string) (dist, changelog string) {
	t.Helper()
	return pinnedRelease(t, version, fakeBuild(t), testInputs), writeTemp(t, testChangelog)
}

// sleeps records the pauses asked for and never waits.
type sleeps struct{ got []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	return ctx.Err()
}

// releaseRun is one run of github-release against a fake GitHub.
type releaseRun struct {
	code           int
	stdout, stderr string
	sleeps         []time.Duration
}

func runGitHubRelease(t *testing.T, ctx context.Context, gh *fakeGitHub, env map[string]string, args ...string) releaseRun {
	t.Helper()
	var s sleeps
	getenv := func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		switch name {
		case "GITHUB_TOKEN":
			return fakeToken
		case "GITHUB_API_URL", "GITHUB_UPLOADS_URL":
			return gh.URL
		}
		return ""
	}
	var out, errOut bytes.Buffer
	err := githubReleaseCmd(ctx, args, &out, &errOut, releaseDeps{client: gh.Client(), sleep: s.sleep, getenv: getenv})
	if err != nil {
		errOut.WriteString("baton-release: " + err.Error() + "\n")
	}
	r := releaseRun{code: exitcode.Of(err), stdout: out.String(), stderr: errOut.String(), sleeps: s.got}
	assert.NotContains(t, r.stdout+r.stderr, fakeToken, "the token is never printed")
	for _, q := range gh.seen().queries {
		assert.NotContains(t, q, fakeToken, "the token is never in a URL")
	}
	return r
}

// uploaded is what the fake GitHub holds for the release of tag: name → bytes.
func uploaded(gh *fakeGitHub, tag string) (files map[string][]byte, draft bool, found bool) {
	for _, r := range gh.state() {
		if r.Tag == tag {
			files = map[string][]byte{}
			for _, a := range r.Assets {
				files[a.Name] = a.Data
			}
			return files, r.Draft, true
		}
	}
	return nil, false, false
}

func TestGitHubReleasePublishesDistAsAFinishedRelease(t *testing.T) {
	dist, changelog := releaseTree(t, "1.2.0")
	gh := newFakeGitHub(t)
	gh.setTag("v1.2.0", true)
	gh.addRelease("v1.1.0", false)

	r := runGitHubRelease(t, context.Background(), gh, nil, "--tag", "v1.2.0", "--dist", dist, "--changelog", changelog)
	require.Equal(t, 0, r.code, r.stderr)

	files, draft, found := uploaded(gh, "v1.2.0")
	require.True(t, found)
	assert.False(t, draft, "published")
	want := []string{sumsFile}
	for _, p := range platforms {
		want = append(want, archiveName("1.2.0", p))
	}
	assert.ElementsMatch(t, want, keys(files), "the archives and SHA256SUMS, nothing else (no orb.yml)")
	for name, data := range files {
		onDisk, err := os.ReadFile(filepath.Join(dist, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(onDisk, data), "%s is uploaded byte for byte", name)
	}
	assert.Equal(t, []string{
		"GET /repos/baton-ci/baton/git/ref/tags/v1.2.0 200",
		"GET /repos/baton-ci/baton/releases/tags/v1.2.0 404",
		"GET /repos/baton-ci/baton/releases 200",
		"POST /repos/baton-ci/baton/releases 201",
	}, gh.requests()[:4], "the tag and any earlier release are looked up before the draft is created")
	assert.Equal(t, 6, gh.count("POST /repos/baton-ci/baton/releases/102/assets"))
	assert.Equal(t, "PATCH /repos/baton-ci/baton/releases/102 200", gh.requests()[len(gh.requests())-1], "published last")
	for _, a := range gh.seen().auth {
		assert.Equal(t, "Bearer "+fakeToken, a)
	}
	assert.Contains(t, r.stdout, "published v1.2.0: https://github.com/baton-ci/baton/releases/tag/v1.2.0")
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGitHubReleaseStopsOnBadInputBeforeSendingAnything(t *testing.T) {
	dist, changelog := releaseTree(t, "1.2.0")
	spoilt := func(f func(dist string)) string {
		d, _ := releaseTree(t, "1.2.0")
		f(d)
		return d
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"a tag without the v is refused", nil, []string{"--tag", "1.2.0"}, `--tag "1.2.0": a release is tagged vMAJOR.MINOR.PATCH, e.g. v1.4.0`},
		{"a tag of two numbers is refused", nil, []string{"--tag", "v1.2"}, `--tag "v1.2"`},
		{"a pre-release tag is refused", nil, []string{"--tag", "v1.2.0-rc.1"}, `--tag "v1.2.0-rc.1"`},
		{"a tag with a leading zero is refused", nil, []string{"--tag", "v1.02.0"}, `--tag "v1.02.0"`},
		{"no tag is refused", nil, nil, `--tag ""`},
		{"a missing token is refused", map[string]string{"GITHUB_TOKEN": ""}, []string{"--tag", "v1.2.0"}, "GITHUB_TOKEN is not set"},
		{"a token with a line break is refused", map[string]string{"GITHUB_TOKEN": fakeToken + "\nX-Other: 1"}, []string{"--tag", "v1.2.0"}, "GITHUB_TOKEN holds white space or a line break"},
		{"a repository that is not OWNER/NAME is refused", map[string]string{"GITHUB_REPOSITORY": "baton"}, []string{"--tag", "v1.2.0"}, `--repo "baton": want OWNER/NAME`},
		{"an API in clear over the network is refused", map[string]string{"GITHUB_API_URL": "http://github.example"}, []string{"--tag", "v1.2.0"}, "the token would travel in clear; use https"},
		{"dist built as another version is refused", nil, []string{"--tag", "v1.2.1"}, "is not the release of v1.2.1: " + dist + "/SHA256SUMS has no line for baton_1.2.1_darwin_amd64.tar.gz"},
		{"an archive that changed is refused", nil, []string{"--tag", "v1.2.0", "--dist", spoilt(func(d string) {
			os.WriteFile(filepath.Join(d, "baton_1.2.0_linux_arm64.tar.gz"), []byte("swapped"), 0o644)
		})}, "baton_1.2.0_linux_arm64.tar.gz: SHA-256 is"},
		{"a SHA256SUMS listing files that are not in dist is refused", nil, []string{"--tag", "v1.2.0", "--dist", spoilt(func(d string) {
			f, _ := os.OpenFile(filepath.Join(d, sumsFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(strings.Repeat("0", 64) + "  baton_1.2.0_linux_amd64/baton\n")
			f.Close()
		})}, "lists baton_1.2.0_linux_amd64/baton, which is not an archive of baton 1.2.0"},
		{"an orb pinning other sums is refused", nil, []string{"--tag", "v1.2.0", "--dist", spoilt(func(d string) {
			orb, _ := os.ReadFile(filepath.Join(d, orbFile))
			sums, _ := os.ReadFile(filepath.Join(d, sumsFile))
			first := string(sums[:64])
			os.WriteFile(filepath.Join(d, orbFile), bytes.Replace(orb, []byte(first), []byte(strings.Repeat("f", 64)), 1), 0o644)
		})}, "orb.yml does not pin the release in"},
		{"an orb pinning another version is refused", nil, []string{"--tag", "v1.2.0", "--dist", spoilt(func(d string) {
			orb, _ := os.ReadFile(filepath.Join(d, orbFile))
			os.WriteFile(filepath.Join(d, orbFile), bytes.Replace(orb, []byte(`"1.2.0"`), []byte(`"1.1.9"`), 1), 0o644)
		})}, `pins baton "1.1.9", not 1.2.0`},
		{"a dist without the orb is refused", nil, []string{"--tag", "v1.2.0", "--dist", spoilt(func(d string) {
			os.Remove(filepath.Join(d, orbFile))
		})}, "the packed orb: open"},
		{"a version the changelog has no section for is refused", nil, []string{"--tag", "v1.2.0", "--changelog", writeTemp(t, "# Changelog\n\n## [Unreleased]\n\n- A flag.\n")},
			`no "## [1.2.0] - YYYY-MM-DD" section: move the Unreleased notes under it before tagging`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gh := newFakeGitHub(t)
			gh.setTag("v1.2.0", true)
			args := append([]string{"--dist", dist, "--changelog", changelog}, tc.args...)
			r := runGitHubRelease(t, context.Background(), gh, tc.env, args...)
			assert.Equal(t, exitcode.Usage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.Empty(t, gh.requests(), "nothing is sent")
		})
	}
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "CHANGELOG.md")
	require.NoError(t, os.WriteFile(f, []byte(text), 0o644))
	return f
}

func TestGitHubReleaseDryRunChecksEverythingAndSendsNothing(t *testing.T) {
	dist, changelog := releaseTree(t, "1.2.0")
	gh := newFakeGitHub(t)
	r := runGitHubRelease(t, context.Background(), gh, map[string]string{"GITHUB_TOKEN": ""}, "--tag", "v1.2.0", "--dist", dist, "--changelog", changelog, "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, gh.requests())
	assert.Equal(t, 6, strings.Count(r.stdout, "dry run: would upload "), r.stdout)
	assert.Contains(t, r.stdout, "dry run: would upload SHA256SUMS (")
	assert.Contains(t, r.stdout, "    ### Added\n    - A flag.\n", "the notes are the version's changelog section")
	assert.NotContains(t, r.stdout, "A bug.", "and no other version's")
}

// publishCase is a GitHub that answers badly somewhere, and what must follow.
type publishCase struct {
	name   string
	setup  func(gh *fakeGitHub)
	code   int
	stderr []string // each must be in the one line of stderr
	// left is the state that must remain: "none" (no release of the tag), "draft" or "published".
	left  string
	posts int // POST /repos/…/releases (creations) expected
}

func TestGitHubReleaseNeverLeavesAHalfMadeReleaseSilently(t *testing.T) {
	cases := []publishCase{
		{name: "a published release of the tag is refused and left alone",
			setup: func(gh *fakeGitHub) { gh.addRelease("v1.2.0", false) },
			code:  exitcode.Refused, stderr: []string{"release v1.2.0 already exists (https://github.com/baton-ci/baton/releases/tag/v1.2.0): a published release is never changed"},
			left: "published"},
		{name: "a draft of the tag left by an earlier run is refused and named",
			setup: func(gh *fakeGitHub) { gh.addRelease("v1.2.0", true) },
			code:  exitcode.Refused, stderr: []string{"a draft release of v1.2.0 already exists (https://github.com/baton-ci/baton/releases/tag/untagged-101)", "delete it, then run this again"},
			left: "draft"},
		{name: "a tag not pushed to GitHub is refused",
			setup: func(gh *fakeGitHub) { gh.setTag("v1.2.0", false) },
			code:  exitcode.Refused, stderr: []string{"tag v1.2.0 is not in baton-ci/baton on GitHub: push it first"},
			left: "none"},
		{name: "a token GitHub refuses stops at the first request",
			setup: func(gh *fakeGitHub) { gh.setToken("another") },
			code:  exitcode.Refused, stderr: []string{"GET /repos/baton-ci/baton/git/ref/tags/v1.2.0: 401 Bad credentials"},
			left: "none"},
		{name: "a release created meanwhile by someone else is refused (422 already_exists)",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^POST /repos/[^/]+/[^/]+/releases$`, 0, 1, false, status(422, "Validation Failed", "tag_name already_exists"))
			},
			code: exitcode.Refused, stderr: []string{"release v1.2.0 already exists: POST /repos/baton-ci/baton/releases: 422 Validation Failed (tag_name already_exists)"},
			left: "none", posts: 1},
		{name: "a failed create that made nothing says so",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^POST /repos/[^/]+/[^/]+/releases$`, 0, 1, false, status(500, "Server Error"))
			},
			code: exitcode.Unreachable, stderr: []string{"creating the draft release v1.2.0: POST /repos/baton-ci/baton/releases: 500 Server Error; no draft was created, nothing was published: run this again"},
			left: "none", posts: 1},
		{name: "a create whose answer is lost is not sent twice, and the draft it made is deleted",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^POST /repos/[^/]+/[^/]+/releases$`, 0, 1, true, hangUp)
			},
			code: exitcode.Unreachable, stderr: []string{"creating the draft release v1.2.0: POST /repos/baton-ci/baton/releases: EOF", "GitHub created a draft anyway and it was deleted, nothing was published"},
			left: "none", posts: 1},
		{name: "a 502 in the middle of the uploads deletes the draft, starter asset and all",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^POST /repos/.*/assets$`, 2, 1, false, func(w http.ResponseWriter) {
					// GitHub may keep an empty asset in state "starter" after a 502.
					for _, r := range gh.releases {
						r.Assets = append(r.Assets, &fakeAsset{Name: "baton_1.2.0_linux_amd64.tar.gz", State: "starter"})
					}
					w.WriteHeader(http.StatusBadGateway)
					w.Write([]byte("<html><body><h1>502 Bad Gateway</h1>\x1b]0;owned\x07</body></html>"))
				})
			},
			code: exitcode.Unreachable, stderr: []string{"uploading baton_1.2.0_linux_amd64.tar.gz: POST /repos/baton-ci/baton/releases/101/assets?name=baton_1.2.0_linux_amd64.tar.gz: 502 <html>", `\x1b]0;owned\x07`, "the draft release was deleted, nothing was published: run this again"},
			left: "none", posts: 1},
		{name: "a failed upload whose draft cannot be deleted says what remains and what to do",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^POST /repos/.*/assets$`, 2, 1, false, status(503, "Service Unavailable"))
				gh.fail(`^DELETE `, 0, 0, false, status(500, "Server Error"))
			},
			code: exitcode.Unreachable, stderr: []string{"uploading baton_1.2.0_linux_amd64.tar.gz", "503 Service Unavailable",
				"deleting the draft release failed too (DELETE /repos/baton-ci/baton/releases/101: 500 Server Error (giving up after 3 attempts))",
				"it remains unpublished with 2 of 6 files (https://github.com/baton-ci/baton/releases/tag/untagged-101): delete it, then run this again"},
			left: "draft", posts: 1},
		{name: "an upload GitHub stores short is caught and the draft deleted",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^POST /repos/.*/assets$`, 0, 1, false, func(w http.ResponseWriter) {
					writeJSON(w, http.StatusCreated, map[string]any{"name": "baton_1.2.0_darwin_amd64.tar.gz", "size": 10, "state": "uploaded"})
				})
			},
			code: exitcode.Unreachable, stderr: []string{"uploading baton_1.2.0_darwin_amd64.tar.gz: GitHub holds it as \"baton_1.2.0_darwin_amd64.tar.gz\", 10 bytes", "the draft release was deleted"},
			left: "none", posts: 1},
		{name: "a file that appeared in the draft from elsewhere is caught and the draft deleted",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^GET /repos/.*/releases/[0-9]+/assets$`, 0, 1, false, func(w http.ResponseWriter) {
					list := []any{map[string]any{"name": "install.sh", "size": 5, "state": "uploaded"}}
					for _, a := range gh.releases[0].Assets {
						list = append(list, map[string]any{"name": a.Name, "size": a.Size, "state": a.State})
					}
					writeJSON(w, http.StatusOK, list)
				})
			},
			code: exitcode.Unreachable, stderr: []string{`checking the draft's files: it also holds "install.sh", which was not uploaded from dist`, "the draft release was deleted"},
			left: "none", posts: 1},
		{name: "a publish GitHub keeps failing leaves the complete draft and says so",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^PATCH `, 0, 0, false, status(502, "Bad Gateway"))
			},
			code: exitcode.Unreachable, stderr: []string{"publishing the draft release v1.2.0: PATCH /repos/baton-ci/baton/releases/101: 502 Bad Gateway (giving up after 3 attempts)",
				"it remains a draft holding all 6 files, checked (https://github.com/baton-ci/baton/releases/tag/untagged-101): delete it and run this again"},
			left: "draft", posts: 1},
		{name: "a publish whose answer is lost but which happened succeeds",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^PATCH `, 0, 0, true, hangUp)
			},
			code: exitcode.OK, left: "published", posts: 1},
		{name: "reads GitHub fails twice are asked again, as long as Retry-After says",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^GET /repos/[^/]+/[^/]+/releases$`, 0, 2, false, func(w http.ResponseWriter) {
					w.Header().Set("Retry-After", "7")
					writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
				})
			},
			code: exitcode.OK, left: "published", posts: 1},
		{name: "a read that keeps failing gives up after three attempts and creates nothing",
			setup: func(gh *fakeGitHub) {
				gh.fail(`^GET /repos/[^/]+/[^/]+/releases/tags/`, 0, 0, false, hangUp)
			},
			code: exitcode.Unreachable, stderr: []string{"looking for a release of v1.2.0: GET /repos/baton-ci/baton/releases/tags/v1.2.0: EOF (giving up after 3 attempts)"},
			left: "none"},
	}
	dist, changelog := releaseTree(t, "1.2.0")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gh := newFakeGitHub(t)
			gh.setTag("v1.2.0", true)
			if tc.setup != nil {
				tc.setup(gh) // before any request: nothing else touches gh yet
			}
			r := runGitHubRelease(t, context.Background(), gh, nil, "--tag", "v1.2.0", "--dist", dist, "--changelog", changelog)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			if tc.code != exitcode.OK {
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			}
			for _, want := range tc.stderr {
				assert.Contains(t, r.stderr, want)
			}
			assert.Equal(t, tc.posts, gh.count("POST /repos/baton-ci/baton/releases "), "creations: %v", gh.requests())
			files, draft, found := uploaded(gh, "v1.2.0")
			switch tc.left {
			case "none":
				assert.False(t, found, "no release of v1.2.0 is left: %+v", gh.state())
			case "draft":
				assert.True(t, found && draft, "a draft is left, as the message says")
			case "published":
				assert.True(t, found && !draft, "published")
				if tc.code == exitcode.OK {
					assert.Len(t, files, 6)
				}
			}
		})
	}
}

func TestGitHubReleaseWaitsAsRetryAfterAsks(t *testing.T) {
	dist, changelog := releaseTree(t, "1.2.0")
	gh := newFakeGitHub(t)
	gh.setTag("v1.2.0", true)
	gh.fail(`^GET /repos/[^/]+/[^/]+/releases$`, 0, 1, false, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "7")
		writeError(w, http.StatusTooManyRequests, "API rate limit exceeded")
	})
	gh.fail(`^GET /repos/[^/]+/[^/]+/releases$`, 0, 1, false, status(http.StatusBadGateway, "Bad Gateway"))
	r := runGitHubRelease(t, context.Background(), gh, nil, "--tag", "v1.2.0", "--dist", dist, "--changelog", changelog)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []time.Duration{7 * time.Second, 4 * time.Second}, r.sleeps)
}

func TestGitHubReleaseInterruptedMidUploadDeletesTheDraft(t *testing.T) {
	dist, changelog := releaseTree(t, "1.2.0")
	gh := newFakeGitHub(t)
	gh.setTag("v1.2.0", true)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	gh.fail(`^POST /repos/.*/assets$`, 1, 1, false, func(w http.ResponseWriter) {
		cancel(interrupted{syscall.SIGTERM}) // the job is canceled while this file uploads
		writeError(w, http.StatusBadGateway, "Bad Gateway")
	})
	r := runGitHubRelease(t, ctx, gh, nil, "--tag", "v1.2.0", "--dist", dist, "--changelog", changelog)
	assert.Equal(t, 143, r.code, r.stderr)
	assert.Contains(t, r.stderr, "uploading baton_1.2.0_darwin_arm64.tar.gz: interrupted by terminated; the draft release was deleted, nothing was published")
	_, _, found := uploaded(gh, "v1.2.0")
	assert.False(t, found)
}

func TestReleaseNotesAreTheVersionsChangelogSection(t *testing.T) {
	cases := []struct {
		name, changelog, version, want, err string
	}{
		{"the section up to the next version", testChangelog, "1.2.0", "### Added\n- A flag.", ""},
		{"the last section up to the link definitions", testChangelog, "1.1.0", "### Fixed\n- A bug.", ""},
		{"Windows line ends are read", strings.ReplaceAll(testChangelog, "\n", "\r\n"), "1.1.0", "### Fixed\n- A bug.", ""},
		{"a version without a section is refused", testChangelog, "1.3.0", "", `no "## [1.3.0] - YYYY-MM-DD" section`},
		{"a section without a date is refused", "## [1.3.0]\n- x\n", "1.3.0", "", `line 1: "## [1.3.0]" has no release date`},
		{"a section dated unreleased is refused", "## [1.3.0] - Unreleased\n- x\n", "1.3.0", "", `no "## [1.3.0] - YYYY-MM-DD" section`},
		{"an impossible date is refused", "## [1.3.0] - 2026-13-40\n- x\n", "1.3.0", "", "has no release date"},
		{"an empty section is refused", "## [1.3.0] - 2026-03-02\n\n## [1.2.0] - 2026-01-01\n- x\n", "1.3.0", "", "the section for 1.3.0 is empty"},
		{"a pre-release's section is not the release's", "## [1.3.0-rc.1] - 2026-03-02\n- x\n", "1.3.0", "", `no "## [1.3.0] - YYYY-MM-DD" section`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := releaseNotes(tc.changelog, tc.version)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBaseURLKeepsTheTokenOffTheWireInClear(t *testing.T) {
	for raw, want := range map[string]string{
		"https://api.github.com":         "https://api.github.com",
		"https://ghe.example/api/v3/":    "https://ghe.example/api/v3",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"http://localhost:9":             "http://localhost:9",
		"http://[::1]:9":                 "http://[::1]:9",
		"http://api.github.com":          "",
		"ftp://x":                        "",
		"api.github.com":                 "",
		"https://user:pw@api.github.com": "",
	} {
		got, err := baseURL("--api-url", raw)
		if want == "" {
			assert.Error(t, err, raw)
			continue
		}
		require.NoError(t, err, raw)
		assert.Equal(t, want, got)
	}
}

// The script the pipeline runs, end to end against the fake GitHub: its arguments reach the
// tool, the token only through the environment, and its exit codes are the tool's.
func TestGitHubReleaseScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds baton-release")
	}
	dist, _ := releaseTree(t, "1.0.0")
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	gh := newFakeGitHub(t)
	gh.setTag("v1.0.0", true)
	script := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(filepath.Join(root, "scripts", "github-release.sh"), args...)
		cmd.Env = append(os.Environ(), append([]string{"GITHUB_API_URL=" + gh.URL, "GITHUB_UPLOADS_URL=" + gh.URL}, env...)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.NotContains(t, string(out), fakeToken)
		return code, string(out)
	}
	code, out := script([]string{"GITHUB_TOKEN=" + fakeToken}, "1.0.0", dist)
	assert.Equal(t, exitcode.Usage, code, out)
	assert.Contains(t, out, `--tag "1.0.0": a release is tagged vMAJOR.MINOR.PATCH`)
	code, out = script([]string{"GITHUB_TOKEN="}, "v1.0.0", dist)
	assert.Equal(t, exitcode.Usage, code, out)
	assert.Contains(t, out, "GITHUB_TOKEN is not set")
	assert.Empty(t, gh.requests())

	code, out = script([]string{"GITHUB_TOKEN=" + fakeToken, "CHANGELOG=" + writeTemp(t, "## [1.0.0] - 2026-03-02\n- First.\n")}, "v1.0.0", dist)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "published v1.0.0")
	files, draft, found := uploaded(gh, "v1.0.0")
	assert.True(t, found && !draft)
	assert.Len(t, files, 6)
}
