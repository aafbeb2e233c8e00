package dispatch_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

func TestParseProjects(t *testing.T) {
	type line = dispatch.ProjectLine
	for _, tc := range []struct {
		name    string
		text    string
		want    []line
		wantErr string
	}{
		{
			name: "a slug alone runs the default branch, a second field is a branch",
			text: "gh/acme/api\ngh/acme/web main\n",
			want: []line{{Slug: "gh/acme/api", Line: 1}, {Slug: "gh/acme/web", Branch: "main", Line: 2}},
		},
		{
			name: "tag= names a tag and branch= spells out a branch",
			text: "gh/acme/api tag=v1.2.3\ngh/acme/web branch=tag=odd\ngh/acme/cli branch=#hash",
			want: []line{
				{Slug: "gh/acme/api", Tag: "v1.2.3", Line: 1},
				{Slug: "gh/acme/web", Branch: "tag=odd", Line: 2},
				{Slug: "gh/acme/cli", Branch: "#hash", Line: 3},
			},
		},
		{
			name: "blank lines, comments and trailing comments are skipped, and lines keep their numbers",
			text: "# projects to deploy\n\n  gh/acme/api   main   # the API\n\t\n#gh/acme/old\ngh/acme/web\tfeature/x\n",
			want: []line{{Slug: "gh/acme/api", Branch: "main", Line: 3}, {Slug: "gh/acme/web", Branch: "feature/x", Line: 6}},
		},
		{
			name: "CRLF line ends and a byte order mark are not part of any field",
			text: "\uFEFFgh/acme/api main\r\ngh/acme/web\r\n",
			want: []line{{Slug: "gh/acme/api", Branch: "main", Line: 1}, {Slug: "gh/acme/web", Line: 2}},
		},
		{
			name: "the same project on another ref is another line",
			text: "gh/acme/api main\ngh/acme/api dev\ngh/acme/api tag=main\ngh/acme/api",
			want: []line{
				{Slug: "gh/acme/api", Branch: "main", Line: 1},
				{Slug: "gh/acme/api", Branch: "dev", Line: 2},
				{Slug: "gh/acme/api", Tag: "main", Line: 3},
				{Slug: "gh/acme/api", Line: 4},
			},
		},
		{
			name:    "three fields are an error naming the line",
			text:    "gh/acme/api\n\ngh/acme/web main extra\n",
			wantErr: `--projects-file line 3: 3 fields ("gh/acme/web" "main" "extra"); write SLUG, SLUG BRANCH or SLUG tag=TAG`,
		},
		{
			name:    "a line that starts with a ref has no slug",
			text:    "tag=v1 gh/acme/api",
			wantErr: `--projects-file line 1: "tag=v1" comes before any project slug; write SLUG tag=v1`,
		},
		{
			name:    "an empty tag is an error",
			text:    "gh/acme/api tag=",
			wantErr: "--projects-file line 1: tag= names no tag; write SLUG tag=TAG, or only SLUG for the default branch",
		},
		{
			name:    "an empty branch is an error",
			text:    "gh/acme/api branch=",
			wantErr: "--projects-file line 1: branch= names no branch; write SLUG branch=BRANCH, or only SLUG for the default branch",
		},
		{
			name:    "the same project and ref twice is an error naming both lines",
			text:    "gh/acme/api main\ngh/acme/web\ngh/acme/api   branch=main",
			wantErr: `--projects-file line 3: repeats line 1 ("gh/acme/api branch=main"); each project and ref may be listed once`,
		},
		{
			name:    "a list with only comments lists no project",
			text:    "# nothing yet\n\n",
			wantErr: "--projects-file: lists no project; write one SLUG or SLUG BRANCH per line",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dispatch.ParseProjects("--projects-file", tc.text)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
				assert.Equal(t, exitcode.Usage, exitcode.Of(err))
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	t.Run("errors name the source they were given", func(t *testing.T) {
		_, err := dispatch.ParseProjects("BATON_PROJECTS", "a b c")
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "BATON_PROJECTS line 1: "), err.Error())
	})
}

func FuzzParseProjects(f *testing.F) {
	for _, s := range []string{
		"", "gh/acme/api", "gh/acme/api main\ngh/acme/web tag=v1\n", "# c\n\n gh/a/b  dev # x",
		"a b c", "tag=v1", "gh/a/b tag=", "gh/a/b branch=", "gh/a/b branch=tag=x", "gh/a/b\r\ngh/a/c\r\n",
		"\uFEFFgh/a/b", "gh/a/b main\ngh/a/b main", "gh/a/b\u00a0main", "gh/a/b \x00", "\xff\xfe",
		"gh/a/b #", "#", "gh/a/b main#x", "- gh/a/b", "[{slug: gh/a/b}]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines, err := dispatch.ParseProjects("--projects-file", text)
		if err != nil {
			if lines != nil {
				t.Fatalf("ParseProjects(%q) returned lines with error %v", text, err)
			}
			if exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("ParseProjects(%q): exit code %d, want %d", text, exitcode.Of(err), exitcode.Usage)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "--projects-file") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("ParseProjects(%q): bad error text %q", text, msg)
			}
			return
		}
		if len(lines) == 0 {
			t.Fatalf("ParseProjects(%q): no lines and no error", text)
		}
		if dispatch.Structured(text) {
			return // FuzzParseStructuredProjects holds those
		}
		var again strings.Builder
		prev := 0
		for _, l := range lines {
			switch {
			case l.Slug == "" || strings.HasPrefix(l.Slug, "#"):
				t.Fatalf("ParseProjects(%q): bad slug in %+v", text, l)
			case l.Branch != "" && l.Tag != "":
				t.Fatalf("ParseProjects(%q): both branch and tag in %+v", text, l)
			case l.Line <= prev:
				t.Fatalf("ParseProjects(%q): line numbers not increasing at %+v", text, l)
			case strings.ContainsFunc(l.Slug+l.Branch+l.Tag, func(r rune) bool { return strings.ContainsRune(" \t\r\n", r) }):
				t.Fatalf("ParseProjects(%q): white space inside a field of %+v", text, l)
			}
			prev = l.Line
			// Written back in the long form, the list reads the same.
			again.WriteString(l.Slug)
			switch {
			case l.Tag != "":
				again.WriteString(" tag=" + l.Tag)
			case l.Branch != "":
				again.WriteString(" branch=" + l.Branch)
			}
			again.WriteString("\n")
		}
		back, err := dispatch.ParseProjects("--projects-file", again.String())
		if err != nil || len(back) != len(lines) {
			t.Fatalf("ParseProjects(%q) = %+v, but its long form %q gives %+v, %v", text, lines, again.String(), back, err)
		}
		for i := range back {
			back[i].Line = lines[i].Line
		}
		if !assert.ObjectsAreEqual(lines, back) {
			t.Fatalf("ParseProjects(%q) = %+v, but its long form %q gives %+v", text, lines, again.String(), back)
		}
	})
}
