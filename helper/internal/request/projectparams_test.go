package request_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/request"
)

func TestAProjectsOwnParametersMergeOverTheSharedOnes(t *testing.T) {
	tr, err := request.New(request.Input{
		Project: "gh/acme/api", LookupEnv: env(map[string]string{"REGION": "eu"}),
		Params:     []string{"replicas=2", "version:string=1"},
		ParamsJSON: `{"debug": false}`,
		ProjectParams: []request.ProjectParam{
			{Key: "replicas", Text: "4"}, {Key: "region", Text: "$REGION"}, {Key: "tag", Text: "3", Quoted: true},
		},
		ProjectSource: "--projects-file line 2",
	})
	require.NoError(t, err)
	assert.Equal(t, []params.Param{
		{Key: "version", Value: "1"}, {Key: "debug", Value: false},
		{Key: "replicas", Value: int64(4)}, {Key: "region", Value: "eu"}, {Key: "tag", Value: "3"},
	}, tr.Params, "the project's own replicas replaces the shared one; $VAR expands as in --param")
	assert.Equal(t, map[string]params.Origin{
		"version":  {Source: "--param", Typing: params.Forced},
		"debug":    {Source: "--parameters-json", Typing: params.AsWritten},
		"replicas": {Source: "--projects-file line 2", Typing: params.Inferred},
		"region":   {Source: "--projects-file line 2", Typing: params.Inferred},
		"tag":      {Source: "--projects-file line 2", Typing: params.AsWritten},
	}, tr.Origins, "pre-flight retypes only what was inferred")
}

func TestAProjectsOwnParametersAreCheckedLikeTheRest(t *testing.T) {
	for _, tc := range []struct {
		name string
		own  []request.ProjectParam
		want string
	}{
		{"an empty key", []request.ProjectParam{{Key: "", Text: "x"}}, "--projects-file line 2: the key is empty"},
		{"an unset variable", []request.ProjectParam{{Key: "a", Text: "$NOPE"}}, "NOPE"},
		{"a value too long", []request.ProjectParam{{Key: "a", Text: string(make([]byte, 513))}}, "at most 512"},
		{"the same key twice", []request.ProjectParam{{Key: "a", Text: "1"}, {Key: "a", Text: "2"}}, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := request.New(request.Input{Project: "gh/acme/api", LookupEnv: env(nil), ProjectParams: tc.own, ProjectSource: "--projects-file line 2"})
			require.Error(t, err)
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("more than 100 once merged", func(t *testing.T) {
		var shared []string
		var own []request.ProjectParam
		for i := range 60 {
			shared = append(shared, fmt.Sprintf("s%d=1", i))
			own = append(own, request.ProjectParam{Key: fmt.Sprintf("o%d", i), Text: "1"})
		}
		_, err := request.New(request.Input{Project: "gh/acme/api", LookupEnv: env(nil), Params: shared, ProjectParams: own, ProjectSource: "--projects-file line 2"})
		require.Error(t, err)
		assert.Equal(t, "--projects-file line 2: with the shared parameters it gives 120; the API takes at most 100", err.Error())
	})
}
