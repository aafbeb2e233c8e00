package circleci

import (
	"context"
	"net/http"
)

// ApproveJob approves a workflow's approval job that is on hold:
// POST /api/v2/workflow/{id}/approve/{approval_request_id}, where the request id is the job's
// approval_request_id from ListWorkflowJobs. The answer (202) carries nothing baton needs.
//
// A second approval of the same job changes nothing (the API refuses it), so the request is
// retried like a read; a caller that gets an error after a retry reads the job list again to
// learn whether an earlier attempt went through.
func (c *Client) ApproveJob(ctx context.Context, workflowID, approvalRequestID string) error {
	if err := checkSegment("workflow ID", workflowID); err != nil {
		return err
	}
	if err := checkSegment("approval request ID", approvalRequestID); err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, c.endpoint("workflow", workflowID, "approve", approvalRequestID), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, repeatable)
	return err
}
