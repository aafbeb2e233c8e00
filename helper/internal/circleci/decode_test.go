package circleci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bodies shaped like the schemas in CircleCI's OpenAPI description (spec_test.go checks the
// types' field names against the same description).
const (
	pipelineJSON = `{
  "id": "5034460f-c7c4-4c43-9457-de07e2029e7b",
  "errors": [
    {"type": "config", "message": "Unexpected argument(s): foo"},
    {"type": "config", "message": "Type error for argument mark: expected type: boolean, actual value: \"true\" (type string)"}
  ],
  "project_slug": "gh/acme/api",
  "updated_at": "2025-10-17T09:41:09.003Z",
  "number": 25,
  "trigger_parameters": {"deploy_prod": true, "replicas": 3, "region": "eu-west-1", "gitlab": {"x": "y"}},
  "state": "errored",
  "created_at": "2025-10-17T09:41:07.512Z",
  "trigger": {
    "type": "api",
    "received_at": "2025-10-17T09:41:07.101Z",
    "actor": {"login": "octocat", "avatar_url": null}
  },
  "vcs": {
    "provider_name": "GitHub",
    "target_repository_url": "https://github.com/acme/api",
    "branch": "feature/design-new-api",
    "review_id": "123",
    "review_url": "https://github.com/acme/api/pull/123",
    "revision": "f454a02b5d10fcccfd7d9dd7608a76d6493a98b4",
    "tag": "v3.1.4159",
    "commit": {"subject": "Use the new API", "body": null},
    "origin_repository_url": "https://github.com/acme/api"
  }
}`
	workflowRunningJSON = `{
  "pipeline_id": "5034460f-c7c4-4c43-9457-de07e2029e7b",
  "id": "fda08377-fe7e-46b1-8992-3a7aaecac9c3",
  "name": "build-and-test",
  "project_slug": "gh/acme/api",
  "tag": "setup",
  "status": "running",
  "started_by": "9c4e9d5b-5b5c-4e6f-9e0f-3c6f0ef1d0a1",
  "pipeline_number": 25,
  "created_at": "2025-10-17T09:41:08Z",
  "stopped_at": null
}`
	workflowRerunJSON = `{
  "pipeline_id": "5034460f-c7c4-4c43-9457-de07e2029e7b",
  "canceled_by": "026a6d28-c22e-4aab-a8b4-bd7131a8ea35",
  "id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
  "auto_rerun_number": 1,
  "name": "deploy",
  "project_slug": "gh/acme/api",
  "errored_by": "c6e40f70-a80a-4ccc-8aa9-f2ecd8e1bd4e",
  "tag": null,
  "status": "canceled",
  "started_by": "9c4e9d5b-5b5c-4e6f-9e0f-3c6f0ef1d0a1",
  "max_auto_reruns": 3,
  "pipeline_number": 25,
  "created_at": "2025-10-17T09:45:00Z",
  "stopped_at": "2025-10-17T09:47:30.250Z"
}`
	buildJobJSON = `{
  "canceled_by": "026a6d28-c22e-4aab-a8b4-bd7131a8ea35",
  "dependencies": ["8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11"],
  "job_number": 1042,
  "id": "52ffd5f0-3c2b-4b4f-9ae6-2b9ab1b0e1a4",
  "started_at": "2025-10-17T09:41:10Z",
  "name": "test",
  "approved_by": "026a6d28-c22e-4aab-a8b4-bd7131a8ea35",
  "project_slug": "gh/acme/api",
  "status": "failed",
  "type": "build",
  "requires": {"8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11": ["success"]},
  "stopped_at": "2025-10-17T09:43:00Z",
  "approval_request_id": "3b1a2c4d-0000-4000-8000-000000000001"
}`
	approvalJobJSON = `{
  "dependencies": [],
  "id": "8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11",
  "started_at": null,
  "name": "hold",
  "project_slug": "gh/acme/api",
  "status": "on_hold",
  "type": "approval",
  "stopped_at": null,
  "approval_request_id": "8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11"
}`
	userJSON = `{"avatar_url": null, "id": "9c4e9d5b-5b5c-4e6f-9e0f-3c6f0ef1d0a1", "login": "octocat", "name": "Mona Lisa Octocat"}`
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tsp(s string) *time.Time { t := ts(s); return &t }

func i64(n int64) *int64 { return &n }

func wantPipeline() *Pipeline {
	return &Pipeline{
		ID: pipelineID,
		Errors: []PipelineError{
			{Type: "config", Message: "Unexpected argument(s): foo"},
			{Type: "config", Message: `Type error for argument mark: expected type: boolean, actual value: "true" (type string)`},
		},
		ProjectSlug:       "gh/acme/api",
		UpdatedAt:         ts("2025-10-17T09:41:09.003Z"),
		Number:            25,
		TriggerParameters: map[string]any{"deploy_prod": true, "replicas": float64(3), "region": "eu-west-1", "gitlab": map[string]any{"x": "y"}},
		State:             PipelineErrored,
		CreatedAt:         ts("2025-10-17T09:41:07.512Z"),
		Trigger:           PipelineTrigger{Type: "api", ReceivedAt: ts("2025-10-17T09:41:07.101Z"), Actor: Actor{Login: "octocat"}},
		VCS: &PipelineVCS{
			ProviderName: "GitHub", TargetRepositoryURL: "https://github.com/acme/api",
			Branch: "feature/design-new-api", ReviewID: "123", ReviewURL: "https://github.com/acme/api/pull/123",
			Revision: "f454a02b5d10fcccfd7d9dd7608a76d6493a98b4", Tag: "v3.1.4159",
			Commit:              &VCSCommit{Subject: "Use the new API"},
			OriginRepositoryURL: "https://github.com/acme/api",
		},
	}
}

var (
	wantWorkflowRunning = Workflow{
		ID: workflowID, Name: "build-and-test", Status: WorkflowRunning, Tag: WorkflowTagSetup,
		PipelineID: pipelineID, PipelineNumber: 25, ProjectSlug: "gh/acme/api",
		StartedBy: "9c4e9d5b-5b5c-4e6f-9e0f-3c6f0ef1d0a1", CreatedAt: ts("2025-10-17T09:41:08Z"),
	}
	wantWorkflowRerun = Workflow{
		ID: "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901", Name: "deploy", Status: WorkflowCanceled,
		PipelineID: pipelineID, PipelineNumber: 25, ProjectSlug: "gh/acme/api",
		StartedBy: "9c4e9d5b-5b5c-4e6f-9e0f-3c6f0ef1d0a1", CanceledBy: "026a6d28-c22e-4aab-a8b4-bd7131a8ea35",
		ErroredBy: "c6e40f70-a80a-4ccc-8aa9-f2ecd8e1bd4e", CreatedAt: ts("2025-10-17T09:45:00Z"),
		StoppedAt: tsp("2025-10-17T09:47:30.250Z"), AutoRerunNumber: 1, MaxAutoReruns: 3,
	}
	wantBuildJob = Job{
		ID: "52ffd5f0-3c2b-4b4f-9ae6-2b9ab1b0e1a4", Name: "test", Status: "failed", Type: "build",
		JobNumber: i64(1042), ProjectSlug: "gh/acme/api",
		StartedAt: tsp("2025-10-17T09:41:10Z"), StoppedAt: tsp("2025-10-17T09:43:00Z"),
		Dependencies:      []string{"8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11"},
		Requires:          map[string][]string{"8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11": {"success"}},
		ApprovedBy:        "026a6d28-c22e-4aab-a8b4-bd7131a8ea35",
		ApprovalRequestID: "3b1a2c4d-0000-4000-8000-000000000001",
		CanceledBy:        "026a6d28-c22e-4aab-a8b4-bd7131a8ea35",
	}
	wantApprovalJob = Job{
		ID: "8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11", Name: "hold", Status: "on_hold", Type: "approval",
		ProjectSlug: "gh/acme/api", Dependencies: []string{},
		ApprovalRequestID: "8fca2e9a-1f5d-4d3c-9b3e-1f0b6e2a7c11",
	}
)

func TestResponsesAreDecoded(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		body   string
		call   func(c *Client) (any, error)
		want   any
	}{
		{
			name: "TriggerPipeline reads the created pipeline", status: 201, body: created201,
			call: func(c *Client) (any, error) { return c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{}`)) },
			want: &PipelineCreation{ID: pipelineID, State: PipelineCreated, Number: 25, CreatedAt: ts("2025-10-17T09:41:07.512Z")},
		},
		{
			name: "RunPipeline reads a 201 as a created pipeline", status: 201,
			body: `{"state":"setup-pending","created_at":"2025-10-17T09:41:07Z","number":26,"id":"` + pipelineID + `"}`,
			call: func(c *Client) (any, error) { return c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{}`)) },
			want: &RunResult{Created: &PipelineCreation{ID: pipelineID, State: PipelineSetupPending, Number: 26, CreatedAt: ts("2025-10-17T09:41:07Z")}},
		},
		{
			name: "RunPipeline reads a 200 message as no pipeline created", status: 200,
			body: `{"message":"Pipeline not created: the commit message asked to skip CI ([ci skip])."}`,
			call: func(c *Client) (any, error) { return c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{}`)) },
			want: &RunResult{Message: "Pipeline not created: the commit message asked to skip CI ([ci skip])."},
		},
		{
			name: "RunPipeline gives a reason even when a 200 has none", status: 200, body: `{}`,
			call: func(c *Client) (any, error) { return c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{}`)) },
			want: &RunResult{Message: "the API gave no reason"},
		},
		{
			name: "GetPipeline reads every field, errors included", status: 200, body: pipelineJSON,
			call: func(c *Client) (any, error) { return c.GetPipeline(ctx, pipelineID) },
			want: wantPipeline(),
		},
		{
			name: "GetWorkflow reads a running setup workflow with no stop time", status: 200, body: workflowRunningJSON,
			call: func(c *Client) (any, error) { return c.GetWorkflow(ctx, workflowID) },
			want: &wantWorkflowRunning,
		},
		{
			name: "GetWorkflow reads an automatic rerun that stopped", status: 200, body: workflowRerunJSON,
			call: func(c *Client) (any, error) { return c.GetWorkflow(ctx, workflowID) },
			want: &wantWorkflowRerun,
		},
		{
			name: "ListPipelineWorkflows reads a single page", status: 200,
			body: `{"items":[` + workflowRunningJSON + `,` + workflowRerunJSON + `],"next_page_token":null}`,
			call: func(c *Client) (any, error) { return c.ListPipelineWorkflows(ctx, pipelineID) },
			want: []Workflow{wantWorkflowRunning, wantWorkflowRerun},
		},
		{
			name: "ListPipelineWorkflows gives an empty list, not nil, for no workflows", status: 200,
			body: `{"items":[],"next_page_token":null}`,
			call: func(c *Client) (any, error) { return c.ListPipelineWorkflows(ctx, pipelineID) },
			want: []Workflow{},
		},
		{
			name: "ListWorkflowJobs reads build and approval jobs", status: 200,
			body: `{"items":[` + buildJobJSON + `,` + approvalJobJSON + `],"next_page_token":null}`,
			call: func(c *Client) (any, error) { return c.ListWorkflowJobs(ctx, workflowID) },
			want: []Job{wantBuildJob, wantApprovalJob},
		},
		{
			name: "Me reads the user", status: 200, body: userJSON,
			call: func(c *Client) (any, error) { return c.Me(ctx) },
			want: &User{ID: "9c4e9d5b-5b5c-4e6f-9e0f-3c6f0ef1d0a1", Login: "octocat", Name: "Mona Lisa Octocat"},
		},
		{
			name: "ListProjectPipelines reads a page and its next token", status: 200,
			body: `{"items":[` + pipelineJSON + `],"next_page_token":"AARLwwV..."}`,
			call: func(c *Client) (any, error) { return c.ListProjectPipelines(ctx, "gh/acme/api", "main", "") },
			want: &PipelinePage{Items: []Pipeline{*wantPipeline()}, NextPageToken: "AARLwwV..."},
		},
		{
			name: "ListProjectPipelines reads the last page", status: 200,
			body: `{"items":[],"next_page_token":null}`,
			call: func(c *Client) (any, error) { return c.ListProjectPipelines(ctx, "gh/acme/api", "", "AARLwwV...") },
			want: &PipelinePage{Items: []Pipeline{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c, _ := newTestClient(t, srv.URL)
			got, err := tt.call(c)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("CancelWorkflow accepts the 202 message", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 202, `{"message":"Accepted."}`) })
		c, _ := newTestClient(t, srv.URL)
		require.NoError(t, c.CancelWorkflow(ctx, workflowID))
	})
}

func TestListsFollowPageTokens(t *testing.T) {
	ctx := context.Background()
	// Three pages; the tokens hold characters that must be escaped in a query.
	pages := map[string]struct{ items, next string }{
		"":          {items: `%[1]s-1`, next: `"tok 2+/="`},
		"tok 2+/=":  {items: `%[1]s-2`, next: `"tok&3"`},
		"tok&3":     {items: `%[1]s-3`, next: `null`},
		"not-there": {},
	}
	tests := []struct {
		name   string
		path   string
		item   func(id string) string
		call   func(c *Client) ([]string, error)
		prefix string
	}{
		{
			name: "ListPipelineWorkflows gathers three pages", path: "/api/v2/pipeline/" + pipelineID + "/workflow",
			item: func(id string) string {
				return fmt.Sprintf(`{"pipeline_id":"%s","id":"%s","name":"w","project_slug":"gh/acme/api","status":"success","started_by":"u","pipeline_number":1,"created_at":"2025-10-17T09:41:08Z","stopped_at":null}`, pipelineID, id)
			},
			call: func(c *Client) ([]string, error) {
				ws, err := c.ListPipelineWorkflows(ctx, pipelineID)
				var ids []string
				for _, w := range ws {
					ids = append(ids, w.ID)
				}
				return ids, err
			},
			prefix: "wf",
		},
		{
			name: "ListWorkflowJobs gathers three pages", path: "/api/v2/workflow/" + workflowID + "/job",
			item: func(id string) string {
				return fmt.Sprintf(`{"dependencies":[],"id":"%s","started_at":null,"name":"j","project_slug":"gh/acme/api","status":"queued","type":"build"}`, id)
			},
			call: func(c *Client) ([]string, error) {
				js, err := c.ListWorkflowJobs(ctx, workflowID)
				var ids []string
				for _, j := range js {
					ids = append(ids, j.ID)
				}
				return ids, err
			},
			prefix: "job",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				page, ok := pages[r.URL.Query().Get("page-token")]
				if !ok || r.URL.EscapedPath() != tt.path {
					reply(w, 404, `{"message":"Not found."}`)
					return
				}
				reply(w, 200, `{"items":[`+tt.item(fmt.Sprintf(page.items, tt.prefix))+`],"next_page_token":`+page.next+`}`)
			})
			c, _ := newTestClient(t, srv.URL)
			ids, err := tt.call(c)
			require.NoError(t, err)
			assert.Equal(t, []string{tt.prefix + "-1", tt.prefix + "-2", tt.prefix + "-3"}, ids)
			reqs := srv.requests()
			require.Len(t, reqs, 3)
			assert.Equal(t, tt.path, reqs[0].RequestURI, "the first page is asked for without a token")
			assert.Equal(t, tt.path+"?page-token=tok+2%2B%2F%3D", reqs[1].RequestURI)
			assert.Equal(t, tt.path+"?page-token=tok%263", reqs[2].RequestURI)
		})
	}
	t.Run("a page token sent twice is an error, not a loop", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, `{"items":[],"next_page_token":"again"}`)
		})
		c, _ := newTestClient(t, srv.URL)
		_, err := c.ListWorkflowJobs(ctx, workflowID)
		require.EqualError(t, err, "GET /api/v2/workflow/"+workflowID+"/job: the API sent the same page token twice")
		assert.Len(t, srv.requests(), 2)
	})
	t.Run("a failing page fails the whole list", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				reply(w, 200, `{"items":[],"next_page_token":"p2"}`)
				return
			}
			reply(w, 404, `{"message":"Workflow not found"}`)
		})
		c, _ := newTestClient(t, srv.URL)
		_, err := c.ListWorkflowJobs(ctx, workflowID)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.Status)
	})
}

func TestUnreadableAnswers(t *testing.T) {
	ctx := context.Background()
	t.Run("a read whose body is not JSON says which request and status", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `<html>`) })
		c, _ := newTestClient(t, srv.URL)
		_, err := c.GetPipeline(ctx, pipelineID)
		require.EqualError(t, err, "GET /api/v2/pipeline/"+pipelineID+": the 200 response could not be read: invalid character '<' looking for beginning of value")
		assert.Len(t, srv.requests(), 1, "a malformed answer is not retried")
	})
	tests := []struct {
		name, body string
		status     int
		call       func(c *Client) error
		want       string
	}{
		{
			name: "a 201 to TriggerPipeline that is not JSON", status: 201, body: `Created`,
			call: func(c *Client) error { _, err := c.TriggerPipeline(ctx, "gh/acme/api", nil); return err },
			want: "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (the 201 response could not be read: invalid character 'C' looking for beginning of value)",
		},
		{
			name: "a 201 to TriggerPipeline without an id", status: 201, body: `{"state":"created"}`,
			call: func(c *Client) error { _, err := c.TriggerPipeline(ctx, "gh/acme/api", nil); return err },
			want: "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (the 201 response has no usable pipeline id)",
		},
		{
			name: `a 201 to TriggerPipeline whose id is ".."`, status: 201, body: `{"id":"..","state":"pending","number":1,"created_at":"2025-01-01T00:00:00Z"}`,
			call: func(c *Client) error { _, err := c.TriggerPipeline(ctx, "gh/acme/api", nil); return err },
			want: "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (the 201 response has no usable pipeline id)",
		},
		{
			name: `a 201 to RunPipeline whose id is a path`, status: 201, body: `{"id":"../../me","state":"pending","number":1}`,
			call: func(c *Client) error { _, err := c.RunPipeline(ctx, "gh", "acme", "api", nil); return err },
			want: "POST /api/v2/project/gh/acme/api/pipeline/run: the request was sent but its outcome is unknown: a pipeline may have been created (the 201 response has no usable pipeline id)",
		},
		{
			name: `a 200 to RunPipeline with an id that is not one`, status: 200, body: `{"id":"x","message":"ok"}`,
			call: func(c *Client) error { _, err := c.RunPipeline(ctx, "gh", "acme", "api", nil); return err },
			want: "POST /api/v2/project/gh/acme/api/pipeline/run: the request was sent but its outcome is unknown: a pipeline may have been created (the 200 response has no usable pipeline id)",
		},
		{
			name: "a 201 to RunPipeline without an id", status: 201, body: `{"message":"ok"}`,
			call: func(c *Client) error { _, err := c.RunPipeline(ctx, "gh", "acme", "api", nil); return err },
			want: "POST /api/v2/project/gh/acme/api/pipeline/run: the request was sent but its outcome is unknown: a pipeline may have been created (the 201 response has no usable pipeline id)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name+" leaves the outcome unknown", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c, _ := newTestClient(t, srv.URL)
			err := tt.call(c)
			require.EqualError(t, err, tt.want)
			assert.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
			assert.Len(t, srv.requests(), 1)
		})
	}
}

// A timestamp that cannot be read counts as missing, and the rest of the answer is kept: one
// odd field must not end a wait that only uses it for durations.
func TestUnreadableTimestampsCountAsMissing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, value string
	}{
		{"a word", `"yesterday"`},
		{"a number", `1700000000`},
		{"an object", `{"at":"2025-10-17T09:41:08Z"}`},
		{"a date without a time", `"2025-10-17"`},
		{"an empty string", `""`},
	} {
		t.Run("a stopped_at that is "+tc.name, func(t *testing.T) {
			body := `{"items":[{"id":"w1","name":"build","status":"success","created_at":"2025-10-17T09:41:08Z","stopped_at":` + tc.value + `}],"next_page_token":null}`
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, body) })
			var trace bytes.Buffer
			c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &trace })
			ws, err := c.ListPipelineWorkflows(ctx, pipelineID)
			require.NoError(t, err)
			require.Len(t, ws, 1)
			assert.Equal(t, "success", ws[0].Status, "the rest of the workflow is read")
			assert.Equal(t, ts("2025-10-17T09:41:08Z"), ws[0].CreatedAt)
			assert.Nil(t, ws[0].StoppedAt)
			if tc.value != `""` {
				assert.Contains(t, trace.String(), `workflow "build": stopped_at `+tc.value+` is not a time; read as missing`)
			}
		})
	}
	t.Run("every timestamped answer reads its timestamps leniently", func(t *testing.T) {
		var p Pipeline
		require.NoError(t, json.Unmarshal([]byte(`{"id":"p","number":7,"state":"created","created_at":"soon","updated_at":3,"trigger":{"type":"api","received_at":"?"}}`), &p))
		assert.Equal(t, "created", p.State)
		assert.True(t, p.CreatedAt.IsZero() && p.UpdatedAt.IsZero() && p.Trigger.ReceivedAt.IsZero())
		assert.Equal(t, []string{`pipeline "7": created_at "soon"`, `pipeline "7": updated_at 3`, `pipeline "7": trigger.received_at "?"`}, p.unreadTimes())
		var j Job
		require.NoError(t, json.Unmarshal([]byte(`{"name":"test","status":"failed","job_number":4,"started_at":"then","stopped_at":"2025-10-17T09:41:08Z"}`), &j))
		assert.Equal(t, int64(4), *j.JobNumber)
		assert.Nil(t, j.StartedAt)
		assert.Equal(t, tsp("2025-10-17T09:41:08Z"), j.StoppedAt)
		var c PipelineCreation
		require.NoError(t, json.Unmarshal([]byte(`{"id":"x","number":3,"state":"pending","created_at":null}`), &c))
		assert.Equal(t, "x", c.ID)
		assert.Empty(t, c.unreadTimes(), "null is missing, not unreadable")
		assert.Error(t, json.Unmarshal([]byte(`{"id":"x","created_at":`), &c), "a body that is not JSON is still an error")
	})
	t.Run("pipeline/run keeps its message beside a created pipeline's fields", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, `{"message":"Pipeline not triggered","created_at":"never"}`)
		})
		c, _ := newTestClient(t, srv.URL)
		res, err := c.RunPipeline(ctx, "gh", "acme", "api", nil)
		require.NoError(t, err)
		assert.Equal(t, "Pipeline not triggered", res.Message)
	})
}
