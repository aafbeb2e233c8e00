package circleci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// This file reads what a finished job left behind: its test results (API v2), its steps with
// the links to their output (API v1.1, the only API that serves step output), and that output.
// The caller asks only for failed jobs, so a run whose downstream succeeds costs nothing more.

// TestResult is an item of GET /project/{project-slug}/{job-number}/tests (schema
// TestsResponse): one test case as the job's store_test_results reported it.
type TestResult struct {
	Message   string  `json:"message"` // the failure message; "" (null) for a passing test
	Source    string  `json:"source"`
	RunTime   float64 `json:"run_time"` // seconds
	File      string  `json:"file"`
	Result    string  `json:"result"` // success, failure, skipped, error, …
	Name      string  `json:"name"`
	Classname string  `json:"classname"`
}

// JobTests are a job's test results, the first limit of them when Truncated.
type JobTests struct {
	Tests     []TestResult
	Truncated bool // the job reported more than were read
}

// ListJobTests reads the job's test results, following page tokens, up to limit results (0 →
// the client's list cap): GET /api/v2/project/{project-slug}/{job-number}/tests.
func (c *Client) ListJobTests(ctx context.Context, slug string, jobNumber int64, limit int) (*JobTests, error) {
	if err := checkSegment("project slug", slug); err != nil {
		return nil, err
	}
	if jobNumber <= 0 {
		return nil, fmt.Errorf("job number %d: must be positive", jobNumber)
	}
	if limit <= 0 || limit > maxListItems {
		limit = maxListItems
	}
	tests, truncated, err := listPages[TestResult](ctx, c, c.endpoint("project", slug, strconv.FormatInt(jobNumber, 10), "tests"), limit, true)
	if err != nil {
		return nil, err
	}
	return &JobTests{Tests: tests, Truncated: truncated}, nil
}

// ErrNotServed is returned by GetJobSteps for projects API v1.1 does not know (circleci/ slugs
// of GitLab and GitHub App projects): there is no step output to read, only the job's link.
var ErrNotServed = errors.New("API v1.1 does not serve this project's jobs")

// JobSteps is the part of GET /api/v1.1/project/{vcs}/{org}/{repo}/{num} baton reads: each
// step, with its actions (one per parallel container).
type JobSteps struct {
	Steps []JobStep `json:"steps"`
}

// JobStep is one step of a job.
type JobStep struct {
	Name    string       `json:"name"`
	Actions []StepAction `json:"actions"`
}

// StepAction is one step on one container.
type StepAction struct {
	Name      string `json:"name"`
	Status    string `json:"status"` // success, failed, timedout, canceled, running, …
	Failed    *bool  `json:"failed"`
	Index     int    `json:"index"`     // the container
	ExitCode  *int   `json:"exit_code"` // null for steps that ran no command
	OutputURL string `json:"output_url"`
	HasOutput bool   `json:"has_output"`
}

// v1Provider is the VCS part of a v1.1 project path; "" for providers v1.1 does not know.
func v1Provider(p string) string {
	switch strings.ToLower(p) {
	case "gh", "github":
		return "github"
	case "bb", "bitbucket":
		return "bitbucket"
	}
	return ""
}

// GetJobSteps reads the job's steps from API v1.1: GET /api/v1.1/project/{vcs}/{org}/{repo}/{num}.
// API v2 has no step output; v1.1 is the API CircleCI documents for it. ErrNotServed for
// circleci/ projects.
func (c *Client) GetJobSteps(ctx context.Context, slug string, jobNumber int64) (*JobSteps, error) {
	parts := strings.Split(slug, "/")
	if len(parts) != 3 {
		return nil, fmt.Errorf("project slug %q: want PROVIDER/ORG/REPO", slug)
	}
	vcs := v1Provider(parts[0])
	if vcs == "" {
		return nil, ErrNotServed
	}
	for _, p := range parts[1:] {
		if err := checkSegment("project slug", p); err != nil {
			return nil, err
		}
	}
	if jobNumber <= 0 {
		return nil, fmt.Errorf("job number %d: must be positive", jobNumber)
	}
	u := *c.base
	segs := []string{"api", "v1.1", "project", vcs, parts[1], parts[2], strconv.FormatInt(jobNumber, 10)}
	var plain, raw strings.Builder
	for _, s := range segs {
		plain.WriteString("/" + s)
		raw.WriteString("/" + url.PathEscape(s))
	}
	u.Path, u.RawPath = plain.String(), raw.String()
	var out JobSteps
	if err := c.get(ctx, &u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StepOutputMessage is an item of a step's output: CircleCI serves it as a JSON list of these.
type StepOutputMessage struct {
	Type    string `json:"type"` // out, err
	Message string `json:"message"`
}

// GetStepOutput reads a step's output from its output_url: its last messages, the last
// MaxStepOutput bytes of their text (the first one kept starting at a line), however large the
// output is; it is read in one pass, never held whole. That URL is presigned and on another host
// (a storage bucket), so it is sent WITHOUT the token; it must be https (or http to a loopback
// address).
func (c *Client) GetStepOutput(ctx context.Context, outputURL string) ([]StepOutputMessage, error) {
	u, err := foreignURL(outputURL)
	if err != nil {
		return nil, fmt.Errorf("output URL: %w", err)
	}
	req, err := c.newRequest(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Del("Circle-Token") // presigned: the signature is the authorization
	res, err := c.doReading(req, repeatable, func(r io.Reader) ([]byte, error) { return readStepTail(r, MaxStepOutput) })
	if err != nil {
		return nil, err
	}
	var out []StepOutputMessage
	if err := c.decode(req, res, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// foreignURL checks a URL the API handed out for another host: absolute, https (http only for a
// loopback address), no user information.
func foreignURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, fmt.Errorf("scheme %q is not https", u.Scheme)
	case u.Hostname() == "":
		return nil, errors.New("has no host")
	case u.User != nil:
		return nil, errors.New("carries user information")
	}
	return u, nil
}
