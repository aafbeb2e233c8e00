package apispec_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/apispec"
)

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

func TestOperationMatchesEscapedAndPlainSlugs(t *testing.T) {
	spec := apispec.Require(t)
	cases := []struct {
		name, method, path, want string
	}{
		{"an escaped slug is one segment", "POST", "/api/v2/project/gh%2Facme%2Fapi/pipeline", "triggerPipeline"},
		{"a plain slug is three segments", "POST", "/api/v2/project/gh/acme/api/pipeline", "triggerPipeline"},
		{"pipeline/run takes three segments", "POST", "/api/v2/project/gh/acme/api/pipeline/run", "triggerPipelineRun"},
		{"a pipeline by id", "GET", "/api/v2/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b", "getPipelineById"},
		{"a pipeline's workflows", "GET", "/api/v2/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b/workflow", "listWorkflowsByPipelineId"},
		{"cancelling a workflow", "POST", "/api/v2/workflow/5034460f-c7c4-4c43-9457-de07e2029e7b/cancel", "cancelWorkflow"},
		{"the current user", "GET", "/api/v2/me", "getCurrentUser"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := spec.Operation(tc.method, tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestOperationRefusesWhatTheAPIDoesNotHave(t *testing.T) {
	spec := apispec.Require(t)
	for _, path := range []string{"/api/v2/nope", "/project/gh/acme/api/pipeline", "/api/v2/project/gh%2Facme/pipeline/run/x"} {
		_, err := spec.Operation("POST", path)
		assert.Error(t, err, path)
	}
}

func TestCheckHoldsBothHalvesToTheDescription(t *testing.T) {
	spec := apispec.Require(t)
	created := []byte(`{"id":"5034460f-c7c4-4c43-9457-de07e2029e7b","state":"created","number":3,"created_at":"2026-11-24T10:00:00Z"}`)
	cases := []struct {
		name    string
		ex      apispec.Exchange
		wantErr string
	}{
		{"a typed trigger and its 201 fit", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh%2Facme%2Fapi/pipeline", RequestHeader: jsonHeader,
			RequestBody: []byte(`{"branch":"main","parameters":{"n":3,"ok":true,"s":"x"}}`),
			Status:      201, ResponseHeader: jsonHeader, ResponseBody: created,
		}, ""},
		{"a nested parameter value does not fit", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh%2Facme%2Fapi/pipeline", RequestHeader: jsonHeader,
			RequestBody: []byte(`{"parameters":{"n":[3]}}`),
			Status:      201, ResponseHeader: jsonHeader, ResponseBody: created,
		}, "request does not fit triggerPipeline"},
		{"an unknown state in the answer does not fit", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh%2Facme%2Fapi/pipeline", RequestHeader: jsonHeader,
			RequestBody: []byte(`{}`), Status: 201, ResponseHeader: jsonHeader,
			ResponseBody: []byte(`{"id":"5034460f-c7c4-4c43-9457-de07e2029e7b","state":"running","number":3,"created_at":"2026-11-24T10:00:00Z"}`),
		}, "answer does not fit triggerPipeline"},
		{"an id that is no uuid does not fit", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh%2Facme%2Fapi/pipeline", RequestHeader: jsonHeader,
			RequestBody: []byte(`{}`), Status: 201, ResponseHeader: jsonHeader,
			ResponseBody: []byte(`{"id":"p-1","state":"created","number":3,"created_at":"2026-11-24T10:00:00Z"}`),
		}, "answer does not fit"},
		{"a created_at that is no date-time does not fit", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh%2Facme%2Fapi/pipeline", RequestHeader: jsonHeader,
			RequestBody: []byte(`{}`), Status: 201, ResponseHeader: jsonHeader,
			ResponseBody: []byte(`{"id":"5034460f-c7c4-4c43-9457-de07e2029e7b","state":"created","number":3,"created_at":"yesterday"}`),
		}, "answer does not fit"},
		{"null where the description says x-nullable fits", apispec.Exchange{
			Method: "GET", Path: "/api/v2/pipeline/5034460f-c7c4-4c43-9457-de07e2029e7b/workflow", RequestHeader: http.Header{},
			Status: 200, ResponseHeader: jsonHeader,
			ResponseBody: []byte(`{"items":[],"next_page_token":null}`),
		}, ""},
		{"pipeline/run refuses fields it does not declare", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh/acme/api/pipeline/run", RequestHeader: jsonHeader,
			RequestBody: []byte(`{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","branch":"main"}`),
			Status:      201, ResponseHeader: jsonHeader, ResponseBody: created,
		}, "request does not fit triggerPipelineRun"},
		{"pipeline/run's 200 message fits", apispec.Exchange{
			Method: "POST", Path: "/api/v2/project/gh/acme/api/pipeline/run", RequestHeader: jsonHeader,
			RequestBody: []byte(`{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","config":{"branch":"main"},"checkout":{"branch":"main"}}`),
			Status:      200, ResponseHeader: jsonHeader, ResponseBody: []byte(`{"message":"Ignoring pipeline due to CI skip in the commit"}`),
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.Check(tc.ex)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestLoadFileSaysWhenTheDescriptionIsAbsent(t *testing.T) {
	_, err := apispec.LoadFile(filepath.Join(t.TempDir(), "openapi.json"))
	require.ErrorIs(t, err, apispec.ErrAbsent)
}
