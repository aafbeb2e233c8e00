package circleci

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// summaryJSON is an insights summary as the description shapes it.
const summaryJSON = `{
  "metrics": {
    "total_runs": 12, "successful_runs": 10, "mttr": 300, "total_credits_used": 0, "failed_runs": 2,
    "success_rate": 0.83, "completed_runs": 12,
    "window_start": "2026-05-01T10:00:00.000Z", "window_end": "2026-05-06T10:00:00.000Z",
    "duration_metrics": {"min": 540, "mean": 600, "median": 598, "p95": 660, "max": 700, "standard_deviation": 30.5},
    "throughput": 2.4
  },
  "trends": {"total_runs": 1, "failed_runs": 1, "success_rate": 1, "p95_duration_secs": 1, "median_duration_secs": 1, "total_credits_used": 1, "mttr": 1, "throughput": 1},
  "workflow_names": ["build", "deploy"]
}`

func TestWorkflowDurationReadsTheInsightsSummary(t *testing.T) {
	tests := []struct {
		name      string
		branch    string
		status    int
		body      string
		wantQuery string
		want      WorkflowDurations
		ok        bool
		err       string
	}{
		{"a summary gives the durations", "main", 200, summaryJSON, "branch=main",
			WorkflowDurations{Runs: 12, Min: 540 * time.Second, Median: 598 * time.Second, P95: 660 * time.Second}, true, ""},
		{"no branch asks over all branches", "", 200, summaryJSON, "all-branches=true",
			WorkflowDurations{Runs: 12, Min: 540 * time.Second, Median: 598 * time.Second, P95: 660 * time.Second}, true, ""},
		{"a 404 is no history, not an error", "main", 404, `{"message":"Workflow not found"}`, "branch=main", WorkflowDurations{}, false, ""},
		{"null durations are no history", "main", 200, `{"metrics":{"total_runs":1,"duration_metrics":{"min":null,"median":null,"p95":null}}}`, "branch=main", WorkflowDurations{}, false, ""},
		{"an empty object is no history", "main", 200, `{}`, "branch=main", WorkflowDurations{}, false, ""},
		{"a refusal is an error the caller may ignore", "main", 403, `{"message":"Permission denied"}`, "branch=main", WorkflowDurations{}, false,
			"GET /api/v2/insights/gh%2Facme%2Fapi/workflows/build%20and%20test/summary: 403 Permission denied: the token's user lacks permission for this; check their role in the organization and project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c, _ := newTestClient(t, srv.URL)
			got, ok, err := c.WorkflowDuration(context.Background(), "gh/acme/api", "build and test", tt.branch)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "/api/v2/insights/gh%2Facme%2Fapi/workflows/build%20and%20test/summary?"+tt.wantQuery, reqs[0].RequestURI)
		})
	}
}

func TestWorkflowDurationRefusesEmptyNames(t *testing.T) {
	c, _ := newTestClient(t, "https://circleci.com")
	_, _, err := c.WorkflowDuration(context.Background(), "gh/acme/api", "", "")
	assert.EqualError(t, err, "the workflow name is empty")
	_, _, err = c.WorkflowDuration(context.Background(), "", "build", "")
	assert.EqualError(t, err, "the project slug is empty")
}

func TestTheInsightsSummaryFollowsTheOpenAPIDescription(t *testing.T) {
	s := loadSpec(t)
	schema := s.responseSchema(t, "/insights/{project-slug}/workflows/{workflow-name}/summary", "get", "200")
	// baton reads a few fields of a large answer: each must be in the description, with its type;
	// the fields it leaves alone need not be in the type.
	typ := reflect.TypeOf(workflowSummary{})
	s.conform(t, typ.Name(), typ, withoutRequired(schema))
}

// withoutRequired copies a schema without its "required" lists.
func withoutRequired(node map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range node {
		switch v := v.(type) {
		case map[string]any:
			out[k] = withoutRequired(v)
		default:
			if k != "required" {
				out[k] = v
			}
		}
	}
	return out
}
