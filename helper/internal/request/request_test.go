package request_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

const defID = "2338d0ae-5541-4bbf-88a2-55e9f7281f80"

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestRefNamesFollowGitsRules(t *testing.T) {
	cases := []struct {
		branch string
		ok     bool
	}{
		{"main", true}, {"feature/x-1.2", true}, {"pull/123/head", true}, {"release_v2", true},
		{"my branch", false}, {"-main", false}, {"a..b", false}, {"a~1", false}, {"a^", false}, {"a:b", false},
		{"a?", false}, {"a*", false}, {"a[b", false}, {`a\b`, false}, {"a/", false}, {"a.", false}, {"a.lock", false},
		{"a//b", false}, {"@", false}, {"a@{1}", false}, {".hidden", false}, {"a/.b", false}, {"refs/heads/main", false}, {"tab\there", false},
	}
	for _, tc := range cases {
		t.Run(tc.branch, func(t *testing.T) {
			_, err := request.New(request.Input{Project: "gh/acme/api", Branch: tc.branch, LookupEnv: env(nil)})
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Contains(t, err.Error(), "--branch")
		})
	}
}

func TestTheEndpointFollowsTheDefinitionID(t *testing.T) {
	t.Run("without a definition id the legacy endpoint runs the branch", func(t *testing.T) {
		tr, err := request.New(request.Input{Project: "github/acme/api", Branch: "main", LookupEnv: env(nil)})
		require.NoError(t, err)
		assert.False(t, tr.UsesRun())
		assert.Equal(t, "gh/acme/api", tr.Project.String())
		assert.Equal(t, request.Ref{Branch: "main"}, tr.Ref)
	})
	t.Run("with one both refs default to the tag", func(t *testing.T) {
		tr, err := request.New(request.Input{Project: "gh/acme/api", Tag: "v1", DefinitionID: defID, LookupEnv: env(nil)})
		require.NoError(t, err)
		assert.True(t, tr.UsesRun())
		assert.Equal(t, request.Ref{Tag: "v1"}, tr.Config)
		assert.Equal(t, request.Ref{Tag: "v1"}, tr.Checkout)
	})
	t.Run("explicit refs win over the default", func(t *testing.T) {
		tr, err := request.New(request.Input{Project: "gh/acme/api", Branch: "main", DefinitionID: defID, CheckoutTag: "v2", LookupEnv: env(nil)})
		require.NoError(t, err)
		assert.Equal(t, request.Ref{Branch: "main"}, tr.Config)
		assert.Equal(t, request.Ref{Tag: "v2"}, tr.Checkout)
	})
	t.Run("both config refs at once are refused", func(t *testing.T) {
		_, err := request.New(request.Input{Project: "gh/acme/api", DefinitionID: defID, ConfigBranch: "a", ConfigTag: "b", LookupEnv: env(nil)})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "--config-branch and --config-tag")
	})
}

func TestProjectAndRefsAreExpandedUnlessTurnedOff(t *testing.T) {
	vars := env(map[string]string{"ORG": "acme", "BR": "feature/x"})
	tr, err := request.New(request.Input{Project: "gh/$ORG/api", Branch: "${BR}", LookupEnv: vars})
	require.NoError(t, err)
	assert.Equal(t, "gh/acme/api", tr.Project.String())
	assert.Equal(t, "feature/x", tr.Ref.Branch)

	_, err = request.New(request.Input{Project: "gh/$ORG/api", NoExpand: true, LookupEnv: vars})
	require.Error(t, err, "with --no-expand the $ reaches the slug parser and is refused there")
	assert.Contains(t, err.Error(), "--project")
}
