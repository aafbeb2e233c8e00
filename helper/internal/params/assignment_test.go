package params_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var testEnv = env(map[string]string{
	"DOCKER_LOGIN":            "acme",
	"CIRCLE_PROJECT_REPONAME": "api",
	"N":                       "3",
	"T":                       "true",
	"EMPTY":                   "",
	"DOLLAR":                  "$N",
	"BIG":                     "99999999999999999999",
	"WORD":                    "abc",
	"LONG":                    strings.Repeat("x", 510),
	"BAD_UTF8":                "\xff",
})

func expanding() params.Options { return params.Options{Expand: true, Lookup: testEnv} }
func literal() params.Options   { return params.Options{Lookup: testEnv} }

func TestAddAssignment(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want params.Param
	}{
		{"a word is a string", "env=prod", params.Param{"env", "prod"}},
		{"true is a boolean", "deploy=true", params.Param{"deploy", true}},
		{"false is a boolean", "deploy=false", params.Param{"deploy", false}},
		{"zero is an integer", "n=0", params.Param{"n", int64(0)}},
		{"a positive integer is an integer", "replicas=300", params.Param{"replicas", int64(300)}},
		{"a negative integer is an integer", "offset=-12", params.Param{"offset", int64(-12)}},
		{"the largest int64 is an integer", "n=9223372036854775807", params.Param{"n", int64(9223372036854775807)}},
		{"the smallest int64 is an integer", "n=-9223372036854775808", params.Param{"n", int64(-9223372036854775808)}},
		{"a leading zero keeps a string", "zip=007", params.Param{"zip", "007"}},
		{"minus zero is a string", "n=-0", params.Param{"n", "-0"}},
		{"a plus sign keeps a string", "n=+4", params.Param{"n", "+4"}},
		{"an exponent keeps a string", "n=1e3", params.Param{"n", "1e3"}},
		{"an underscore keeps a string", "n=1_000", params.Param{"n", "1_000"}},
		{"a leading space keeps a string", "n= 3", params.Param{"n", " 3"}},
		{"a trailing space keeps a string", "n=3 ", params.Param{"n", "3 "}},
		{"a decimal is a string", "version=1.5", params.Param{"version", "1.5"}},
		{"a hex number is a string", "n=0x10", params.Param{"n", "0x10"}},
		{"capitalised True is a string", "flag=True", params.Param{"flag", "True"}},
		{"yes is a string", "flag=yes", params.Param{"flag", "yes"}},
		{"an empty value is an empty string", "note=", params.Param{"note", ""}},
		{"the value runs past later equals signs", "query=a=b=c", params.Param{"query", "a=b=c"}},
		{"the value keeps its colons", "image=acme/api:0.1.123", params.Param{"image", "acme/api:0.1.123"}},
		{":string forces a string", "tag:string=123", params.Param{"tag", "123"}},
		{":string keeps true as text", "flag:string=true", params.Param{"flag", "true"}},
		{":string allows an empty value", "note:string=", params.Param{"note", ""}},
		{":int forces an integer", "replicas:int=3", params.Param{"replicas", int64(3)}},
		{":integer is :int", "replicas:integer=-3", params.Param{"replicas", int64(-3)}},
		{":bool forces a boolean", "deploy:bool=true", params.Param{"deploy", true}},
		{":boolean is :bool", "deploy:boolean=false", params.Param{"deploy", false}},
		{"a type is case-insensitive", "replicas:INT=3", params.Param{"replicas", int64(3)}},
		{"a key may hold a colon when the type is named", "a:b:string=c", params.Param{"a:b", "c"}},
		{"a key may hold spaces and dots", "my key.x=1", params.Param{"my key.x", int64(1)}},
		{"a key may hold non-ASCII text", "clé=✓", params.Param{"clé", "✓"}},
		{"a dollar stays literal without expansion", "price=$N", params.Param{"price", "$N"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(literal())
			require.NoError(t, s.AddAssignment(tt.arg))
			assert.Equal(t, []params.Param{tt.want}, s.Params())
		})
	}
}

func TestAddAssignmentRefuses(t *testing.T) {
	tests := []struct {
		name    string
		arg     string
		wantErr string
	}{
		{"an assignment without an equals sign", "env", `--param env: it has no "="; want KEY=VALUE or KEY:TYPE=VALUE`},
		{"an empty assignment", "", `--param "": it has no "="; want KEY=VALUE or KEY:TYPE=VALUE`},
		{"an empty key", "=prod", `--param =prod: the key is empty; want KEY=VALUE`},
		{"an empty key with a type", ":int=3", `--param :int=3: the key is empty; want KEY:int=VALUE`},
		{"an unknown type", "replicas:number=3", `--param replicas:number=3: unknown type "number"; want KEY:string, KEY:int or KEY:bool (a key that contains ':' needs a type after it, as in replicas:number:string=VALUE, or can be given through --parameters-json)`},
		{"an empty type", "replicas:=3", `--param replicas:=3: unknown type ""; want KEY:string, KEY:int or KEY:bool (a key that contains ':' needs a type after it, as in replicas::string=VALUE, or can be given through --parameters-json)`},
		{"a key with a colon and no type", "a:b=c", `--param a:b=c: unknown type "b"; want KEY:string, KEY:int or KEY:bool (a key that contains ':' needs a type after it, as in a:b:string=VALUE, or can be given through --parameters-json)`},
		{":int with letters", "replicas:int=3x", `--param replicas:int=3x: "3x" is not an integer; write replicas:string=3x to send it as a string`},
		{":int with a leading zero", "n:int=007", `--param n:int=007: "007" is not an integer; write n:string=007 to send it as a string`},
		{":int with minus zero", "n:int=-0", `--param n:int=-0: "-0" is not an integer; write n:string=-0 to send it as a string`},
		{":int with a plus sign", "n:int=+4", `--param n:int=+4: "+4" is not an integer; write n:string=+4 to send it as a string`},
		{":int with an exponent", "n:int=1e3", `--param n:int=1e3: "1e3" is not an integer; write n:string=1e3 to send it as a string`},
		{":int with a space", "n:int= 3", `--param n:int= 3: " 3" is not an integer; write n:string= 3 to send it as a string`},
		{":int with nothing", "n:int=", `--param n:int=: "" is not an integer; write n:string= to send it as a string`},
		{":int too large for int64", "n:int=9223372036854775808", `--param n:int=9223372036854775808: 9223372036854775808 does not fit in a 64-bit integer; write n:string=9223372036854775808 to send it as a string`},
		{"an inferred integer too large for int64", "big=99999999999999999999", `--param big=99999999999999999999: 99999999999999999999 does not fit in a 64-bit integer; write big:string=99999999999999999999 to send it as a string`},
		{"an inferred integer too small for int64", "n=-9223372036854775809", `--param n=-9223372036854775809: -9223372036854775809 does not fit in a 64-bit integer; write n:string=-9223372036854775809 to send it as a string`},
		{":bool with yes", "deploy:bool=yes", `--param deploy:bool=yes: "yes" is not a boolean (want true or false); write deploy:string=yes to send it as a string`},
		{":bool with True", "deploy:bool=True", `--param deploy:bool=True: "True" is not a boolean (want true or false); write deploy:string=True to send it as a string`},
		{":bool with 1", "deploy:bool=1", `--param deploy:bool=1: "1" is not a boolean (want true or false); write deploy:string=1 to send it as a string`},
		{"a value with a newline is quoted in the error", "n:int=1\n2", `--param "n:int=1\n2": "1\n2" is not an integer; add ":string" to the key to send it as a string`},
		{"a key that is not UTF-8", "\xff=1", `--param "\xff=1": the key "\xff" is not valid UTF-8`},
		{"a value that is not UTF-8", "k=\xff", `--param "k=\xff": parameter "k": the value is not valid UTF-8`},
		{"a key of 129 characters", strings.Repeat("k", 129) + "=1", `--param "` + strings.Repeat("k", 60) + `"...: parameter "` + strings.Repeat("k", 60) + `"...: the key is 129 characters long; the API takes keys of at most 128`},
		{"a value of 513 characters", "k=" + strings.Repeat("v", 513), `--param "k=` + strings.Repeat("v", 58) + `"...: parameter "k": the value is 513 characters long; the API takes values of at most 512`},
		{"a value of 513 emoji", "k=" + strings.Repeat("🚀", 513), `--param "k=` + strings.Repeat("🚀", 58) + `"...: parameter "k": the value is 513 characters long; the API takes values of at most 512`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(literal())
			err := s.AddAssignment(tt.arg)
			require.Error(t, err)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Empty(t, s.Params())
		})
	}
}

func TestAddAssignmentExpands(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want params.Param
	}{
		{"the image tag from the orb's docs expands", "image=$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123", params.Param{"image", "acme/api:0.1.123"}},
		{"an expanded number is typed after expansion", "count=$N", params.Param{"count", int64(3)}},
		{"an expanded boolean is typed after expansion", "deploy=${T}", params.Param{"deploy", true}},
		{"an expanded value can be forced to a string", "count:string=$N", params.Param{"count", "3"}},
		{"an empty variable gives an empty string", "note=$EMPTY", params.Param{"note", ""}},
		{"$$ gives a literal dollar", "price=$$5", params.Param{"price", "$5"}},
		{"a dollar before a digit stays", "price=costs $5", params.Param{"price", "costs $5"}},
		{"command substitution stays literal", "cmd=$(rm -rf /)", params.Param{"cmd", "$(rm -rf /)"}},
		{"a value from the environment is not expanded again", "x=$DOLLAR", params.Param{"x", "$N"}},
		{"the key is never expanded", "$N=1", params.Param{"$N", int64(1)}},
		{"a value of 512 characters after expansion is fine", "long=ab$LONG", params.Param{"long", "ab" + strings.Repeat("x", 510)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddAssignment(tt.arg))
			assert.Equal(t, []params.Param{tt.want}, s.Params())
		})
	}
}

func TestAddAssignmentRefusesExpansion(t *testing.T) {
	tests := []struct {
		name    string
		arg     string
		wantErr string
	}{
		{"an unset variable", "image=$DOCKER_LOGIN/$NOPE", `--param image=$DOCKER_LOGIN/$NOPE: environment variable NOPE is not set (used by parameter "image"); set it, write $$ for a literal $, or pass --no-expand`},
		{"an unclosed brace", "x=${N", `--param x=${N: parameter "x": "${N" has no closing "}"; write $$ for a literal $, or pass --no-expand`},
		{"empty braces", "x=${}", `--param x=${}: parameter "x": "${}" names no variable; write $$ for a literal $, or pass --no-expand`},
		{"a shell default", "x=${N-1}", `--param x=${N-1}: parameter "x": "${N-1}" is not a variable reference: only ${NAME} is supported, NAME being letters, digits and _ not starting with a digit; write $$ for a literal $, or pass --no-expand`},
		{"an expanded word forced to an integer", "count:int=$WORD", `--param count:int=$WORD: "abc" is not an integer; write count:string=$WORD to send it as a string`},
		{"an expanded number too large for int64", "n=$BIG", `--param n=$BIG: 99999999999999999999 does not fit in a 64-bit integer; write n:string=$BIG to send it as a string`},
		{"an expanded value that is not UTF-8", "x=$BAD_UTF8", `--param x=$BAD_UTF8: parameter "x": the value is not valid UTF-8 after $VAR expansion`},
		{"an expanded value over the limit", "long=abc$LONG", `--param long=abc$LONG: parameter "long": the value is 513 characters long after $VAR expansion; the API takes values of at most 512`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(expanding())
			err := s.AddAssignment(tt.arg)
			require.Error(t, err)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Empty(t, s.Params())
		})
	}
}

func TestAddLines(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []params.Param
	}{
		{"nothing gives nothing", "", nil},
		{"one line without a newline", "env=prod", []params.Param{{"env", "prod"}}},
		{"lines keep their order and types", "env=prod\nreplicas=3\ndeploy=true\ntag:string=007\n", []params.Param{{"env", "prod"}, {"replicas", int64(3)}, {"deploy", true}, {"tag", "007"}}},
		{"blank and space-only lines are skipped", "\n  \n\t\na=1\n\n", []params.Param{{"a", int64(1)}}},
		{"comment lines are skipped", "# the environment\n  # indented comment\na=1", []params.Param{{"a", int64(1)}}},
		{"a hash inside a value is kept", "a=#1 # not a comment", []params.Param{{"a", "#1 # not a comment"}}},
		{"CRLF line ends are tolerated", "a=1\r\nb=x\r\n\r\n", []params.Param{{"a", int64(1)}, {"b", "x"}}},
		{"a carriage return inside a line is kept", "a=x\ry\n", []params.Param{{"a", "x\ry"}}},
		{"trailing spaces in a value are kept", "a=x  \n", []params.Param{{"a", "x  "}}},
		{"values are expanded", "image=$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123\ncount=$N", []params.Param{{"image", "acme/api:0.1.123"}, {"count", int64(3)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddLines(tt.text))
			assert.Equal(t, tt.want, nilIfEmpty(s.Params()))
		})
	}
}

func TestAddLinesRefuses(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr string
	}{
		{"a line without an equals sign", "a=1\n# c\nb\n", `BATON_PARAMETERS line 3 (b): it has no "="; want KEY=VALUE or KEY:TYPE=VALUE`},
		{"a bad type", "a=1\r\nb:int=x\r\n", `BATON_PARAMETERS line 2 (b:int=x): "x" is not an integer; write b:string=x to send it as a string`},
		{"an unset variable", "image=$NOPE", `BATON_PARAMETERS line 1 (image=$NOPE): environment variable NOPE is not set (used by parameter "image"); set it, write $$ for a literal $, or pass --no-expand`},
		{"an empty key", "=x", `BATON_PARAMETERS line 1 (=x): the key is empty; want KEY=VALUE`},
		{"a key given twice", "env=a\nx=1\nenv=b", `parameter "env" is given twice (BATON_PARAMETERS line 1 and BATON_PARAMETERS line 3); give it once`},
		{"a line with a tab is quoted", "a:int=\t1", `BATON_PARAMETERS line 1 ("a:int=\t1"): "\t1" is not an integer; add ":string" to the key to send it as a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(expanding())
			err := s.AddLines(tt.text)
			require.Error(t, err)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Empty(t, s.Params(), "a failed source adds nothing")
		})
	}
}

func nilIfEmpty(ps []params.Param) []params.Param {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
