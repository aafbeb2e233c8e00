package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/payload"
	"github.com/baton-ci/baton/helper/internal/request"
)

// API is the part of the CircleCI client that dispatch uses; *circleci.Client satisfies it.
type API interface {
	TriggerPipeline(ctx context.Context, slug string, body []byte) (*circleci.PipelineCreation, error)
	RunPipeline(ctx context.Context, provider, org, project string, body []byte) (*circleci.RunResult, error)
	ListProjectPipelines(ctx context.Context, slug, branch, pageToken string) (*circleci.PipelinePage, error)
	Me(ctx context.Context) (*circleci.User, error)
}

// Defaults applied to zero fields of TriggerOptions.
const (
	DefaultResends     = 1
	DefaultLookupDelay = 2 * time.Second
)

// TriggerOptions tune Trigger. The zero value is ready to use.
type TriggerOptions struct {
	// Now reads the clock the send time is taken from; nil → time.Now.
	Now func() time.Time
	// Sleep waits before a lookup; it must return early with ctx's error when ctx ends.
	// nil → a timer that does.
	Sleep func(ctx context.Context, d time.Duration) error
	// Resends is how many times, at most, a trigger whose outcome was unknown and whose pipeline
	// could not be found is sent again. 0 → DefaultResends; negative → never.
	Resends int
	// LookupDelay is waited after an unknown outcome before listing pipelines, since the list
	// may lag behind a creation. 0 → DefaultLookupDelay; negative → no wait.
	LookupDelay time.Duration
}

func (o TriggerOptions) withDefaults() TriggerOptions {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = circleci.Sleep
	}
	switch {
	case o.Resends == 0:
		o.Resends = DefaultResends
	case o.Resends < 0:
		o.Resends = 0
	}
	switch {
	case o.LookupDelay == 0:
		o.LookupDelay = DefaultLookupDelay
	case o.LookupDelay < 0:
		o.LookupDelay = 0
	}
	return o
}

// Triggered is what a trigger came to. Exactly one of Creation and NotCreated is set.
type Triggered struct {
	// Creation is the pipeline created: from the POST's answer, or found by a lookup.
	Creation *circleci.PipelineCreation
	// Recovered is true when Creation was found by a lookup after an unknown outcome, not read
	// from the POST's answer. Its State is the pipeline's state when it was found.
	Recovered bool
	// Attempts is how many times the request was sent (1 unless an unknown outcome led to a
	// re-send).
	Attempts int
	// NotCreated is pipeline/run's 200 message when it created no pipeline (e.g. the commit
	// asked CI to skip it).
	NotCreated string
}

// Trigger sends t once; when the outcome is unknown it looks for the pipeline it may have created
// and sends again only when none is found (see the package documentation for the matching).
// body nil means payload.Body(t).
//
// It returns a *Triggered and a nil error, or a nil *Triggered and an error without the
// project's name in front (the caller adds it). Besides the client's errors, it returns an
// *AmbiguousError when several pipelines could be the one created, a *GiveUpError when every
// allowed send had an unknown outcome and no pipeline was found, and the unknown outcome
// wrapped with the lookup's failure when the lookup itself failed; all three exit with
// exitcode.Unreachable and match circleci.ErrOutcomeUnknown. When ctx ends after a send,
// nothing is looked up and the client's error (a pipeline may have been created) is returned.
//
// Trigger is safe for concurrent use, also with one API value.
func Trigger(ctx context.Context, api API, t *request.Trigger, body []byte, opts TriggerOptions) (*Triggered, error) {
	opts = opts.withDefaults()
	if body == nil {
		var err error
		if body, err = payload.Body(t); err != nil {
			return nil, err
		}
	}
	m := memoFor(api)
	var firstSend time.Time
	for attempt := 1; ; attempt++ {
		sentAt := opts.Now()
		if attempt == 1 {
			firstSend = sentAt
		}
		created, message, err := send(ctx, api, t, body)
		if err == nil {
			if created == nil {
				return &Triggered{Attempts: attempt, NotCreated: message}, nil
			}
			m.claim(created.ID)
			return &Triggered{Creation: created, Attempts: attempt}, nil
		}
		if !errors.Is(err, circleci.ErrOutcomeUnknown) || ctx.Err() != nil {
			return nil, err
		}
		if serr := opts.Sleep(ctx, opts.LookupDelay); serr != nil {
			return nil, err // the unknown outcome says what matters: a pipeline may exist
		}
		found, lerr := lookup(ctx, api, m, t, firstSend.Add(-ClockSkew))
		switch {
		case lerr != nil:
			return nil, fmt.Errorf("%w; looking for the pipeline it may have created failed, so it was not sent again: %w", err, lerr)
		case len(found) == 1:
			p := found[0]
			return &Triggered{
				Creation:  &circleci.PipelineCreation{ID: p.ID, State: p.State, Number: p.Number, CreatedAt: p.CreatedAt},
				Recovered: true,
				Attempts:  attempt,
			}, nil
		case len(found) > 1:
			numbers := make([]int64, len(found))
			for i, p := range found {
				numbers[i] = p.Number
			}
			return nil, &AmbiguousError{Attempts: attempt, Numbers: numbers, Last: err}
		case attempt > opts.Resends:
			return nil, &GiveUpError{Attempts: attempt, Last: err}
		}
	}
}

// send POSTs the trigger to its endpoint. It returns the created pipeline, or (pipeline/run
// only) nil and the API's reason for creating none.
func send(ctx context.Context, api API, t *request.Trigger, body []byte) (*circleci.PipelineCreation, string, error) {
	if !t.UsesRun() {
		created, err := api.TriggerPipeline(ctx, t.Project.String(), body)
		return created, "", err
	}
	res, err := api.RunPipeline(ctx, t.Project.Provider, t.Project.Org, t.Project.Project, body)
	if err != nil {
		return nil, "", err
	}
	if res.Created == nil {
		return nil, res.Message, nil
	}
	return res.Created, "", nil
}

// AmbiguousError is a trigger whose outcome was unknown, after which more than one recent
// pipeline could be the one it created. It was not sent again.
type AmbiguousError struct {
	Attempts int     // sends so far
	Numbers  []int64 // the candidates' pipeline numbers, newest first
	Last     error   // the last send's error; it wraps circleci.ErrOutcomeUnknown
}

// Error reads like "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its
// outcome is unknown: a pipeline may have been created (the connection closed without a
// response); 2 recent pipelines by this token's user on the same ref could be the one it
// created (numbers 13, 12), so it was not sent again: check them and cancel any extra".
func (e *AmbiguousError) Error() string {
	nums := make([]string, len(e.Numbers))
	for i, n := range e.Numbers {
		nums[i] = strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%v; %d recent pipelines by this token's user on the same ref could be the one it created (numbers %s), so it was not sent again: check them and cancel any extra",
		e.Last, len(e.Numbers), strings.Join(nums, ", "))
}

// Unwrap returns the last send's error.
func (e *AmbiguousError) Unwrap() error { return e.Last }

// ExitCode is exitcode.Unreachable, like the unknown outcome it could not settle.
func (e *AmbiguousError) ExitCode() int { return exitcode.Unreachable }

// GiveUpError is a trigger sent as often as allowed, each time with an unknown outcome, after
// which no pipeline it created could be found.
type GiveUpError struct {
	Attempts int
	Last     error // the last send's error; it wraps circleci.ErrOutcomeUnknown
}

// Error reads like circleci.RetryError's: "giving up after 2 attempts: POST …: the request was
// sent but its outcome is unknown: a pipeline may have been created (…); no pipeline it created
// was found".
func (e *GiveUpError) Error() string {
	unit := "attempts"
	if e.Attempts == 1 {
		unit = "attempt"
	}
	return fmt.Sprintf("giving up after %d %s: %v; no pipeline it created was found", e.Attempts, unit, e.Last)
}

// Unwrap returns the last send's error.
func (e *GiveUpError) Unwrap() error { return e.Last }

// ExitCode is exitcode.Unreachable.
func (e *GiveUpError) ExitCode() int { return exitcode.Unreachable }
