package params

import (
	"strconv"
	"unicode/utf8"
)

// Errors quote what the user wrote; these keep that on one line and of a readable length.

const (
	maxShown  = 80 // an assignment shown as written
	maxQuoted = 60 // a key or value shown quoted
)

// plain reports whether s reads the same unquoted: valid UTF-8, printable, no surrounding
// spaces, not empty and not long.
func plain(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxShown {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// display shows s as written when that is plain, else quoted.
func display(s string) string {
	if plain(s) {
		return s
	}
	return quote(s)
}

// displayPlain shows s as written when that is plain, else placeholder.
func displayPlain(s, placeholder string) string {
	if plain(s) {
		return s
	}
	return placeholder
}

func quoteKey(s string) string   { return quote(s) }
func quoteValue(s string) string { return quote(s) }

// quote quotes s with Go escapes, cut to maxQuoted characters.
func quote(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}

// shorten cuts s, an ASCII number, to maxQuoted characters.
func shorten(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return s[:maxQuoted] + "..."
}
