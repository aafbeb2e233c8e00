package dispatch

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/request"
)

// ClockSkew is how much earlier than the send time, read from this machine's clock, a pipeline
// may be stamped by CircleCI (trigger.received_at) and still count as created by the send. It
// only has to cover this machine's clock running ahead of CircleCI's: a clock running behind
// makes the pipeline look later, which is always accepted. Machines kept by NTP, as CircleCI's
// own executors and nearly every self-hosted runner are, agree within a second; 30 seconds
// allows for a badly drifting runner while staying shorter than the time an earlier run of the
// same job takes to start again, check out and reach this step. A longer window would let such
// an earlier pipeline, by the same user on the same ref, pass for the one just sent, and
// finding it would stop a re-send that was needed.
const ClockSkew = 30 * time.Second

// lookupPages is how many pages of the project's pipelines a lookup reads at most. The list is
// newest first, and a lookup only cares about the last few seconds: one page (20 pipelines on
// CircleCI) is nearly always enough, the second covers a burst on a busy project.
const lookupPages = 2

// lookup lists the project's recent pipelines and returns those that could be the one t
// created: triggered through the API by the token's user, on t's ref, received at or after
// since, and not already accounted for. They come newest first.
func lookup(ctx context.Context, api API, m *memo, t *request.Trigger, since time.Time) ([]circleci.Pipeline, error) {
	login, err := m.me(ctx, api)
	if err != nil {
		return nil, err
	}
	ref := pipelineRef(t)
	var found []circleci.Pipeline
	token := ""
	for range lookupPages {
		page, err := api.ListProjectPipelines(ctx, t.Project.String(), ref.Branch, token)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if candidate(p, login, ref, since) && !m.claimed(p.ID) {
				found = append(found, p)
			}
		}
		n := len(page.Items)
		if page.NextPageToken == "" || n == 0 || page.Items[n-1].CreatedAt.Before(since) {
			break // the rest is older still
		}
		token = page.NextPageToken
	}
	if len(found) == 1 && !m.claim(found[0].ID) {
		return nil, nil // another lookup took it meanwhile: it was that one's
	}
	return found, nil
}

// pipelineRef is the ref a pipeline created by t reports in its vcs: pipeline/run's checkout
// ref (which defaults to the config ref), or the legacy endpoint's ref.
func pipelineRef(t *request.Trigger) request.Ref {
	if !t.UsesRun() {
		return t.Ref
	}
	if t.Checkout != (request.Ref{}) {
		return t.Checkout
	}
	return t.Config
}

// candidate reports whether p could be the pipeline a trigger on ref, sent by login no earlier
// than since, created.
func candidate(p circleci.Pipeline, login string, ref request.Ref, since time.Time) bool {
	if p.Trigger.Type != "api" || !strings.EqualFold(p.Trigger.Actor.Login, login) {
		return false
	}
	received := p.Trigger.ReceivedAt
	if received.IsZero() {
		received = p.CreatedAt
	}
	if received.Before(since) {
		return false
	}
	if p.VCS == nil {
		return true // nothing to tell refs apart by; ambiguity is caught by counting candidates
	}
	switch {
	case ref.Tag != "":
		return p.VCS.Tag == ref.Tag
	case ref.Branch != "":
		return p.VCS.Tag == "" && p.VCS.Branch == ref.Branch
	}
	return p.VCS.Tag == "" // the default branch, whatever its name
}

// memo is what Trigger remembers about one API value: the token's login, and the pipelines
// already accounted for (named by a trigger's answer or recovered by a lookup), which no later
// lookup may take for its own.
type memo struct {
	mu     sync.Mutex
	login  string
	claims map[string]bool // pipeline IDs
}

// memos holds one memo per API value for the life of the process, which for baton is one
// command. It keeps its API values reachable; a process making many clients would grow it.
var memos = struct {
	mu sync.Mutex
	m  map[API]*memo
}{m: map[API]*memo{}}

// memoFor returns api's memo. An API value that cannot be a map key (a struct holding a slice
// or map) gets a fresh memo each time: correct, only without the sharing.
func memoFor(api API) *memo {
	if !reflect.ValueOf(api).Comparable() {
		return &memo{}
	}
	memos.mu.Lock()
	defer memos.mu.Unlock()
	m := memos.m[api]
	if m == nil {
		m = &memo{}
		memos.m[api] = m
	}
	return m
}

// me returns the token's login, asking the API the first time.
func (m *memo) me(ctx context.Context, api API) (string, error) {
	m.mu.Lock()
	login := m.login
	m.mu.Unlock()
	if login != "" {
		return login, nil
	}
	u, err := api.Me(ctx)
	if err != nil {
		return "", err
	}
	if u.Login == "" {
		return "", errors.New("GET /api/v2/me: the answer names no login, so this token's pipelines cannot be told from others'")
	}
	m.mu.Lock()
	m.login = u.Login
	m.mu.Unlock()
	return u.Login, nil
}

// claim records the pipeline as accounted for. It reports false when it already was.
func (m *memo) claim(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims[id] {
		return false
	}
	if m.claims == nil {
		m.claims = map[string]bool{}
	}
	m.claims[id] = true
	return true
}

func (m *memo) claimed(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claims[id]
}
