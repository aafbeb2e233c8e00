// Package detail finds out why a downstream job failed, and brings its artifacts back: the
// job's failing tests (API v2's test metadata), the last lines of the step that failed (API
// v1.1's job details, whose steps link to their output), and its artifacts, written below a
// folder only through paths that cannot leave the job's own folder.
//
// It asks only for what is wanted: tests and output only for failed jobs, artifacts only when
// asked for. Every request goes through the client, and so through its request budget.
//
// Files, by responsibility:
//
//   - detail.go: Fetch, a failed job's tests and step output.
//   - text.go: the pure parts: which tests failed, a test as one line, a log's tail.
//   - artifacts.go: downloading artifacts a few at a time within bounds on their number, size
//     and time, each file on a path of its own (checked on disk afterwards), path safety, the
//     glob filter.
package detail

import (
	"context"
	"errors"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// API is what Fetch needs of the CircleCI client.
type API interface {
	ListJobTests(ctx context.Context, slug string, jobNumber int64, limit int) (*circleci.JobTests, error)
	GetJobSteps(ctx context.Context, slug string, jobNumber int64) (*circleci.JobSteps, error)
	GetStepOutput(ctx context.Context, outputURL string) ([]circleci.StepOutputMessage, error)
}

// Defaults.
const (
	DefaultLogLines = 20
	// MaxTests is how many test results are read of one job: far more than any page shows, few
	// enough that a job reporting a million tests costs a bounded number of requests.
	MaxTests = 5000
	// MaxLogLines bounds --log-lines.
	MaxLogLines = 1000
)

// Options say what Fetch reads.
type Options struct {
	LogLines int  // lines of the failed step's output; 0 → none read
	AllTests bool // keep passing tests too (for --junit-all-tests), not only failures
}

// Job is what Fetch found about one failed job. Strings are as the server sent them (the
// token already scrubbed by the client); printers sanitize them.
type Job struct {
	Tests       []circleci.TestResult // the failures first, in the server's order; then, with AllTests, the rest
	Failed      int                   // failing tests among those read
	Total       int                   // tests read
	Truncated   bool                  // the job had more tests than were read
	TestsErr    error                 // the tests could not be read
	Step        string                // the name of the step that failed; "" when not known
	Tail        []string              // its last lines, ANSI codes removed
	TailErr     error                 // the output could not be read
	NoOutputAPI bool                  // v1.1 does not serve the project: only the job's link helps
}

// Fetch reads a failed job's tests and the tail of its failing step. Errors are kept in Job,
// not returned: a job whose details cannot be read is still reported, with its link.
func Fetch(ctx context.Context, api API, slug string, jobNumber int64, o Options) *Job {
	j := &Job{}
	if jobNumber <= 0 {
		return j
	}
	if tests, err := api.ListJobTests(ctx, slug, jobNumber, MaxTests); err != nil {
		j.TestsErr = err
	} else {
		j.Total, j.Truncated = len(tests.Tests), tests.Truncated
		j.Tests, j.Failed = Select(tests.Tests, o.AllTests)
	}
	if o.LogLines > 0 {
		j.Step, j.Tail, j.TailErr = stepTail(ctx, api, slug, jobNumber, min(o.LogLines, MaxLogLines))
		j.NoOutputAPI = errors.Is(j.TailErr, circleci.ErrNotServed)
	}
	return j
}

// stepTail reads the job's steps, picks the one that failed and reads the last n lines of its
// output (of every container it failed on, one after another).
func stepTail(ctx context.Context, api API, slug string, jobNumber int64, n int) (string, []string, error) {
	steps, err := api.GetJobSteps(ctx, slug, jobNumber)
	if err != nil {
		return "", nil, err
	}
	step, actions := FailedStep(steps)
	if step == "" {
		return "", nil, nil
	}
	var msgs []string
	for _, a := range actions {
		if a.OutputURL == "" {
			continue
		}
		out, err := api.GetStepOutput(ctx, a.OutputURL)
		if err != nil {
			return step, nil, err
		}
		for _, m := range out {
			msgs = append(msgs, m.Message)
		}
	}
	return step, Tail(msgs, n), nil
}

// FailedStep is the first step with an action that failed, and those actions.
func FailedStep(s *circleci.JobSteps) (string, []circleci.StepAction) {
	if s == nil {
		return "", nil
	}
	for _, st := range s.Steps {
		var failed []circleci.StepAction
		for _, a := range st.Actions {
			if actionFailed(a) {
				failed = append(failed, a)
			}
		}
		if len(failed) > 0 {
			name := st.Name
			if name == "" {
				name = failed[0].Name
			}
			if name == "" {
				name = "(unnamed step)"
			}
			return name, failed
		}
	}
	return "", nil
}

func actionFailed(a circleci.StepAction) bool {
	if a.Failed != nil && *a.Failed {
		return true
	}
	switch a.Status {
	case "failed", "timedout", "infrastructure_fail":
		return true
	}
	return false
}
