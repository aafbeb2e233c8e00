package callback

import (
	"strings"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// Wildcard, as the job of an entry (gh/acme/deploy:*), allows any approval job of the project.
const Wildcard = "*"

// AllowList is the upstream approval jobs a downstream may approve, each named with its project
// (PROJECT:JOB). It is required, and a project alone is refused: a reference is only a workflow
// id and a job name, which anyone who can trigger the downstream can write, so the downstream's
// own config must name the approval jobs its token may approve, or else any approval job of the
// project (a production gate included) would be one forged reference away. PROJECT:* allows any
// approval job of PROJECT, and every approval it grants says so.
type AllowList struct {
	jobs    map[string]map[string]bool // slug.Key of each project → its allowed jobs (Wildcard: any)
	project map[string]string          // slug.Key → the project as first given, for messages
	names   []string                   // the entries as given, for messages
}

// ParseAllowList reads PROJECT:JOB entries separated by spaces, commas or newlines; # starts a
// comment. An empty list, and a project without a job, are usage errors (exit 2) that name the
// PROJECT:JOB form: a callback would approve nothing anyway.
func ParseAllowList(text string) (AllowList, error) {
	a := AllowList{jobs: map[string]map[string]bool{}, project: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			project, job, withJob := strings.Cut(field, ":")
			s, err := slug.Parse(project)
			if err != nil {
				return AllowList{}, exitcode.Usagef("--allowed-projects: %v", err)
			}
			if !withJob {
				// field parsed as a slug: it holds nothing that needs quoting.
				return AllowList{}, exitcode.Usagef("--allowed-projects %s: name the approval job too, as %s:JOB (or %s:%s for any approval job of that project)", field, field, field, Wildcard)
			}
			if err := checkJobName("--allowed-projects "+show(field), job); err != nil {
				return AllowList{}, err
			}
			if a.jobs[s.Key()] == nil {
				a.jobs[s.Key()], a.project[s.Key()] = map[string]bool{}, s.String()
			}
			if !a.jobs[s.Key()][job] {
				a.jobs[s.Key()][job] = true
				a.names = append(a.names, s.String()+":"+job)
			}
		}
	}
	if len(a.jobs) == 0 {
		return AllowList{}, exitcode.Usagef("--allowed-projects is required: the upstream approval jobs this pipeline may approve, as PROJECT:JOB (e.g. gh/acme/deploy:await-e2e); nothing was approved")
	}
	return a, nil
}

// Allows reports whether any approval job of the project the API names (a workflow's
// project_slug) is allowed. A slug that does not parse is not.
func (a AllowList) Allows(projectSlug string) bool {
	s, err := slug.Parse(projectSlug)
	return err == nil && len(a.jobs[s.Key()]) > 0
}

// Match reports whether the approval job named job may be approved in the project the API
// names, and whether only the project's wildcard entry allows it (then wildcard is that entry,
// e.g. "gh/acme/deploy:*", for the message that must announce it). A job named exactly is
// never reported as allowed by the wildcard.
func (a AllowList) Match(projectSlug, job string) (allowed bool, wildcard string) {
	s, err := slug.Parse(projectSlug)
	if err != nil {
		return false, ""
	}
	jobs := a.jobs[s.Key()]
	switch {
	case jobs[job] && job != Wildcard:
		return true, ""
	case jobs[Wildcard]:
		return true, a.project[s.Key()] + ":" + Wildcard
	}
	return false, ""
}

// String lists the entries, for messages.
func (a AllowList) String() string { return strings.Join(a.names, ", ") }
