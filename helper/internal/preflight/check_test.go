package preflight_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/preflight"
)

const project = "gh/acme/deploy"

var declared = &preflight.Declarations{
	Params: map[string]preflight.Param{
		"image-name": {Name: "image-name", Type: "string"},
		"version":    {Name: "version", Type: "string"},
		"replicas":   {Name: "replicas", Type: "integer", Default: int64(1), HasDefault: true},
		"flag":       {Name: "flag", Type: "string"},
		"deploy":     {Name: "deploy", Type: "boolean"},
		"env":        {Name: "env", Type: "enum", Enum: preflight.EnumOf("dev", "prod")},
		"var":        {Name: "var", Type: "env_var_name"},
		"steps":      {Name: "steps", Type: "steps"},
	},
	Continuation: map[string]preflight.Param{"shard": {Name: "shard", Type: "integer"}},
}

// given builds parameters the way package params types them, with their origins.
func given(t *testing.T, assignments ...string) ([]params.Param, map[string]params.Origin) {
	t.Helper()
	set := params.NewSet(params.Options{})
	for _, a := range assignments {
		if len(a) > 0 && a[0] == '{' {
			assert.NoError(t, set.AddJSON("--parameters-json", []byte(a)))
			continue
		}
		assert.NoError(t, set.AddAssignment(a))
	}
	origins := map[string]params.Origin{}
	for _, p := range set.Params() {
		origins[p.Key] = set.Origin(p.Key)
	}
	return set.Params(), origins
}

func TestCheckTypesInferredValuesAsDeclared(t *testing.T) {
	tests := []struct {
		name       string
		assignment string
		want       any
	}{
		{"a number for a string parameter is sent as a string", "version=3", "3"},
		{"true for a string parameter is sent as a string", "flag=true", "true"},
		{"a number for an integer parameter is an integer", "replicas=3", int64(3)},
		{"true for a boolean parameter is a boolean", "deploy=true", true},
		{"a listed word for an enum is a string", "env=prod", "prod"},
		{"a number for an env_var_name parameter is a string", "var=3", "3"},
		{"a forced string for a string parameter stays", "version:string=3", "3"},
		{"a forced integer for an integer parameter stays", "replicas:int=3", int64(3)},
		{"a JSON string for a string parameter stays", `{"version": "3"}`, "3"},
		{"a JSON integer for an integer parameter stays", `{"replicas": 4}`, int64(4)},
		{"a JSON listed string for an enum stays", `{"env": "dev"}`, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, origins := given(t, tt.assignment)
			d := preflight.Check(project, ps, origins, declared)
			assert.Empty(t, d.Problems)
			assert.Empty(t, d.Unknown)
			if assert.Len(t, d.Params, 1) {
				assert.Equal(t, tt.want, d.Params[0].Value)
			}
			assert.Len(t, d.Typed, 1, "the dry run says how it is sent")
		})
	}
}

func TestCheckRefusesWhatCircleCIWouldReject(t *testing.T) {
	tests := []struct {
		name       string
		assignment string
		want       string
	}{
		{"an undeclared near miss", "image_name=x", `image_name: gh/acme/deploy declares no such parameter; did you mean image-name?`},
		{"a case slip", "Replicas=3", `Replicas: gh/acme/deploy declares no such parameter; did you mean replicas?`},
		{"one letter off", "versoin=3", `versoin: gh/acme/deploy declares no such parameter; did you mean version?`},
		{"nothing like any name", "colour-scheme=dark", `colour-scheme: gh/acme/deploy declares no such parameter; it declares deploy, env, flag, image-name, replicas, steps, var, version`},
		{"not an integer", "replicas=3x", `replicas: gh/acme/deploy declares an integer; "3x" is not one`},
		{"a leading zero is not an integer", "replicas=007", `replicas: gh/acme/deploy declares an integer; "007" is not one`},
		{"a boolean for an integer", "replicas=true", `replicas: gh/acme/deploy declares an integer; "true" is not one`},
		{"not a boolean", "deploy=yes", `deploy: gh/acme/deploy declares a boolean; "yes" is not one (write true or false)`},
		{"outside the enum", "env=staging", `env: gh/acme/deploy allows only dev, prod; "staging" is not one of them`},
		{"an enum value in the wrong case", "env=Prod", `env: gh/acme/deploy allows only dev, prod; "Prod" is not one of them`},
		{"a forced string for an integer", "replicas:string=3", `replicas: gh/acme/deploy declares an integer, but --param forces the string "3"`},
		{"a forced integer for a string", "version:int=3", `version: gh/acme/deploy declares a string, but --param forces the integer 3`},
		{"a JSON string for an integer", `{"replicas": "3"}`, `replicas: gh/acme/deploy declares an integer, but --parameters-json gives the string "3"`},
		{"a JSON boolean for a string", `{"flag": true}`, `flag: gh/acme/deploy declares a string, but --parameters-json gives the boolean true`},
		{"a JSON string outside the enum", `{"env": "qa"}`, `env: gh/acme/deploy declares an enum of dev, prod, but --parameters-json gives the string "qa"`},
		{"a hostile name is quoted", "imag\x1be-name=1", `"imag\x1be-name": gh/acme/deploy declares no such parameter; did you mean image-name?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, origins := given(t, tt.assignment)
			d := preflight.Check(project, ps, origins, declared)
			assert.Equal(t, []string{tt.want}, d.Problems)
			assert.Empty(t, d.Params, "a refused parameter is not passed on")
		})
	}
}

func TestCheckListsEveryProblemAndKeepsTheRest(t *testing.T) {
	ps, origins := given(t, "image_name=x", "replicas=3", "env=qa", "version=2")
	d := preflight.Check(project, ps, origins, declared)
	assert.Len(t, d.Problems, 2)
	assert.Equal(t, []params.Param{{Key: "replicas", Value: int64(3)}, {Key: "version", Value: "2"}}, d.Params)
}

func TestCheckSaysWhatItCannotKnow(t *testing.T) {
	ps, origins := given(t, "shard=2", "steps=x")
	d := preflight.Check(project, ps, origins, declared)
	assert.Empty(t, d.Problems)
	assert.Equal(t, []string{
		"shard: gh/acme/deploy declares it only in its continuation config, which a trigger does not reach; cannot tell whether CircleCI takes it",
		`steps: gh/acme/deploy declares it of type steps, which pre-flight does not know; sent as given`,
	}, d.Unknown)
	assert.Equal(t, []params.Param{{Key: "shard", Value: int64(2)}, {Key: "steps", Value: "x"}}, d.Params, "sent as given")
}

func TestCheckTrustsABorrowedConfigOnlyForWhatItDeclares(t *testing.T) {
	borrowed := *declared
	borrowed.Borrowed = true
	ps, origins := given(t, "image-tag=v2", "replicas=3x")
	d := preflight.Check(project, ps, origins, &borrowed)
	assert.Equal(t, []string{`replicas: gh/acme/deploy declares an integer; "3x" is not one`}, d.Problems, "a declared parameter is still checked")
	assert.Equal(t, []string{`image-tag: gh/acme/deploy does not declare it on its default branch, and this ref's own config is not known; cannot tell whether CircleCI takes it`}, d.Unknown,
		"the branch's own config may declare it: a new branch often adds the parameter it is triggered with")
}

func TestCheckAgainstAProjectWithoutParameters(t *testing.T) {
	ps, origins := given(t, "x=1")
	d := preflight.Check(project, ps, origins, &preflight.Declarations{Params: map[string]preflight.Param{}})
	assert.Equal(t, []string{"x: gh/acme/deploy declares no such parameter; it declares no parameters at all"}, d.Problems)
}

func TestCheckNeverPrintsAConfigsControlCharacters(t *testing.T) {
	hostile := &preflight.Declarations{Params: map[string]preflight.Param{
		"\x1b[31mimage": {Name: "\x1b[31mimage", Type: "enum", Enum: preflight.EnumOf("a\x1b]0;t\x07", "b\u202e")},
		"other":         {Name: "other", Type: "\x1b[2J"},
	}}
	ps, origins := given(t, "[31mimage=x", "other=1", "nope-at-all-nothing-like=1")
	d := preflight.Check(project, ps, origins, hostile)
	lines := append(append(d.Problems, d.Unknown...), d.Typed...)
	lines = append(lines, hostile.Summary())
	require.Len(t, lines, 4)
	for _, l := range lines {
		assert.NotContains(t, l, "\x1b", "an escape sequence from the config reaches the terminal: %q", l)
		assert.NotContains(t, l, "\u202e")
		assert.NotContains(t, l, "\x07")
	}
	assert.Contains(t, d.Problems[0], `did you mean "\x1b[31mimage"?`, "quoted with Go escapes")
}

// An enum's entries are compared as YAML wrote them: a null entry never matches a string (not
// even the empty one), a mapping or a list never matches anything, and 1 or true match the
// text written.
func TestEnumsCompareTheirYAMLValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		enum   string // the YAML list
		param  string // what --param gives
		allows bool
	}{
		{"a null entry does not match an empty value", "[dev, null]", "x=", false},
		{"a ~ entry does not match an empty value", "[dev, ~]", "x=", false},
		{"an empty entry is null too", "[dev, ]", "x=", false},
		{"a quoted empty string matches an empty value", `[dev, ""]`, "x=", true},
		{"the word null quoted is a string", `["null"]`, "x=null", true},
		{"a null entry does not match the word null", "[null]", "x=null", false},
		{"a mapping matches nothing", "[{a: b}]", "x=map[a:b]", false},
		{"a mapping matches no empty value", "[{}]", "x=", false},
		{"a list matches nothing", "[[a]]", "x=[a]", false},
		{"a number matches the text written", "[1, 2]", "x=1", true},
		{"a boolean matches the text written", "[true]", "x=true", true},
		{"an alias to a string matches it", "[&d dev, *d]", "x=dev", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := preflight.Parse("parameters: {x: {type: enum, enum: " + tc.enum + "}}\n")
			require.NoError(t, err)
			decl := &preflight.Declarations{Params: cfg.Params}
			ps, origins := given(t, tc.param)
			d := preflight.Check(project, ps, origins, decl)
			if tc.allows {
				assert.Empty(t, d.Problems)
				return
			}
			require.Len(t, d.Problems, 1)
			assert.Contains(t, d.Problems[0], "x: gh/acme/deploy allows only ")
		})
	}
	t.Run("the refusal names what no value can be", func(t *testing.T) {
		cfg, err := preflight.Parse("parameters: {x: {type: enum, enum: [dev, null, {a: b}, [c]]}}\n")
		require.NoError(t, err)
		ps, origins := given(t, "x=")
		d := preflight.Check(project, ps, origins, &preflight.Declarations{Params: cfg.Params})
		assert.Equal(t, []string{`x: gh/acme/deploy allows only dev, (null), (a mapping), (a list); "" is not one of them`}, d.Problems)
	})
}
