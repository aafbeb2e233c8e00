package preflight_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/preflight"
)

func TestParseReadsTopLevelParameters(t *testing.T) {
	tests := []struct {
		name   string
		source string
		want   map[string]preflight.Param
		setup  bool
	}{
		{"plain declarations", `
version: 2.1
parameters:
  image-name: {type: string, default: latest}
  replicas: {type: integer, default: 3}
  deploy: {type: boolean, default: false}
  env: {type: enum, enum: [dev, prod], default: dev}
jobs:
  build: {parameters: {not-a-pipeline-parameter: {type: string}}}
`, map[string]preflight.Param{
			"image-name": {Name: "image-name", Type: "string", Default: "latest", HasDefault: true},
			"replicas":   {Name: "replicas", Type: "integer", Default: int64(3), HasDefault: true},
			"deploy":     {Name: "deploy", Type: "boolean", Default: false, HasDefault: true},
			"env":        {Name: "env", Type: "enum", Enum: preflight.EnumOf("dev", "prod"), Default: "dev", HasDefault: true},
		}, false},
		{"anchors, aliases and merge keys", `
version: 2.1
references:
  str: &str {type: string}
  envs: &envs [dev, staging, prod]
  whole: &whole {type: integer, default: 1}
parameters:
  a:
    <<: *str
    default: x
  b: *whole
  c: {type: enum, enum: *envs}
`, map[string]preflight.Param{
			"a": {Name: "a", Type: "string", Default: "x", HasDefault: true},
			"b": {Name: "b", Type: "integer", Default: int64(1), HasDefault: true},
			"c": {Name: "c", Type: "enum", Enum: preflight.EnumOf("dev", "staging", "prod")},
		}, false},
		{"a merge into the parameters map itself", `
common: &common
  shared: {type: boolean}
parameters:
  <<: *common
  own: {type: string}
`, map[string]preflight.Param{
			"shared": {Name: "shared", Type: "boolean"},
			"own":    {Name: "own", Type: "string"},
		}, false},
		{"a setup config", "version: 2.1\nsetup: true\nparameters: {x: {type: string}}\n",
			map[string]preflight.Param{"x": {Name: "x", Type: "string"}}, true},
		{"no parameters key", "version: 2.1\njobs: {}\n", map[string]preflight.Param{}, false},
		{"enum values written as numbers are text", "parameters: {n: {type: enum, enum: [1, 2]}}",
			map[string]preflight.Param{"n": {Name: "n", Type: "enum", Enum: preflight.EnumOf("1", "2")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := preflight.Parse(tt.source)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Params)
			assert.Equal(t, tt.setup, cfg.Setup)
		})
	}
}

func TestParseRefusesWhatIsNotADeclaration(t *testing.T) {
	tests := []struct{ name, source, want string }{
		{"empty", "  \n", "the config is empty"},
		{"not YAML", "parameters: [unclosed", "not readable YAML"},
		{"a list at the top", "- a\n- b\n", "not readable YAML"},
		{"a duplicate key", "parameters:\n  a: {type: string}\n  a: {type: integer}\n", "not readable YAML"},
		{"an undefined alias", "parameters: *nope\n", "not readable YAML"},
		{"a declaration that is a word", "parameters: {a: string}\n", `parameter "a": its declaration is not a mapping`},
		{"a declaration without a type", "parameters: {a: {default: 1}}\n", `parameter "a" declares no type`},
		{"parameters that are a list", "parameters: [a, b]\n", "not readable YAML"},
		{"a billion laughs", laughs(), "excessive aliasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := preflight.Parse(tt.source)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

// laughs is a document whose aliases expand exponentially.
func laughs() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(n + ": &" + n + " [")
		for i := 0; i < 9; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = n
	}
	b.WriteString("parameters: {x: {type: string, default: *i}}\n")
	return b.String()
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"parameters: {a: {type: string, default: x}}",
		"r: &r {type: integer}\nparameters: {a: *r, b: {<<: *r, default: 2}}",
		"setup: true\nparameters: {e: {type: enum, enum: [a, b]}}",
		"parameters: {a: string}", "- x", "", "parameters: *x",
		"parameters: {e: {type: enum, enum: [null, ~, {a: b}, [c], '', 1]}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, source string) {
		cfg, err := preflight.Parse(source)
		if err != nil {
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
			return
		}
		for name, p := range cfg.Params {
			assert.Equal(t, name, p.Name)
			assert.NotEmpty(t, p.Type, "a declaration without a type is refused")
			// Only an entry that is a string, number or boolean as written lets a value through:
			// not a null (which is not ""), not a mapping or a list (whatever they print as).
			for _, e := range p.Enum {
				if !e.Scalar {
					assert.False(t, p.Allows(e.Text) && !slices.Contains(p.Enum, preflight.EnumValue{Text: e.Text, Scalar: true}),
						"entry %q of %q lets a value through", e.Text, name)
				}
			}
			if p.Allows("") {
				assert.Contains(t, p.Enum, preflight.EnumValue{Text: "", Scalar: true}, "only a written empty string allows an empty value")
			}
			switch p.Default.(type) {
			case nil, string, int64, bool, float64, []any, map[string]any:
			default:
				t.Errorf("default %#v of %q has an unexpected Go type", p.Default, name)
			}
		}
	})
}
