package orbrun_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// TestEveryBooleanParameterReachesBatonEitherWay: CircleCI writes a boolean parameter into a
// step's environment as 1 or 0; a user's own step may write true or false. For every boolean
// parameter of every command that gives it to baton, both renderings of both values reach
// baton's flag as that value.
func TestEveryBooleanParameterReachesBatonEitherWay(t *testing.T) {
	o, err := orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	checked := 0
	for command, sub := range map[string]string{"trigger-pipeline": "trigger", "wait-for-pipeline": "wait", "callback": "callback", "pipeline-result": "result"} {
		decls := o.Commands[command]["parameters"].(map[string]any)
		for variable, value := range runStepEnv(t, o, command) {
			param, ok := wholeParameter(value)
			if !ok || decls[param].(map[string]any)["type"] != "boolean" {
				continue
			}
			for _, b := range []bool{true, false} {
				checked++
				t.Run(fmt.Sprintf("%s %s: %t", command, param, b), func(t *testing.T) {
					rendered := expandedEnv(t, o, command, map[string]any{param: b})[variable]
					assert.Equal(t, map[bool]string{true: "1", false: "0"}[b], rendered, "as CircleCI writes it")
					for _, text := range []string{rendered, fmt.Sprint(b)} {
						assert.Equal(t, b, batonReads(t, sub, variable, text), "baton %s reads %s=%s", sub, variable, text)
					}
				})
			}
		}
	}
	assert.GreaterOrEqual(t, checked, 2*14, "every boolean parameter of the four commands")
}

// wholeParameter names x when value is exactly << parameters.x >>.
func wholeParameter(value any) (string, bool) {
	var name string
	s, _ := value.(string)
	if _, err := fmt.Sscanf(s, "<< parameters.%s >>", &name); err != nil {
		return "", false
	}
	return name, true
}

// expandedEnv is the environment of the command's baton step, called with args.
func expandedEnv(t *testing.T, o *orbrun.Orb, command string, args map[string]any) map[string]string {
	t.Helper()
	usage := map[string]any{
		"version": 2.1, "orbs": map[string]any{"baton": "baton-ci/baton@1.0"},
		"jobs": map[string]any{"j": map[string]any{
			"docker": []any{map[string]any{"image": "cimg/base:2026.09"}},
			"steps":  []any{map[string]any{"baton/" + command: args}},
		}},
		"workflows": map[string]any{"w": map[string]any{"jobs": []any{"j"}}},
	}
	cfg, err := orbrun.ParseConfig(usage, func(string) (*orbrun.Orb, error) { return o, nil })
	require.NoError(t, err)
	jobs, err := (&orbrun.Expander{Config: cfg, Pipeline: pipeline}).Workflow("w")
	require.NoError(t, err)
	for _, s := range jobs[0].RunSteps() {
		if s.Name != "Install baton" {
			return s.Environment
		}
	}
	t.Fatalf("%s has no baton step", command)
	return nil
}

// batonReads is the value baton's flag takes from variable=text.
func batonReads(t *testing.T, sub, variable, text string) bool {
	t.Helper()
	t.Setenv(variable, text)
	ctx, err := kong.Trace(cliParser(t), []string{sub})
	require.NoError(t, err)
	require.NoError(t, ctx.Error)
	require.NoError(t, ctx.Reset())
	for _, f := range ctx.Flags() {
		if slices.Contains(f.Envs, variable) {
			require.Equal(t, reflect.Bool, f.Target.Kind(), "%s is a boolean flag", f.Name)
			return f.Target.Bool()
		}
	}
	t.Fatalf("baton %s has no flag read from %s", sub, variable)
	return false
}
