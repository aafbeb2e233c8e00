package circleci

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// WorkflowDurations is how long a workflow's recent runs took, as CircleCI's insights report
// them; the follower uses Median as the expected duration (package pace).
type WorkflowDurations struct {
	Runs   int64 // the runs in the reporting window, still running ones included
	Min    time.Duration
	Median time.Duration
	P95    time.Duration
}

// workflowSummary is the part of the insights summary baton reads (spec_test.go holds it to
// the description).
type workflowSummary struct {
	Metrics struct {
		TotalRuns       int64 `json:"total_runs"`
		DurationMetrics struct {
			Min    *int64 `json:"min"` // seconds; null without a completed run
			Median *int64 `json:"median"`
			P95    *int64 `json:"p95"`
		} `json:"duration_metrics"`
	} `json:"metrics"`
}

// WorkflowDuration asks CircleCI's insights how long the project's workflow usually runs:
// GET /api/v2/insights/{project-slug}/workflows/{workflow-name}/summary, on branch, or over all
// branches when branch is "". ok is false when there is no history to go by: a 404 (no run of
// that name, or a project insights do not cover) or no completed run. Such a workflow is
// followed as if nothing were known; an error means the same to a caller, which should not let
// a missing estimate stop it from waiting.
func (c *Client) WorkflowDuration(ctx context.Context, slug, workflow, branch string) (d WorkflowDurations, ok bool, err error) {
	if err := checkSegment("project slug", slug); err != nil {
		return d, false, err
	}
	if err := checkSegment("workflow name", workflow); err != nil {
		return d, false, err
	}
	u := c.endpoint("insights", slug, "workflows", workflow, "summary")
	q := url.Values{"all-branches": {"true"}}
	if branch != "" {
		q = url.Values{"branch": {branch}}
	}
	u.RawQuery = q.Encode()
	var s workflowSummary
	if err := c.get(ctx, u, &s); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
			return d, false, nil
		}
		return d, false, err
	}
	m := s.Metrics.DurationMetrics
	if m.Median == nil || *m.Median <= 0 {
		return d, false, nil
	}
	secs := func(p *int64) time.Duration {
		if p == nil || *p < 0 {
			return 0
		}
		return seconds(float64(*p))
	}
	return WorkflowDurations{Runs: s.Metrics.TotalRuns, Min: secs(m.Min), Median: secs(m.Median), P95: secs(m.P95)}, true, nil
}
