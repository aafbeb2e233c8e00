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
	known    map[[2]string]*asked // project, workflow → what insights said
	requests int
}

// asked is one project and workflow's history: d once done is closed; Median 0 means none.
// A request that failed (a 429, a timeout) is asked again by a later poll, up to maxHistoryAsks
// times, so that one throttled answer does not turn pacing off for the whole run.
type asked struct {
	done   chan struct{}
	d      circleci.WorkflowDurations
	failed bool
	tries  int
}

// maxHistoryAsks bounds the insights requests for one workflow when they keep failing.
const maxHistoryAsks = 3

// NewHistory asks api.
func NewHistory(api Insights) *History {
	return &History{api: api, known: map[[2]string]*asked{}}
}

// Expect is the workflow's median duration, with no early margin: the sparse polls before it
// halve the time left, so a run that ends sooner is still seen within a few seconds, and dense
// polls from the fastest run on would cost a poll every 5s for however much faster that was
// (measured on 10-minute runs varying by ±20s: 28 requests against 31, the end seen 5s late
// against 2.5s). It asks about the workflow on every branch of the project: one request, and a
// new branch has history too. (branch is for a caller that knows better.) Trackers of the same
// workflow that ask at once share one request.
func (h *History) Expect(ctx context.Context, project, branch, workflow string) (expected, early time.Duration, ok bool) {
	key := [2]string{project, workflow}
	h.mu.Lock()
	a := h.known[key]
	if a == nil || isDone(a.done) && a.failed && a.tries < maxHistoryAsks { // failed is read only once done is closed
		tries := 0
		if a != nil {
			tries = a.tries
		}
		a = &asked{done: make(chan struct{}), tries: tries + 1}
		h.known[key] = a
		h.requests++
		h.mu.Unlock()
		d, found, err := h.api.WorkflowDuration(ctx, project, workflow, "")
		if found && err == nil {
			a.d = d
		}
		a.failed = err != nil
		close(a.done)
	} else {
		h.mu.Unlock()
		select {
		case <-a.done:
		case <-ctx.Done():
			return 0, 0, false
		}
	}
	if a.d.Median <= 0 {
		return 0, 0, false
	}
	return a.d.Median, 0, true
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Requests is how many insights requests it made.
func (h *History) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}
