package redact

import (
	"bytes"
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// token has every character class the escapes treat differently.
const token = `CCIPAT_a+b/c d&e<f>g"h'i%j\k_é`

func jsonBody(t *testing.T, s string, escapeHTML bool) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	require.NoError(t, enc.Encode(s))
	out := strings.TrimSpace(b.String())
	return out[1 : len(out)-1]
}

func TestString(t *testing.T) {
	r := New(token)
	cases := []struct{ name, in, want string }{
		{"the raw token", "a " + token + " b", "a [redacted] b"},
		{"twice, each once", token + token, "[redacted][redacted]"},
		{"JSON-escaped as Go writes it", `{"m":"` + jsonBody(t, token, true) + `"}`, `{"m":"[redacted]"}`},
		{"JSON-escaped without HTML escapes", `"` + jsonBody(t, token, false) + `"`, `"[redacted]"`},
		{"JSON-escaped with upper-case hex", `"` + strings.ReplaceAll(jsonBody(t, token, true), `\u003c`, `\u003C`) + `"`, `"[redacted]"`},
		{"JSON-escaped ASCII-only with \\/", `"` + jsonEscape(token, jsonASCII|jsonSlash) + `"`, `"[redacted]"`},
		{"query-escaped", "?t=" + url.QueryEscape(token), "?t=[redacted]"},
		{"query-escaped, lower-case hex", "?t=" + strings.ReplaceAll(url.QueryEscape(token), "%2F", "%2f"), "?t=[redacted]"},
		{"path-escaped", "/p/" + url.PathEscape(token) + "/x", "/p/[redacted]/x"},
		{"HTML-escaped", "<b>" + html.EscapeString(token) + "</b>", "<b>[redacted]</b>"},
		{"HTML-escaped with named entities", "<b>" + htmlNamed.Replace(token) + "</b>", "<b>[redacted]</b>"},
		{"text without it unchanged", "nothing to see [redacted] here", "nothing to see [redacted] here"},
		{"a prefix alone unchanged", token[:10], token[:10]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, r.String(c.in))
		})
	}
}

func TestHTMLFormsAreHTMLs(t *testing.T) {
	assert.Equal(t, html.EscapeString(token), htmlNumeric.Replace(token), "as Go's html package writes it")
}

func TestContains(t *testing.T) {
	r := New(token)
	assert.True(t, r.Contains("x"+url.QueryEscape(token)))
	assert.True(t, r.Contains(strings.ToLower(token)), "letter case is ignored")
	assert.False(t, r.Contains(token[:len(token)-1]))
	assert.False(t, New().Contains(token))
}

func TestStringNeverRecurses(t *testing.T) {
	// A secret that is part of the marker must not be replaced inside markers it just wrote.
	r := New("redact", "ted")
	assert.Equal(t, "[[redacted]ed] [redacted]", r.String("[redacted] ted"))
	assert.NotContains(t, r.String("redactted"), "[redac[")
}

func TestLeftmostLongest(t *testing.T) {
	r := New("abc", "abcdef", "cde")
	assert.Equal(t, "[redacted]", r.String("abcdef"), "the longer one at the same place wins")
	assert.Equal(t, "x[redacted]de", r.String("xabcde"), "the leftmost wins over a later overlapping one")
}

func TestAddLater(t *testing.T) {
	r := New()
	var out bytes.Buffer
	w := r.Writer(&out)
	_, _ = w.Write([]byte("before " + token + "\n"))
	r.Add("")
	r.Add(token)
	r.Add(token)
	_, _ = w.Write([]byte("after " + token + "\n"))
	assert.Equal(t, "before "+token+"\nafter [redacted]\n", out.String(), "a secret applies from the next write on")
	assert.Len(t, r.secrets, 1, "added once")
}

func TestWriter(t *testing.T) {
	t.Run("a token split across writes is still redacted", func(t *testing.T) {
		var out bytes.Buffer
		w := New(token).Writer(&out)
		for _, part := range []string{"log: CC", "IPAT_a+b", token[len("CCIPAT_a+b"):], " end\n"} {
			_, err := w.Write([]byte(part))
			require.NoError(t, err)
		}
		assert.Equal(t, "log: [redacted] end\n", out.String())
	})
	t.Run("whole lines pass at once", func(t *testing.T) {
		var out bytes.Buffer
		w := New(token).Writer(&out)
		_, _ = w.Write([]byte("line with " + token + "\n"))
		assert.Equal(t, "line with [redacted]\n", out.String())
	})
	t.Run("a held tail that was not the token comes out on Flush", func(t *testing.T) {
		var out bytes.Buffer
		w := New(token).Writer(&out)
		n, err := w.Write([]byte("prompt CCI"))
		require.NoError(t, err)
		assert.Equal(t, 10, n, "reports the whole write")
		assert.Equal(t, "prompt ", out.String())
		require.NoError(t, Flush(w))
		assert.Equal(t, "prompt CCI", out.String())
	})
	t.Run("a secret that is a prefix of a longer form waits for the longer", func(t *testing.T) {
		var out bytes.Buffer
		w := New("abcdef", "abc").Writer(&out)
		_, _ = w.Write([]byte("abc"))
		_, _ = w.Write([]byte("def\n"))
		assert.Equal(t, "[redacted]\n", out.String())
	})
	t.Run("Flush of a plain writer does nothing", func(t *testing.T) {
		assert.NoError(t, Flush(&bytes.Buffer{}))
	})
}

// forbidden reports whether out shows secret in any redacted form.
func forbidden(out, secret string) (string, bool) {
	for _, f := range Forms(secret) {
		if strings.Contains(out, f) {
			return f, true
		}
	}
	return "", false
}

// usable: the property holds for secrets that cannot be assembled from the marker and the text
// around it, i.e. those without brackets (baton's tokens are 16+ characters, letters, digits, _).
func usable(secret string) bool {
	return len(secret) >= 4 && !strings.ContainsAny(secret, "[]") && !strings.Contains(Marker, secret)
}

func FuzzString(f *testing.F) {
	f.Add(token, "x "+token+" "+url.QueryEscape(token)+html.EscapeString(token))
	f.Add("CCIPAT_abcdefgh12345678", "CCIPAT_abcdefgh12345678CCIPAT_abcdefgh12345678")
	f.Add("aaaa", "aaaaaaaaa")
	f.Add("abab", "abababab")
	f.Fuzz(func(t *testing.T, secret, in string) {
		if !usable(secret) {
			t.Skip()
		}
		r := New(secret)
		out := r.String(in)
		if f, bad := forbidden(out, secret); bad {
			t.Fatalf("String(%q) = %q still holds %q", in, out, f)
		}
		if !strings.Contains(out, Marker) && out != in {
			t.Fatalf("String changed text it redacted nothing in: %q → %q", in, out)
		}
	})
}

func FuzzWriterMatchesString(f *testing.F) {
	f.Add(token, "x "+token+" y", uint8(9))
	f.Add("abcdefgh", "abcdabcdefgh", uint8(5))
	f.Fuzz(func(t *testing.T, secret, in string, step uint8) {
		if !usable(secret) || step == 0 {
			t.Skip()
		}
		r := New(secret)
		var out bytes.Buffer
		w := r.Writer(&out)
		for rest := in; rest != ""; {
			n := min(int(step), len(rest))
			_, _ = w.Write([]byte(rest[:n]))
			rest = rest[n:]
		}
		require.NoError(t, Flush(w))
		if got, want := out.String(), r.String(in); got != want {
			t.Fatalf("written in steps of %d: %q; String: %q", step, got, want)
		}
	})
}
