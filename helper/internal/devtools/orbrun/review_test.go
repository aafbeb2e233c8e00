package orbrun_test

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

func TestOrbSourcePassesReview(t *testing.T) {
	findings, err := orbrun.Review(srcDir())
	require.NoError(t, err)
	for _, f := range findings {
		t.Error(f)
	}
}

// TestReviewCatchesEachRule breaks a copy of orb/src one way at a time.
func TestReviewCatchesEachRule(t *testing.T) {
	for _, tc := range []struct {
		name, rule string
		breakIt    func(t *testing.T, dir string)
	}{
		{"no source_url", "RC001", edit("@orb.yml", "  source_url: https://github.com/baton-ci/baton\n", "")},
		{"a component without a description", "RC002", edit("executors/default.yml", "description: >", "summary: >")},
		{"no usage example", "RC003", func(t *testing.T, dir string) { require.NoError(t, os.RemoveAll(filepath.Join(dir, "examples"))) }},
		{"an example named example", "RC004", rename("examples/typed-parameters.yml", "examples/typed-example.yml")},
		{"a short orb description", "RC005", func(t *testing.T, dir string) {
			write(t, dir, "@orb.yml", "version: 2.1\ndescription: Triggers pipelines.\ndisplay:\n  home_url: https://x\n  source_url: https://x\n")
		}},
		{"a run step without a name", "RC008", edit("commands/install.yml", "      name: Install baton\n", "")},
		{"a long command inline", "RC009", edit("commands/install.yml", "command: <<include(scripts/install.sh)>>", `command: echo "a command long enough to belong in a script of its own, really"`)},
		{"a kebab-case parameter key", "RC010", edit("commands/install.yml", "  install_dir:", "  install-dir:")},
		{"examples showing two versions", "RC011", edit("examples/typed-parameters.yml", "baton-ci/baton@1.0", "baton-ci/baton@2.0")},
		{"a default naming a variable used as a key", "RC012", func(t *testing.T, dir string) {
			edit("commands/install.yml", `default: "~/.local/bin"`, `default: "$HOME/.local/bin"`)(t, dir)
			edit("commands/install.yml", "        BATON_INSTALL_DIR: << parameters.install_dir >>", "        << parameters.install_dir >>: x\n        BATON_INSTALL_DIR: << parameters.install_dir >>")(t, dir)
		}},
		{"an example using keys pack drops", "BT002", edit("examples/typed-parameters.yml", "usage:\n", "usage:\n  parameters: {x: {type: string, default: y}}\n")},
		{"a run command that is not one include", "BT003", edit("commands/install.yml", "command: <<include(scripts/install.sh)>>", "command: ./install.sh")},
		{"an unused parameter", "BT004", edit("commands/install.yml", "parameters:\n", "parameters:\n  unused:\n    description: never used\n    type: string\n    default: \"\"\n")},
		{"a parameter the job does not pass on", "BT005", edit("jobs/trigger-pipeline.yml", "      wait: << parameters.wait >>\n", "")},
		{"a heredoc in a script", "BT006", appendTo("scripts/install.sh", "cat <<EOF\nx\nEOF\n")},
		{"eval in a script", "BT006", appendTo("scripts/trigger-pipeline.sh", "eval \"$x\"\n")},
		{"a script without its guard", "BT006", edit("scripts/wait-for-pipeline.sh", `"${BASH_SOURCE[0]}" = "$0"`, "true")},
		{"a snake_case component", "BT007", rename("commands/wait-for-pipeline.yml", "commands/wait_for_pipeline.yml")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, srcDir())
			tc.breakIt(t, dir)
			findings, err := orbrun.Review(dir)
			require.NoError(t, err)
			var rules []string
			for _, f := range findings {
				rules = append(rules, f.Rule)
			}
			assert.Contains(t, rules, tc.rule, "findings: %v", findings)
		})
	}
}

// TestJobTakesEveryParameterOfItsCommand: the trigger-pipeline job is the command as a job,
// plus where to run it.
func TestJobTakesEveryParameterOfItsCommand(t *testing.T) {
	o, err := orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	cmd := o.Commands["trigger-pipeline"]["parameters"].(map[string]any)
	job := o.Jobs["trigger-pipeline"]["parameters"].(map[string]any)
	assert.ElementsMatch(t, append(slices.Collect(maps.Keys(cmd)), "executor"), slices.Collect(maps.Keys(job)))
	for name, p := range cmd {
		assert.Equal(t, p, job[name], "parameter %s: the same in the job and the command", name)
	}
}

// TestStepsSetOnlyTheCLIsOwnVariables: every variable the orb's run steps give baton is one
// baton reads (an env: of its flags), so a renamed flag cannot silently stop working; and
// every variable baton trigger and baton wait read is given, or deliberately left out.
func TestStepsSetOnlyTheCLIsOwnVariables(t *testing.T) {
	envs := cliEnvs(t)
	o, err := orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	notFromOrb := map[string][]string{
		// The scripts set these: BATON_ENV_FILE is $BASH_ENV; BATON_WAIT and BATON_WAIT_START
		// come from the wait (or until) parameter, which is one enum for the two flags.
		"trigger": {"BATON_ENV_FILE", "BATON_WAIT", "BATON_WAIT_START"},
		"wait":    {"BATON_ENV_FILE", "BATON_WAIT_START"},
		// pipeline-result: the script names the recorded file (BATON_RESULT_FROM) from the
		// callback parameter; it reads finished pipelines, so starting, cancelling and
		// fan-out settings have no use there.
		// The downstream detail flags (failing tests, log tail, artifacts) keep their defaults
		// there: the orb's pipeline-result does not offer them (yet).
		"result": {"BATON_ENV_FILE", "BATON_RESULT_FROM", "BATON_WAIT_START", "BATON_CANCEL_ON_TIMEOUT",
			"BATON_CANCEL_ON_INTERRUPT", "BATON_NO_WORKFLOWS_GRACE", "BATON_MAX_PARALLEL",
			"BATON_LOG_LINES", "BATON_ARTIFACTS_DIR", "BATON_ARTIFACTS", "BATON_JUNIT_ALL_TESTS"},
	}
	for command, sub := range map[string]string{"trigger-pipeline": "trigger", "wait-for-pipeline": "wait", "callback": "callback", "pipeline-result": "result"} {
		env := runStepEnv(t, o, command)
		for name := range env {
			if slices.Contains(orbOnly, name) {
				continue
			}
			assert.Contains(t, envs[sub], name, "%s sets %s, which baton %s does not read", command, name, sub)
		}
		for _, name := range envs[sub] {
			_, set := env[name]
			assert.True(t, set || slices.Contains(notFromOrb[sub], name), "baton %s reads %s, which %s does not set", sub, name, command)
		}
	}
}

// orbOnly are the variables the orb's scripts read themselves: BATON_WAIT_PIPELINE_IDS becomes
// BATON_PIPELINE_IDS (which $BASH_ENV would override); BATON_PERSIST_RESULT, a workspace path,
// becomes BATON_RESULT_FILE; BATON_WAIT_FOR (none, started, finished) and BATON_WAIT_UNTIL
// (started, finished) become BATON_WAIT and BATON_WAIT_START.
// BATON_RESULT_CALLBACK (pipeline-result's callback) names the result file in the workspace.
var orbOnly = []string{"BATON_WAIT_PIPELINE_IDS", "BATON_PERSIST_RESULT", "BATON_WAIT_FOR", "BATON_WAIT_UNTIL", "BATON_RESULT_CALLBACK"}

// TestWaitingStepsOutlastTheirTimeout: CircleCI stops a step that prints nothing for
// no_output_timeout, so every component with a timeout defaults no_output_timeout above it.
func TestWaitingStepsOutlastTheirTimeout(t *testing.T) {
	o, err := orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	components := map[string]map[string]any{}
	for name, c := range o.Commands {
		components["command "+name] = c
	}
	for name, c := range o.Jobs {
		components["job "+name] = c
	}
	checked := 0
	for name, c := range components {
		params, _ := c["parameters"].(map[string]any)
		timeout, ok := params["timeout"].(map[string]any)
		if !ok {
			continue
		}
		checked++
		quiet, ok := params["no_output_timeout"].(map[string]any)
		require.True(t, ok, "%s has timeout but no no_output_timeout", name)
		tmax, err := time.ParseDuration(timeout["default"].(string))
		require.NoError(t, err)
		qmax, err := time.ParseDuration(quiet["default"].(string))
		require.NoError(t, err)
		assert.Greater(t, qmax, tmax, "%s: no_output_timeout's default must cover timeout's", name)
		// A heartbeat keeps the step printing while it waits: it must come well within the
		// quiet time CircleCI allows, or a quiet wait is killed before it times out.
		if beat, ok := params["heartbeat"].(map[string]any); ok {
			every, err := time.ParseDuration(beat["default"].(string))
			require.NoError(t, err)
			assert.LessOrEqual(t, 2*every, qmax, "%s: heartbeat's default must come twice within no_output_timeout's", name)
			assert.Less(t, every, 10*time.Minute, "%s: heartbeat's default must come within CircleCI's default no_output_timeout", name)
		}
	}
	assert.Equal(t, 7, checked, "trigger-pipeline, callback and pipeline-result (commands and jobs) and wait-for-pipeline")
	for _, command := range []string{"trigger-pipeline", "wait-for-pipeline", "callback", "pipeline-result"} {
		for _, step := range o.Commands[command]["steps"].([]any) {
			if run, ok := step.(map[string]any)["run"].(map[string]any); ok {
				assert.Equal(t, "<< parameters.no_output_timeout >>", run["no_output_timeout"], command)
				assert.Equal(t, "<< parameters.step_name >>", run["name"], command)
			}
		}
	}
}

// cliParser is baton's command line, every command in it.
func cliParser(t *testing.T) *kong.Kong {
	t.Helper()
	parser, err := cli.Parser()
	require.NoError(t, err)
	return parser
}

// cliEnvs are the environment variables each baton command reads, from its kong model.
func cliEnvs(t *testing.T) map[string][]string {
	t.Helper()
	parser := cliParser(t)
	out := map[string][]string{}
	for _, node := range parser.Model.Children {
		for _, flag := range node.AllFlags(true) {
			for _, f := range flag {
				out[node.Name] = append(out[node.Name], f.Envs...)
			}
		}
	}
	return out
}

func runStepEnv(t *testing.T, o *orbrun.Orb, command string) map[string]any {
	t.Helper()
	for _, step := range o.Commands[command]["steps"].([]any) {
		if run, ok := step.(map[string]any)["run"].(map[string]any); ok {
			return run["environment"].(map[string]any)
		}
	}
	t.Fatalf("command %s has no run step", command)
	return nil
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	}))
	return dst
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

func edit(name, old, new string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Contains(t, string(data), old, "the edit of %s", name)
		write(t, dir, name, strings.Replace(string(data), old, new, 1))
	}
}

func appendTo(name, text string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		write(t, dir, name, string(data)+text)
	}
}

func rename(from, to string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		require.NoError(t, os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)))
	}
}
