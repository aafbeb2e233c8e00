package params_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/params"
)

// hostile holds values that a shell, a JSON template or a YAML file tends to break. Each must
// reach the API exactly as given.
var hostile = map[string]string{
	"double and single quotes":    `say "hi" and 'bye'`,
	"an unbalanced quote":         `it's "open`,
	"backslashes":                 `C:\path\to\file \\server \n \" \u0041`,
	"a newline":                   "line1\nline2\n",
	"CRLF":                        "line1\r\nline2",
	"a tab":                       "a\tb",
	"other control characters":    "\v\f\x07\x1b[31mred\x1b[0m",
	"surrounding spaces":          "  padded  ",
	"only a space":                " ",
	"nothing":                     "",
	"CircleCI template syntax":    "<< pipeline.parameters.x >> <<include(x.sh)>>",
	"command substitution":        "$(rm -rf /)",
	"backticks":                   "`rm -rf /`",
	"shell variables":             "$HOME ${HOME} $$ $1 $",
	"shell operators":             "a; b && c || d | e > f < g & h",
	"emoji and a family sequence": "🚀 👩‍👩‍👧 ✓",
	"right-to-left marks":         "\u200fשלום\u200e \u202eoverride\u202c",
	"a byte order mark inside":    "\ufeffbom",
	"a NUL byte":                  "a\x00b",
	"a JSON object as text":       `{"a":[1,2,{"b":null}],"c":"d"}`,
	"a JSON string as text":       `"quoted"`,
	"a JSON array as text":        `[]`,
	"HTML":                        `<script>alert("x")</script> &amp;`,
	"format verbs":                "%s %d %v %%",
	"YAML":                        "key: value\n- item\n---\n",
	"equals and colons":           "a=b:c=d",
	"a comment marker":            "# not a comment",
	"512 characters":              strings.Repeat("a", 511) + "é",
	"512 emoji":                   strings.Repeat("🚀", 512),
	"true as text":                "true",
	"a number as text":            "300",
	"a leading-zero number":       "007",
	"a line separator":            "a\u2028b\u2029c",
	"the replacement character":   "\ufffd",
	"the largest code point":      "\U0010ffff",
	"a combining mark":            "e\u0301",
	"a zero-width joiner only":    "\u200d",
	"a value like an option":      "--no-expand",
	"a value like an assignment":  "--param x=1",
}

// hostileKeys are keys that must round-trip too; none holds "=", which ends a --param key.
var hostileKeys = []string{
	"plain", "with space", "with:colon", `"quoted"`, `back\slash`, "🚀", "\u200frtl", "<< x >>",
	"$HOME", "$(x)", "`x`", strings.Repeat("k", 128), strings.Repeat("é", 128), "tab\tkey",
}

// jsonObject writes {key: value} with encoding/json, escaping HTML or not.
func jsonObject(t *testing.T, key, value string, escapeHTML bool) []byte {
	t.Helper()
	var k, v bytes.Buffer
	for _, p := range []struct {
		buf *bytes.Buffer
		s   string
	}{{&k, key}, {&v, value}} {
		enc := json.NewEncoder(p.buf)
		enc.SetEscapeHTML(escapeHTML)
		require.NoError(t, enc.Encode(p.s))
	}
	return []byte("{" + strings.TrimSpace(k.String()) + ":" + strings.TrimSpace(v.String()) + "}")
}

func TestHostileValuesRoundTrip(t *testing.T) {
	for name, value := range hostile {
		t.Run(name+" survives --param as a string", func(t *testing.T) {
			s := params.NewSet(literal())
			require.NoError(t, s.AddAssignment("k:string="+value))
			assert.Equal(t, []params.Param{{"k", value}}, s.Params())
		})
		t.Run(name+" survives --param with $ written as $$", func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddAssignment("k:string="+strings.ReplaceAll(value, "$", "$$")))
			assert.Equal(t, []params.Param{{"k", value}}, s.Params())
		})
		for escapeHTML, how := range map[bool]string{true: "with HTML escaped", false: "with HTML as is"} {
			t.Run(name+" survives JSON "+how, func(t *testing.T) {
				s := params.NewSet(literal())
				require.NoError(t, s.AddJSON("--parameters-json", jsonObject(t, "k", value, escapeHTML)))
				assert.Equal(t, []params.Param{{"k", value}}, s.Params())
			})
		}
		t.Run(name+" survives JSON with $ written as $$", func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddJSON("--parameters-json", jsonObject(t, "k", strings.ReplaceAll(value, "$", "$$"), true)))
			assert.Equal(t, []params.Param{{"k", value}}, s.Params())
		})
		if !strings.ContainsAny(value, "\n") && !strings.HasSuffix(value, "\r") {
			t.Run(name+" survives a BATON_PARAMETERS line", func(t *testing.T) {
				s := params.NewSet(literal())
				require.NoError(t, s.AddLines("# hostile\r\nk:string="+value+"\r\n"))
				assert.Equal(t, []params.Param{{"k", value}}, s.Params())
			})
		}
	}
}

func TestHostileKeysRoundTrip(t *testing.T) {
	for _, key := range hostileKeys {
		t.Run(strings.ToValidUTF8(key[:min(len(key), 20)], "")+" survives --param", func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddAssignment(key+":string=v"))
			assert.Equal(t, []params.Param{{key, "v"}}, s.Params())
		})
		t.Run(strings.ToValidUTF8(key[:min(len(key), 20)], "")+" survives JSON", func(t *testing.T) {
			s := params.NewSet(expanding())
			require.NoError(t, s.AddJSON("--parameters-json", jsonObject(t, key, "v", true)))
			assert.Equal(t, []params.Param{{key, "v"}}, s.Params())
		})
	}
}

func TestJSONKeysMayHoldAnything(t *testing.T) {
	for name, key := range hostile {
		if key == "" || len([]rune(key)) > params.MaxKeyLen {
			continue
		}
		t.Run(name+" is a key", func(t *testing.T) {
			s := params.NewSet(literal())
			require.NoError(t, s.AddJSON("--parameters-json", jsonObject(t, key, "v", false)))
			assert.Equal(t, []params.Param{{key, "v"}}, s.Params())
		})
	}
}

func TestJSONNULEscapeIsKept(t *testing.T) {
	s := params.NewSet(literal())
	require.NoError(t, s.AddJSON("--parameters-json", []byte(`{"k\u0000":"\u0000","x":"a\u0000b"}`)))
	assert.Equal(t, []params.Param{{"k\x00", "\x00"}, {"x", "a\x00b"}}, s.Params())
}
