package slug_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

const (
	orgID     = "8e2a6a1c-3f0b-4c6e-9d3a-1b2c3d4e5f60"
	projectID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       slug.Slug
		str        string
		app        string
		standalone bool
	}{
		{"a GitHub slug is kept", "gh/acme/api", slug.Slug{"gh", "acme", "api"}, "gh/acme/api", "github/acme/api", false},
		{"the long GitHub provider becomes gh", "github/acme/api", slug.Slug{"gh", "acme", "api"}, "gh/acme/api", "github/acme/api", false},
		{"a Bitbucket slug is kept", "bb/acme/api", slug.Slug{"bb", "acme", "api"}, "bb/acme/api", "bitbucket/acme/api", false},
		{"the long Bitbucket provider becomes bb", "bitbucket/acme/api", slug.Slug{"bb", "acme", "api"}, "bb/acme/api", "bitbucket/acme/api", false},
		{"the provider is case-insensitive", "GitHub/acme/api", slug.Slug{"gh", "acme", "api"}, "gh/acme/api", "github/acme/api", false},
		{"the organization and repository keep their case", "gh/Acme-Corp/My_API.v2", slug.Slug{"gh", "Acme-Corp", "My_API.v2"}, "gh/Acme-Corp/My_API.v2", "github/Acme-Corp/My_API.v2", false},
		{"names may start with a dot, dash or digit", "gh/.github/-x9", slug.Slug{"gh", ".github", "-x9"}, "gh/.github/-x9", "github/.github/-x9", false},
		{"a standalone project is named by two UUIDs", "circleci/" + orgID + "/" + projectID, slug.Slug{"circleci", orgID, projectID}, "circleci/" + orgID + "/" + projectID, "circleci/" + orgID + "/" + projectID, true},
		{"standalone ids keep their case", "CircleCI/" + strings.ToUpper(orgID) + "/" + projectID, slug.Slug{"circleci", strings.ToUpper(orgID), projectID}, "circleci/" + strings.ToUpper(orgID) + "/" + projectID, "circleci/" + strings.ToUpper(orgID) + "/" + projectID, true},
		{"short opaque ids as in CircleCI's API description", "circleci/43G3lM5RtfFE7v5sa4nWAU/44n9wujWcTnVZ2b5S8Fnat", slug.Slug{"circleci", "43G3lM5RtfFE7v5sa4nWAU", "44n9wujWcTnVZ2b5S8Fnat"}, "circleci/43G3lM5RtfFE7v5sa4nWAU/44n9wujWcTnVZ2b5S8Fnat", "circleci/43G3lM5RtfFE7v5sa4nWAU/44n9wujWcTnVZ2b5S8Fnat", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := slug.Parse(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.str, got.String())
			assert.Equal(t, tt.app, got.AppPath())
			assert.Equal(t, tt.standalone, got.Standalone())
			again, err := slug.Parse(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestParseRefuses(t *testing.T) {
	const forms = "want gh/ORG/REPO, bb/ORG/REPO, github/ORG/REPO, bitbucket/ORG/REPO or circleci/ORG_ID/PROJECT_ID"
	const chars = "may hold only letters, digits, '.', '_' and '-'"
	const uuids = "circleci projects are named by ids, circleci/ORG_ID/PROJECT_ID: the organization ID from Organization Settings and the project ID from Project Settings"
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"an empty slug", "", `project slug "": ` + forms},
		{"two segments", "gh/acme", `project slug "gh/acme": ` + forms},
		{"one segment", "acme", `project slug "acme": ` + forms},
		{"four segments", "gh/acme/api/extra", `project slug "gh/acme/api/extra": ` + forms},
		{"a trailing slash", "gh/acme/api/", `project slug "gh/acme/api/": ` + forms},
		{"a leading slash", "/gh/acme/api", `project slug "/gh/acme/api": ` + forms},
		{"an unknown provider", "gx/acme/api", `project slug "gx/acme/api": unknown provider "gx"; ` + forms},
		{"an empty provider", "/acme/api", `project slug "/acme/api": unknown provider ""; ` + forms},
		{"a GitLab provider", "gitlab/acme/api", `project slug "gitlab/acme/api": GitLab projects are named circleci/ORG_ID/PROJECT_ID (see Project Settings > Overview)`},
		{"the short GitLab provider", "gl/acme/api", `project slug "gl/acme/api": GitLab projects are named circleci/ORG_ID/PROJECT_ID (see Project Settings > Overview)`},
		{"an empty organization", "gh//api", `project slug "gh//api": organization is empty; ` + forms},
		{"an empty repository", "gh/acme/", `project slug "gh/acme/": repository is empty; ` + forms},
		{"a dot organization", "gh/./api", `project slug "gh/./api": organization "." is not a name`},
		{"a dot-dot repository", "gh/acme/..", `project slug "gh/acme/..": repository ".." is not a name`},
		{"a space inside a name", "gh/acme/my api", `project slug "gh/acme/my api": repository "my api" ` + chars},
		{"a non-ASCII name", "gh/acmé/api", `project slug "gh/acmé/api": organization "acmé" ` + chars},
		{"a query string", "gh/acme/api?x=1", `project slug "gh/acme/api?x=1": repository "api?x=1" ` + chars},
		{"a backslash", `gh\acme\api`, `project slug "gh\\acme\\api": ` + forms},
		{"a newline is shown escaped", "gh/acme/api\nx", `project slug "gh/acme/api\nx": repository "api\nx" ` + chars},
		{"surrounding spaces", " gh/acme/api", `project slug " gh/acme/api": remove the surrounding whitespace`},
		{"a trailing newline", "gh/acme/api\n", `project slug "gh/acme/api\n": remove the surrounding whitespace`},
		{"a URL-escaped slug", "gh%2Facme%2Fapi", `project slug "gh%2Facme%2Fapi" is URL-escaped; pass the plain gh/acme/api`},
		{"a lower-case URL-escaped slug", "gh%2facme%2fapi", `project slug "gh%2facme%2fapi" is URL-escaped; pass the plain gh/acme/api`},
		{"a broken escape", "gh/acme/a%zz", `project slug "gh/acme/a%zz": % is not allowed; pass the plain slug, e.g. gh/acme/api`},
		{"an app URL", "https://app.circleci.com/pipelines/github/acme/api", `project slug "https://app.circleci.com/pipelines/github/acme/api" is a URL; pass the slug only: gh/ORG/REPO, bb/ORG/REPO, github/ORG/REPO, bitbucket/ORG/REPO or circleci/ORG_ID/PROJECT_ID`},
		{"a circleci slug with names instead of ids", "circleci/acme/api", `project slug "circleci/acme/api": ` + uuids},
		{"a circleci slug with one id", "circleci/" + orgID + "/api", `project slug "circleci/` + orgID + `/api": ` + uuids},
		{"a circleci slug with a short name for an id", "circleci/" + orgID + "/shortname", `project slug "circleci/` + orgID + "/shortname" + `": ` + uuids},
		{"a circleci slug with an id holding a dot", "circleci/" + orgID + "/43G3lM5RtfFE7v5s.4nWAU", `project slug "circleci/` + orgID + "/43G3lM5RtfFE7v5s.4nWAU" + `": ` + uuids},
		{"a circleci slug with a non-hex UUID", "circleci/" + orgID + "/" + strings.Replace(projectID, "0", "g", 1), `project slug "circleci/` + orgID + "/" + strings.Replace(projectID, "0", "g", 1) + `": ` + uuids},
		{"a long slug is cut short", "gh/acme/" + strings.Repeat("x", 300) + " ", `project slug "gh/acme/` + strings.Repeat("x", 112) + `"...: remove the surrounding whitespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := slug.Parse(tt.in)
			require.Error(t, err)
			assert.Equal(t, slug.Slug{}, got)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		})
	}
}

func TestZeroSlugPrintsEmpty(t *testing.T) {
	assert.Equal(t, "", slug.Slug{}.String())
	assert.False(t, slug.Slug{}.Standalone())
}

func TestKey(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"GitHub names differ only in case", "gh/acme/api", "gh/ACME/API", true},
		{"the long and short GitHub providers", "github/Acme/Api", "gh/acme/api", true},
		{"Bitbucket names differ only in case", "bb/Acme/Web", "bitbucket/acme/WEB", true},
		{"GitHub and Bitbucket are different projects", "gh/acme/api", "bb/acme/api", false},
		{"different repositories", "gh/acme/api", "gh/acme/api2", false},
		{"UUID ids differ only in case", "circleci/" + orgID + "/" + projectID, "circleci/" + strings.ToUpper(orgID) + "/" + strings.ToUpper(projectID), true},
		{"short opaque ids are case-sensitive", "circleci/43G3lM5RtfFE7v5sa4nWAU/44n9wujWcTnVZ2b5S8Fnat", "circleci/43g3lm5rtffe7v5sa4nwau/44n9wujwctnvz2b5s8fnat", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := slug.Parse(tt.a)
			require.NoError(t, err)
			b, err := slug.Parse(tt.b)
			require.NoError(t, err)
			assert.Equal(t, tt.same, a.Same(b))
			assert.Equal(t, tt.same, a.Key() == b.Key())
		})
	}
}
