package orbrun_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// Tokens are distinctive so that a leak into any output is found by a substring search.
const (
	token       = "CCIPAT_orb_e2e_SeCrEt_0123456789abcdef"
	serverToken = "CCIPAT_acme_server_SeCrEt_fedcba9876543210"
)

// pipeline is the upstream pipeline every example runs in.
var pipeline = orbrun.Pipeline{
	ID:       "0f1e2d3c-4b5a-4698-8776-a5b4c3d2e1f0",
	Number:   42,
	Branch:   "feature/login",
	Revision: "3f786850e387550fdab836ed7e6dc881de23001b",
	GitURL:   "https://github.com/acme/api",
	// The callback-downstream example's config declares baton_callback, as its description
	// says (orb pack drops an example's top-level parameters); not called back, it is empty.
	Parameters: map[string]any{"baton_callback": ""},
}

// simConfig declares every project the examples trigger, with the parameters they send, so
// that the simulator checks their types as CircleCI would. %s is the integration tests'
// final status.
const simConfig = `
tokens:
  - {token: ` + token + `, login: deployer}
  - {token: ` + serverToken + `, login: platform-bot}
projects:
  - slug: gh/acme/deploy
    parameters:
      - {name: image-name, type: string, default: ""}
    workflows:
      - {name: deploy, duration: 2m, jobs: [{name: rollout}]}
  - slug: gh/acme/api
    parameters:
      - {name: replicas, type: integer, default: 1}
      - {name: canary, type: boolean, default: false}
      - {name: api-version, type: string, default: "2"}
      - {name: source-sha, type: string, default: ""}
      - {name: regions, type: string, default: ""}
      - {name: rollout-minutes, type: integer, default: 10}
    workflows:
      # Hours even on the fast clock: the typed-parameters example waits only until it starts.
      - {name: release, duration: 10h}
      # The callback examples' upstream workflow: it waits at await-e2e until called back, and
      # at its production gate approve-prod, which no callback may approve.
      - name: deploy
        duration: 20s
        status: on_hold
        approved: {duration: 10s}
        jobs:
          - {name: start-e2e, duration: 10s}
          - {name: await-e2e, type: approval, requires: [start-e2e]}
          - {name: e2e-result, status: blocked, requires: [await-e2e]}
          - {name: approve-prod, type: approval, requires: [start-e2e]}
          - {name: deploy-prod, status: blocked, requires: [approve-prod]}
  - slug: gh/acme/integration-tests
    parameters:
      - {name: target-url, type: string, default: ""}
      - {name: app-version, type: string, default: ""}
      - {name: baton_callback, type: string, default: ""}
    workflows:
      - name: integration
        duration: 3m
        status: %s
        jobs:
          - {name: smoke, duration: 1m}
          - {name: api-tests, requires: [smoke]}
          - {name: callback, requires: [api-tests], status: success}
  - slug: gh/acme/billing
    parameters: [{name: shared-lib-version, type: string, default: ""}]
    workflows: [{name: build, duration: 2m}]
  - slug: gh/acme/search
    parameters: [{name: shared-lib-version, type: string, default: ""}]
    workflows: [{name: build, duration: 1m}]
  - slug: gh/acme/web
    parameters: [{name: shared-lib-version, type: string, default: ""}]
    workflows: [{name: build, duration: 90s}]
  - slug: circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz
    definition_ids: [9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d]
    vcs_url: https://github.com/acme/app
    parameters: [{name: requested-by, type: string, default: ""}]
    workflows: [{name: main, duration: 1m}]
  - slug: gh/platform/provisioning
    parameters: [{name: requested-by, type: string, default: ""}]
    workflows: [{name: provision, duration: 1m}]
  - slug: gh/acme/e2e
    workflows: [{name: browser, duration: 2m, status: failed, jobs: [{name: chrome}]}]
  - slug: gh/acme/orders
    parameters:
      - {name: build-number, type: string, default: ""}
      - {name: replicas, type: integer, default: 1}
      - {name: region, type: enum, enum: [us, eu], default: us}
    workflows: [{name: deploy, duration: 1m}]
  - slug: gh/acme/worker
    parameters:
      - {name: build-number, type: string, default: ""}
      - {name: queue, type: string, default: normal}
    workflows: [{name: deploy, duration: 1m}]
  # A downstream that fails with a failing test and leaves an artifact: what the upstream keeps.
  - slug: gh/acme/checkout
    workflows:
      - name: checkout
        duration: 1m
        status: failed
        jobs:
          - name: browser-tests
            tests:
              passing: 3
              failures:
                - {classname: checkout, name: pays with card, message: "expected 200, got 502", file: spec/checkout_spec.rb}
            steps:
              - {name: Run tests, output: "4 examples, 1 failure\n", failed: true}
            artifacts:
              - {path: report/index.html, content: "<h1>checkout report</h1>"}
  - slug: gh/acme/contract-tests
    parameters: [{name: provider-sha, type: string, default: ""}]
    workflows: [{name: contract, duration: 2m, jobs: [{name: pact}]}]
`

// stub is a command the examples' own steps call (docker, make): it logs its arguments.
const stub = `#!/bin/sh
printf '%s\n' "$(basename "$0") $*" >>"$(dirname "$0")/calls.log"
[ "$1" = login ] && cat >/dev/null
exit 0
`

type worldOptions struct {
	integrationStatus string // the integration tests' final status; default success
}

// world is one CircleCI as the orb sees it: the API (the simulator, on a clock running 600
// times faster), a release server with the project's own archives, the orb as packed for
// release, and a machine running jobs.
type world struct {
	t       *testing.T
	sim     *simulator.Simulator
	simURL  string
	rel     *orbrun.ReleaseServer
	orb     *orbrun.Orb
	machine *orbrun.Machine
	log     *testkit.SyncBuffer
	stubs   string
	// overrides point the orb at the local servers, as a CircleCI server user would point
	// host and helper_base_url at theirs; poll_interval is shortened to keep tests fast.
	overrides map[string]any
}

func newWorld(t *testing.T, opts worldOptions) *world {
	t.Helper()
	if opts.integrationStatus == "" {
		opts.integrationStatus = "success"
	}
	cfg, err := simulator.ParseConfig([]byte(fmt.Sprintf(simConfig, opts.integrationStatus)))
	require.NoError(t, err)
	start, realStart := time.Now(), time.Now()
	fast := func() time.Time { return start.Add(time.Since(realStart) * 600) }
	sim := simulator.New(cfg, simulator.WithClock(fast))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	rel := orbrun.NewReleaseServer(release.Version, release.Dist)
	t.Cleanup(rel.Close)

	orb, err := orbrun.LoadPacked(release.Orb)
	require.NoError(t, err)

	stubs := t.TempDir()
	for _, name := range []string{"docker", "make"} {
		require.NoError(t, os.WriteFile(filepath.Join(stubs, name), []byte(stub), 0o755))
	}
	log := &testkit.SyncBuffer{}
	w := &world{
		t: t, sim: sim, simURL: srv.URL, rel: rel, orb: orb, log: log, stubs: stubs,
		machine: &orbrun.Machine{
			Root: t.TempDir(),
			Env:  orbrun.CircleEnv(pipeline, "acme", "api"),
			Contexts: map[string]map[string]string{
				"circleci-api":    {"CIRCLE_TOKEN": token},
				"docker-hub":      {"DOCKER_LOGIN": "acme", "DOCKER_PASSWORD": "hunter2"},
				"platform-tokens": {"ACME_CIRCLECI_TOKEN": serverToken},
			},
			PathDirs:    []string{stubs},
			Log:         log,
			StepTimeout: 2 * time.Minute,
		},
		overrides: map[string]any{
			"host":            srv.URL,
			"helper_base_url": rel.URL,
			"poll_interval":   "500ms",
		},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("what the jobs printed:\n%s", log.String())
			t.Logf("release server requests: %q", rel.Requests())
		}
	})
	return w
}

// resolve is the registry: the examples import baton-ci/baton@<major.minor>.
func (w *world) resolve(ref string) (*orbrun.Orb, error) {
	if !strings.HasPrefix(ref, "baton-ci/baton@") {
		return nil, fmt.Errorf("unknown orb %s", ref)
	}
	return w.orb, nil
}

// expand expands the only workflow of a config.
func (w *world) expand(usage map[string]any) []*orbrun.Job {
	w.t.Helper()
	cfg, err := orbrun.ParseConfig(usage, w.resolve)
	require.NoError(w.t, err)
	require.Len(w.t, cfg.Workflows, 1, "an example shows one workflow")
	x := &orbrun.Expander{Config: cfg, Pipeline: pipeline, Overrides: w.overrides}
	for name := range cfg.Workflows {
		jobs, err := x.Workflow(name)
		require.NoError(w.t, err)
		return jobs
	}
	return nil
}

// run expands and runs the only workflow of a config; results by job name.
func (w *world) run(usage map[string]any) map[string]*orbrun.JobResult {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	results, err := w.machine.RunWorkflow(ctx, w.expand(usage))
	require.NoError(w.t, err)
	byName := map[string]*orbrun.JobResult{}
	for _, r := range results {
		byName[r.Job.Name] = r
		for _, s := range r.Steps {
			assert.NotContains(w.t, s.Output, token, "the token leaked into step %q", s.Step.Name)
			assert.NotContains(w.t, s.Output, serverToken, "the token leaked into step %q", s.Step.Name)
		}
	}
	return byName
}

// example returns a copy of an example's usage, to run as is or changed.
func (w *world) example(name string) map[string]any {
	w.t.Helper()
	e, ok := w.orb.Examples[name]
	require.True(w.t, ok, "no example %s", name)
	return deepCopy(e.Usage).(map[string]any)
}

// pipelines are the pipelines the simulator created for a project.
func (w *world) pipelines(slug string) []simulator.PipelineInfo {
	var out []simulator.PipelineInfo
	for _, p := range w.sim.Pipelines() {
		if p.ProjectSlug == slug {
			out = append(out, p)
		}
	}
	return out
}

// triggers are the trigger requests the simulator received.
func (w *world) triggers() []simulator.Request {
	var out []simulator.Request
	for _, r := range w.sim.Requests() {
		if r.Method == "POST" && (strings.HasSuffix(r.Path, "/pipeline") || strings.HasSuffix(r.Path, "/pipeline/run")) {
			out = append(out, r)
		}
	}
	return out
}

// stubCalls are the calls of the stubbed docker and make, in order.
func (w *world) stubCalls() []string { return stubCalls(w.t, w.stubs) }

// stubCalls are the calls the stubs in dir recorded (stub), in order.
func stubCalls(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// downloads counts the archive downloads the release server answered.
func (w *world) downloads() int {
	n := 0
	for _, r := range w.rel.Requests() {
		if strings.HasSuffix(r, " 200") {
			n++
		}
	}
	return n
}

// requireSuccess checks that a job ran to the end.
func requireSuccess(t *testing.T, r *orbrun.JobResult) {
	t.Helper()
	require.NotNil(t, r)
	if s, failed := r.FailedStep(); failed {
		t.Fatalf("job %s: step %q exited %d:\n%s", r.Job.Name, s.Step.Name, s.ExitCode, s.Output)
	}
	require.Equal(t, orbrun.JobSuccess, r.Status)
}

// installedFromRelease checks the install step's story: downloaded the pinned version,
// verified against the orb's sums, installed into ~/.local/bin, put on PATH via $BASH_ENV.
func installedFromRelease(t *testing.T, r *orbrun.JobResult) {
	t.Helper()
	s, ok := r.Step("Install baton")
	require.True(t, ok, "the job has an Install baton step")
	require.True(t, s.Ran)
	assert.Contains(t, s.Output, "Installing baton "+release.Version+" for linux/amd64")
	assert.Contains(t, s.Output, "SHA-256 verified: "+archiveSum(t, "linux_amd64"))
	bin := filepath.Join(r.Home, ".local", "bin", "baton")
	assert.Contains(t, s.Output, "Installed "+bin+": baton "+release.Version)
	assert.Contains(t, r.BashEnv, "export BATON_BIN="+bin+"\n", "the orb's steps run this binary by its path")
	assert.Contains(t, r.BashEnv, "export PATH="+filepath.Join(r.Home, ".local", "bin")+`:"$PATH"`)
}

// archiveSum is the SHA-256 of the release's archive for platform, from its SHA256SUMS.
func archiveSum(t *testing.T, platform string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(release.Dist, "SHA256SUMS"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if sum, name, ok := strings.Cut(line, "  "); ok && strings.Contains(name, "_"+platform+".") {
			return sum
		}
	}
	t.Fatalf("no %s archive in SHA256SUMS", platform)
	return ""
}

// envExports reads the export NAME=VALUE lines of a $BASH_ENV file by sourcing it in bash.
func envExports(t *testing.T, bashEnv string, names ...string) map[string]string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "bash_env")
	require.NoError(t, os.WriteFile(f, []byte(bashEnv), 0o644))
	script := "set -eu\nsource \"$1\"\n"
	for _, n := range names {
		script += fmt.Sprintf("printf '%%s\\0' \"${%s-<unset>}\"\n", n)
	}
	out := runBash(t, script, f)
	values := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	require.Len(t, values, len(names))
	m := map[string]string{}
	for i, n := range names {
		m[n] = values[i]
	}
	return m
}

// runBash runs a bash script with arguments and returns its stdout.
func runBash(t *testing.T, script string, args ...string) string {
	t.Helper()
	out, err := exec.Command("bash", append([]string{"-c", script, "bash"}, args...)...).Output()
	require.NoError(t, err)
	return string(out)
}

// tarGz is a release-like archive holding one executable file.
func tarGz(t *testing.T, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}))
	_, err := tw.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := maps.Clone(v)
		for k, x := range m {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}
