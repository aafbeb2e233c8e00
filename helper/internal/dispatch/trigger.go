package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
	GetProject(ctx context.Context, slug string) (*circleci.Project, error)
	// ServerClockOffset bounds the server's clock minus this machine's (Now's), from the
	// answers so far; ok is false before any answer carried a Date.
	ServerClockOffset() (lo, hi time.Duration, ok bool)
}

// DefaultResends is TriggerOptions.Resends when it is zero.
const DefaultResends = 1

// DefaultLookups are TriggerOptions.Lookups when they are nil: the project's pipeline list is
// read 2, 5, 10 and 20 seconds after an unknown outcome, since the list may show a new pipeline
// only seconds after it was created, and "nothing was created" may be concluded only once that
// lag is covered.
var DefaultLookups = []time.Duration{2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second}

// TriggerOptions tune Trigger. The zero value is ready to use.
type TriggerOptions struct {
	// Now reads this machine's clock, the one the API client measures the server's clock
	// against; nil → time.Now.
	Now func() time.Time
	// Sleep waits before each lookup; it must return early with ctx's error when ctx ends.
	// nil → a timer that does.
	Sleep func(ctx context.Context, d time.Duration) error
	// Resends is how many times, at most, a trigger whose outcome was unknown and which the
	// lookups proved created nothing is sent again. 0 → DefaultResends; negative → never.
	Resends int
	// Lookups are the waits before each reading of the project's pipeline list after an
	// unknown outcome; nil → DefaultLookups. Their sum is how long a created pipeline may take
	// to show in the list and still be found rather than sent again.
	Lookups []time.Duration
	// OnResend, when set, is told before each resend: which send it is (2 for the first
	// resend) and how long the lookups looked. It runs in Trigger's goroutine.
	OnResend func(t *request.Trigger, send int, looked time.Duration)
	// PipelineURL, when set, links a pipeline of t's project for the candidates that an
	// *UnknownOutcomeError names.
	PipelineURL func(t *request.Trigger, number int64) string
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
	if o.Lookups == nil {
		o.Lookups = DefaultLookups
	}
	return o
}

// looked is how long the lookups look in all.
func (o TriggerOptions) looked() time.Duration {
	var d time.Duration
	for _, w := range o.Lookups {
		d += w
	}
	return d
}

// Triggered is what a trigger came to. Exactly one of Creation and NotCreated is set.
type Triggered struct {
	// Creation is the pipeline created: from the POST's answer, or found by a lookup.
	Creation *circleci.PipelineCreation
	// Recovered is true when Creation was found by a lookup after an unknown outcome, not read
	// from the POST's answer. Its State is the pipeline's state when it was found.
	Recovered bool
	// Attempts is how many times the request was sent: 1, plus one for each resend after the
	// lookups proved that an unknown outcome had created nothing.
	Attempts int
	// NotCreated is pipeline/run's 200 message when it created no pipeline (e.g. the commit
	// asked CI to skip it).
	NotCreated string
}

// Resends is how many times a trigger was sent again, read from Trigger's results: Attempts − 1
// of a *Triggered, of an *UnknownOutcomeError or of a *GiveUpError anywhere in err's chain, else
// 0. Reports show it, since every resend is a second POST that CircleCI received.
func Resends(tr *Triggered, err error) int {
	if tr != nil {
		return max(tr.Attempts-1, 0)
	}
	var unknown *UnknownOutcomeError
	if errors.As(err, &unknown) {
		return max(unknown.Attempts-1, 0)
	}
	var gaveUp *GiveUpError
	if errors.As(err, &gaveUp) {
		return max(gaveUp.Attempts-1, 0)
	}
	return 0
}

// Trigger sends t once; when the outcome is unknown (the client's circleci.ErrOutcomeUnknown: a
// timeout, a dropped connection or a 5xx after the request was sent) it looks for the pipeline
// it may have created, claims it only when everything the API shows proves it is t's, and sends
// again only when several listings spread over TriggerOptions.Lookups show that nothing was
// created (see the package documentation for the matching). body nil means payload.Body(t).
//
// It returns a *Triggered and a nil error, or a nil *Triggered and an error without the
// project's name in front (the caller adds it). Besides the client's errors, it returns an
// *UnknownOutcomeError when a pipeline that could be t's was found but not proven (or the list
// could not be read far enough back), a *GiveUpError when every allowed send had an unknown
// outcome and nothing was created, and the unknown outcome wrapped with the lookup's failure
// when the lookup itself failed; all three exit with exitcode.Unreachable and match
// circleci.ErrOutcomeUnknown. When ctx ends after a send, nothing more is looked up and the
// client's error (a pipeline may have been created) is returned.
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
		if attempt == 1 {
			firstSend = opts.Now()
		}
		created, message, sendErr := send(ctx, api, t, body)
		if sendErr == nil {
			if created == nil {
				return &Triggered{Attempts: attempt, NotCreated: message}, nil
			}
			m.claim(created.ID)
			return &Triggered{Creation: created, Attempts: attempt}, nil
		}
		if !errors.Is(sendErr, circleci.ErrOutcomeUnknown) || ctx.Err() != nil {
			return nil, sendErr
		}
		p, err := look(ctx, api, m, t, body, firstSend, opts, sendErr)
		switch {
		case err != nil:
			var unknown *UnknownOutcomeError
			if errors.As(err, &unknown) {
				unknown.Attempts = attempt
			}
			return nil, err
		case p != nil:
			return &Triggered{
				Creation:  &circleci.PipelineCreation{ID: p.ID, State: p.State, Number: p.Number, CreatedAt: p.CreatedAt},
				Recovered: true,
				Attempts:  attempt,
			}, nil
		case attempt > opts.Resends:
			return nil, &GiveUpError{Attempts: attempt, Looked: opts.looked(), Last: sendErr}
		}
		if opts.OnResend != nil {
			opts.OnResend(t, attempt+1, opts.looked())
		}
	}
}

// look settles an unknown outcome (last) by reading the project's pipelines after each of
// opts.Lookups. It returns the pipeline when exactly one is proven and nothing else could be it;
// an *UnknownOutcomeError when something could be it but is not proven; last itself when ctx ends
// meanwhile (a pipeline may exist); and nil, nil when no listing shows anything that could be it:
// nothing was created. A pipeline must have been created after the first send of this trigger,
// so that a resend's lookup also finds the first send's pipeline if it shows late, and then
// reports both.
func look(ctx context.Context, api API, m *memo, t *request.Trigger, body []byte, firstSend time.Time, opts TriggerOptions, last error) (*circleci.Pipeline, error) {
	lookupFailed := func(err error) error {
		if ctx.Err() != nil {
			return last // ended, not failed: the unknown outcome says what matters
		}
		return fmt.Errorf("%w; looking for the pipeline it may have created failed, so it was not sent again: %w", last, err)
	}
	login, err := m.me(ctx, api)
	if err != nil {
		return nil, lookupFailed(err)
	}
	ref, err := m.ref(ctx, api, t)
	if err != nil {
		return nil, lookupFailed(err)
	}
	w := want{login: login, ref: ref, params: sentParams(body), claimed: m.claimed}
	for _, wait := range opts.Lookups {
		if opts.Sleep(ctx, wait) != nil || ctx.Err() != nil {
			return nil, last // the unknown outcome says what matters: a pipeline may exist
		}
		if lo, _, ok := api.ServerClockOffset(); ok {
			w.since, w.clockKnown = firstSend.Add(lo-ClockSlack), true
		} else {
			w.since, w.clockKnown = firstSend.Add(-unknownSince), false
		}
		l, err := list(ctx, api, t.Project.String(), w)
		if err != nil {
			return nil, lookupFailed(err)
		}
		if len(l.proven) == 1 && len(l.possible) == 0 {
			if m.claim(l.proven[0].ID) {
				return &l.proven[0], nil
			}
			continue // another trigger of this run took it meanwhile: it was that one's
		}
		if len(l.proven)+len(l.possible) > 0 || !l.complete {
			return nil, unknownOutcome(t, l, opts, last)
		}
	}
	return nil, nil
}

// unknownOutcome is the error for a listing that could not settle the outcome.
func unknownOutcome(t *request.Trigger, l listing, opts TriggerOptions, last error) *UnknownOutcomeError {
	e := &UnknownOutcomeError{Incomplete: !l.complete, Last: last}
	add := func(p circleci.Pipeline, why string) {
		c := Candidate{Number: p.Number, ID: p.ID, Why: why}
		if opts.PipelineURL != nil {
			c.URL = opts.PipelineURL(t, p.Number)
		}
		e.Candidates = append(e.Candidates, c)
	}
	for _, p := range l.proven {
		add(p, "")
	}
	for _, c := range l.possible {
		add(c.Pipeline, c.why)
	}
	slices.SortFunc(e.Candidates, func(a, b Candidate) int { return cmp.Compare(b.Number, a.Number) })
	return e
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

// Candidate is a pipeline that could be the one an unknown outcome created.
type Candidate struct {
	Number int64
	ID     string
	URL    string // "" without TriggerOptions.PipelineURL
	// Why it is not proven: "" when everything the API shows matches, and only another
	// candidate stands in the way.
	Why string
}

// UnknownOutcomeError is a trigger whose outcome was unknown, after which the project's pipeline
// list showed pipelines that could be the one it created without proving any of them to be, or
// could not be read back to the send. Nothing was claimed, and it was not sent again.
type UnknownOutcomeError struct {
	Attempts   int         // sends so far
	Candidates []Candidate // newest first; may be empty when Incomplete
	Incomplete bool        // the list holds too many newer pipelines to be read back to the send
	Last       error       // the last send's error; it wraps circleci.ErrOutcomeUnknown
}

// Error reads like "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its
// outcome is unknown: a pipeline may have been created (502 Bad Gateway); it was not sent
// again, and no pipeline was taken for it: #13 https://… (its trigger type is "explicit", not
// "api") could be the one it created; check and cancel any extra".
func (e *UnknownOutcomeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v; it was not sent again, and no pipeline was taken for it", e.Last)
	if e.Incomplete {
		fmt.Fprintf(&b, ": more than %d pages of the project's pipelines are newer than the send, so they could not all be checked", lookupPages)
	}
	if len(e.Candidates) == 0 {
		return b.String()
	}
	b.WriteString(": ")
	for i, c := range e.Candidates {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "#%d", c.Number)
		if c.URL != "" {
			b.WriteString(" " + c.URL)
		}
		if c.Why != "" {
			b.WriteString(" (" + c.Why + ")")
		}
	}
	if len(e.Candidates) == 1 {
		b.WriteString(" could be the one it created but is not proven to be; check it")
	} else {
		b.WriteString(" could each be the one it created; check them and cancel any extra")
	}
	return b.String()
}

// Unwrap returns the last send's error.
func (e *UnknownOutcomeError) Unwrap() error { return e.Last }

// ExitCode is exitcode.Unreachable: whether a pipeline was created is unknown.
func (e *UnknownOutcomeError) ExitCode() int { return exitcode.Unreachable }

// GiveUpError is a trigger sent as often as allowed, each time with an unknown outcome, after
// which the lookups showed that no pipeline had been created.
type GiveUpError struct {
	Attempts int
	Looked   time.Duration // how long each send's lookups looked
	Last     error         // the last send's error; it wraps circleci.ErrOutcomeUnknown
}

// Error reads like circleci.RetryError's: "giving up after 2 attempts: POST …: the request was
// sent but its outcome is unknown: a pipeline may have been created (…); no pipeline it created
// showed in the project's pipeline list within 20s".
func (e *GiveUpError) Error() string {
	unit := "attempts"
	if e.Attempts == 1 {
		unit = "attempt"
	}
	return fmt.Sprintf("giving up after %d %s: %v; no pipeline it created showed in the project's pipeline list within %s", e.Attempts, unit, e.Last, e.Looked)
}

// Unwrap returns the last send's error.
func (e *GiveUpError) Unwrap() error { return e.Last }

// ExitCode is exitcode.Unreachable.
func (e *GiveUpError) ExitCode() int { return exitcode.Unreachable }
