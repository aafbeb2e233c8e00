package callback

import (
	"strings"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// AllowList is the upstream projects a downstream accepts callbacks from. It is required: a
// reference is only a workflow id and a job name, which anyone who can trigger the downstream
// can write, so the downstream's own config must say whose approval jobs its token may approve.
type AllowList struct {
	keys  map[string]bool // slug.Key of each project
	names []string        // as given, for messages
}

// ParseAllowList reads project slugs separated by spaces, commas or newlines; # starts a
// comment. An empty list is an error: a callback would approve nothing anyway.
func ParseAllowList(text string) (AllowList, error) {
	a := AllowList{keys: map[string]bool{}}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			s, err := slug.Parse(field)
			if err != nil {
				return AllowList{}, exitcode.Usagef("--allowed-projects: %v", err)
			}
			if !a.keys[s.Key()] {
				a.keys[s.Key()] = true
				a.names = append(a.names, s.String())
			}
		}
	}
	if len(a.keys) == 0 {
		return AllowList{}, exitcode.Usagef("--allowed-projects is required: the upstream projects (e.g. gh/acme/deploy) whose workflows this pipeline may approve; nothing was approved")
	}
	return a, nil
}

// Allows reports whether the project the API names (a workflow's project_slug) is allowed.
// A slug that does not parse is not.
func (a AllowList) Allows(projectSlug string) bool {
	s, err := slug.Parse(projectSlug)
	return err == nil && a.keys[s.Key()]
}

// String lists the allowed projects, for messages.
func (a AllowList) String() string { return strings.Join(a.names, ", ") }
