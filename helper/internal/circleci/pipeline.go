package circleci

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/baton-ci/baton/helper/internal/safetext"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// TriggerPipelineRequest builds, without sending it, POST /api/v2/project/{project-slug}/pipeline.
// The slug ("gh/acme/api") is one path segment, escaped: /api/v2/project/gh%2Facme%2Fapi/pipeline.
// body is sent as it is, with Content-Type: application/json when it is not empty.
func (c *Client) TriggerPipelineRequest(ctx context.Context, slug string, body []byte) (*http.Request, error) {
	if err := checkSegment("project slug", slug); err != nil {
		return nil, err
	}
	return c.newRequest(ctx, http.MethodPost, c.endpoint("project", slug, "pipeline"), body)
}

// RunPipelineRequest builds, without sending it,
// POST /api/v2/project/{provider}/{organization}/{project}/pipeline/run, each segment escaped.
func (c *Client) RunPipelineRequest(ctx context.Context, provider, org, project string, body []byte) (*http.Request, error) {
	for _, s := range [...]struct{ what, v string }{{"provider", provider}, {"organization", org}, {"project", project}} {
		if err := checkSegment(s.what, s.v); err != nil {
			return nil, err
		}
	}
	return c.newRequest(ctx, http.MethodPost, c.endpoint("project", provider, org, project, "pipeline", "run"), body)
}

// TriggerPipeline triggers a pipeline through the older endpoint (not for GitHub App or GitLab
// projects). It never sends the request twice when the first may have been acted on: such errors
// wrap ErrOutcomeUnknown.
func (c *Client) TriggerPipeline(ctx context.Context, slug string, body []byte) (*PipelineCreation, error) {
	req, err := c.TriggerPipelineRequest(ctx, slug, body)
	if err != nil {
		return nil, err
	}
	res, err := c.do(req, createsPipeline)
	if err != nil {
		return nil, err
	}
	var created PipelineCreation
	if err := c.unmarshal(res.body, &created); err != nil {
		return nil, c.unreadableCreation(req, res, err)
	}
	c.noteUnread(req.URL.EscapedPath(), &created)
	if !usableID(created.ID) {
		return nil, c.unreadableCreation(req, res, nil)
	}
	return &created, nil
}

// RunPipeline triggers a pipeline through the recommended endpoint. A 200 answer means no
// pipeline was created (e.g. the commit asked CI to skip it): RunResult.Created is nil and
// RunResult.Message says why. Like TriggerPipeline, it never sends twice what may have been
// acted on.
func (c *Client) RunPipeline(ctx context.Context, provider, org, project string, body []byte) (*RunResult, error) {
	req, err := c.RunPipelineRequest(ctx, provider, org, project, body)
	if err != nil {
		return nil, err
	}
	res, err := c.do(req, createsPipeline)
	if err != nil {
		return nil, err
	}
	// Two reads of one answer: PipelineCreation decodes itself (its timestamps leniently), which
	// an embedding struct would inherit, and so lose the message.
	var created PipelineCreation
	var answer struct {
		Message string `json:"message"`
	}
	if err := c.unmarshal(res.body, &created); err != nil {
		return nil, c.unreadableCreation(req, res, err)
	}
	if err := c.unmarshal(res.body, &answer); err != nil {
		return nil, c.unreadableCreation(req, res, err)
	}
	c.noteUnread(req.URL.EscapedPath(), &created)
	switch {
	case usableID(created.ID):
		return &RunResult{Created: &created}, nil
	case created.ID != "", res.status == http.StatusCreated:
		return nil, c.unreadableCreation(req, res, nil)
	}
	msg := oneLine(redactString(answer.Message, c.token), maxMessageLen)
	if msg == "" {
		msg = "the API gave no reason"
	}
	c.trace.note("* no pipeline was created: %s", msg)
	return &RunResult{Message: msg}, nil
}

// unreadableCreation is a 2xx answer to a trigger that does not say which pipeline was created:
// one may have been, so the outcome is unknown (never a usage error, though an id such as ".."
// could not be used in a path). err nil means the answer had no usable id.
func (c *Client) unreadableCreation(req *http.Request, res *response, err error) error {
	cause := &textError{msg: fmt.Sprintf("the %d response has no usable pipeline id", res.status)}
	if err != nil {
		cause = &textError{msg: safetext.Terminal(redactString(fmt.Sprintf("the %d response could not be read: %v", res.status, err), c.token)), err: err}
	}
	return c.unknown(req.Method, req.URL.EscapedPath(), cause)
}

// GetPipeline returns the pipeline with the given ID: GET /api/v2/pipeline/{pipeline-id}.
func (c *Client) GetPipeline(ctx context.Context, id string) (*Pipeline, error) {
	if err := checkSegment("pipeline ID", id); err != nil {
		return nil, err
	}
	var p Pipeline
	if err := c.get(ctx, c.endpoint("pipeline", id), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ListProjectPipelines returns one page of the project's pipelines, newest first:
// GET /api/v2/project/{project-slug}/pipeline. branch "" means all branches; pageToken "" means
// the first page, else PipelinePage.NextPageToken of the page before.
func (c *Client) ListProjectPipelines(ctx context.Context, slug, branch, pageToken string) (*PipelinePage, error) {
	if err := checkSegment("project slug", slug); err != nil {
		return nil, err
	}
	req, res, err := c.getRaw(ctx, c.pipelinesURL(slug, branch, pageToken))
	if err != nil {
		return nil, err
	}
	page := PipelinePage{Items: []Pipeline{}}
	if page.Items, page.NextPageToken, err = decodePage(res.body, page.Items, maxListItems); err != nil {
		return nil, c.readError(req, res, err)
	}
	scrub(c.red, &page)
	for i := range page.Items {
		c.noteUnread(req.URL.EscapedPath(), &page.Items[i])
	}
	return &page, nil
}

// pipelinesURL is GET /project/{slug}/pipeline, for branch ("" for every branch), from pageToken.
func (c *Client) pipelinesURL(slug, branch, pageToken string) *url.URL {
	u := c.endpoint("project", slug, "pipeline")
	q := url.Values{}
	if branch != "" {
		q.Set("branch", branch)
	}
	if pageToken != "" {
		q.Set("page-token", pageToken)
	}
	u.RawQuery = q.Encode()
	return u
}

// NewestPipeline reads the first page of the project's pipelines on branch ("" for every branch),
// newest first, and returns the first one match accepts, or nil when none on the page does. The
// items are decoded one by one up to that one only: pre-flight wants the newest pipeline on a
// ref, and decoding a whole page of 20 cost a cold trigger about a millisecond.
func (c *Client) NewestPipeline(ctx context.Context, slug, branch string, match func(*Pipeline) bool) (*Pipeline, error) {
	if err := checkSegment("project slug", slug); err != nil {
		return nil, err
	}
	req, res, err := c.getRaw(ctx, c.pipelinesURL(slug, branch, ""))
	if err != nil {
		return nil, err
	}
	p, err := firstItem(res.body, match)
	if err != nil {
		return nil, c.readError(req, res, err)
	}
	if p != nil {
		scrub(c.red, p)
		c.noteUnread(req.URL.EscapedPath(), p)
	}
	return p, nil
}

// usableID reports whether a trigger's answer names a pipeline: every pipeline id is a UUID,
// and "", ".." or a path names none (and could not be used in a path).
func usableID(id string) bool { return slug.IsUUID(id) }
