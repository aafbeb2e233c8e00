package detail

import (
	"strings"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// Caps on what one test or one log line may take in a report.
const (
	maxLineRunes = 400                    // a log line
	maxTailBytes = circleci.MaxStepOutput // what the client keeps of a step's output
)

// Failing reports whether a test result counts as a failure.
func Failing(t circleci.TestResult) bool {
	switch strings.ToLower(t.Result) {
	case "failure", "failed", "error", "errored":
		return true
	}
	return false
}

// Select returns the failing tests first (in the server's order) and, when all, the others
// after them; and how many failed.
func Select(tests []circleci.TestResult, all bool) ([]circleci.TestResult, int) {
	out := []circleci.TestResult{}
	for _, t := range tests {
		if Failing(t) {
			out = append(out, t)
		}
	}
	failed := len(out)
	if all {
		for _, t := range tests {
			if !Failing(t) {
				out = append(out, t)
			}
		}
	}
	return out, failed
}

// Cut shortens s to at most n runes, marking the cut with "…".
func Cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Tail is the last n lines of the output made of msgs (written one after another): ANSI escape
// sequences removed, trailing blank lines dropped, each line cut to fit. A carriage return
// inside a line is kept, for the printers to show as \r: a terminal would let the text after it
// overwrite the text before, and "FAILED\rok" must not read as "ok". Only the last MiB is
// looked at.
func Tail(msgs []string, n int) []string {
	if n <= 0 {
		return nil
	}
	var total int
	start := len(msgs)
	for start > 0 && total < maxTailBytes {
		start--
		total += len(msgs[start])
	}
	text := strings.Join(msgs[start:], "")
	if len(text) > maxTailBytes {
		text = text[len(text)-maxTailBytes:]
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:] // a partial first line says nothing
		}
	}
	text = strings.ToValidUTF8(StripANSI(strings.ReplaceAll(text, "\r\n", "\n")), "\uFFFD")
	lines := strings.Split(text, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	lines = lines[max(0, len(lines)-n):]
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = Cut(strings.TrimRight(l, "\r \t"), maxLineRunes)
	}
	return out
}

// StripANSI removes ANSI escape sequences (CSI such as colours, OSC such as titles and links,
// and other two-byte escapes): logs are full of colour codes that mean nothing in a report.
// Other control characters are left for safetext to make visible.
func StripANSI(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			i = skipCSI(s, i+2)
		case strings.HasPrefix(s[i:], "\u009b"):
			i = skipCSI(s, i+len("\u009b"))
		case c == 0x1b && i+1 < len(s) && s[i+1] == ']':
			i = skipOSC(s, i+2)
		case c == 0x1b && i+1 < len(s): // ESC, intermediate bytes (ESC ( B), a final byte
			i++
			for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
				i++
			}
			if i < len(s) && s[i] < utf8.RuneSelf {
				i++
			}
		case c == 0x1b:
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// skipCSI skips parameter and intermediate bytes and the final byte of a CSI sequence.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipOSC skips to the end of an OSC sequence: BEL or ESC \.
func skipOSC(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == '\n':
			return i // an unterminated title does not swallow the log
		}
		i++
	}
	return i
}
