package orbrun

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConditionsAreDecidedAsCircleCIDecidesThem(t *testing.T) {
	for _, tc := range []struct {
		cond any
		want bool
	}{
		{nil, false}, {false, false}, {0, false}, {"", false},
		{true, true}, {1, true}, {"some/path", true},
		{map[string]any{"not": ""}, true},
		{map[string]any{"and": []any{true, "x", 1}}, true},
		{map[string]any{"and": []any{true, ""}}, false},
		{map[string]any{"or": []any{false, 0, "x"}}, true},
		{map[string]any{"equal": []any{"main", "main"}}, true},
		{map[string]any{"equal": []any{3, "3"}}, false},
		{map[string]any{"matches": map[string]any{"pattern": "^v[0-9]+$", "value": "v12"}}, true},
		{map[string]any{"matches": map[string]any{"pattern": "v[0-9]", "value": "xv1"}}, false},
	} {
		got, err := evalCondition(tc.cond)
		require.NoError(t, err, "%v", tc.cond)
		assert.Equal(t, tc.want, got, "%v", tc.cond)
	}
	_, err := evalCondition(map[string]any{"xor": []any{}})
	assert.ErrorContains(t, err, `unknown logic operator "xor"`)
}

func TestSubstitutionKeepsTypesOfWholeValues(t *testing.T) {
	sc := scope{params: map[string]any{"b": true, "n": 3, "s": "x", "e": map[string]any{"name": "ex"}}, pipeline: map[string]any{"number": "42"}}
	for in, want := range map[string]any{
		"<< parameters.b >>":                        true,
		"<<parameters.n>>":                          3,
		"<< parameters.e >>":                        map[string]any{"name": "ex"},
		"v<< parameters.n >>-<< pipeline.number >>": "v3-42",
		"b=<< parameters.b >>":                      "b=true",
		`\<< parameters.s >> is literal`:            "<< parameters.s >> is literal",
		"a << b":                                    "a << b",
	} {
		got, err := substitute(in, sc)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := substitute("x << parameters.e >>", sc)
	assert.ErrorContains(t, err, "a mapping cannot be written inside a string")
}
