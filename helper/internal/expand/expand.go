// Package expand replaces $NAME and ${NAME} in a string with values from a lookup function,
// the way a shell would inside double quotes but without a shell: no command substitution, no
// word splitting, no globbing, and no defaults or other ${...} operators. Values are inserted
// literally and never expanded again.
//
// Syntax:
//
//	$NAME, ${NAME}  the value of NAME, where NAME is [A-Za-z_][A-Za-z0-9_]* ($NAME takes the
//	                longest such name)
//	$$              a literal $
//	$ otherwise     a literal $ ("costs $5", "a$", "$-x")
//
// An unset variable is an error (*UnsetError); a set but empty one expands to "". A "${" that is
// not closed, or braces that do not hold exactly one valid name, is an error (*SyntaxError).
package expand

import (
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// UnsetError reports a variable that the lookup function does not know.
type UnsetError struct {
	Name string
}

func (e *UnsetError) Error() string {
	return "environment variable " + e.Name + " is not set"
}

// ExitCode makes an unset variable a usage error: nothing was sent.
func (e *UnsetError) ExitCode() int { return exitcode.Usage }

// SyntaxError reports a malformed ${...} reference. Text is the offending part of the input.
// Callers add the fix that fits them ("write $$ for a literal $").
type SyntaxError struct {
	Text   string
	Reason string
}

func (e *SyntaxError) Error() string {
	return quote(e.Text) + " " + e.Reason
}

// ExitCode makes a malformed reference a usage error: nothing was sent.
func (e *SyntaxError) ExitCode() int { return exitcode.Usage }

// Expand returns s with every $NAME and ${NAME} replaced by lookup(NAME) and every $$ replaced
// by $. A nil lookup means os.LookupEnv. The first unset variable or malformed reference stops
// the expansion with an *UnsetError or a *SyntaxError.
func Expand(s string, lookup func(name string) (string, bool)) (string, error) {
	if strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", &SyntaxError{Text: s[i:], Reason: `has no closing "}"`}
			}
			name := s[i+2 : i+2+end]
			if !validName(name) {
				return "", &SyntaxError{Text: s[i : i+3+end], Reason: nameProblem(name)}
			}
			v, ok := lookup(name)
			if !ok {
				return "", &UnsetError{Name: name}
			}
			b.WriteString(v)
			i += 3 + end
		case nameStart(next):
			j := i + 2
			for j < len(s) && nameChar(s[j]) {
				j++
			}
			name := s[i+1 : j]
			v, ok := lookup(name)
			if !ok {
				return "", &UnsetError{Name: name}
			}
			b.WriteString(v)
			i = j
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

func nameStart(c byte) bool { return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }
func nameChar(c byte) bool  { return nameStart(c) || '0' <= c && c <= '9' }

func validName(name string) bool {
	if name == "" || !nameStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !nameChar(name[i]) {
			return false
		}
	}
	return true
}

func nameProblem(name string) string {
	if name == "" {
		return "names no variable"
	}
	return "is not a variable reference: only ${NAME} is supported, NAME being letters, digits and _ not starting with a digit"
}

// quote shows user text on one line, cut short when it is long.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == max {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
