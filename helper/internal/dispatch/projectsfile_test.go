package dispatch_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

func TestParseProjectsReadsAStructuredListWithParameters(t *testing.T) {
	// An anchor shares parameters; a merge key takes them below the entry's own.
	type line = dispatch.ProjectLine
	type param = request.ProjectParam
	want := []line{
		{Slug: "gh/acme/api", Branch: "main", Line: 4, Params: []param{{Key: "replicas", Text: "3"}, {Key: "version", Text: "3", Quoted: true}, {Key: "region", Text: "eu"}}},
		{Slug: "gh/acme/web", Tag: "v1.2.3", Line: 10, Params: []param{{Key: "replicas", Text: "2"}, {Key: "version", Text: "3", Quoted: true}, {Key: "region", Text: "eu"}}},
		{Slug: "gh/acme/cli", Line: 13},
		{Slug: "gh/acme/docs", Branch: "dev", Line: 14},
	}
	got, err := dispatch.ParseProjects("--projects-file", `projects:
  # the API first
  #
  - slug: gh/acme/api
    branch: main
    parameters: &common
      replicas: 3
      version: "3"
      region: eu
  - slug: gh/acme/web
    tag: v1.2.3
    parameters: {<<: *common, replicas: 2}
  - gh/acme/cli
  - gh/acme/docs dev
`)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	json, err := dispatch.ParseProjects("BATON_PROJECTS", `[{"slug": "gh/acme/api", "parameters": {"n": 3, "s": "3", "b": true}}]`)
	require.NoError(t, err)
	assert.Equal(t, []line{{Slug: "gh/acme/api", Line: 1, Params: []param{{Key: "n", Text: "3"}, {Key: "s", Text: "3", Quoted: true}, {Key: "b", Text: "true"}}}}, json,
		"JSON numbers and booleans are plain scalars, JSON strings quoted ones")
}

func TestParseProjectsRefusesABadStructuredList(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"not YAML", "- {slug: [", "--projects-file: not a readable YAML or JSON projects list"},
		{"an unknown key", "- slug: gh/acme/api\n  brnch: main\n", `--projects-file line 2: unknown key "brnch"; an entry takes slug, branch, tag and parameters`},
		{"no slug", "- branch: main\n", "--projects-file line 1: the entry has no slug"},
		{"branch and tag", "- {slug: gh/a/b, branch: x, tag: y}\n", "--projects-file line 1: branch and tag: give one or neither"},
		{"a null parameter", "- slug: gh/a/b\n  parameters:\n    x:\n", `--projects-file line 3: parameter "x": want a string, an integer or a boolean`},
		{"a list parameter", "- slug: gh/a/b\n  parameters: {x: [1]}\n", `--projects-file line 2: parameter "x": want a string`},
		{"parameters that are a list", "- slug: gh/a/b\n  parameters: [x]\n", "--projects-file line 2: parameters: want a mapping"},
		{"the same project and ref twice", "- gh/a/b main\n- {slug: gh/a/b, branch: main}\n", "--projects-file line 2: repeats the project and ref of line 1"},
		{"an empty list", "[]", "--projects-file: lists no project"},
		{"another top-level key", "projects: [gh/a/b]\nextra: 1\n", `--projects-file line 2: unknown key "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dispatch.ParseProjects("--projects-file", tc.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		})
	}
}

func FuzzParseStructuredProjects(f *testing.F) {
	for _, s := range []string{
		"- gh/a/b", "- {slug: gh/a/b, tag: v1, parameters: {n: 3, s: \"x\"}}", "projects: [gh/a/b main]",
		"[{\"slug\": \"gh/a/b\", \"parameters\": {\"b\": true}}]", "- &a {slug: gh/a/b}\n- *a", "- slug: gh/a/b\n  parameters: {<<: {x: 1}, x: 2}",
		"- {slug: \"a b\"}", "{projects: []}", "- [x]", "-", "- slug: gh/a/b\n  parameters: {x: ~}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines, err := dispatch.ParseProjects("--projects-file", text)
		if err != nil {
			if exitcode.Of(err) != exitcode.Usage || !strings.HasPrefix(err.Error(), "--projects-file") || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("ParseProjects(%q): bad error %q (exit %d)", text, err, exitcode.Of(err))
			}
			return
		}
		require.NotEmpty(t, lines)
		for _, l := range lines {
			if l.Slug == "" || l.Branch != "" && l.Tag != "" || strings.ContainsAny(l.Slug+l.Branch+l.Tag, " \t\r\n") {
				t.Fatalf("ParseProjects(%q): bad entry %+v", text, l)
			}
			keys := map[string]bool{}
			for _, p := range l.Params {
				if keys[p.Key] {
					t.Fatalf("ParseProjects(%q): %q twice in %+v", text, p.Key, l)
				}
				keys[p.Key] = true
			}
		}
	})
}
