package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/request"
)

const (
	myToken    = "tok-me"
	myLogin    = "baton-bot"
	otherToken = "tok-other"

	definitionID = "2338d0ae-5541-4bbf-88a2-55e9f7281f80"
	noVCSDefID   = "6a7e2c1d-3b4f-4e5a-9c8d-7f6e5d4c3b2a"
	appSlug      = "circleci/9f5b7b04-1a5e-4a3f-9c58-2c1e7d6b5a10/3c0e9a9e-84a4-4a25-b1b8-f1c2f0e9c6a1"
	noVCSSlug    = "circleci/9f5b7b04-1a5e-4a3f-9c58-2c1e7d6b5a10/5d1f0b0f-95b5-4b36-a2a9-02d3f1fad7b2" // reports no vcs
)

// fanOutProjects is how many extra projects (gh/acme/p01 …) the simulator knows.
const fanOutProjects = 20

func simConfig() string {
	var b strings.Builder
	b.WriteString(`
tokens:
  - {token: ` + myToken + `, login: ` + myLogin + `}
  - {token: ` + otherToken + `, login: another-baton}
projects:
  - slug: gh/acme/api
  - slug: ` + appSlug + `
    vcs_url: https://github.com/acme/app
    definition_ids: [` + definitionID + `]
    ci_skip_branches: [skip-me]
  - slug: ` + noVCSSlug + `
    definition_ids: [` + noVCSDefID + `]
`)
	for i := 1; i <= fanOutProjects; i++ {
		fmt.Fprintf(&b, "  - slug: gh/acme/p%02d\n", i)
	}
	return b.String()
}

// env is a simulator behind a test server, a client for each token, and a fake clock.
type env struct {
	t      *testing.T
	sim    *simulator.Simulator
	clock  *testkit.Clock
	me     *circleci.Client // the token of the code under test
	other  *circleci.Client // another user's token
	sleeps *sleeps          // the waits Trigger asked for
}

// envOption changes the simulated world before it starts.
type envOption func(s *envSetup)

type envSetup struct {
	cfg  simulator.Config
	wrap func(http.Handler) http.Handler // nil: the simulator as it is
}

// withConfig edits the simulator's configuration (faults of the real API: clock skew, lag…).
func withConfig(edit func(cfg *simulator.Config)) envOption {
	return func(s *envSetup) { edit(&s.cfg) }
}

// serving puts a handler in front of the simulator, to answer what it never would.
func serving(wrap func(http.Handler) http.Handler) envOption {
	return func(s *envSetup) { s.wrap = wrap }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(simConfig()))
	require.NoError(t, err)
	setup := envSetup{cfg: cfg}
	for _, o := range opts {
		o(&setup)
	}
	c := testkit.NewClock(time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC))
	sim := simulator.New(setup.cfg, simulator.WithClock(c.Now))
	var handler http.Handler = sim
	if setup.wrap != nil {
		handler = setup.wrap(sim)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	e := &env{t: t, sim: sim, clock: c, sleeps: &sleeps{clock: c}}
	e.me = e.client(srv.URL, myToken)
	e.other = e.client(srv.URL, otherToken)
	return e
}

func (e *env) client(host, token string) *circleci.Client {
	e.t.Helper()
	c, err := circleci.New(circleci.Config{
		Host:           host,
		Token:          token,
		Sleep:          func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		RequestTimeout: 10 * time.Second,
		Now:            e.clock.Now, // the machine's clock, which the server's Date is measured against
	})
	require.NoError(e.t, err)
	return c
}

// options are TriggerOptions on the fake clock; waits advance it instead of sleeping.
func (e *env) options() dispatch.TriggerOptions {
	return dispatch.TriggerOptions{
		Now: e.clock.Now, Sleep: e.sleeps.Sleep,
		PipelineURL: func(t *request.Trigger, number int64) string {
			return fmt.Sprintf("https://app.example/%s/%d", t.Project, number)
		},
	}
}

// idOf is the id of a project's pipeline.
func (e *env) idOf(slug string, number int64) string {
	for _, p := range e.sim.Pipelines() {
		if p.ProjectSlug == slug && p.Number == number {
			return p.ID
		}
	}
	e.t.Fatalf("no pipeline %s#%d", slug, number)
	return ""
}

func (e *env) fault(f simulator.Fault) {
	e.t.Helper()
	require.NoError(e.t, e.sim.AddFault(f))
}

// posts counts the trigger requests the simulator received.
func (e *env) posts() int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Operation == "triggerPipeline" || r.Operation == "triggerPipelineRun" {
			n++
		}
	}
	return n
}

// countRequests counts the requests of one operation.
func (e *env) countRequests(op string) int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Operation == op {
			n++
		}
	}
	return n
}

// pipelines lists the created pipelines as "slug#number ref" lines, oldest first.
func (e *env) pipelines() []string {
	var out []string
	for _, p := range e.sim.Pipelines() {
		ref := p.Branch
		if p.Tag != "" {
			ref = "tag=" + p.Tag
		}
		out = append(out, fmt.Sprintf("%s#%d %s", p.ProjectSlug, p.Number, ref))
	}
	return out
}

// triggerDirectly creates a pipeline with client, bypassing dispatch (and so its memory of
// which pipelines are accounted for).
func (e *env) triggerDirectly(client *circleci.Client, slug, body string) *circleci.PipelineCreation {
	e.t.Helper()
	created, err := client.TriggerPipeline(context.Background(), slug, []byte(body))
	require.NoError(e.t, err)
	return created
}

// sleeps records the waits asked for and advances the fake clock by each.
type sleeps struct {
	clock *testkit.Clock
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	s.clock.Advance(d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newTrigger builds a validated request from flag values.
func newTrigger(t *testing.T, in request.Input) *request.Trigger {
	t.Helper()
	in.NoExpand = true
	tr, err := request.New(in)
	require.NoError(t, err)
	return tr
}

func target(t *testing.T, in request.Input) dispatch.Target {
	return dispatch.Target{Trigger: newTrigger(t, in)}
}
