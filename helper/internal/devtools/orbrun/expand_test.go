package orbrun_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// toyOrb exercises what the expander must get right: defaults, nested commands, when/unless,
// typed substitution, executors with parameters.
const toyOrb = `
version: 2.1
description: a toy orb
executors:
  small:
    parameters:
      size: {type: enum, enum: [small, medium], default: small}
      tag: {type: string, default: "1.0"}
    docker: [{image: "cimg/base:<< parameters.tag >>"}]
    resource_class: << parameters.size >>
    environment: {FROM_EXECUTOR: "yes", SHARED: executor}
commands:
  greet:
    parameters:
      who: {type: string, default: world}
      loud: {type: boolean, default: false}
      times: {type: integer, default: 1}
    steps:
      - run:
          name: Greet << parameters.who >>
          environment:
            WHO: << parameters.who >>
            LOUD: << parameters.loud >>
            TIMES: << parameters.times >>
          command: echo "hello $WHO"
      - when:
          condition: << parameters.loud >>
          steps:
            - run: {name: Shout, command: echo LOUD}
      - unless:
          condition:
            or: [<< parameters.loud >>, {equal: [3, << parameters.times >>]}]
          steps:
            - run: {name: Whisper, command: echo quiet}
  twice:
    parameters:
      who: {type: string, default: twice}
    steps:
      - greet: {who: << parameters.who >>}
      - greet: {who: "<< parameters.who >> again", loud: true}
jobs:
  hello:
    parameters:
      who: {type: string, default: job}
      executor: {type: executor, default: small}
      token: {type: env_var_name, default: CIRCLE_TOKEN}
    executor: << parameters.executor >>
    environment: {SHARED: job, TOKEN_NAME: << parameters.token >>}
    steps:
      - twice: {who: << parameters.who >>}
      - run: echo "escaped \<< parameters.who >> stays"
`

func expandToy(t *testing.T, config string, overrides map[string]any) ([]*orbrun.Job, error) {
	t.Helper()
	o, err := orbrun.ParseOrb([]byte(toyOrb))
	require.NoError(t, err)
	var usage map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(config), &usage))
	cfg, err := orbrun.ParseConfig(usage, func(ref string) (*orbrun.Orb, error) { return o, nil })
	if err != nil {
		return nil, err
	}
	x := &orbrun.Expander{Config: cfg, Pipeline: pipeline, Overrides: overrides}
	return x.Workflow("w")
}

func names(steps []orbrun.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Name)
	}
	return out
}

func TestExpansionFollowsCircleCI(t *testing.T) {
	t.Run("defaults, nested commands, when and unless", func(t *testing.T) {
		jobs, err := expandToy(t, `
version: 2.1
orbs: {toy: acme/toy@1.0}
workflows:
  w:
    jobs: [toy/hello]
`, nil)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		j := jobs[0]
		assert.Equal(t, "toy/hello", j.Name)
		assert.Equal(t, []string{"Greet job", "Whisper", "Greet job again", "Shout", `echo "escaped << parameters.who >> stays"`}, names(j.Steps))
		assert.Equal(t, []string{"toy/hello", "toy/twice", "toy/greet"}, append([]string{j.Ref}, j.Steps[0].Path...))
		assert.Equal(t, map[string]string{"WHO": "job", "LOUD": "0", "TIMES": "1"}, j.Steps[0].Environment, "a boolean is written 1 or 0, an integer in digits")
		assert.Equal(t, "toy/small", j.Executor.Ref)
		assert.Equal(t, "cimg/base:1.0", j.Executor.Image)
		assert.Equal(t, "small", j.Executor.ResourceClass)
		assert.Equal(t, map[string]string{"FROM_EXECUTOR": "yes", "SHARED": "job", "TOKEN_NAME": "CIRCLE_TOKEN"}, j.Environment, "the job's environment wins over its executor's")
		assert.Equal(t, "~/project", j.WorkingDirectory)
	})
	t.Run("arguments, an executor with arguments, pipeline values", func(t *testing.T) {
		jobs, err := expandToy(t, `
version: 2.1
orbs: {toy: acme/toy@1.0}
workflows:
  w:
    jobs:
      - toy/hello:
          name: hi
          who: "build << pipeline.number >> on << pipeline.git.branch >>"
          executor: {name: toy/small, size: medium, tag: "2.0"}
`, nil)
		require.NoError(t, err)
		j := jobs[0]
		assert.Equal(t, "hi", j.Name)
		assert.Equal(t, "Greet build 42 on feature/login", j.Steps[0].Name)
		assert.Equal(t, "medium", j.Executor.ResourceClass)
		assert.Equal(t, "cimg/base:2.0", j.Executor.Image)
	})
	t.Run("the config's own jobs and commands, pre-steps, requires order", func(t *testing.T) {
		jobs, err := expandToy(t, `
version: 2.1
orbs: {toy: acme/toy@1.0}
commands:
  mine:
    steps: [{run: {name: Mine, command: "true"}}]
jobs:
  build:
    docker: [{image: cimg/go:1.26}]
    resource_class: large
    steps: [checkout, mine, {toy/greet: {who: build}}, {store_test_results: {path: out}}]
workflows:
  w:
    jobs:
      - toy/hello: {requires: [build], pre-steps: [{run: {name: Before, command: "true"}}]}
      - build
`, nil)
		require.NoError(t, err)
		require.Len(t, jobs, 2)
		assert.Equal(t, "build", jobs[0].Name, "a job comes after the jobs it requires")
		assert.Equal(t, []string{"Checkout code", "Mine", "Greet build", "Whisper", "Uploading test results"}, names(jobs[0].Steps))
		assert.Equal(t, "always", jobs[0].Steps[4].When, "test results are stored after a failure too")
		assert.Equal(t, "large", jobs[0].Executor.ResourceClass)
		assert.Equal(t, "Before", jobs[1].Steps[0].Name)
	})
	t.Run("overrides replace an orb parameter wherever it is declared", func(t *testing.T) {
		jobs, err := expandToy(t, `
version: 2.1
orbs: {toy: acme/toy@1.0}
workflows:
  w:
    jobs: [{toy/hello: {who: config}}]
`, map[string]any{"who": "override"})
		require.NoError(t, err)
		assert.Equal(t, "Greet override", jobs[0].Steps[0].Name)
		assert.Equal(t, map[string]any{"who": "config"}, jobs[0].Overridden)
	})
}

// expandConfig expands the workflow w of a config that imports no orb.
func expandConfig(t *testing.T, config string, p orbrun.Pipeline) ([]*orbrun.Job, error) {
	t.Helper()
	var usage map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(config), &usage))
	cfg, err := orbrun.ParseConfig(usage, func(ref string) (*orbrun.Orb, error) { return nil, fmt.Errorf("no orb %s", ref) })
	if err != nil {
		return nil, err
	}
	return (&orbrun.Expander{Config: cfg, Pipeline: p}).Workflow("w")
}

func TestBooleansInAnEnvironmentAreOneOrZero(t *testing.T) {
	jobs, err := expandConfig(t, `
version: 2.1
parameters:
  canary: {type: boolean, default: false}
commands:
  c:
    parameters:
      on: {type: boolean, default: true}
      off: {type: boolean, default: false}
    steps:
      - run:
          name: Step
          command: "true"
          environment:
            PARAM_ON: << parameters.on >>
            PARAM_OFF: << parameters.off >>
            INSIDE_A_STRING: "on=<< parameters.on >>"
            PIPELINE: << pipeline.parameters.canary >>
            LITERAL_TRUE: true
            LITERAL_FALSE: false
            QUOTED: "true"
jobs:
  j:
    docker: [{image: cimg/base:2026.09}]
    environment: {JOB_LEVEL: true}
    steps: [c]
workflows:
  w: {jobs: [j]}
`, orbrun.Pipeline{Parameters: map[string]any{"canary": true}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"PARAM_ON": "1", "PARAM_OFF": "0", "INSIDE_A_STRING": "on=true", "PIPELINE": "1",
		"LITERAL_TRUE": "1", "LITERAL_FALSE": "0", "QUOTED": "true",
	}, jobs[0].Steps[0].Environment)
	assert.Equal(t, "1", jobs[0].Environment["JOB_LEVEL"])
}

func TestWhenIsTakenOnlyWhereCircleCITakesIt(t *testing.T) {
	job := func(step string) string {
		return "version: 2.1\njobs:\n  j:\n    docker: [{image: cimg/base:2026.09}]\n    steps:\n      - " + step + "\nworkflows:\n  w: {jobs: [j]}\n"
	}
	for name, tc := range map[string]struct{ step, when, err string }{
		"a run step's own when":                {step: `{run: {name: R, command: "true", when: on_fail}}`, when: "on_fail"},
		"a run step without one":               {step: `{run: {name: R, command: "true"}}`, when: "on_success"},
		"store_test_results runs always":       {step: `{store_test_results: {path: out}}`, when: "always"},
		"store_artifacts runs always":          {step: `{store_artifacts: {path: out}}`, when: "always"},
		"persist_to_workspace only on success": {step: `{persist_to_workspace: {root: ., paths: [x]}}`, when: "on_success"},
		"attach_workspace only on success":     {step: `{attach_workspace: {at: .}}`, when: "on_success"},
		"save_cache takes when":                {step: `{save_cache: {key: k, paths: [x], when: always}}`, when: "always"},
		"when on persist_to_workspace": {step: `{persist_to_workspace: {root: ., paths: [x], when: always}}`,
			err: `persist_to_workspace "Persisting to workspace": when is not one of its keys (only run and save_cache take when; CircleCI runs persist_to_workspace only while no step has failed)`},
		"when on store_test_results": {step: `{store_test_results: {path: out, when: always}}`,
			err: "CircleCI runs store_test_results after a failed step anyway"},
		"a when that is no value": {step: `{run: {name: R, command: "true", when: sometimes}}`,
			err: `run "R": when: sometimes is not on_success, on_fail or always`},
	} {
		t.Run(name, func(t *testing.T) {
			jobs, err := expandConfig(t, job(tc.step), pipeline)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.when, jobs[0].Steps[0].When)
		})
	}
}

func TestExpansionRefusesWhatCircleCIRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ jobs, want string }{
		"an unknown argument":         {`[{toy/hello: {whom: x}}]`, "unexpected argument(s): whom"},
		"a number for a string":       {`[{toy/hello: {executor: toy/small}}, {toy/hello: {name: b, who: 3}}]`, "argument who: expected type string"},
		"a value outside the enum":    {`[{toy/hello: {executor: {name: toy/small, size: huge}}}]`, `"huge" (a string) is not one of the enum values small, medium`},
		"an invalid variable name":    {`[{toy/hello: {token: "not a name"}}]`, "is not an environment variable name"},
		"an unknown job":              {`[toy/bye]`, `orb acme/toy@1.0 has no job "bye"`},
		"an unknown orb":              {`[other/hello]`, `no orb is imported as "other"`},
		"a requires of nothing":       {`[{toy/hello: {requires: [nope]}}]`, "requires 'nope', which is the name of 0 other jobs in workflow"},
		"a cycle":                     {`[{toy/hello: {name: a, requires: [b]}}, {toy/hello: {name: b, requires: [a]}}]`, "requires form a cycle"},
		"a parameter outside the orb": {`[{toy/hello: {who: "<< parameters.x >>"}}]`, "outside a job, command or executor"},
		"an unknown pipeline value":   {`[{toy/hello: {who: "<< pipeline.nope >>"}}]`, "no such pipeline value"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := expandToy(t, "version: 2.1\norbs: {toy: acme/toy@1.0}\nworkflows:\n  w:\n    jobs: "+tc.jobs+"\n", nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// fileWriter writes files of an orb source under dir, making their directories.
func fileWriter(t *testing.T, dir string) func(name, content string) {
	return func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

func TestSourceIncludesResolveLikeOrbPack(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("@orb.yml", "version: 2.1\ndescription: d\n")
	write("scripts/s.sh", "cat <<EOF\nx\nEOF\n")
	write("commands/c.yml", "description: c\nsteps:\n  - run: {name: S, command: <<include(scripts/s.sh)>>}\n")
	o, err := orbrun.LoadSource(dir)
	require.NoError(t, err)
	steps := o.Commands["c"]["steps"].([]any)
	assert.Equal(t, "cat \\<<EOF\nx\nEOF\n", steps[0].(map[string]any)["run"].(map[string]any)["command"], "<< in a script is escaped, as circleci orb pack does")

	write("commands/c.yml", "description: c\nsteps:\n  - run: {name: S, command: 'x <<include(scripts/s.sh)>>'}\n")
	_, err = orbrun.LoadSource(dir)
	assert.ErrorContains(t, err, "an include must be the entire value")
}

// TestPackKeepsWhatCircleCIPackKeeps: the project's packer (make demo's) resolves includes
// where the CLI does and drops the example keys the CLI's schema does not know. Its bytes are
// held to the CLI's by scripts/test-orb.sh.
func TestPackKeepsWhatCircleCIPackKeeps(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("@orb.yml", "version: 2.1\ndescription: d\n")
	write("scripts/s.sh", "cat <<EOF\nx\nEOF\n")
	write("commands/c.yml", "description: c\nsteps:\n  - run: {name: S, command: <<include(scripts/s.sh)>>}\n")
	write("examples/e.yml", "description: e\nusage:\n  version: 2.1\n  parameters: {p: {type: string}}\n  workflows: {w: {jobs: [j]}}\n")
	write("examples/.hidden.yml", "not: [yaml")
	out, err := orbrun.Pack(dir)
	require.NoError(t, err)
	o, err := orbrun.ParseOrb(out)
	require.NoError(t, err)
	steps := o.Commands["c"]["steps"].([]any)
	assert.Equal(t, "cat \\<<EOF\nx\nEOF\n", steps[0].(map[string]any)["run"].(map[string]any)["command"])
	assert.Equal(t, map[string]any{"version": "2.1", "workflows": map[string]any{"w": map[string]any{"jobs": []any{"j"}}}}, o.Examples["e"].Usage,
		"parameters is not a key the CLI's example schema keeps")
	assert.True(t, strings.HasPrefix(string(out), "version: 2.1\ndescription: d\ncommands:\n"), "the CLI's key order:\n%s", out)

	write("commands/c.yml", "description: c\nsteps:\n  - run: {name: S, command: 'x <<include(scripts/s.sh)>>'}\n")
	_, err = orbrun.Pack(dir)
	assert.ErrorContains(t, err, "an include must be the entire value")
	_, err = orbrun.Pack(t.TempDir())
	assert.ErrorContains(t, err, "@orb.yml file not found")
}

// pinnedSums is what the orb should pin for the release: its SHA256SUMS, then the SHA-256 of the
// binary in each archive, unpacked with tar and unzip and summed with sha256sum.
func pinnedSums(t *testing.T) string {
	t.Helper()
	sums, err := os.ReadFile(filepath.Join(release.Dist, "SHA256SUMS"))
	require.NoError(t, err)
	pinned := string(sums)
	for _, line := range strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n") {
		_, archive, _ := strings.Cut(line, "  ")
		unpack := `tar -xzOf "$1" baton`
		bin := "baton"
		if strings.HasSuffix(archive, ".zip") {
			unpack, bin = `unzip -p "$1" baton.exe`, "baton.exe"
		}
		out, err := exec.Command("bash", "-c", "set -o pipefail; "+unpack+" | sha256sum", "-", filepath.Join(release.Dist, archive)).Output()
		require.NoError(t, err, "unpacking %s", archive)
		sum, _, _ := strings.Cut(string(out), " ")
		pinned += sum + "  " + strings.TrimSuffix(strings.TrimSuffix(archive, ".zip"), ".tar.gz") + "/" + bin + "\n"
	}
	return pinned
}

// TestPackedOrbIsTheSourceWithItsPinsFilledIn: what `circleci orb pack` and pack-orb.sh
// publish is exactly orb/src, includes resolved, with the version and sums in place of the
// placeholders, and every example kept whole.
func TestPackedOrbIsTheSourceWithItsPinsFilledIn(t *testing.T) {
	src, err := orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	packed, err := orbrun.LoadPacked(release.Orb)
	require.NoError(t, err)
	sums := pinnedSums(t)

	env := src.Commands["install"]["steps"].([]any)[0].(map[string]any)["run"].(map[string]any)["environment"].(map[string]any)
	assert.Equal(t, "@BATON_PINNED_VERSION@", env["BATON_INSTALL_PINNED_VERSION"], "the source carries placeholders, never a version")
	assert.Equal(t, "@BATON_PINNED_SHA256SUMS@", env["BATON_INSTALL_PINNED_SHA256SUMS"])
	env["BATON_INSTALL_PINNED_VERSION"] = release.Version
	env["BATON_INSTALL_PINNED_SHA256SUMS"] = sums

	assert.Equal(t, src.Commands, packed.Commands)
	assert.Equal(t, src.Jobs, packed.Jobs)
	assert.Equal(t, src.Executors, packed.Executors)
	assert.Equal(t, src.ExampleNames(), packed.ExampleNames())
	for name, e := range src.Examples {
		e.Usage["version"] = "2.1" // circleci orb pack writes an example's version as a string
		assert.Equal(t, e, packed.Examples[name], "circleci orb pack keeps example %s whole", name)
	}
	assert.Equal(t, strings.TrimSpace(src.Description), strings.TrimSpace(packed.Description))
	assert.Equal(t, src.Display, packed.Display)
}
