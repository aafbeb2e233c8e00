package callback

import (
	"strings"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// AllowList is the upstream projects a downstream accepts callbacks from, and optionally the
// approval jobs of each. It is required: a reference is only a workflow id and a job name, which
// anyone who can trigger the downstream can write, so the downstream's own config must say whose
// approval jobs its token may approve. A project given alone allows any approval job of its
// workflows (a production gate included); PROJECT:JOB entries allow only the jobs they name.
type AllowList struct {
	keys  map[string]bool            // slug.Key of each project
	jobs  map[string]map[string]bool // slug.Key → the approval jobs allowed; absent: any
	names []string                   // as given, for messages
}

// ParseAllowList reads project slugs, each alone or as PROJECT:JOB, separated by spaces, commas
// or newlines; # starts a comment. An empty list is an error: a callback would approve nothing
// anyway. A project given both alone and with jobs is limited to those jobs.
func ParseAllowList(text string) (AllowList, error) {
	a := AllowList{keys: map[string]bool{}, jobs: map[string]map[string]bool{}}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			project, job, withJob := strings.Cut(field, ":")
			s, err := slug.Parse(project)
			if err != nil {
				return AllowList{}, exitcode.Usagef("--allowed-projects: %v", err)
			}
			if withJob && job == "" {
				return AllowList{}, exitcode.Usagef("--allowed-projects: %s: no job name after the colon", field)
			}
			if !a.keys[s.Key()] {
				a.keys[s.Key()] = true
				a.names = append(a.names, s.String())
			}
			if withJob {
				if a.jobs[s.Key()] == nil {
					a.jobs[s.Key()] = map[string]bool{}
				}
				a.jobs[s.Key()][job] = true
				a.names = append(a.names, s.String()+":"+job)
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

// AllowsJob reports whether the approval job named job may be approved in the allowed project
// the API names: any job when the project was given alone, else only those it was given with.
func (a AllowList) AllowsJob(projectSlug, job string) bool {
	s, err := slug.Parse(projectSlug)
	if err != nil || !a.keys[s.Key()] {
		return false
	}
	jobs, limited := a.jobs[s.Key()]
	return !limited || jobs[job]
}

// String lists the allowed projects, for messages.
func (a AllowList) String() string { return strings.Join(a.names, ", ") }
