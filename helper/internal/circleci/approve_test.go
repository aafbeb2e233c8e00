package circleci

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApproveJobPostsToTheWorkflowsApproveRoute(t *testing.T) {
	const requestID = "949f0edf-83c6-4a0e-a34e-c376f8fc7499"
	tests := []struct {
		name     string
		statuses []int
		body     string
		err      string
		sent     int
	}{
		{"a 202 is an approval", []int{202}, `{"message": "Accepted."}`, "", 1},
		{"a refusal is an API error quoting the message", []int{400}, `{"message": "Job is not on hold."}`,
			"POST /api/v2/workflow/" + workflowID + "/approve/" + requestID + ": 400 Job is not on hold.", 1},
		{"a 5xx is retried, as approving twice changes nothing", []int{503, 202}, `{"message": "Accepted."}`, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, tt.statuses[min(n, len(tt.statuses))-1], tt.body)
			})
			c, _ := newTestClient(t, srv.URL)
			err := c.ApproveJob(context.Background(), workflowID, requestID)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
			} else {
				require.NoError(t, err)
			}
			reqs := srv.requests()
			require.Len(t, reqs, tt.sent)
			assert.Equal(t, "POST", reqs[0].Method)
			assert.Equal(t, "/api/v2/workflow/"+workflowID+"/approve/"+requestID, reqs[0].EscapedPath)
			assert.Equal(t, testToken, reqs[0].Header.Get("Circle-Token"))
			assert.Empty(t, reqs[0].Body)
		})
	}
	t.Run("an empty id is refused before anything is sent", func(t *testing.T) {
		c, _ := newTestClient(t, "http://127.0.0.1:1")
		assert.ErrorContains(t, c.ApproveJob(context.Background(), workflowID, ""), "approval request ID is empty")
		assert.ErrorContains(t, c.ApproveJob(context.Background(), "..", requestID), "workflow ID")
	})
}
