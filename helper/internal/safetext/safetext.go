// Package safetext renders text that came from the server (workflow and job names, statuses,
// ids, error messages) so it can be printed as data: it cannot move the cursor, retitle or clear
// the terminal, reorder what the reader sees, or add markup to a Markdown summary.
package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Terminal returns s safe for a terminal or a log, on one line. Everything that is not printable
// text becomes a visible escape, so the reader still sees that it was there:
//
//   - C0 controls and DEL: \n, \r and \t as written in Go, the others as \x1b, \x07, \x7f. An ESC
//     losing its byte turns a whole CSI or OSC sequence ("\x1b]0;title\x07") into plain text; a
//     carriage return shown as \r cannot let "ok" overwrite the "FAILED" printed before it.
//   - C1 controls (U+0080–U+009F, which some terminals obey like ESC-sequences): \u009b.
//   - Unicode bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which
//     reorder what is shown, and the line and paragraph separators U+2028, U+2029: \u202e.
//   - Bytes that are not UTF-8: \xff.
//
// A backslash is left alone: a name with a literal "\x1b" in it reads the same as an escaped ESC,
// which misleads no terminal.
func Terminal(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean: s needs no escapes (the common case, checked without allocating).
func isClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || unsafeRune(r) {
			return false
		}
		i += size
	}
	return true
}

// unsafeRune: a non-ASCII rune Terminal escapes.
func unsafeRune(r rune) bool {
	switch {
	case 0x80 <= r && r <= 0x9f: // C1 controls
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // bidi marks
		return true
	case 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// JSON returns the JSON text b with what Terminal escapes, and JSON encoders leave raw (DEL, C1
// controls, bidi controls, line separators), written as \u escapes instead. Those characters
// can only stand inside JSON strings, where the escape means the same character: the document
// decodes to the same values, and printing it cannot drive a terminal. Control characters below
// U+0020 are already escaped by any JSON encoder; b is expected to be valid UTF-8 (Go's encoder
// makes it so).
func JSON(b []byte) []byte {
	if isClean(string(b)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || unsafeRune(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// Markdown returns s safe inside a Markdown paragraph or table cell (GitHub-flavoured Markdown,
// CircleCI's and GitHub's job summaries): Terminal's escapes first, then every character Markdown
// or HTML gives meaning to is escaped: \ ` * _ { } [ ] ( ) # + ! | ~ with a backslash, < > & as
// HTML entities. A leading - = or "1." (a list, a heading underline) is escaped too; elsewhere
// they are plain text and stay readable.
func Markdown(s string) string {
	s = Terminal(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '!', '|', '~':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '-', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		case '.':
			if i > 0 && allDigits(s[:i]) {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
