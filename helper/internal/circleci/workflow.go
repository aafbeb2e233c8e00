package circleci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// maxPages bounds how many pages a list follows, in case the API keeps sending page tokens.
const maxPages = 100

// ListPipelineWorkflows returns all the pipeline's workflows, following page tokens:
// GET /api/v2/pipeline/{pipeline-id}/workflow.
func (c *Client) ListPipelineWorkflows(ctx context.Context, pipelineID string) ([]Workflow, error) {
	if err := checkSegment("pipeline ID", pipelineID); err != nil {
		return nil, err
	}
	return listAll[Workflow](ctx, c, c.endpoint("pipeline", pipelineID, "workflow"))
}

// GetWorkflow returns the workflow with the given ID: GET /api/v2/workflow/{id}.
func (c *Client) GetWorkflow(ctx context.Context, id string) (*Workflow, error) {
	if err := checkSegment("workflow ID", id); err != nil {
		return nil, err
	}
	var w Workflow
	if err := c.get(ctx, c.endpoint("workflow", id), &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// ListWorkflowJobs returns all the workflow's jobs, following page tokens:
// GET /api/v2/workflow/{id}/job.
func (c *Client) ListWorkflowJobs(ctx context.Context, workflowID string) ([]Job, error) {
	if err := checkSegment("workflow ID", workflowID); err != nil {
		return nil, err
	}
	return listAll[Job](ctx, c, c.endpoint("workflow", workflowID, "job"))
}

// CancelWorkflow cancels a running workflow: POST /api/v2/workflow/{id}/cancel. Cancelling twice
// is harmless, so it is retried like a read.
func (c *Client) CancelWorkflow(ctx context.Context, id string) error {
	if err := checkSegment("workflow ID", id); err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, c.endpoint("workflow", id, "cancel"), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, repeatable)
	return err
}

// listAll follows next_page_token (sent back as query page-token) until it is null or empty.
// Each page is decoded item by item from its raw bytes, which are dropped before the next page
// is asked for; more than maxListItems items in all is an error.
func listAll[T any](ctx context.Context, c *Client, base *url.URL) ([]T, error) {
	all, _, err := listPages[T](ctx, c, base, maxListItems, false)
	return all, err
}

// listPages is listAll with its own limit; with keepFirst, a list longer than limit is not an
// error: its first limit items come back with truncated set, and no further page is asked for.
func listPages[T any](ctx context.Context, c *Client, base *url.URL, limit int, keepFirst bool) (_ []T, truncated bool, _ error) {
	all := []T{}
	seen := map[string]bool{}
	token := ""
	for range maxPages {
		u := *base
		if token != "" {
			u.RawQuery = url.Values{"page-token": {token}}.Encode()
		}
		req, res, err := c.getRaw(ctx, &u)
		if err != nil {
			return nil, false, err
		}
		n := len(all)
		all, token, err = decodePage(res.body, all, limit)
		scrub(c.red, all[n:])
		for i := n; i < len(all); i++ {
			c.noteUnread(req.URL.EscapedPath(), &all[i])
		}
		var full listFullError
		switch {
		case keepFirst && (errors.As(err, &full) || err == nil && token != "" && len(all) >= limit):
			return all, true, nil
		case err != nil:
			return nil, false, c.readError(req, res, err)
		case token == "":
			return all, false, nil
		case seen[token]:
			return nil, false, exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("GET %s: the API sent the same page token twice", base.EscapedPath()))
		}
		seen[token] = true
	}
	if keepFirst {
		return all, true, nil
	}
	return nil, false, exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("GET %s: more than %d pages", base.EscapedPath(), maxPages))
}
