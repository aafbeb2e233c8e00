package params_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
)

func TestAddJSON(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []params.Param
	}{
		{"an empty object adds nothing", `{}`, nil},
		{"an empty object with spaces adds nothing", " \n{ }\n", nil},
		{"values keep their JSON types and order", `{"env":"prod","replicas":3,"deploy":true,"dry":false}`, []params.Param{{"env", "prod"}, {"replicas", int64(3)}, {"deploy", true}, {"dry", false}}},
		{"a string that looks like a number stays a string", `{"tag":"007","n":"3","b":"true"}`, []params.Param{{"tag", "007"}, {"n", "3"}, {"b", "true"}}},
		{"a negative integer is an integer", `{"n":-12}`, []params.Param{{"n", int64(-12)}}},
		{"minus zero is the integer zero", `{"n":-0}`, []params.Param{{"n", int64(0)}}},
		{"the int64 bounds are integers", `{"max":9223372036854775807,"min":-9223372036854775808}`, []params.Param{{"max", int64(9223372036854775807)}, {"min", int64(-9223372036854775808)}}},
		{"an empty string is kept", `{"note":""}`, []params.Param{{"note", ""}}},
		{"escapes are decoded", `{"a\"b":"line1\nline2\t\\ \u00e9 \ud83d\ude80 \u0000 \/"}`, []params.Param{{`a"b`, "line1\nline2\t\\ é 🚀 \x00 /"}}},
		{"keys may hold colons and equals signs", `{"a:b=c":"d"}`, []params.Param{{"a:b=c", "d"}}},
		{"string values are expanded", `{"image":"$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123","count":"$N"}`, []params.Param{{"image", "acme/api:0.1.123"}, {"count", "3"}}},
		{"keys are not expanded", `{"$N":"x"}`, []params.Param{{"$N", "x"}}},
		{"a byte order mark is ignored", "\xef\xbb\xbf{\"a\":1}", []params.Param{{"a", int64(1)}}},
		{"a key of 128 characters is fine", `{"` + strings.Repeat("k", 128) + `":1}`, []params.Param{{strings.Repeat("k", 128), int64(1)}}},
		{"a value of 512 characters is fine", `{"k":"` + strings.Repeat("é", 512) + `"}`, []params.Param{{"k", strings.Repeat("é", 512)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddJSON("--parameters-json", []byte(tt.data)))
			assert.Equal(t, tt.want, nilIfEmpty(s.Params()))
		})
	}
}

func TestAddJSONRefuses(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{"nothing", "", `--parameters-json: want a JSON object of parameters, got nothing`},
		{"only spaces", " \n ", `--parameters-json: want a JSON object of parameters, got nothing`},
		{"an array", `[{"a":1}]`, `--parameters-json: want a JSON object of parameters, got an array`},
		{"a string", `"a=1"`, `--parameters-json: want a JSON object of parameters, got a string`},
		{"a number", `3`, `--parameters-json: want a JSON object of parameters, got a number`},
		{"a boolean", `true`, `--parameters-json: want a JSON object of parameters, got a boolean`},
		{"null", `null`, `--parameters-json: want a JSON object of parameters, got null`},
		{"a key=value line", `env=prod`, `--parameters-json: not valid JSON (near byte 1): invalid character 'e' looking for beginning of value`},
		{"a single-quoted object", `{'a':1}`, `--parameters-json: not valid JSON (near byte 1): invalid character '\''`},
		{"a trailing comma", `{"a":1,}`, `--parameters-json: not valid JSON (near byte 7): invalid character '}' looking for beginning of object key string`},
		{"an unclosed object", `{"a":1`, `--parameters-json: not valid JSON: it ends before the object does`},
		{"an unclosed string", `{"a":"b`, `--parameters-json: not valid JSON: it ends before the object does`},
		{"a raw newline in a string", "{\"a\":\"b\nc\"}", `--parameters-json: not valid JSON (near byte 6): invalid character '\n' in string literal`},
		{"a second object", `{"a":1}{"b":2}`, `--parameters-json: unexpected data after the JSON object (at byte 7); give exactly one object`},
		{"trailing text", "{\"a\":1}\n  x", `--parameters-json: unexpected data after the JSON object (at byte 10); give exactly one object`},
		{"a key given twice", `{"env":"a","x":1,"env":"b"}`, `--parameters-json: parameter "env" is given twice in the object; give it once`},
		{"a key given twice with different escapes", `{"é":1,"\u00e9":2}`, `--parameters-json: parameter "é" is given twice in the object; give it once`},
		{"a fraction", `{"replicas":1.5}`, `--parameters-json: parameter "replicas" is 1.5, but the API takes integers only; write "1.5" to send it as a string`},
		{"a whole number with a fraction part", `{"replicas":3.0}`, `--parameters-json: parameter "replicas" is 3.0, but the API takes integers only; write "3.0" to send it as a string`},
		{"an exponent", `{"n":1e3}`, `--parameters-json: parameter "n" is 1e3, but the API takes integers only; write "1e3" to send it as a string`},
		{"an integer too large for int64", `{"n":9223372036854775808}`, `--parameters-json: parameter "n": 9223372036854775808 does not fit in a 64-bit integer; write "9223372036854775808" to send it as a string`},
		{"null as a value", `{"a":1,"n":null}`, `--parameters-json: parameter "n" is null; want a string, an integer or a boolean (leave the key out to use the parameter's default)`},
		{"an array as a value", `{"list":[1,2]}`, `--parameters-json: parameter "list" is an array; want a string, an integer or a boolean (to send JSON text, write it as a string)`},
		{"an object as a value", `{"obj":{"a":1}}`, `--parameters-json: parameter "obj" is an object; want a string, an integer or a boolean (to send JSON text, write it as a string)`},
		{"an empty key", `{"":1}`, `--parameters-json: a key is empty; every parameter needs a name`},
		{"a key of 129 characters", `{"` + strings.Repeat("k", 129) + `":1}`, `--parameters-json: parameter "` + strings.Repeat("k", 60) + `"...: the key is 129 characters long; the API takes keys of at most 128`},
		{"a value of 513 characters", `{"k":"` + strings.Repeat("é", 513) + `"}`, `--parameters-json: parameter "k": the value is 513 characters long; the API takes values of at most 512`},
		{"bytes that are not UTF-8", "{\"k\":\"\xff\"}", `--parameters-json: not valid UTF-8 (at byte 6); save the file as UTF-8`},
		{"a lone high surrogate in a value", `{"k":"a\ud83d"}`, `--parameters-json: parameter "k": the value holds \ud83d, half of a UTF-16 surrogate pair, which is not a character`},
		{"a lone low surrogate in a value", `{"k":"\ude80x"}`, `--parameters-json: parameter "k": the value holds \ude80, half of a UTF-16 surrogate pair, which is not a character`},
		{"a reversed surrogate pair in a value", `{"k":"\ude80\ud83d"}`, `--parameters-json: parameter "k": the value holds \ude80, half of a UTF-16 surrogate pair, which is not a character`},
		{"a lone surrogate in a key", `{"\ud800":1}`, `--parameters-json: a key holds \ud800, half of a UTF-16 surrogate pair, which is not a character`},
		{"an unset variable", `{"image":"$NOPE"}`, `--parameters-json: environment variable NOPE is not set (used by parameter "image"); set it, write $$ for a literal $, or pass --no-expand`},
		{"a bad reference", `{"image":"${NOPE"}`, `--parameters-json: parameter "image": "${NOPE" has no closing "}"; write $$ for a literal $, or pass --no-expand`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(expanding())
			err := s.AddJSON("--parameters-json", []byte(tt.data))
			require.Error(t, err)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Empty(t, s.Params(), "a failed source adds nothing")
		})
	}
}

func TestAddJSONNamesItsSource(t *testing.T) {
	s := params.NewSet(literal())
	err := s.AddJSON("--parameters-file params.json", []byte(`{"a":1.5}`))
	require.Error(t, err)
	assert.Equal(t, `--parameters-file params.json: parameter "a" is 1.5, but the API takes integers only; write "1.5" to send it as a string`, err.Error())
}

func TestAddJSONDoesNotExpandWhenTold(t *testing.T) {
	s := params.NewSet(literal())
	require.NoError(t, s.AddJSON("--parameters-json", []byte(`{"a":"$NOPE ${","b":"$$"}`)))
	assert.Equal(t, []params.Param{{"a", "$NOPE ${"}, {"b", "$$"}}, s.Params())
}
