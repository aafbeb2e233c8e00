package params

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// pairKeyRE is the start of a KEY=VALUE or KEY:TYPE=VALUE whose key reads like a pipeline
// parameter name.
var pairKeyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*(:[A-Za-z]+)?=`)

// CommaJoined looks at BATON_PARAMETERS text (--parameters) for the form other tools take,
// comma-joined pairs on one line (env=prod,replicas=3): baton reads that as one parameter,
// env = "prod,replicas=3", and sends it so. It returns a one-line warning that names the pairs
// it would have been, or "" when the text is not that: several assignment lines, a value whose
// commas do not separate KEY=VALUE pairs, a first value holding "=" itself (a URL's query), or
// JSON.
func CommaJoined(text string) string {
	lines := assignmentLines(text)
	if len(lines) != 1 {
		return ""
	}
	line := lines[0].text
	key, value, ok := strings.Cut(line, "=")
	if !ok || !pairKeyRE.MatchString(line) || strings.HasPrefix(value, "{") || strings.HasPrefix(value, "[") {
		return ""
	}
	first, _, joined := strings.Cut(value, ",")
	if !joined || strings.Contains(first, "=") {
		return ""
	}
	parts := strings.Split(line, ",")
	pairs := make([]string, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !pairKeyRE.MatchString(p) {
			return ""
		}
		pairs[i] = display(p)
	}
	return fmt.Sprintf("%s %s is one parameter %s=%s; if you meant %d parameters, put one per line: %s",
		"--parameters", quote(line), display(key), quoteValue(value), len(pairs), strings.Join(pairs, ", "))
}

// numberedLine is one line of a text, numbered from 1.
type numberedLine struct {
	number int
	text   string
}

// assignmentLines are the lines of BATON_PARAMETERS text that hold assignments: blank lines and
// lines whose first non-space character is '#' are skipped; a "\r" before the "\n" is dropped.
func assignmentLines(text string) []numberedLine {
	var out []numberedLine
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if rest := strings.TrimLeftFunc(line, unicode.IsSpace); rest == "" || rest[0] == '#' {
			continue
		}
		out = append(out, numberedLine{i + 1, line})
	}
	return out
}
