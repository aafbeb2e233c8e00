package orbrun

import (
	"fmt"
	"regexp"
	"strings"
)

// Filters are a workflow job's filters: which branches and tags it runs for. CircleCI's rules
// (https://circleci.com/docs/configuration-reference/#filters and #tags):
//   - a pipeline of a branch runs the job unless branches.only is given and matches nothing,
//     or branches.ignore matches; only is considered before ignore;
//   - a pipeline of a tag runs the job only when tags filters are given (only matching, and
//     ignore not matching): "CircleCI does not run workflows for tags unless you explicitly
//     specify tag filters";
//   - a pattern written /…/ is a regular expression that must match the whole name; anything
//     else is compared as it is.
//
// A job whose required job does not run for the pipeline does not run either (Expander.Workflow):
// that is why CircleCI asks for tag filters on every job a tag-filtered job requires.
type Filters struct {
	Branches, Tags RefFilter
}

// RefFilter is branches: or tags: of a job's filters.
type RefFilter struct {
	Given        bool // the key is present
	Only, Ignore []string
}

// Runs reports whether a job with these filters runs in a pipeline of branch, or of tag when
// tag is not empty.
func (f Filters) Runs(branch, tag string) bool {
	if tag != "" {
		return f.Tags.Given && f.Tags.allows(tag)
	}
	return f.Branches.allows(branch)
}

func (r RefFilter) allows(name string) bool {
	if len(r.Only) > 0 && !matchesAny(r.Only, name) {
		return false
	}
	return !matchesAny(r.Ignore, name)
}

func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if re, ok := strings.CutPrefix(p, "/"); ok && strings.HasSuffix(re, "/") && len(re) > 0 {
			// Validated by parseFilters.
			if regexp.MustCompile("^(?:" + strings.TrimSuffix(re, "/") + ")$").MatchString(name) {
				return true
			}
			continue
		}
		if p == name {
			return true
		}
	}
	return false
}

// parseFilters reads a workflow job's filters: block.
func parseFilters(v any) (Filters, error) {
	var f Filters
	m, err := mapping(v, "filters")
	if err != nil {
		return f, err
	}
	for key, x := range m {
		var dst *RefFilter
		switch key {
		case "branches":
			dst = &f.Branches
		case "tags":
			dst = &f.Tags
		default:
			return f, fmt.Errorf("filters: unknown key %q (branches or tags)", key)
		}
		if *dst, err = parseRefFilter(x, "filters: "+key); err != nil {
			return f, err
		}
	}
	return f, nil
}

func parseRefFilter(v any, what string) (RefFilter, error) {
	r := RefFilter{Given: true}
	m, err := mapping(v, what)
	if err != nil {
		return r, err
	}
	for key, x := range m {
		list, err := stringList(x, what+": "+key)
		if err != nil {
			return r, err
		}
		for _, p := range list {
			if re, ok := strings.CutPrefix(p, "/"); ok && strings.HasSuffix(re, "/") && len(re) > 0 {
				if _, err := regexp.Compile(strings.TrimSuffix(re, "/")); err != nil {
					return r, fmt.Errorf("%s: %s: %w", what, p, err)
				}
			}
		}
		switch key {
		case "only":
			r.Only = list
		case "ignore":
			r.Ignore = list
		default:
			return r, fmt.Errorf("%s: unknown key %q (only or ignore)", what, key)
		}
	}
	return r, nil
}
