package expand_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/expand"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var vars = env(map[string]string{
	"DOCKER_LOGIN":            "acme",
	"CIRCLE_PROJECT_REPONAME": "api",
	"A":                       "a",
	"AB":                      "ab",
	"_":                       "underscore",
	"x1":                      "lower",
	"EMPTY":                   "",
	"DOLLAR":                  "$A ${A} $$",
	"SPACES":                  " two  words \n",
})

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"the image tag from the orb's docs expands", "$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123", "acme/api:0.1.123"},
		{"braces delimit a name", "${A}B", "aB"},
		{"a bare name takes the longest match", "$AB", "ab"},
		{"a bare name stops at a character outside the name", "$A-b", "a-b"},
		{"a name may be an underscore", "$_", "underscore"},
		{"a name may hold lower case and digits", "$x1.", "lower."},
		{"two variables may touch", "$A${AB}$A", "aaba"},
		{"a set but empty variable expands to nothing", "<$EMPTY>", "<>"},
		{"a value is inserted literally and never expanded again", "$DOLLAR", "$A ${A} $$"},
		{"a value keeps its spaces and newlines", "[$SPACES]", "[ two  words \n]"},
		{"$$ is a literal dollar", "$$", "$"},
		{"$$ before a name is a literal dollar then the name", "$$A", "$A"},
		{"$$$ is a literal dollar then a lone dollar", "$$$", "$$"},
		{"$$ before braces keeps the braces", "$${A}", "${A}"},
		{"a dollar before a digit stays", "costs $5", "costs $5"},
		{"a trailing dollar stays", "a$", "a$"},
		{"a dollar before a dash stays", "$-x", "$-x"},
		{"a dollar before a dot stays", "$.", "$."},
		{"a dollar before a space stays", "$ A", "$ A"},
		{"a dollar before a non-ASCII letter stays", "$é", "$é"},
		{"text without a dollar is unchanged", "plain << pipeline.git.tag >> `x` \"q\" \\", "plain << pipeline.git.tag >> `x` \"q\" \\"},
		{"command substitution is not run", "$(rm -rf /)", "$(rm -rf /)"},
		{"the empty string stays empty", "", ""},
		{"a closing brace alone stays", "}$A}", "}a}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand.Expand(tt.in, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestExpandRefuses(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		unset   string
	}{
		{"an unset bare variable", "$DOCKER_LOGIN/$NOPE", "environment variable NOPE is not set", "NOPE"},
		{"an unset braced variable", "${NOPE}x", "environment variable NOPE is not set", "NOPE"},
		{"a longer name that is unset, though a prefix is set", "$ABC", "environment variable ABC is not set", "ABC"},
		{"an unclosed brace", "x${A", `"${A" has no closing "}"`, ""},
		{"a lone ${ at the end", "x${", `"${" has no closing "}"`, ""},
		{"empty braces", "${}", `"${}" names no variable`, ""},
		{"a name starting with a digit", "${1A}", `"${1A}" is not a variable reference: only ${NAME} is supported, NAME being letters, digits and _ not starting with a digit`, ""},
		{"a shell default operator", "${A-b}", `"${A-b}" is not a variable reference: only ${NAME} is supported, NAME being letters, digits and _ not starting with a digit`, ""},
		{"braces with a space", "${ A }", `"${ A }" is not a variable reference: only ${NAME} is supported, NAME being letters, digits and _ not starting with a digit`, ""},
		{"a newline inside braces is shown escaped", "${A\nB}", `"${A\nB}" is not a variable reference: only ${NAME} is supported, NAME being letters, digits and _ not starting with a digit`, ""},
		{"a long unclosed reference is cut short", "${" + strings.Repeat("A", 100), `"${` + strings.Repeat("A", 38) + `"... has no closing "}"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand.Expand(tt.in, vars)
			require.Error(t, err)
			assert.Empty(t, got)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			var unset *expand.UnsetError
			if tt.unset != "" {
				require.ErrorAs(t, err, &unset)
				assert.Equal(t, tt.unset, unset.Name)
			} else {
				var syn *expand.SyntaxError
				assert.ErrorAs(t, err, &syn)
			}
		})
	}
}

func TestExpandWithoutLookupReadsTheEnvironment(t *testing.T) {
	t.Setenv("BATON_EXPAND_TEST", "from env")
	got, err := expand.Expand("<$BATON_EXPAND_TEST>", nil)
	require.NoError(t, err)
	assert.Equal(t, "<from env>", got)
}

func TestExpandDoesNotCallLookupWithoutADollar(t *testing.T) {
	called := false
	got, err := expand.Expand("no variables here", func(string) (string, bool) { called = true; return "", false })
	require.NoError(t, err)
	assert.Equal(t, "no variables here", got)
	assert.False(t, called)
}

func TestUnsetErrorIsFoundInAChain(t *testing.T) {
	_, err := expand.Expand("$NOPE", vars)
	wrapped := errors.Join(errors.New("context"), err)
	var unset *expand.UnsetError
	require.ErrorAs(t, wrapped, &unset)
	assert.Equal(t, "NOPE", unset.Name)
}
