package watch

import (
	"context"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// Insights is the client's insights method; *circleci.Client has it.
type Insights interface {
	WorkflowDuration(ctx context.Context, slug, workflow, branch string) (circleci.WorkflowDurations, bool, error)
}

// History is what CircleCI's insights say about each workflow's usual duration, asked once per
// project and workflow name however many pipelines run it; its Expect paces the polls
// (Options.Expect). A workflow without history, or an insights request that fails, leaves the
// polls backing off as they do without it. It is safe for concurrent use.
type History struct {
	api      Insights
	mu       sync.Mutex
	known    map[[2]string]circleci.WorkflowDurations // project, workflow → durations; Median 0: none
	requests int
}

// NewHistory asks api.
func NewHistory(api Insights) *History {
	return &History{api: api, known: map[[2]string]circleci.WorkflowDurations{}}
}

// Expect is the workflow's median duration, with no early margin: the sparse polls before it
// halve the time left, so a run that ends sooner is still seen within a few seconds, and dense
// polls from the fastest run on would cost a poll every 5s for however much faster that was
// (measured on 10-minute runs varying by ±20s: 28 requests against 31, the end seen 5s late
// against 2.5s). It asks about the workflow on every branch of the project: one request, and a
// new branch has history too. (branch is for a caller that knows better.)
func (h *History) Expect(ctx context.Context, project, branch, workflow string) (expected, early time.Duration, ok bool) {
	key := [2]string{project, workflow}
	h.mu.Lock()
	d, asked := h.known[key]
	h.mu.Unlock()
	if !asked {
		d = h.ask(ctx, project, branch, workflow)
		h.mu.Lock()
		h.known[key] = d
		h.mu.Unlock()
	}
	if d.Median <= 0 {
		return 0, 0, false
	}
	return d.Median, 0, true
}

func (h *History) ask(ctx context.Context, project, _, workflow string) circleci.WorkflowDurations {
	h.count()
	d, found, err := h.api.WorkflowDuration(ctx, project, workflow, "")
	if err != nil || !found {
		return circleci.WorkflowDurations{}
	}
	return d
}

func (h *History) count() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
}

// Requests is how many insights requests it made.
func (h *History) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}
