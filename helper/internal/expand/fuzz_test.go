package expand_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/expand"
)

// model is an independent, simpler statement of the syntax for inputs without "${": "$$" is a
// "$", "$" before a name start introduces the longest name, any other "$" stays.
func model(s string, value func(name string) string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || isAlpha(s[j]) || j > i+1 && isDigit(s[j])) {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		b.WriteString(value(s[i+1 : j]))
		i = j - 1
	}
	return b.String()
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"", "plain", "$", "$$", "$$$", "a$", "$-x", "$.", "costs $5", "$A", "$AB_1x", "${A}", "${}",
		"${1A}", "${A-b}", "${A", "${", "$${A}", "$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123",
		"$(rm -rf /)", "<< pipeline.git.tag >>", "\x00$\xff", "$é", "${é}", "}{$}{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Every name is set; its value holds "$" and "{" to show it is never expanded again.
		value := func(name string) string { return "$" + name + "{" }
		known := func(name string) (string, bool) { return value(name), true }
		got, err := expand.Expand(s, known)

		if !strings.Contains(s, "$") {
			if err != nil || got != s {
				t.Fatalf("Expand(%q) = %q, %v; want the input unchanged", s, got, err)
			}
		}
		if !strings.Contains(s, "${") {
			if err != nil {
				t.Fatalf("Expand(%q) with every name set: %v", s, err)
			}
			if want := model(s, value); got != want {
				t.Fatalf("Expand(%q) = %q; want %q", s, got, want)
			}
		}
		checkErr(t, s, err)

		// Nothing set: an error exactly when the input references a variable.
		_, err = expand.Expand(s, func(string) (string, bool) { return "", false })
		checkErr(t, s, err)
		if err == nil && model(s, func(string) string { return "\x00" }) != model(s, func(string) string { return "" }) {
			t.Fatalf("Expand(%q) with nothing set succeeded, though it references a variable", s)
		}
	})
}

func checkErr(t *testing.T, s string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var unset *expand.UnsetError
	var syn *expand.SyntaxError
	if !errors.As(err, &unset) && !errors.As(err, &syn) {
		t.Fatalf("Expand(%q): error %T is neither *UnsetError nor *SyntaxError", s, err)
	}
	if exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("Expand(%q): exit code %d, want %d", s, exitcode.Of(err), exitcode.Usage)
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("Expand(%q): error is not one line: %q", s, err)
	}
}
