package slug_test

import (
	"strings"
	"testing"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "gh/acme/api", "github/acme/api", "bb/acme/api", "BitBucket/Acme/API", "gh/acme",
		"gh/acme/api/x", "gh%2Facme%2Fapi", "gh/./..", " gh/acme/api", "gitlab/a/b", "gh/a b/c",
		"circleci/" + orgID + "/" + projectID, "circleci/" + strings.ToUpper(orgID) + "/" + projectID,
		"circleci/x/y", "https://app.circleci.com/pipelines/github/acme/api", "gh/\xff/api", "%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := slug.Parse(s)
		if err != nil {
			if got != (slug.Slug{}) {
				t.Fatalf("Parse(%q) returned %#v with error %v", s, got, err)
			}
			if exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("Parse(%q): exit code %d, want %d", s, exitcode.Of(err), exitcode.Usage)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "project slug ") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("Parse(%q): bad error text %q", s, msg)
			}
			return
		}
		str := got.String()
		if strings.Count(str, "/") != 2 {
			t.Fatalf("Parse(%q).String() = %q, want exactly two '/'", s, str)
		}
		// Only the provider's spelling may change.
		rest, wantRest := str[strings.IndexByte(str, '/'):], s[strings.IndexByte(s, '/'):]
		if rest != wantRest {
			t.Fatalf("Parse(%q).String() = %q changed more than the provider", s, str)
		}
		again, err := slug.Parse(str)
		if err != nil || again != got {
			t.Fatalf("Parse(%q) = %#v, but Parse(%q) = %#v, %v", s, got, str, again, err)
		}
		if got.Standalone() != (got.Provider == slug.CircleCI) {
			t.Fatalf("Parse(%q): Standalone() = %v for provider %q", s, got.Standalone(), got.Provider)
		}
		if got.Provider != slug.CircleCI {
			if upper, err := slug.Parse(strings.ToUpper(s)); err != nil || !upper.Same(got) {
				t.Fatalf("Parse(%q) is not the same project as its upper-case spelling: %v", s, err)
			}
		}
		if app := got.AppPath(); strings.Count(app, "/") != 2 || !strings.HasSuffix(app, "/"+got.Org+"/"+got.Project) {
			t.Fatalf("Parse(%q).AppPath() = %q", s, app)
		}
	})
}
