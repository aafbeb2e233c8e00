package dispatch

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

// ProjectLine is one project of a projects list: a slug and at most one of Branch and Tag
// (neither: the project's default branch). Line is its 1-based line number. Params are its own
// pipeline parameters (a structured list only), merged over the shared ones.
type ProjectLine struct {
	Slug, Branch, Tag string
	Line              int
	Params            []request.ProjectParam
}

// ref is what makes two lines the same trigger.
type lineRef struct{ slug, branch, tag string }

func (p ProjectLine) ref() lineRef { return lineRef{p.Slug, p.Branch, p.Tag} }

// ParseProjects reads a projects list (--projects-file, BATON_PROJECTS): one project per line,
//
//	SLUG                  the project's default branch
//	SLUG BRANCH           a branch
//	SLUG branch=BRANCH    a branch, spelled out (for a branch named tag=… or #…)
//	SLUG tag=TAG          a tag
//
// with fields separated by spaces or tabs. Blank lines are skipped, and so is everything from a
// field starting with '#' to the end of its line. The same line twice is an error: the two
// pipelines could not be told apart.
//
// source names the list in errors, which read like "--projects-file line 3: 3 fields; write
// SLUG, SLUG BRANCH or SLUG tag=TAG" and carry exit code 2. Slugs and refs are only split here;
// request.New checks them.
//
// A list whose first entry starts with '-', '[' or '{', or with "projects:", is structured
// instead (see parseStructured): YAML or JSON entries that may give each project its own
// parameters.
func ParseProjects(source, text string) ([]ProjectLine, error) {
	text = strings.TrimPrefix(text, "\uFEFF")
	if Structured(text) {
		return parseStructured(source, text)
	}
	bad := func(line int, format string, args ...any) error {
		return exitcode.Usagef("%s line %d: %s", source, line, fmt.Sprintf(format, args...))
	}
	var out []ProjectLine
	seen := map[lineRef]int{} // the project, by where it was first listed
	for n, line := range strings.Split(text, "\n") {
		n++
		fields := strings.FieldsFunc(line, isSpace)
		for i, f := range fields {
			if strings.HasPrefix(f, "#") {
				fields = fields[:i]
				break
			}
		}
		var p ProjectLine
		switch len(fields) {
		case 0:
			continue
		case 1, 2:
			p.Slug = fields[0]
		default:
			return nil, bad(n, "%d fields (%s); write SLUG, SLUG BRANCH or SLUG tag=TAG", len(fields), quoteFields(fields))
		}
		if key, _, ok := strings.Cut(p.Slug, "="); ok && (key == "tag" || key == "branch") {
			return nil, bad(n, "%q comes before any project slug; write SLUG %s", p.Slug, p.Slug)
		}
		if len(fields) == 2 {
			ref := fields[1]
			switch {
			case strings.HasPrefix(ref, "tag="):
				p.Tag = strings.TrimPrefix(ref, "tag=")
				if p.Tag == "" {
					return nil, bad(n, "tag= names no tag; write SLUG tag=TAG, or only SLUG for the default branch")
				}
			case strings.HasPrefix(ref, "branch="):
				p.Branch = strings.TrimPrefix(ref, "branch=")
				if p.Branch == "" {
					return nil, bad(n, "branch= names no branch; write SLUG branch=BRANCH, or only SLUG for the default branch")
				}
			default:
				p.Branch = ref
			}
		}
		if first, dup := seen[p.ref()]; dup {
			return nil, bad(n, "repeats line %d (%q); each project and ref may be listed once", first, strings.Join(fields, " "))
		}
		seen[p.ref()] = n
		p.Line = n
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, exitcode.Usagef("%s: lists no project; write one SLUG or SLUG BRANCH per line", source)
	}
	return out, nil
}

// isSpace separates fields: Unicode white space, so a stray carriage return (CRLF files) or a
// non-breaking space never ends up inside a slug or a branch.
func isSpace(r rune) bool { return unicode.IsSpace(r) }

func quoteFields(fields []string) string {
	q := make([]string, len(fields))
	for i, f := range fields {
		q[i] = fmt.Sprintf("%q", f)
	}
	return strings.Join(q, " ")
}
