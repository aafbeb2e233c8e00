package orbrun_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// parseConfig reads a config that imports no registry orb.
func parseConfig(t *testing.T, text string) *orbrun.Config {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(text), &doc))
	cfg, err := orbrun.ParseConfig(doc, func(ref string) (*orbrun.Orb, error) {
		t.Fatalf("no registry here, yet the config imports %s", ref)
		return nil, nil
	})
	require.NoError(t, err)
	return cfg
}

// jobNames expands a workflow for pipeline p and names its jobs.
func jobNames(t *testing.T, cfg *orbrun.Config, p orbrun.Pipeline, workflow string) []string {
	t.Helper()
	jobs, err := (&orbrun.Expander{Config: cfg, Pipeline: p}).Workflow(workflow)
	require.NoError(t, err)
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	return names
}

const filtered = `
version: 2.1
jobs:
  j:
    docker: [{image: cimg/base:2025.01}]
    steps: [{run: {name: x, command: "true"}}]
workflows:
  w:
    jobs:
      - j: {name: everywhere}
      - j: {name: any-ref, filters: {tags: {only: /.*/}}}
      - j: {name: main-only, filters: {branches: {only: main}}}
      - j: {name: not-main, filters: {branches: {ignore: [main]}}}
      - j:
          name: release
          requires: [any-ref]
          filters: {tags: {only: "/^v[0-9]+\\.[0-9]+\\.[0-9]+$/"}, branches: {ignore: /.*/}}
      - j: {name: after-main-only, requires: [main-only], filters: {tags: {only: /.*/}}}
      - j: {name: prefixed, filters: {branches: {only: /feature\/.*/}}}
`

func TestFiltersChooseTheJobsOfABranchOrTag(t *testing.T) {
	cfg := parseConfig(t, filtered)
	for _, tt := range []struct {
		name        string
		branch, tag string
		want        []string
	}{
		{"main runs every job without tag-only filters, and those requiring them", "main", "", []string{"everywhere", "any-ref", "main-only", "after-main-only"}},
		{"another branch runs what main-only filters leave", "fix", "", []string{"everywhere", "any-ref", "not-main"}},
		{"a regular expression must match the whole branch name", "feature/x", "", []string{"everywhere", "any-ref", "not-main", "prefixed"}},
		{"a release tag runs only the jobs with matching tag filters", "", "v1.2.3", []string{"any-ref", "release"}},
		{"another tag leaves the release job out", "", "v1.2.3-rc1", []string{"any-ref"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := jobNames(t, cfg, orbrun.Pipeline{Branch: tt.branch, Tag: tt.tag}, "w")
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

func TestWorkflowWhenAndUnlessDecideWhetherItRuns(t *testing.T) {
	cfg := parseConfig(t, `
version: 2.1
parameters:
  flag: {type: boolean, default: false}
jobs:
  j: {docker: [{image: cimg/base:2025.01}], steps: [{run: {name: x, command: "true"}}]}
workflows:
  when-flag:
    when: << pipeline.parameters.flag >>
    jobs: [j]
  unless-flag:
    unless: << pipeline.parameters.flag >>
    jobs: [j]
  canonical:
    when:
      equal: [https://github.com/acme/api, << pipeline.project.git_url >>]
    jobs: [j]
`)
	for _, tt := range []struct {
		name string
		p    orbrun.Pipeline
		runs []string
	}{
		{"the default false runs the unless workflow", orbrun.Pipeline{GitURL: "https://github.com/acme/api"}, []string{"canonical", "unless-flag"}},
		{"a true parameter runs the when workflow", orbrun.Pipeline{GitURL: "https://github.com/fork/api", Parameters: map[string]any{"flag": true}}, []string{"when-flag"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := &orbrun.Expander{Config: cfg, Pipeline: tt.p}
			var runs []string
			for _, name := range []string{"canonical", "unless-flag", "when-flag"} {
				ok, err := x.Runs(name)
				require.NoError(t, err)
				if ok {
					runs = append(runs, name)
				}
			}
			assert.Equal(t, tt.runs, runs)
		})
	}
}

func TestAJobRequiringAJobOfAnotherWorkflowIsRejected(t *testing.T) {
	cfg := parseConfig(t, `
version: 2.1
jobs:
  j: {docker: [{image: cimg/base:2025.01}], steps: [{run: {name: x, command: "true"}}]}
workflows:
  build: {jobs: [{j: {name: build}}]}
  publish: {jobs: [{j: {name: publish, requires: [build]}}]}
`)
	_, err := (&orbrun.Expander{Config: cfg, Pipeline: orbrun.Pipeline{Branch: "main"}}).Workflow("publish")
	require.Error(t, err)
	assert.Equal(t, "Job 'publish' requires 'build', which is the name of 0 other jobs in workflow 'publish'", err.Error())
}

// workspaceConfig has a build job persisting, consumers attaching, and a second workflow.
const workspaceConfig = `
version: 2.1
executors:
  base: {docker: [{image: cimg/base:2025.01}]}
jobs:
  make:
    parameters: {file: {type: string}}
    executor: base
    steps:
      - run: {name: write, command: "mkdir -p out && echo << parameters.file >> > out/<< parameters.file >>"}
      - persist_to_workspace: {root: ., paths: [out]}
  read:
    executor: base
    steps:
      - attach_workspace: {at: ~/ws}
      - run: {name: list, command: "ls ~/ws/out"}
workflows:
  build:
    jobs:
      - make: {name: a, file: a}
      - make: {name: b, file: b, requires: [a]}
      - make: {name: c, file: c}
      - read: {name: after-b, requires: [b]}
      - read: {name: alone}
  other:
    jobs:
      - read: {name: elsewhere}
`

func runWorkflow(t *testing.T, m *orbrun.Machine, cfg *orbrun.Config, name string) map[string]*orbrun.JobResult {
	t.Helper()
	jobs, err := (&orbrun.Expander{Config: cfg, Pipeline: orbrun.Pipeline{Branch: "main"}}).Workflow(name)
	require.NoError(t, err)
	results, err := m.RunNamedWorkflow(context.Background(), name, jobs)
	require.NoError(t, err)
	out := map[string]*orbrun.JobResult{}
	for _, r := range results {
		out[r.Job.Name] = r
	}
	return out
}

func TestAJobSeesOnlyWhatItsUpstreamJobsPersisted(t *testing.T) {
	cfg := parseConfig(t, workspaceConfig)
	m := &orbrun.Machine{Root: t.TempDir()}
	res := runWorkflow(t, m, cfg, "build")

	requireSuccess(t, res["after-b"])
	list, _ := res["after-b"].Step("list")
	assert.Equal(t, "a\nb\n", list.Output, "b's layer over a's, and not c's: c is not upstream")

	alone := res["alone"]
	assert.Equal(t, orbrun.JobFailed, alone.Status, "nothing upstream persisted: attaching fails the job")
	attach, _ := alone.Step("Attaching workspace")
	assert.Contains(t, attach.Output, "no job upstream of alone in workflow build persisted to the workspace")
	list, _ = alone.Step("list")
	assert.False(t, list.Ran)

	other := runWorkflow(t, m, cfg, "other")["elsewhere"]
	assert.Equal(t, orbrun.JobFailed, other.Status, "another workflow of the same pipeline has a workspace of its own")
}

func TestConcurrentJobsPersistingTheSameFileFailTheAttach(t *testing.T) {
	cfg := parseConfig(t, strings.Replace(workspaceConfig, "- make: {name: c, file: c}", "- make: {name: c, file: a}", 1)+`
  clash:
    jobs:
      - make: {name: left, file: same}
      - make: {name: right, file: same}
      - read: {name: both, requires: [left, right]}
      - make: {name: first, file: same}
      - make: {name: then, file: same, requires: [first]}
      - read: {name: ordered, requires: [then]}
`)
	res := runWorkflow(t, &orbrun.Machine{Root: t.TempDir()}, cfg, "clash")
	assert.Equal(t, orbrun.JobFailed, res["both"].Status)
	attach, _ := res["both"].Step("Attaching workspace")
	assert.Contains(t, attach.Output, "Concurrent upstream jobs persisted the same file(s)")
	requireSuccess(t, res["ordered"]) // a later layer of a downstream job replaces the file
}

func TestAfterAFailedStepOnlyAlwaysAndOnFailStepsRun(t *testing.T) {
	cfg := parseConfig(t, `
version: 2.1
commands:
  report:
    steps:
      - run: {name: command step, command: "echo from a command"}
      - run: {name: command step always, command: "echo always from a command", when: always}
jobs:
  j:
    docker: [{image: cimg/base:2025.01}]
    steps:
      - run: {name: write, command: "mkdir -p out && echo x > out/x"}
      - run: {name: fail, command: "exit 3"}
      - persist_to_workspace: {root: ., paths: [out]}
      - attach_workspace: {at: ws}
      - save_cache: {key: k, paths: [out]}
      - save_cache: {name: cache always, key: k, paths: [out], when: always}
      - store_test_results: {path: out}
      - store_artifacts: {path: out}
      - report
      - run: {name: on fail, command: "echo failed", when: on_fail}
  later:
    docker: [{image: cimg/base:2025.01}]
    steps:
      - attach_workspace: {at: ws}
workflows:
  w:
    jobs:
      - j
      - later: {requires: [{j: terminal}]}
`)
	res := runWorkflow(t, &orbrun.Machine{Root: t.TempDir()}, cfg, "w")
	j := res["j"]
	assert.Equal(t, orbrun.JobFailed, j.Status)
	ran := map[string]bool{}
	for _, s := range j.Steps {
		ran[s.Step.Name] = s.Ran || s.Recorded
	}
	assert.Equal(t, map[string]bool{
		"write": true, "fail": true,
		"Persisting to workspace": false, "Attaching workspace": false, "Saving cache": false,
		"cache always": true, "Uploading test results": true, "Uploading artifacts": true,
		"command step": false, "command step always": true, "on fail": true,
	}, ran)
	assert.Equal(t, orbrun.JobFailed, res["later"].Status, "the failed job persisted nothing")
}

func TestCheckoutIsCarriedOutWhenTheMachineCanCheckOut(t *testing.T) {
	cfg := parseConfig(t, `
version: 2.1
jobs:
  j:
    docker: [{image: cimg/base:2025.01}]
    steps:
      - checkout
      - run: {name: read, command: cat README}
workflows:
  w: {jobs: [j]}
`)
	m := &orbrun.Machine{Root: t.TempDir(), Checkout: func(dir string) error {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return os.WriteFile(filepath.Join(dir, "README"), []byte("checked out\n"), 0o644)
	}}
	res := runWorkflow(t, m, cfg, "w")["j"]
	requireSuccess(t, res)
	read, _ := res.Step("read")
	assert.Equal(t, "checked out\n", read.Output)
}
