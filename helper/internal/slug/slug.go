// Package slug parses CircleCI project slugs: gh/ORG/REPO and bb/ORG/REPO for projects that
// follow a GitHub OAuth or Bitbucket repository, and circleci/ORG_ID/PROJECT_ID for standalone
// projects (GitHub App and GitLab), which the legacy trigger endpoint cannot serve.
package slug

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// Canonical providers, as Slug.Provider holds them.
const (
	GitHub    = "gh"
	Bitbucket = "bb"
	CircleCI  = "circleci"
)

// Forms lists the accepted shapes, for error messages and help text.
const Forms = "gh/ORG/REPO, bb/ORG/REPO, github/ORG/REPO, bitbucket/ORG/REPO or circleci/ORG_ID/PROJECT_ID"

// Slug names one CircleCI project. Provider is canonical: GitHub, Bitbucket or CircleCI.
type Slug struct {
	Provider string
	Org      string
	Project  string
}

// String gives the slug the API uses in /project/{project-slug}, e.g. "gh/acme/api".
func (s Slug) String() string {
	if s == (Slug{}) {
		return ""
	}
	return s.Provider + "/" + s.Org + "/" + s.Project
}

// AppPath gives the slug as app.circleci.com spells it in
// https://app.circleci.com/pipelines/<AppPath>/<number>, e.g. "github/acme/api".
func (s Slug) AppPath() string {
	provider := s.Provider
	switch provider {
	case GitHub:
		provider = "github"
	case Bitbucket:
		provider = "bitbucket"
	}
	return provider + "/" + s.Org + "/" + s.Project
}

// Key names the project the way CircleCI tells projects apart, for comparing slugs: GitHub and
// Bitbucket organization and repository names are case-insensitive (gh/ACME/API is gh/acme/api),
// and so are the hexadecimal digits of a UUID; the short opaque ids of circleci/ slugs are
// case-sensitive and kept as they are. Two slugs name the same project when their Keys are equal.
func (s Slug) Key() string {
	switch {
	case s.Provider == GitHub, s.Provider == Bitbucket:
		return s.Provider + "/" + strings.ToLower(s.Org) + "/" + strings.ToLower(s.Project)
	case s.Provider == CircleCI:
		return s.Provider + "/" + foldUUID(s.Org) + "/" + foldUUID(s.Project)
	}
	return s.String()
}

// Same reports whether s and other name the same project (see Key).
func (s Slug) Same(other Slug) bool { return s.Key() == other.Key() }

func foldUUID(id string) string {
	if IsUUID(id) {
		return strings.ToLower(id)
	}
	return id
}

// Standalone reports whether the project is a circleci/ORG_ID/PROJECT_ID project (GitHub App or
// GitLab), which only the pipeline/run endpoint can trigger.
func (s Slug) Standalone() bool { return s.Provider == CircleCI }

// Parse reads a project slug. Long provider names (github, bitbucket) become gh and bb; the
// provider is case-insensitive; ORG and REPO keep their case, and so do circleci ids (the short
// ones are case-sensitive). Every error is one line with exit code 2.
func Parse(s string) (Slug, error) {
	q := show(s)
	if strings.ContainsRune(s, '%') {
		if plain, err := url.PathUnescape(s); err == nil && plain != s && isPlainText(plain) {
			return Slug{}, exitcode.Usagef("project slug %s is URL-escaped; pass the plain %s", q, plain)
		}
		return Slug{}, exitcode.Usagef("project slug %s: %% is not allowed; pass the plain slug, e.g. gh/acme/api", q)
	}
	if strings.Contains(s, "://") {
		return Slug{}, exitcode.Usagef("project slug %s is a URL; pass the slug only: %s", q, Forms)
	}
	if strings.TrimSpace(s) != s {
		return Slug{}, exitcode.Usagef("project slug %s: remove the surrounding whitespace", q)
	}
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Slug{}, exitcode.Usagef("project slug %s: want %s", q, Forms)
	}
	provider, org, project := strings.ToLower(parts[0]), parts[1], parts[2]
	switch provider {
	case "gh", "github":
		provider = GitHub
	case "bb", "bitbucket":
		provider = Bitbucket
	case CircleCI:
		if !isID(org) || !isID(project) {
			return Slug{}, exitcode.Usagef("project slug %s: %s", q, idsWanted)
		}
		return Slug{Provider: CircleCI, Org: org, Project: project}, nil
	case "gl", "gitlab":
		return Slug{}, exitcode.Usagef("project slug %s: GitLab projects are named circleci/ORG_ID/PROJECT_ID (see Project Settings > Overview)", q)
	default:
		return Slug{}, exitcode.Usagef("project slug %s: unknown provider %s; want %s", q, show(parts[0]), Forms)
	}
	if err := checkName("organization", org); err != nil {
		return Slug{}, exitcode.Usagef("project slug %s: %v", q, err)
	}
	if err := checkName("repository", project); err != nil {
		return Slug{}, exitcode.Usagef("project slug %s: %v", q, err)
	}
	return Slug{Provider: provider, Org: org, Project: project}, nil
}

type nameError struct{ field, name, problem string }

func (e *nameError) Error() string {
	if e.name == "" {
		return e.field + " is empty; want " + Forms
	}
	return e.field + " " + show(e.name) + " " + e.problem
}

func checkName(field, name string) error {
	switch name {
	case "":
		return &nameError{field: field}
	case ".", "..":
		return &nameError{field, name, "is not a name"}
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return &nameError{field, name, "may hold only letters, digits, '.', '_' and '-'"}
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

const idsWanted = "circleci projects are named by ids, circleci/ORG_ID/PROJECT_ID: the organization ID from Organization Settings and the project ID from Project Settings"

// isID reports whether s has the shape of a CircleCI organization or project id: a UUID
// (8-4-4-4-12 hex) or an opaque alphanumeric id such as 43G3lM5RtfFE7v5sa4nWAU, the form
// CircleCI's API description shows. A name such as "acme" has neither shape.
func isID(s string) bool {
	if IsUUID(s) {
		return true
	}
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// IsUUID reports whether s is a UUID in its 8-4-4-4-12 hexadecimal form, either case.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isPlainText reports whether s is worth suggesting back: short, printable, one line.
func isPlainText(s string) bool {
	if !utf8.ValidString(s) || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) || r == ' ' {
			return false
		}
	}
	return true
}

// show quotes user text for a one-line message, cut short when it is long.
func show(s string) string {
	const max = 120
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
