package preflight_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/preflight"
	"github.com/baton-ci/baton/helper/internal/request"
)

// TestLearnReadsTheRealPipelineList runs Learn over a pipeline list CircleCI really answered
// (../shared/circleci-real-api: Jackson formatting, a real next_page_token, a webhook pipeline on
// master), then a config answer in the shape the OpenAPI description gives.
func TestLearnReadsTheRealPipelineList(t *testing.T) {
	list, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "shared", "circleci-real-api", "pipeline-list-lf-da-ds.json"))
	if os.IsNotExist(err) {
		t.Skip("../shared/circleci-real-api is absent: no real pipeline list to read")
	}
	require.NoError(t, err)
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.EscapedPath() {
		case "/api/v2/project/gh%2FLF-Engineering%2Fda-ds/pipeline":
			_, _ = w.Write(list)
		case "/api/v2/pipeline/98b1071e-c364-4b39-91b9-820b8588e2ae/config":
			_, _ = w.Write([]byte(`{"source": "version: 2.1\nparameters:\n  run-e2e: {type: boolean, default: false}\n", "compiled": "version: 2\n"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	client, err := circleci.New(circleci.Config{Host: srv.URL, Token: "tok"})
	require.NoError(t, err)

	l := preflight.Learn(context.Background(), client, "gh/LF-Engineering/da-ds", request.Ref{Branch: "master"})
	require.NotNil(t, l.Decls, l.Why)
	assert.Equal(t, "pipeline #154 on branch master", l.Decls.From)
	assert.Equal(t, "boolean", l.Decls.Params["run-e2e"].Type)
	assert.Equal(t, []string{
		"/api/v2/project/gh%2FLF-Engineering%2Fda-ds/pipeline?branch=master",
		"/api/v2/pipeline/98b1071e-c364-4b39-91b9-820b8588e2ae/config",
	}, asked)
}
