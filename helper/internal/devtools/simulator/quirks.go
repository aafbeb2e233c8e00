package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Quirks of the real API that a client recovering from a lost answer must live with, each
// switched on by configuration (Config.ClockSkew; Project.ListLag, TriggerType, BranchAsRef) or
// by a fault (FaultProcessed), and served by the code below.

// triggerTypes are the trigger.type values a project may report: the OpenAPI description's
// enum, and "unknown", seen in real answers.
var triggerTypes = []string{"api", "explicit", "webhook", "scheduled_pipeline", "unknown"}

// normalizeQuirks validates and defaults p's quirk fields; f names p in errors.
func normalizeQuirks(p *Project, f string) error {
	if p.ListLag < 0 {
		return fmt.Errorf("%s.list_lag: %s is negative", f, p.ListLag)
	}
	if p.TriggerType == "" {
		p.TriggerType = "api"
	}
	if !slices.Contains(triggerTypes, p.TriggerType) {
		return fmt.Errorf("%s.trigger_type: %q; use one of %s", f, p.TriggerType, strings.Join(triggerTypes, ", "))
	}
	return nil
}

// skewed is now moved by skew: the server's clock when it is not the test's.
func skewed(now func() time.Time, skew time.Duration) func() time.Time {
	if skew == 0 {
		return now
	}
	return func() time.Time { return now().Add(skew) }
}

// listed reports whether p shows in its project's pipeline list at now (see Project.ListLag).
func (p *pipeline) listed(now time.Time) bool {
	return !now.Before(p.createdAt.Add(p.proj.cfg.ListLag.D()))
}

// reportedBranch is vcs.branch as the project reports it.
func (p *pipeline) reportedBranch() string {
	if p.branch != "" && p.proj.cfg.BranchAsRef {
		return "refs/heads/" + p.branch
	}
	return p.branch
}

// project finds a configured project by canonical slug. GitHub and Bitbucket names are
// case-insensitive, and CircleCI resolves gh/ACME/API to gh/acme/api; circleci/ ids are taken
// as given, except that UUIDs are matched in either case.
func (s *Simulator) project(canonical string) *project {
	if p := s.projects[canonical]; p != nil {
		return p
	}
	for slug, p := range s.projects {
		if strings.EqualFold(slug, canonical) && (!strings.HasPrefix(slug, "circleci/") || uuidSlug(slug)) {
			return p
		}
	}
	return nil
}

func uuidSlug(slug string) bool {
	parts := strings.Split(slug, "/")
	return len(parts) == 3 && isUUID(parts[1]) && isUUID(parts[2])
}

// projectBody is the spec's Project object (GET /project/{project-slug}).
type projectBody struct {
	Slug             string      `json:"slug"`
	Name             string      `json:"name"`
	ID               string      `json:"id"`
	OrganizationName string      `json:"organization_name"`
	OrganizationSlug string      `json:"organization_slug"`
	OrganizationID   string      `json:"organization_id"`
	VCSInfo          vcsInfoBody `json:"vcs_info"`
}

type vcsInfoBody struct {
	VCSURL        string `json:"vcs_url"`
	Provider      string `json:"provider"`
	DefaultBranch string `json:"default_branch"`
}

// getProject serves GET /project/{project-slug}: where a client learns the default branch.
func (s *Simulator) getProject(w http.ResponseWriter, rt route, user *Token) {
	proj := s.lookupProject(rt.slug, user)
	if proj == nil {
		writeMessage(w, http.StatusNotFound, "Project not found")
		return
	}
	slug := proj.cfg.Slug
	prov, rest, _ := strings.Cut(slug, "/")
	org, name, _ := strings.Cut(rest, "/")
	url, provider := repoURL(proj.cfg)
	if prov == "circleci" {
		provider = "CircleCI"
	}
	writeJSON(w, http.StatusOK, projectBody{
		Slug: slug, Name: name, ID: derivedUUID("project/" + slug),
		OrganizationName: org, OrganizationSlug: prov + "/" + org, OrganizationID: derivedUUID("org/" + prov + "/" + org),
		VCSInfo: vcsInfoBody{VCSURL: url, Provider: provider, DefaultBranch: proj.cfg.DefaultBranch},
	})
}
