package orbrun_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// The project's own pipeline (.circleci/) run end to end on CircleCI's rules: the setup config
// on a push or a release tag, its continuation with the orb it packed, the dogfood job
// triggering this project through that orb (a second pipeline, run alongside and followed by
// baton through the simulator), and the publishing. The jobs run the real scripts of
// scripts/, a branch's built for linux/amd64 only (PLATFORMS) to keep the suite quick; orb-tools and the
// continuation orb are stand-ins (orbtools.go); GitHub's release API is githubReleases.
// make is a stub: the test job's `make test` is what runs this very test.

const (
	projectSlug  = "gh/baton-ci/baton"
	canonicalURL = "https://github.com/baton-ci/baton"
	revision     = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	// Distinctive, so that a leak into any job's output is found by a substring search.
	pusherToken  = "CCIPAT_pusher_SeCrEt_00000000000000000"
	dogfoodToken = "CCIPAT_dogfood_SeCrEt_1111111111111111"
	publishToken = "CCIPAT_publishing_SeCrEt_222222222222"
	githubToken  = "ghp_release_SeCrEt_33333333333333333333"
)

var secrets = []string{pusherToken, dogfoodToken, publishToken, githubToken}

// pipelineWorld is CircleCI, GitHub and the orb registry as the project's pipeline sees them.
type pipelineWorld struct {
	t        *testing.T
	sim      *simulator.Simulator
	github   *githubReleases
	registry *orbrun.OrbRegistry
	runner   *orbrun.PipelineRunner
	log      *testkit.SyncBuffer
	stubs    string
	contexts map[string]map[string]string
	goEnv    map[string]string
	files    []string // the checkout: the repository's files, tracked or not ignored
	setup    string   // .circleci/config.yml

	mu         sync.Mutex
	downstream sync.WaitGroup
	triggered  []*orbrun.PipelineRun // the pipelines the dogfood job triggered
	failures   []error
}

// pipelineOptions change the world.
type pipelineOptions struct {
	noSecrets bool // a fork's pull request: CircleCI gives its jobs no secrets
}

func newPipelineWorld(t *testing.T, opts pipelineOptions) *pipelineWorld {
	t.Helper()
	shared := filepath.Join(root, "..", "shared")
	w := &pipelineWorld{t: t, log: &testkit.SyncBuffer{}, registry: &orbrun.OrbRegistry{Tokens: []string{publishToken}}}
	w.github = newGitHubReleases(t, githubToken, "v1.2.3")
	changelog := filepath.Join(t.TempDir(), "CHANGELOG.md")
	require.NoError(t, os.WriteFile(changelog, []byte("# Changelog\n\n## [1.2.3] - 2026-12-06\n\n### Added\n\n- The release the pipeline test makes.\n"), 0o644))
	w.contexts = map[string]map[string]string{
		"baton-dogfood":  {"CIRCLE_TOKEN": dogfoodToken},
		"orb-publishing": {"CIRCLE_TOKEN": publishToken},
		"github-release": {"GITHUB_TOKEN": githubToken, "GITHUB_API_URL": w.github.URL, "GITHUB_UPLOADS_URL": w.github.URL, "CHANGELOG": changelog},
	}
	if opts.noSecrets {
		for name := range w.contexts {
			w.contexts[name] = map[string]string{}
		}
	}

	schema, err := orbrun.LoadSchema(orbrun.SchemaPath())
	if err != nil {
		schema = nil // validation then only parses the orb; the full runs need the schema (push)
	}
	standIns := &orbrun.StandIns{Registry: w.registry, Schema: schema}
	w.sim = simulator.New(simulator.Config{
		Tokens:   []simulator.Token{{Token: pusherToken, Login: "octocat"}, {Token: dogfoodToken, Login: "baton-bot"}},
		Projects: []simulator.Project{{Slug: projectSlug, External: true, Parameters: setupParameters(t, standIns.Resolve)}},
	}, simulator.WithPipelineHook(w.triggeredByDogfood))
	srv := newServer(t, w.sim)
	standIns.APIURL = srv
	w.stubs = w.writeStubs(shared)
	w.goEnv = goEnv(t)
	w.files = checkoutFiles(t)
	w.setup = readConfig(t, "config.yml")
	w.runner = &orbrun.PipelineRunner{
		Sim:     w.sim,
		Resolve: standIns.Resolve,
		// The dogfood job's orb calls the simulator, and polls it often to keep the test short.
		Overrides: map[string]any{"host": srv, "poll_interval": "500ms"},
		Machine: func(p orbrun.Pipeline) *orbrun.Machine {
			env := orbrun.CircleEnv(p, "baton-ci", "baton")
			for k, v := range w.goEnv {
				env[k] = v
			}
			if p.Tag == "" {
				// Only this platform's archive, to keep the suite quick; a release tag's
				// pipeline builds every platform, as github-release refuses a release
				// missing one (the Go cache makes it a link per platform).
				env["PLATFORMS"] = "linux_amd64"
			}
			return &orbrun.Machine{
				Root: t.TempDir(), Env: env, Contexts: w.contexts, PathDirs: []string{w.stubs},
				SystemPath:   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" + w.goEnv["GOROOT"] + "/bin",
				Log:          w.log,
				StepTimeout:  5 * time.Minute,
				Checkout:     w.checkout,
				RestoreCache: w.restoreCache,
				StandIns:     standIns.Steps(),
			}
		},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("what the jobs printed:\n%s", w.log.String())
		}
	})
	return w
}

func newServer(t *testing.T, sim *simulator.Simulator) string {
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL
}

// setupParameters are the pipeline parameters .circleci/config.yml declares: what the project
// accepts from a trigger.
func setupParameters(t *testing.T, resolve orbrun.OrbResolver) []simulator.Parameter {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(readConfig(t, "config.yml")), &doc))
	cfg, err := orbrun.ParseConfig(doc, resolve)
	require.NoError(t, err)
	var out []simulator.Parameter
	for _, name := range slices.Sorted(maps.Keys(cfg.Parameters)) {
		p := cfg.Parameters[name]
		out = append(out, simulator.Parameter{Name: name, Type: p.Type, Default: p.Default})
	}
	return out
}

// goEnv is Go's environment for the jobs: the caches restore_cache restores in CI (the
// module and build caches of this machine) and the toolchain, never downloaded.
func goEnv(t *testing.T) map[string]string {
	out, err := exec.Command("go", "env", "GOROOT", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	require.NoError(t, err)
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, v, 4)
	return map[string]string{"GOROOT": v[0], "GOCACHE": v[1], "GOMODCACHE": v[2], "GOPATH": v[3], "GOTOOLCHAIN": "local"}
}

// checkoutFiles are the files a checkout of this tree gives: tracked, or new and not ignored.
func checkoutFiles(t *testing.T) []string {
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("skipped: the checkout copies the files git lists, and git could not list them: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// checkout carries out a checkout step: this tree's files, as the commit would hold them.
func (w *pipelineWorld) checkout(dir string) error {
	for _, f := range w.files {
		src := filepath.Join(root, f)
		info, err := os.Lstat(src)
		if err != nil || info.IsDir() {
			continue // deleted in the work tree, or a submodule
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// restoreCache carries out restore_cache: the config caches .cache, where scripts/pack-orb.sh
// keeps the circleci CLI it builds (the Go caches come through goEnv).
func (w *pipelineWorld) restoreCache(workDir, home string) error {
	src := filepath.Join(root, ".cache", "bin")
	if _, err := os.Stat(src); err != nil {
		return nil // nothing cached yet: pack-orb.sh builds the CLI
	}
	if err := os.MkdirAll(filepath.Join(workDir, ".cache"), 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", src, filepath.Join(workDir, ".cache")).CombinedOutput(); err != nil {
		return fmt.Errorf("restoring .cache/bin: %v: %s", err, out)
	}
	return nil
}

// writeStubs writes the commands the jobs find first on PATH: make, which records its calls,
// and curl, which answers the two raw GitHub files scripts/fetch-shared.sh downloads with the
// copies in ../shared (scripts/fetch-shared.sh checks their pinned SHA-256) and hands every
// other URL to the real curl.
func (w *pipelineWorld) writeStubs(shared string) string {
	dir := w.t.TempDir()
	realCurl, err := exec.LookPath("curl")
	require.NoError(w.t, err)
	curl := fmt.Sprintf(`#!/bin/sh
src=""
out=""
prev=""
for arg; do
  case "$arg" in
    https://raw.githubusercontent.com/circleci/circleci-docs/*/openapi-final.json) src=%q ;;
    https://raw.githubusercontent.com/CircleCI-Public/circleci-yaml-language-server/*/schema.json) src=%q ;;
    https://raw.githubusercontent.com/*) echo "curl: (22) The requested URL returned error: 404" >&2; exit 22 ;;
  esac
  [ "$prev" = --output ] && out=$arg
  prev=$arg
done
if [ -n "$src" ]; then
  printf 'curl %%s\n' "$src" >>"$(dirname "$0")/calls.log"
  exec cp "$src" "$out"
fi
exec %q "$@"
`, filepath.Join(shared, "circleci-openapi", "openapi.json"), filepath.Join(shared, "circleci-schema", "schema.json"), realCurl)
	require.NoError(w.t, os.WriteFile(filepath.Join(dir, "curl"), []byte(curl), 0o755))
	require.NoError(w.t, os.WriteFile(filepath.Join(dir, "make"), []byte(stub), 0o755))
	return dir
}

// triggeredByDogfood runs, alongside, the pipeline the dogfood job triggered through the orb,
// as CircleCI would: the project's setup config, with the trigger's parameters.
func (w *pipelineWorld) triggeredByDogfood(info simulator.PipelineInfo) {
	w.downstream.Add(1)
	go func() {
		defer w.downstream.Done()
		params := map[string]any{}
		for k, v := range info.Parameters {
			if n, ok := v.(int64); ok {
				v = int(n)
			}
			params[k] = v
		}
		p := orbrun.Pipeline{ID: info.ID, Number: int(info.Number), Branch: info.Branch, Tag: info.Tag, Revision: revision, GitURL: canonicalURL, Parameters: params}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		run, err := w.runner.Run(ctx, p, w.setup)
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			w.failures = append(w.failures, err)
			return
		}
		w.triggered = append(w.triggered, run)
	}()
}

func readConfig(t *testing.T, name string) string {
	data, err := os.ReadFile(filepath.Join(root, ".circleci", name))
	require.NoError(t, err)
	return string(data)
}

// push runs the project's pipeline for a push of branch (or tag) from gitURL, and waits for
// the pipelines it triggered.
func (w *pipelineWorld) push(branch, tag, gitURL string) *orbrun.PipelineRun {
	w.t.Helper()
	for _, f := range []string{"circleci-openapi/openapi.json", "circleci-schema/schema.json"} {
		if _, err := os.Stat(filepath.Join(root, "..", "shared", f)); err != nil {
			w.t.Skipf("skipped: ../shared/%s is absent: the pipeline's test job fetches it (scripts/fetch-shared.sh) from GitHub, which this test stands in for with that file", f)
		}
	}
	if _, err := exec.LookPath("yamllint"); err != nil {
		w.t.Skip("skipped: yamllint is not installed (scripts/lint.sh installs it): orb-tools/lint runs it")
	}
	return w.run(branch, tag, gitURL, w.setup)
}

// run runs the config source as the project's pipeline for a push of branch (or tag) from
// gitURL, and waits for the pipelines it triggered.
func (w *pipelineWorld) run(branch, tag, gitURL, source string) *orbrun.PipelineRun {
	w.t.Helper()
	info, err := w.sim.Push(projectSlug, branch, tag, pusherToken)
	require.NoError(w.t, err)
	p := orbrun.Pipeline{ID: info.ID, Number: int(info.Number), Branch: branch, Tag: tag, Revision: revision, GitURL: gitURL}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	run, err := w.runner.Run(ctx, p, source)
	require.NoError(w.t, err)
	w.downstream.Wait()
	w.mu.Lock()
	require.Empty(w.t, w.failures)
	w.mu.Unlock()
	w.noLeaks(run)
	for _, d := range w.triggered {
		w.noLeaks(d)
	}
	return run
}

func (w *pipelineWorld) noLeaks(run *orbrun.PipelineRun) {
	w.t.Helper()
	for _, wf := range run.Workflows {
		for _, j := range wf.Jobs {
			for _, s := range j.Steps {
				for _, secret := range secrets {
					assert.NotContains(w.t, s.Output, secret, "a token leaked into %s/%s, step %q", wf.Name, j.Job.Name, s.Step.Name)
				}
			}
		}
	}
}

// packedOrbSHA256 is what the setup stage continued the pipeline with: the SHA-256 of the orb
// it packed.
func (w *pipelineWorld) packedOrbSHA256(run *orbrun.PipelineRun) string {
	w.t.Helper()
	c, ok := w.sim.Continuation(run.Pipeline.ID)
	require.True(w.t, ok, "the setup stage continued the pipeline")
	sum, _ := c.Parameters["packed-orb-sha256"].(string)
	require.Len(w.t, sum, 64)
	return sum
}

func sha256Of(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// orbPins reads the archive sums a packed orb pins (its install command's step).
func orbPins(t *testing.T, source []byte) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`([0-9a-f]{64})  (baton_[^\s"\\]+)`).FindAllStringSubmatch(string(source), -1)
	out := map[string]string{}
	for _, x := range m {
		out[x[2]] = x[1]
	}
	require.NotEmpty(t, out, "the orb pins its archives' sums")
	return out
}

var setupJobs = []string{
	"lint-test-pack/orb-tools/lint=success", "lint-test-pack/orb-tools/review=success",
	"lint-test-pack/orb-tools/pack=success", "lint-test-pack/test=success",
	"lint-test-pack/build=success", "lint-test-pack/continue-with-the-packed-orb=success",
}

// checkDogfood checks the pipeline the dogfood job triggered: the integration test, continued
// from the setup stage, with the parameters exactly as the orb sent them.
func (w *pipelineWorld) checkDogfood(run *orbrun.PipelineRun) {
	w.t.Helper()
	require.Len(w.t, w.triggered, 1, "dogfood triggered one pipeline")
	down := w.triggered[0]
	assert.Empty(w.t, down.Errors)
	assert.Equal(w.t, [2]string{run.Pipeline.Branch, run.Pipeline.Tag}, [2]string{down.Pipeline.Branch, down.Pipeline.Tag}, "of the same branch or tag")
	assert.Equal(w.t, []string{
		"integration-tests/continue-with-the-integration-test=success",
		"integration-test/integration-test=success",
	}, down.Statuses())
	info := w.pipelineInfo(down.Pipeline.ID)
	assert.Equal(w.t, map[string]any{
		"run-integration-tests": true,
		"integration-note":      fmt.Sprintf(`dogfood of pipeline %d: "quotes", 'apostrophes', $literal and <angles>`, run.Pipeline.Number),
	}, info.Parameters, "the typed parameters arrived as the orb sent them")
	assert.Equal(w.t, "created", info.State)
	check, _ := mustJob(w.t, down, "integration-test", "integration-test").Step("Check that the parameters arrived exactly")
	assert.Contains(w.t, check.Output, "integration-note=dogfood of pipeline")
	_, carried := w.sim.Continuation(down.Pipeline.ID)
	assert.True(w.t, carried)

	trigger, ok := mustJob(w.t, run, "release", "dogfood").Step("Trigger pipelines with baton")
	require.True(w.t, ok)
	assert.Contains(w.t, trigger.Output, fmt.Sprintf("%s #%d", projectSlug, down.Pipeline.Number))
}

func (w *pipelineWorld) pipelineInfo(id string) simulator.PipelineInfo {
	for _, p := range w.sim.Pipelines() {
		if p.ID == id {
			return p
		}
	}
	w.t.Fatalf("no pipeline %s", id)
	return simulator.PipelineInfo{}
}

func TestProjectPipelineOnMainDogfoodsAndPublishesADevVersion(t *testing.T) {
	t.Parallel() // each is a pipeline of its own, mostly waiting on builds and polls
	w := newPipelineWorld(t, pipelineOptions{})
	run := w.push("main", "", canonicalURL)
	require.Empty(t, run.Errors)
	assert.Equal(t, append(slices.Clone(setupJobs),
		"release/build=success", "release/dogfood=success", "release/publish-dev=success",
	), run.Statuses())
	assert.Equal(t, []string{"make test"}, slices.DeleteFunc(stubCalls(t, w.stubs), func(c string) bool { return strings.HasPrefix(c, "curl ") }),
		"the test job ran make test (the suite running this test)")

	build, _ := mustJob(w.t, run, "release", "build").Step("Build the release again and check it is the one the setup stage packed")
	assert.Contains(t, build.Output, "the orb and the archives it pins are the ones the setup stage built")
	w.checkDogfood(run)

	published := w.registry.Published()
	require.Len(t, published, 2)
	for i, version := range []string{"dev:" + revision, "dev:alpha"} {
		assert.Equal(t, "baton-ci/baton", published[i].Name)
		assert.Equal(t, version, published[i].Version)
		assert.Equal(t, w.packedOrbSHA256(run), sha256Of(published[i].Source), "the dev version is the orb the setup stage packed and dogfood used")
	}
	version := fmt.Sprintf("1.0.0-dev.%d", run.Pipeline.Number)
	assert.Contains(t, orbPins(t, published[0].Source), "baton_"+version+"_linux_amd64.tar.gz")
	assert.Empty(t, w.github.Published(), "no GitHub release for a push to main")
}

func TestProjectPipelineOnAReleaseTagReleasesOnGitHubThenPublishes(t *testing.T) {
	t.Parallel() // each is a pipeline of its own, mostly waiting on builds and polls
	w := newPipelineWorld(t, pipelineOptions{})
	run := w.push("", "v1.2.3", canonicalURL)
	require.Empty(t, run.Errors)
	assert.Equal(t, append(slices.Clone(setupJobs),
		"release/build=success", "release/dogfood=success",
		"release/github-release=success", "release/publish-production=success",
	), run.Statuses(), "github-release before publish-production, both after dogfood")
	w.checkDogfood(run)

	published := w.registry.Published()
	require.Len(t, published, 1)
	assert.Equal(t, orbrun.PublishedOrb{Name: "baton-ci/baton", Version: "1.2.3", Source: published[0].Source}, published[0])
	assert.Equal(t, w.packedOrbSHA256(run), sha256Of(published[0].Source))

	releases := w.github.Published()
	require.Contains(t, releases, "v1.2.3")
	assets := releases["v1.2.3"]
	assert.Len(t, assets, 6, "five archives and SHA256SUMS: %v", assets)
	assert.Contains(t, assets, "SHA256SUMS")
	pins := orbPins(t, published[0].Source)
	for name, sum := range assets {
		if name != "SHA256SUMS" {
			assert.Equal(t, pins[name], sum, "the GitHub release holds the %s the published orb pins: one verified dist/", name)
		}
	}
}

func TestProjectPipelineOfAForkWithoutSecretsTestsAndPublishesNothing(t *testing.T) {
	t.Parallel() // each is a pipeline of its own, mostly waiting on builds and polls
	w := newPipelineWorld(t, pipelineOptions{noSecrets: true})
	run := w.push("pull/7", "", canonicalURL)
	require.Empty(t, run.Errors)
	assert.Equal(t, append(slices.Clone(setupJobs), "release/build=success", "release/dogfood=success"), run.Statuses())
	dogfood := mustJob(w.t, run, "release", "dogfood")
	assert.True(t, dogfood.Halted, "without a token the dogfood job halts, successfully")
	skip, _ := dogfood.Step("Skip without a token (forks get no secrets)")
	assert.Contains(t, skip.Output, "nothing to dogfood")
	assert.Empty(t, w.triggered)
	assert.Empty(t, w.registry.Published())
	assert.Empty(t, w.github.Published())
}
