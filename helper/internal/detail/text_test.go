package detail

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

func TestSelectPutsFailuresFirst(t *testing.T) {
	tests := []circleci.TestResult{{Name: "a", Result: "success"}, {Name: "b", Result: "failure"}, {Name: "c", Result: "skipped"}, {Name: "d", Result: "error"}}
	got, failed := Select(tests, false)
	assert.Equal(t, 2, failed)
	assert.Equal(t, []string{"b", "d"}, names(got))
	got, failed = Select(tests, true)
	assert.Equal(t, 2, failed)
	assert.Equal(t, []string{"b", "d", "a", "c"}, names(got))
	got, _ = Select(nil, false)
	assert.NotNil(t, got)
}

func names(ts []circleci.TestResult) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestTail(t *testing.T) {
	var msgs []string
	for i := 1; i <= 30; i++ {
		msgs = append(msgs, fmt.Sprintf("\x1b[32mline %d\x1b[0m\r\n", i))
	}
	msgs = append(msgs, "ok\r\x1b[Kfake ok\r\n", "\n\n")
	got := Tail(msgs, 20)
	assert.Len(t, got, 20)
	assert.Equal(t, "line 12", got[0])
	assert.Equal(t, "ok\rfake ok", got[19], "a carriage return hides nothing: the printers show it; blank lines at the end are dropped")
	assert.Nil(t, Tail(msgs, 0))
	assert.Empty(t, Tail(nil, 5))

	long := Tail([]string{strings.Repeat("y", 5000)}, 1)
	assert.LessOrEqual(t, utf8.RuneCountInString(long[0]), maxLineRunes)

	huge := Tail([]string{strings.Repeat("z\n", 2<<20), "last\n"}, 3)
	assert.Equal(t, []string{"z", "z", "last"}, huge, "only the end of a huge output is looked at")
}

func TestStripANSI(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                          "plain",
		"\x1b[1;31mred\x1b[0m":           "red",
		"\x1b]0;title\x07after":          "after",
		"\x1b]8;;https://x\x1b\\link":    "link",
		"a\x1b(Bb":                       "ab",
		"\u009b31mc1":                    "c1",
		"trailing\x1b":                   "trailing",
		"\x1b]unterminated\nnext line":   "\nnext line",
		"keeps other controls \x07 \x08": "keeps other controls \x07 \x08",
	} {
		assert.Equal(t, want, StripANSI(in), "%q", in)
	}
}

func FuzzTail(f *testing.F) {
	f.Add("line\r\nline2\rredrawn\n\x1b[31mred\x1b[0m\n", 3)
	f.Add("FAILED\rok", 1)
	f.Add("\x1b]8;;x\x1b\\", 1)
	f.Add("\xff\xfe\n", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n%50 + 1
		if n <= 0 {
			n = 1
		}
		got := Tail([]string{s}, n)
		if len(got) > n {
			t.Fatalf("%d lines for n=%d", len(got), n)
		}
		for _, l := range got {
			if strings.ContainsAny(l, "\x1b\n") || !utf8.ValidString(l) {
				t.Fatalf("line %q keeps an escape, a newline or invalid UTF-8", l)
			}
		}
		// Nothing is hidden: a line of plain text comes back whole, carriage returns and all.
		if plain := strings.TrimRight(s, "\r\n \t"); utf8.ValidString(s) && len(s) < 300 &&
			!strings.ContainsAny(s, "\x1b\n\u009b") && strings.TrimSpace(plain) != "" {
			if len(got) != 1 || got[0] != plain {
				t.Fatalf("Tail(%q) = %q; want the line whole", s, got)
			}
		}
	})
}
