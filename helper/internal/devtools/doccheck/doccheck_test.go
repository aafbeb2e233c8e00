package doccheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the directory holding go.mod, above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above %s", dir)
		dir = parent
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func noProblems(t *testing.T, problems []string) {
	t.Helper()
	assert.Empty(t, problems, "\n%s", strings.Join(problems, "\n"))
}

// TestRepositoryDocs is the check `make lint` runs: the docs of this repository against its code.
func TestRepositoryDocs(t *testing.T) {
	root := repoRoot(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the docs checks need git, to list the files it tracks: %v", err)
	}

	t.Run("README.md is a short landing page that shows the orb first", func(t *testing.T) {
		noProblems(t, ReadmeProblems(read(t, filepath.Join(root, "README.md"))))
	})
	t.Run("orb/README.md covers every component and parameter of orb/src, with its type and default", func(t *testing.T) {
		orb, err := ReadOrb(filepath.Join(root, "orb", "src"))
		require.NoError(t, err)
		noProblems(t, OrbReferenceProblems(read(t, filepath.Join(root, "orb", "README.md")), orb))
	})
	t.Run("helper/README.md lists every exit code baton declares", func(t *testing.T) {
		codes, err := ExitCodes(filepath.Join(root, "helper", "internal", "exitcode"))
		require.NoError(t, err)
		noProblems(t, ExitCodeProblems("helper/README.md", read(t, filepath.Join(root, "helper", "README.md")), codes))
	})
	t.Run("helper/README.md names the token variable and every variable the CLI reads", func(t *testing.T) {
		vars, err := EnvVars(filepath.Join(root, "helper", "internal", "cli"))
		require.NoError(t, err)
		doc := read(t, filepath.Join(root, "helper", "README.md"))
		noProblems(t, MentionProblems("helper/README.md", doc, "environment variable", append([]string{"CIRCLE_TOKEN"}, vars...)))
	})
	t.Run("helper/README.md describes every package under helper/internal", func(t *testing.T) {
		pkgs, err := Packages(filepath.Join(root, "helper", "internal"))
		require.NoError(t, err)
		require.Contains(t, pkgs, "cli")
		noProblems(t, PackageProblems("helper/README.md", read(t, filepath.Join(root, "helper", "README.md")), pkgs))
	})
	t.Run("the development page describes every make target", func(t *testing.T) {
		targets := MakeTargets(read(t, filepath.Join(root, "Makefile")))
		require.NotEmpty(t, targets, "the Makefile declares no .PHONY targets")
		noProblems(t, MakeTargetProblems("helper/internal/devtools/README.md", read(t, filepath.Join(root, "helper", "internal", "devtools", "README.md")), targets))
	})
	t.Run("every relative link in a Markdown file leads to a file and a heading that exist", func(t *testing.T) {
		files, err := MarkdownFiles(root)
		require.NoError(t, err)
		require.Contains(t, files, "README.md")
		problems, err := BrokenLinks(root, files)
		require.NoError(t, err)
		noProblems(t, problems)
	})
	t.Run("tracked text describes behaviour, not the project's history", func(t *testing.T) {
		problems, err := VocabularyProblems(root)
		require.NoError(t, err)
		noProblems(t, problems)
	})
}

func TestReadmeProblems(t *testing.T) {
	firstScreen := "# baton\n```yaml\norbs:\n  baton: baton-ci/baton@1.0\njobs:\n  - baton/trigger-pipeline\n```\n"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "a short page with the orb on its first screen passes", doc: firstScreen + strings.Repeat("text\n", 300)},
		{
			name: "a page over 400 lines fails",
			doc:  firstScreen + strings.Repeat("text\n", 400),
			want: []string{"README.md has 407 lines; keep it at most 400"},
		},
		{
			name: "a page that shows the orb only after its first screen fails",
			doc:  "# baton\n" + strings.Repeat("internals\n", 60) + firstScreen,
			want: []string{`do not show "baton-ci/baton@"`, `do not show "baton/trigger-pipeline"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadmeProblems(tt.doc)
			require.Len(t, got, len(tt.want), "%q", got)
			for i, w := range tt.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}

// writeFiles writes files (path → content) under a new temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestOrbReferenceProblems(t *testing.T) {
	src := writeFiles(t, map[string]string{
		"commands/trigger.yml": "description: d\nparameters:\n  project_slug: {type: string, default: \"\", description: d}\n  wait: {type: enum, enum: [none, finished], default: none, description: d}\n  retries: {type: integer, default: 3, description: d}\nsteps: []\n",
		"jobs/run-trigger.yml": "description: d\nparameters:\n  project_slug: {type: string, default: \"\", description: d}\n  executor: {type: executor, default: default, description: d}\nsteps: []\n",
		"executors/default.yml": "description: d\nparameters:\n  tag: {type: string, default: \"2026.01\", description: d}\n" +
			"docker: [{image: 'cimg/base:<< parameters.tag >>'}]\n",
	})
	orb, err := ReadOrb(src)
	require.NoError(t, err)

	const header = "| parameter | type | default | meaning |\n| --- | --- | --- | --- |\n"
	complete := "The command `trigger`, the job `baton/run-trigger`, the executor `baton/default`.\n\n" + header +
		"| `project_slug` | string | `\"\"` | the project |\n" +
		"| `wait` | enum | `none` | what to wait for |\n" +
		"| `retries` | integer | `3` | retries |\n" +
		"| `executor` | executor | `default` | the executor |\n" +
		"| `tag` | string | `2026.01` | the image tag |\n"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "a reference with every component and parameter passes", doc: complete},
		{
			name: "a parameter without a row fails",
			doc:  strings.Replace(complete, "| `retries` | integer | `3` | retries |\n", "", 1),
			want: []string{"no row for parameter retries (declared by commands/trigger)"},
		},
		{
			name: "a default that changed in orb/src fails",
			doc:  strings.Replace(complete, "| `retries` | integer | `3` |", "| `retries` | integer | `5` |", 1),
			want: []string{"retries defaults to `5` there, but orb/src to `3`"},
		},
		{
			name: "a type that changed in orb/src fails",
			doc:  strings.Replace(complete, "| `wait` | enum |", "| `wait` | string |", 1),
			want: []string{`wait is "string" there, but orb/src declares it enum`},
		},
		{
			name: "a row for a parameter orb/src does not declare fails",
			doc:  complete + "| `when` | enum | `on_success` | when |\n",
			want: []string{"documents parameter when, which orb/src does not declare"},
		},
		{
			name: "a component the page never names fails",
			doc:  strings.Replace(complete, "the job `baton/run-trigger`", "the job", 1),
			want: []string{"does not name jobs/run-trigger"},
		},
		{
			name: "rows in a code block or in another table do not count",
			doc: strings.Replace(complete, "| `retries` | integer | `3` | retries |\n", "", 1) +
				"\n```\n| `retries` | integer | `3` | retries |\n```\n\n| variable | meaning |\n| --- | --- |\n| `retries` | x |\n",
			want: []string{"no row for parameter retries"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OrbReferenceProblems(tt.doc, orb)
			require.Len(t, got, len(tt.want), "%q", got)
			for i, w := range tt.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"codes.go":      "package exitcode\n\nimport \"fmt\"\n\nconst (\n\tOK = 0\n\tFailed = 1\n\tInterrupted = 128 + 2 // SIGINT\n\tmaxCode = 255\n\tName = \"baton\"\n)\n\nfunc Describe(c int) string { return fmt.Sprint(c) }\n",
		"codes_test.go": "package exitcode\n\nconst Testing = 99\n",
	})
	codes, err := ExitCodes(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"OK": 0, "Failed": 1, "Interrupted": 130}, codes,
		"exported integer constants of the package, expressions evaluated, test files left out")

	doc := "| code | meaning |\n| --- | --- |\n| 0 | done |\n| 1, 130 | failed or interrupted |\n"
	noProblems(t, ExitCodeProblems("doc", doc, codes))
	got := ExitCodeProblems("doc", "| code | meaning |\n| --- | --- |\n| 0 | done |\n\nexit 1 when it fails, 130 when interrupted\n", codes)
	assert.Equal(t, []string{"doc has no exit code row for 1 (exitcode.Failed)", "doc has no exit code row for 130 (exitcode.Interrupted)"}, got,
		"a code mentioned in prose but not in a table row does not count")
}

func TestEnvVars(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"cmd.go":      "package cli\n\ntype Cmd struct {\n\tHost string `env:\"CIRCLECI_HOST\" help:\"h\"`\n\tTimeout int `env:\"BATON_TIMEOUT,BATON_WAIT_TIMEOUT\"`\n}\n\nfunc f(d deps) { d.LookupEnv(\"CIRCLE_WORKFLOW_ID\") }\n",
		"table.go":    "package cli\n\nvar docs = map[string]flagDoc{\"wait\": {env: \"BATON_WAIT\", help: \"w\"}}\n",
		"cmd_test.go": "package cli\n\nvar _ = `env:\"ONLY_IN_TESTS\"`\n",
	})
	vars, err := EnvVars(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"BATON_TIMEOUT", "BATON_WAIT", "BATON_WAIT_TIMEOUT", "CIRCLECI_HOST", "CIRCLE_WORKFLOW_ID"}, vars)
	assert.Equal(t, []string{"doc does not mention environment variable `BATON_WAIT_TIMEOUT`"},
		MentionProblems("doc", "`BATON_TIMEOUT`, `BATON_WAIT`, `CIRCLECI_HOST` and `CIRCLE_WORKFLOW_ID`; BATON_WAIT_TIMEOUT", "environment variable", vars))
}

func TestPackageProblems(t *testing.T) {
	dir := writeFiles(t, map[string]string{"cli/cli.go": "package cli\n", "watch/watch.go": "package watch\n", "doc.go": "package internal\n"})
	pkgs, err := Packages(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"cli", "watch"}, pkgs, "directories only")
	assert.Empty(t, PackageProblems("doc", "- **cli**: the command line\n- **watch**: one pipeline\n", pkgs))
	assert.Equal(t, []string{"doc does not describe package helper/internal/watch (a list item starting **watch**)"},
		PackageProblems("doc", "- **cli**: the command line; it uses **watch** too\n", pkgs), "a name in passing is not an entry")
}

func TestMakeTargets(t *testing.T) {
	makefile := "GO ?= go\n.PHONY: build test\n.PHONY: bench\n\nbuild:\n\tgo build\n"
	assert.Equal(t, []string{"build", "test", "bench"}, MakeTargets(makefile))
	assert.Equal(t, []string{"doc does not describe `make bench`"},
		MakeTargetProblems("doc", "`make build` builds, `make test` tests; make bench measures", MakeTargets(makefile)))
}

func TestSlug(t *testing.T) {
	tests := map[string]string{
		"Coming from curl or circleci/trigger-pipeline":         "coming-from-curl-or-circlecitrigger-pipeline",
		"Before you start: token, shell, booleans, `when`":      "before-you-start-token-shell-booleans-when",
		"Pre-flight: checked against what the project declares": "pre-flight-checked-against-what-the-project-declares",
		"The [orb](orb/README.md) runner":                       "the-orb-runner",
		"Größe & Tempo":                                         "größe--tempo",
	}
	for heading, want := range tests {
		assert.Equal(t, want, Slug(heading), heading)
	}
}

func TestBrokenLinks(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"README.md": "# Top\n\n## Two commands\n\n## Two commands\n\n" +
			"[ok](docs/guide.md) [anchor](docs/guide.md#setting-up) [here](#two-commands) [again](#two-commands-1)\n" +
			"[folder](docs) [web](https://example.com/x.md) [mail](mailto:a@example.com)\n" +
			"`[in code](missing.md)`\n\n```md\n[in a block](missing.md)\n```\n\n[ref]: docs/guide.md\n",
		"docs/guide.md": "# Guide\n\n## Setting up\n\n[back](../README.md#top) <a href=\"../LICENSE\">license</a>\n",
		"LICENSE":       "MIT\n",
	})
	problems, err := BrokenLinks(root, []string{"README.md", "docs/guide.md"})
	require.NoError(t, err)
	noProblems(t, problems)

	bad := writeFiles(t, map[string]string{
		"README.md": "# Top\n\n[gone](docs/missing.md) [no heading](docs/guide.md#nowhere) [self](#elsewhere)\n" +
			"[out](../outside.md) ![image](img/logo.png)\n\n[ref]: SECURITY.md\n",
		"docs/guide.md": "# Guide\n",
	})
	problems, err = BrokenLinks(bad, []string{"README.md"})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"README.md: link docs/missing.md: docs/missing.md does not exist",
		"README.md: link docs/guide.md#nowhere: docs/guide.md has no heading with anchor #nowhere",
		"README.md: link #elsewhere: README.md has no heading with anchor #elsewhere",
		"README.md: link ../outside.md leads out of the repository",
		"README.md: link img/logo.png: img/logo.png does not exist",
		"README.md: link SECURITY.md: SECURITY.md does not exist",
	}, problems)
}

func TestVocabularyProblems(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("needs git: %v", err)
	}
	// The words are built here, not written, so this file passes the check it tests.
	words := []string{"the s" + "eed's case", "see iss" + "ue 19", "a load av" + "erage of 8", "on this 2-c" + "ore machine"}
	for _, w := range words {
		t.Run("a file saying "+strings.Fields(w)[1]+"… fails", func(t *testing.T) {
			root := writeFiles(t, map[string]string{"README.md": "# baton\n\nMeasured " + w + ".\n", "ok.go": "package ok\n"})
			require.NoError(t, exec.Command("git", "init", "-q", root).Run())
			problems, err := VocabularyProblems(root)
			require.NoError(t, err)
			require.Len(t, problems, 1)
			assert.Contains(t, problems[0], "README.md:3:")
		})
	}
	t.Run("a tree that describes behaviour passes, and ignored files are not read", func(t *testing.T) {
		root := writeFiles(t, map[string]string{
			"README.md":       "# baton\n\nIt seeds the random source; see the issue tracker.\n",
			".gitignore":      "/.cache/\n",
			".cache/notes.md": "load av" + "erage 12\n",
		})
		require.NoError(t, exec.Command("git", "init", "-q", root).Run())
		problems, err := VocabularyProblems(root)
		require.NoError(t, err)
		noProblems(t, problems)
	})
}
