package safetext

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTerminal(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain text unchanged", "build-and-test ✓ 日本", "build-and-test ✓ 日本"},
		{"an OSC that retitles the terminal", "\x1b]0;pwned\x07deploy", `\x1b]0;pwned\x07deploy`},
		{"a CSI that clears the screen", "\x1b[2Jok", `\x1b[2Jok`},
		{"colour codes", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"newlines, carriage returns and tabs", "a\nb\rc\td", `a\nb\rc\td`},
		{"a carriage return cannot hide what came before it", "ok\r\x1b[Kfake ok", `ok\r\x1b[Kfake ok`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"a C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"a right-to-left override", "fail\u202eliated", `fail\u202eliated`},
		{"bidi isolates and marks", "\u2066x\u2069\u200e\u200f\u061c", `\u2066x\u2069\u200e\u200f\u061c`},
		{"line separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"bytes that are not UTF-8", "a\xffb\x9b", `a\xffb\x9b`},
		{"a backslash is left alone", `C:\dir`, `C:\dir`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Terminal(c.in))
		})
	}
}

func TestMarkdown(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain words unchanged", "deploy to prod", "deploy to prod"},
		{"HTML becomes text", `<img src=x onerror="a()">&amp;`, `&lt;img src=x onerror="a\(\)"&gt;&amp;amp;`},
		{"links and images", "[click](https://evil)", `\[click\]\(https://evil\)`},
		{"emphasis, code and table pipes", "*a* _b_ `c` | d ~e~", `\*a\* \_b\_ \` + "`" + `c\` + "`" + ` \| d \~e\~`},
		{"a heading or list at the start", "# h", `\# h`},
		{"a leading dash", "- item", `\- item`},
		{"a dash inside stays readable", "build-and-test.v2", "build-and-test.v2"},
		{"an ordered list marker", "1. first", `1\. first`},
		{"terminal escapes first, their backslash escaped", "a\x1b[2Jb", `a\\x1b\[2Jb`},
		{"a newline cannot end the cell", "a\n| b |", `a\\n\| b \|`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Markdown(c.in))
		})
	}
}

// unsafeIn reports the first rune in s a terminal would obey rather than show.
func unsafeIn(s string) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unsafeRune(r) {
			return r, true
		}
	}
	return 0, false
}

var seeds = []string{
	"\x1b]0;pwned\x07", "\x1b[2J", "\u009b31m", "\u202eevil", "a\xff\xfe", "\xc2\x9b", "\xe2\x80\xae",
	"<b>x</b>", "[a](b)", "1. x", "|a|b|", "FAILED\rok", "ok\r\x1b[Kfake ok",
}

func FuzzTerminal(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Terminal(in)
		if r, bad := unsafeIn(out); bad {
			t.Fatalf("Terminal(%q) = %q still holds %U", in, out, r)
		}
		if _, bad := unsafeIn(in); !bad && out != in {
			t.Fatalf("Terminal changed safe text: %q → %q", in, out)
		}
	})
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Markdown(in)
		if r, bad := unsafeIn(out); bad {
			t.Fatalf("Markdown(%q) = %q still holds %U", in, out, r)
		}
		if strings.ContainsAny(out, "<>") {
			t.Fatalf("Markdown(%q) = %q holds raw HTML", in, out)
		}
		// Every other markup character is escaped: read as Markdown does, none is left bare.
		for i := 0; i < len(out); i++ {
			if out[i] == '\\' {
				i++
				continue
			}
			if strings.IndexByte("`*_{}[]()#+!|~", out[i]) >= 0 {
				t.Fatalf("Markdown(%q) = %q leaves %q unescaped", in, out, out[i])
			}
		}
	})
}

func TestJSON(t *testing.T) {
	in := map[string]string{"name": "a\u009b31m\u202eb\x7f\u2028", "plain": "ok ✓"}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	out := JSON(b)
	assert.Equal(t, `{"name":"a\u009b31m\u202eb\u007f\u2028","plain":"ok ✓"}`, string(out))
	var back map[string]string
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, in, back, "the same values")
	clean := []byte(`{"a":"b"}`)
	assert.Equal(t, clean, JSON(clean))
}

func FuzzJSON(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		b, err := json.Marshal(map[string]string{in: in})
		if err != nil {
			t.Skip()
		}
		out := JSON(b)
		if r, bad := unsafeIn(string(out)); bad && r != '\n' {
			t.Fatalf("JSON(%q) = %q still holds %U", b, out, r)
		}
		var back, want map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("JSON(%q) = %q is not JSON: %v", b, out, err)
		}
		_ = json.Unmarshal(b, &want)
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("JSON(%q) = %q decodes to %q, not %q", b, out, back, want)
		}
	})
}
