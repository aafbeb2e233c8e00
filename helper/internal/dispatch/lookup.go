package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// ClockSlack is how much earlier than the send, on the server's clock as estimated from its
// Date headers, a pipeline may be stamped and still count as created by the send: the Date
// header and received_at come from different machines of CircleCI's, which agree within far
// less. It is short so that a pipeline triggered a few seconds earlier by another job with the
// same token is never taken for this one.
const ClockSlack = time.Second

// lookupPages is how many pages of the project's pipelines one listing reads at most. The list
// is newest first and a listing stops at the first pipeline older than the send, so one page
// (20 pipelines on CircleCI) is nearly always enough; a project busier than this within the
// lookup's seconds cannot be checked, and the outcome stays unknown.
const lookupPages = 5

// unknownSince is how far back a listing reads when the server's clock is not known (no answer
// carried a Date): nothing found there can be proven, only reported.
const unknownSince = 10 * time.Minute

// want is what the pipeline created by one trigger must show.
type want struct {
	login string      // the token's user (GET /me)
	ref   request.Ref // exactly one of Branch and Tag: the default branch is resolved
	// since is the earliest creation time, on the server's clock, of a pipeline the send
	// created; clockKnown is false when the server's clock could not be estimated.
	since      time.Time
	clockKnown bool
	params     map[string]json.RawMessage // the parameters sent, as sent
	claimed    func(id string) bool       // accounted for by another trigger of this run
}

// verdict is what a listed pipeline is to a trigger whose outcome is unknown.
type verdict int

const (
	notOurs  verdict = iota // something it shows rules it out
	possible                // nothing rules it out, but something it shows cannot prove it ours
	proven                  // everything the API shows matches the trigger
)

// judge decides what p is to the trigger w describes, and for a possible pipeline says why it is
// not proven.
func judge(p circleci.Pipeline, w want) (verdict, string) {
	login := p.Trigger.Actor.Login
	received := p.Trigger.ReceivedAt
	if received.IsZero() {
		received = p.CreatedAt
	}
	ref, refWhy := judgeRef(p.VCS, w.ref)
	switch {
	case w.claimed(p.ID),
		login != "" && !strings.EqualFold(login, w.login),
		!received.IsZero() && received.Before(w.since),
		ref == notOurs,
		paramsDiffer(p.TriggerParameters, w.params):
		return notOurs, ""
	case ref == possible:
		return possible, refWhy
	case login == "":
		return possible, "it names no actor"
	case received.IsZero():
		return possible, "it shows no creation time"
	case !w.clockKnown:
		return possible, "the server's clock is unknown (its answers carry no Date header), so its creation time proves nothing"
	case p.Trigger.Type != "api":
		return possible, fmt.Sprintf("its trigger type is %q, not \"api\"", p.Trigger.Type)
	case !slug.IsUUID(p.ID):
		return possible, "its id is not a pipeline id"
	}
	return proven, ""
}

// judgeRef compares the ref a pipeline reports with the one the trigger ran on. The API reports
// a branch as "main" or, from some sources, "refs/heads/main"; a tag likewise.
func judgeRef(vcs *circleci.PipelineVCS, ref request.Ref) (verdict, string) {
	if vcs == nil || vcs.Branch == "" && vcs.Tag == "" {
		return possible, "it reports no branch or tag"
	}
	tag := strings.TrimPrefix(vcs.Tag, "refs/tags/")
	branch := strings.TrimPrefix(vcs.Branch, "refs/heads/")
	if ref.Tag != "" && tag == ref.Tag || ref.Tag == "" && tag == "" && branch == ref.Branch {
		return proven, ""
	}
	return notOurs, ""
}

// paramsDiffer reports whether a pipeline shows, in trigger_parameters at its top level or under
// "parameters", a value other than the one sent for a parameter. The API does not always show
// them: only what it shows counts.
func paramsDiffer(shown map[string]any, sent map[string]json.RawMessage) bool {
	nested, _ := shown["parameters"].(map[string]any)
	for name, raw := range sent {
		for _, m := range []map[string]any{shown, nested} {
			v, ok := m[name]
			if !ok {
				continue
			}
			if _, isObject := v.(map[string]any); isObject {
				continue // a namespace of CircleCI's (circleci, git, webhook), not a parameter
			}
			if !sameJSON(raw, v) {
				return true
			}
		}
	}
	return false
}

// sameJSON compares a value as sent with one as decoded from an answer.
func sameJSON(sent json.RawMessage, got any) bool {
	var a any
	if json.Unmarshal(sent, &a) != nil {
		return false
	}
	b, err := json.Marshal(got)
	if err != nil {
		return false
	}
	var c any
	return json.Unmarshal(b, &c) == nil && reflect.DeepEqual(a, c)
}

// sentParams reads the parameters object of a trigger's body; nil when there is none.
func sentParams(body []byte) map[string]json.RawMessage {
	var b struct {
		Parameters map[string]json.RawMessage `json:"parameters"`
	}
	if json.NewDecoder(bytes.NewReader(body)).Decode(&b) != nil {
		return nil
	}
	return b.Parameters
}

// listing is what one look at the project's pipelines found.
type listing struct {
	proven   []circleci.Pipeline
	possible []candidate
	complete bool // the list was read back to before the send
}

// candidate is a pipeline that could be the one created, and why it is not proven ("" when
// it is).
type candidate struct {
	circleci.Pipeline
	why string
}

// list reads the project's pipelines, newest first, back to the first one older than w.since,
// and sorts them out.
func list(ctx context.Context, api API, slug string, w want) (listing, error) {
	var l listing
	token := ""
	for range lookupPages {
		page, err := api.ListProjectPipelines(ctx, slug, "", token)
		if err != nil {
			return listing{}, err
		}
		for _, p := range page.Items {
			switch v, why := judge(p, w); v {
			case proven:
				l.proven = append(l.proven, p)
			case possible:
				l.possible = append(l.possible, candidate{p, why})
			}
		}
		n := len(page.Items)
		if page.NextPageToken == "" || n == 0 || page.Items[n-1].CreatedAt.Before(w.since) {
			l.complete = true
			return l, nil
		}
		token = page.NextPageToken
	}
	return l, nil
}

// pipelineRef is the ref a pipeline created by t reports in its vcs: pipeline/run's checkout
// ref (which defaults to the config ref), or the legacy endpoint's ref; the zero Ref for the
// project's default branch.
func pipelineRef(t *request.Trigger) request.Ref {
	if !t.UsesRun() {
		return t.Ref
	}
	if t.Checkout != (request.Ref{}) {
		return t.Checkout
	}
	return t.Config
}

// memo is what Trigger remembers about one API value: the token's login, the projects' default
// branches, and the pipelines already accounted for (named by a trigger's answer or recovered by
// a lookup), which no later lookup may take for its own.
type memo struct {
	mu       sync.Mutex
	login    string
	defaults map[string]string // slug.Key → default branch
	claims   map[string]bool   // pipeline IDs, lower-case
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

// ref returns the ref a pipeline created by t runs on, with the project's default branch
// resolved through the API (asked once per project) when t names no ref: a pipeline on any other
// branch is not t's.
func (m *memo) ref(ctx context.Context, api API, t *request.Trigger) (request.Ref, error) {
	ref := pipelineRef(t)
	if ref != (request.Ref{}) {
		return ref, nil
	}
	key := t.Project.Key()
	m.mu.Lock()
	branch := m.defaults[key]
	m.mu.Unlock()
	if branch != "" {
		return request.Ref{Branch: branch}, nil
	}
	p, err := api.GetProject(ctx, t.Project.String())
	if err != nil {
		return request.Ref{}, err
	}
	branch = p.VCSInfo.DefaultBranch
	if branch == "" {
		return request.Ref{}, fmt.Errorf("GET /api/v2/project/%s: the answer names no default branch, so the pipeline's branch cannot be checked", t.Project)
	}
	m.mu.Lock()
	if m.defaults == nil {
		m.defaults = map[string]string{}
	}
	m.defaults[key] = branch
	m.mu.Unlock()
	return request.Ref{Branch: branch}, nil
}

// claim records the pipeline as accounted for. It reports false when it already was.
func (m *memo) claim(id string) bool {
	id = strings.ToLower(id)
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
	return m.claims[strings.ToLower(id)]
}
