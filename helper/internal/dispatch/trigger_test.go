package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

var (
	lost    = simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultLost}
	dropped = simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultDrop}
	onMain  = request.Input{Project: "gh/acme/api", Branch: "main"}
)

func TestTrigger(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    request.Input
		env   []envOption
		setup func(e *env)
		opts  func(o *dispatch.TriggerOptions)

		wantNumber    int64 // the pipeline Trigger returns
		wantRecovered bool
		wantAttempts  int
		wantErr       string // substring; "" means success
		wantPosts     int    // trigger requests sent in all, setup's included
		wantPipelines []string
	}{
		{
			name:       "an answered trigger is returned as it came, sent once",
			in:         onMain,
			wantNumber: 1, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name:       "a lost answer is recovered from the pipeline list and nothing is sent again",
			in:         onMain,
			setup:      func(e *env) { e.fault(lost) },
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name:       "a dropped request, which created nothing, is sent again once the lookups prove it, and makes exactly one pipeline",
			in:         onMain,
			setup:      func(e *env) { e.fault(dropped) },
			wantNumber: 1, wantAttempts: 2, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "a 502 that created nothing is looked up like any unknown outcome, then sent again",
			in:   onMain,
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultStatus, Status: 502})
			},
			wantNumber: 1, wantAttempts: 2, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "a 503 after the pipeline was created is recovered, not sent again",
			in:   onMain,
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultProcessed, Status: 503})
			},
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "a 502 after a default-branch pipeline was created is recovered on the branch the project names",
			in:   request.Input{Project: "gh/acme/api"},
			env:  []envOption{withConfig(func(c *simulator.Config) { c.Projects[0].DefaultBranch = "trunk" })},
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultProcessed, Status: 502})
			},
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 trunk"},
		},
		{
			name:       "a pipeline the list shows only 8s after its creation is still found, and nothing is sent again",
			in:         onMain,
			env:        []envOption{withConfig(func(c *simulator.Config) { c.Projects[0].ListLag = simulator.Duration(8 * time.Second) })},
			setup:      func(e *env) { e.fault(lost) },
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name:       "a branch reported as refs/heads/main is the branch main",
			in:         onMain,
			env:        []envOption{withConfig(func(c *simulator.Config) { c.Projects[0].BranchAsRef = true })},
			setup:      func(e *env) { e.fault(lost) },
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name:          "a pipeline whose trigger type is not api is not claimed and not a reason to send again",
			in:            onMain,
			env:           []envOption{withConfig(func(c *simulator.Config) { c.Projects[0].TriggerType = "explicit" })},
			setup:         func(e *env) { e.fault(lost) },
			wantErr:       `(the connection closed without a response); it was not sent again, and no pipeline was taken for it: #1 https://app.example/gh/acme/api/1 (its trigger type is "explicit", not "api") could be the one it created but is not proven to be; check it`,
			wantPosts:     1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name:       "a 201 whose id is unusable is an unknown outcome, and the pipeline it created is recovered",
			in:         onMain,
			env:        []envOption{serving(func(next http.Handler) http.Handler { return testkit.BadTriggerIDs(next, "..") })},
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "with two lost answers queued the first is recovered, so the second is never reached",
			in:   onMain,
			setup: func(e *env) {
				f := lost
				f.Times = 2
				e.fault(f)
			},
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name:       "a dropped request and then a lost answer: the re-send's pipeline is recovered",
			in:         onMain,
			setup:      func(e *env) { e.fault(dropped); e.fault(lost) },
			wantNumber: 1, wantRecovered: true, wantAttempts: 2, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "when every allowed send is dropped it gives up with nothing created",
			in:   onMain,
			setup: func(e *env) {
				f := dropped
				f.Times = 2
				e.fault(f)
			},
			wantErr:   "giving up after 2 attempts: POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (the connection closed without a response); no pipeline it created showed in the project's pipeline list within 20s",
			wantPosts: 2,
		},
		{
			name:      "negative Resends never sends again",
			in:        onMain,
			setup:     func(e *env) { e.fault(dropped) },
			opts:      func(o *dispatch.TriggerOptions) { o.Resends = -1 },
			wantErr:   "giving up after 1 attempt: POST",
			wantPosts: 1,
		},
		{
			name: "another user's pipeline on the same branch is not mistaken for ours when nothing was created",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.other, "gh/acme/api", `{"branch": "main"}`)
				e.fault(dropped)
			},
			wantNumber: 2, wantAttempts: 2, wantPosts: 3,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 main"},
		},
		{
			name: "another user's pipeline on the same branch is not counted against our lost one",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.other, "gh/acme/api", `{"branch": "main"}`)
				e.fault(lost)
			},
			wantNumber: 2, wantRecovered: true, wantAttempts: 1, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 main"},
		},
		{
			name: "our own pipeline of 3s earlier (another job, same token and branch) is not taken when nothing was created",
			in:   request.Input{Project: "gh/acme/api", Branch: "main", Params: []string{"image=svc-b:77"}},
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main", "parameters": {"image": "svc-a:41"}}`)
				e.clock.Advance(3 * time.Second)
				e.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultStatus, Status: 502})
			},
			wantNumber: 2, wantAttempts: 2, wantPosts: 3,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 main"},
		},
		{
			name: "our own pipeline of 3s earlier is not counted against our lost one",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
				e.clock.Advance(3 * time.Second)
				e.fault(lost)
			},
			wantNumber: 2, wantRecovered: true, wantAttempts: 1, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 main"},
		},
		{
			name: "our own recent pipeline on another branch is not taken for the lost one",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "dev"}`)
				e.fault(lost)
			},
			wantNumber: 2, wantRecovered: true, wantAttempts: 1, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 dev", "gh/acme/api#2 main"},
		},
		{
			name: "a lost tag trigger is told apart from our branch pipeline of the same moment",
			in:   request.Input{Project: "gh/acme/api", Tag: "v1.2.3"},
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
				e.fault(lost)
			},
			wantNumber: 2, wantRecovered: true, wantAttempts: 1, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 tag=v1.2.3"},
		},
		{
			name: "two pipelines that both match make an error linking both, and nothing is sent again",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
				e.clock.Advance(500 * time.Millisecond)
				e.fault(lost)
			},
			wantErr:       "(the connection closed without a response); it was not sent again, and no pipeline was taken for it: #2 https://app.example/gh/acme/api/2, #1 https://app.example/gh/acme/api/1 could each be the one it created; check them and cancel any extra",
			wantPosts:     2,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 main"},
		},
		{
			name: "a trigger with no ref is looked up on the project's default branch only, not on any branch",
			in:   request.Input{Project: "gh/acme/api"},
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "dev"}`)
				e.fault(lost)
			},
			wantNumber: 2, wantRecovered: true, wantAttempts: 1, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 dev", "gh/acme/api#2 main"},
		},
		{
			name: "a pipeline/run trigger whose answer is lost is recovered by its checkout branch",
			in:   request.Input{Project: appSlug, DefinitionID: definitionID, ConfigBranch: "main", CheckoutBranch: "release"},
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipelineRun", Kind: simulator.FaultLost})
			},
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
			wantPipelines: []string{appSlug + "#1 release"},
		},
		{
			name: "a project that reports no vcs cannot prove the ref, so its pipeline is reported, not claimed",
			in:   request.Input{Project: noVCSSlug, DefinitionID: noVCSDefID, Branch: "main"},
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipelineRun", Kind: simulator.FaultLost})
			},
			wantErr:       "#1 https://app.example/" + noVCSSlug + "/1 (it reports no branch or tag) could be the one it created but is not proven to be",
			wantPosts:     1,
			wantPipelines: []string{noVCSSlug + "#1 main"},
		},
		{
			name: "when the lookup itself fails the trigger is not sent again",
			in:   onMain,
			setup: func(e *env) {
				e.fault(lost)
				e.fault(simulator.Fault{Operation: "getCurrentUser", Kind: simulator.FaultStatus, Status: 500, Times: -1})
			},
			wantErr:       "(the connection closed without a response); looking for the pipeline it may have created failed, so it was not sent again: giving up after 4 attempts: GET /api/v2/me: 500 Internal Server Error",
			wantPosts:     1,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "when the default branch cannot be learnt the trigger is not sent again",
			in:   request.Input{Project: "gh/acme/api"},
			setup: func(e *env) {
				e.fault(dropped)
				e.fault(simulator.Fault{Operation: "getProjectBySlug", Kind: simulator.FaultStatus, Status: 403})
			},
			wantErr:   "looking for the pipeline it may have created failed, so it was not sent again: GET /api/v2/project/gh%2Facme%2Fapi: 403 Forbidden",
			wantPosts: 1,
		},
		{
			name:      "an answer that refuses the trigger is returned as it is",
			in:        request.Input{Project: "gh/acme/missing", Branch: "main"},
			wantErr:   "POST /api/v2/project/gh%2Facme%2Fmissing/pipeline: 404 Project not found: check the project slug and that the token's user can see the project",
			wantPosts: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.env...)
			if tc.setup != nil {
				tc.setup(e)
			}
			opts := e.options()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			tr, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, tc.in), nil, opts)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Nil(t, tr)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotEqual(t, exitcode.Usage, exitcode.Of(err), "exit 2 is for bad input before anything was sent")
			} else {
				require.NoError(t, err)
				require.NotNil(t, tr.Creation)
				assert.Equal(t, tc.wantNumber, tr.Creation.Number)
				assert.Equal(t, e.idOf(newTrigger(t, tc.in).Project.String(), tc.wantNumber), tr.Creation.ID)
				assert.Equal(t, tc.wantRecovered, tr.Recovered)
				assert.Equal(t, tc.wantAttempts, tr.Attempts)
			}
			assert.Equal(t, tc.wantPosts, e.posts(), "trigger requests sent")
			assert.Equal(t, tc.wantPipelines, e.pipelines())
		})
	}
}

// The server's clock may run ahead of or behind this machine's: created after the send is
// judged on the server's clock, estimated from its Date headers, never with a fixed window.
func TestTriggerOnASkewedServerClock(t *testing.T) {
	for _, skew := range []time.Duration{-45 * time.Second, 45 * time.Second, -2 * time.Hour, 90 * time.Minute} {
		skewed := withConfig(func(c *simulator.Config) { c.ClockSkew = simulator.Duration(skew) })
		t.Run(fmt.Sprintf("server %s: a lost answer is recovered", skew), func(t *testing.T) {
			e := newEnv(t, skewed)
			e.fault(lost)
			tr, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
			require.NoError(t, err)
			assert.True(t, tr.Recovered)
			assert.Equal(t, 1, e.posts())
		})
		t.Run(fmt.Sprintf("server %s: our pipeline of 3s earlier is not taken for one that was never created", skew), func(t *testing.T) {
			e := newEnv(t, skewed)
			e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
			e.clock.Advance(3 * time.Second)
			e.fault(dropped)
			tr, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
			require.NoError(t, err)
			assert.Equal(t, int64(2), tr.Creation.Number)
			assert.Equal(t, 2, tr.Attempts)
			assert.Equal(t, []string{"gh/acme/api#1 main", "gh/acme/api#2 main"}, e.pipelines())
		})
	}
}

// Two targets of one fan-out on one project, the default branch and
// "feature"; one POST gets a 502 that created nothing, the other creates its pipeline and loses
// the answer. Whichever target gets which fault, each ends with exactly its own pipeline.
func TestFanOutTargetsNeverTakeEachOthersPipelines(t *testing.T) {
	for range 5 { // the two POSTs race for the two faults; both orders must come out right
		e := newEnv(t)
		e.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultStatus, Status: 502})
		e.fault(lost)
		targets := []dispatch.Target{
			target(t, request.Input{Project: "gh/acme/api"}),
			target(t, request.Input{Project: "gh/acme/api", Branch: "feature"}),
		}
		outcomes := dispatch.Run(context.Background(), e.me, targets, dispatch.Options{MaxParallel: 2, Trigger: e.options()})
		resends := 0
		for _, o := range outcomes {
			require.NoError(t, o.Err)
			resends += dispatch.Resends(o.Triggered, o.Err)
		}
		assert.Equal(t, 1, resends, "only the POST that created nothing is sent again")
		assert.Equal(t, 3, e.posts())
		var branches []string
		for _, p := range e.sim.Pipelines() {
			branches = append(branches, p.Branch)
		}
		assert.ElementsMatch(t, []string{"main", "feature"}, branches, "one pipeline on each branch")
	}
}

// Where the API shows the parameters a pipeline was triggered with, a pipeline with other values
// is not ours, however close in time.
func TestTriggerParametersRuleOutOtherRuns(t *testing.T) {
	e := newEnv(t)
	e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main", "parameters": {"image": "svc-a:41"}}`)
	e.fault(lost)
	api := &showingParams{API: e.me, sim: e.sim}
	tr, err := dispatch.Trigger(context.Background(), api, newTrigger(t, request.Input{Project: "gh/acme/api", Branch: "main", Params: []string{"image=svc-b:77"}}), nil, e.options())
	require.NoError(t, err)
	assert.Equal(t, int64(2), tr.Creation.Number)
	assert.True(t, tr.Recovered)

	t.Run("without them the two cannot be told apart, and neither is claimed", func(t *testing.T) {
		e := newEnv(t)
		e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main", "parameters": {"image": "svc-a:41"}}`)
		e.fault(lost)
		_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, request.Input{Project: "gh/acme/api", Branch: "main", Params: []string{"image=svc-b:77"}}), nil, e.options())
		var unknown *dispatch.UnknownOutcomeError
		require.ErrorAs(t, err, &unknown)
		assert.Len(t, unknown.Candidates, 2)
	})
}

// showingParams is an API whose pipeline list shows each pipeline's parameters in
// trigger_parameters, as the simulator (like the captured answers) does not.
type showingParams struct {
	dispatch.API
	sim *simulator.Simulator
}

func (s *showingParams) ListProjectPipelines(ctx context.Context, slug, branch, token string) (*circleci.PipelinePage, error) {
	page, err := s.API.ListProjectPipelines(ctx, slug, branch, token)
	if err != nil {
		return nil, err
	}
	params := map[string]map[string]any{}
	for _, p := range s.sim.Pipelines() {
		params[p.ID] = p.Parameters
	}
	for i := range page.Items {
		for k, v := range params[page.Items[i].ID] {
			page.Items[i].TriggerParameters[k] = v
		}
	}
	return page, nil
}

func TestTriggerErrors(t *testing.T) {
	t.Run("errors after an unknown outcome exit 5 and still match ErrOutcomeUnknown", func(t *testing.T) {
		for _, setup := range []func(e *env){
			func(e *env) { f := dropped; f.Times = 2; e.fault(f) }, // gives up
			func(e *env) { // ambiguous
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
				e.fault(lost)
			},
			func(e *env) { // lookup failed
				e.fault(lost)
				e.fault(simulator.Fault{Operation: "listPipelinesForProject", Kind: simulator.FaultStatus, Status: 403})
			},
		} {
			e := newEnv(t)
			setup(e)
			_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
			require.Error(t, err)
			assert.ErrorIs(t, err, circleci.ErrOutcomeUnknown)
			assert.Equal(t, exitcode.Unreachable, exitcode.Of(err), err.Error())
		}
	})

	t.Run("an undecided lookup lists the candidates, newest first, with the sends so far", func(t *testing.T) {
		e := newEnv(t)
		e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
		e.fault(lost)
		_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		var unknown *dispatch.UnknownOutcomeError
		require.ErrorAs(t, err, &unknown)
		require.Len(t, unknown.Candidates, 2)
		assert.Equal(t, dispatch.Candidate{Number: 2, ID: e.idOf("gh/acme/api", 2), URL: "https://app.example/gh/acme/api/2"}, unknown.Candidates[0])
		assert.Equal(t, int64(1), unknown.Candidates[1].Number)
		assert.Equal(t, 1, unknown.Attempts)
		assert.Equal(t, 0, dispatch.Resends(nil, err))
	})
}

func TestTriggerLookup(t *testing.T) {
	t.Run("it reads the list 2s, 5s, 10s and 20s after an unknown outcome before concluding nothing was created", func(t *testing.T) {
		e := newEnv(t)
		e.fault(dropped)
		_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second}, e.sleeps.all())
		assert.Equal(t, 4, e.countRequests("listPipelinesForProject"))
	})

	t.Run("it stops looking once the pipeline is proven", func(t *testing.T) {
		e := newEnv(t)
		e.fault(lost)
		_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{2 * time.Second}, e.sleeps.all())
	})

	t.Run("every resend is told, with the send it is and how long the lookups looked", func(t *testing.T) {
		e := newEnv(t)
		e.fault(dropped)
		opts := e.options()
		var told []string
		opts.OnResend = func(tr *request.Trigger, send int, looked time.Duration) {
			told = append(told, fmt.Sprintf("%s send %d after %s", tr.Project, send, looked))
		}
		tr, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, opts)
		require.NoError(t, err)
		assert.Equal(t, []string{"gh/acme/api send 2 after 20s"}, told)
		assert.Equal(t, 1, dispatch.Resends(tr, nil))
	})

	t.Run("the token's login is asked for once per client, and a project's default branch once", func(t *testing.T) {
		e := newEnv(t)
		for range 3 {
			e.fault(lost)
			tr, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, request.Input{Project: "gh/acme/p01"}), nil, e.options())
			require.NoError(t, err)
			assert.True(t, tr.Recovered)
		}
		assert.Equal(t, 1, e.countRequests("getCurrentUser"))
		assert.Equal(t, 1, e.countRequests("getProjectBySlug"))
	})

	t.Run("a pipeline this process already triggered is not taken for a lost one", func(t *testing.T) {
		e := newEnv(t)
		first, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		require.NoError(t, err)
		e.fault(lost)
		second, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		require.NoError(t, err)
		assert.Equal(t, int64(1), first.Creation.Number)
		assert.Equal(t, int64(2), second.Creation.Number)
		assert.True(t, second.Recovered)
	})

	t.Run("a pipeline the list shows later than every lookup is sent twice, and the next lookup reports both rather than pick one", func(t *testing.T) {
		e := newEnv(t)
		f := lost
		f.Times = 2
		e.fault(f)
		api := &laggingList{API: e.me}
		api.hide.Store(int32(len(dispatch.DefaultLookups)))
		_, err := dispatch.Trigger(context.Background(), api, newTrigger(t, onMain), nil, e.options())
		var unknown *dispatch.UnknownOutcomeError
		require.ErrorAs(t, err, &unknown)
		require.Len(t, unknown.Candidates, 2)
		assert.Equal(t, int64(2), unknown.Candidates[0].Number)
		assert.Equal(t, int64(1), unknown.Candidates[1].Number)
		assert.Equal(t, 2, unknown.Attempts)
		assert.Equal(t, 1, dispatch.Resends(nil, fmt.Errorf("trigger x: %w", err)))
		assert.Equal(t, 2, e.posts())
	})

	t.Run("a context that ends while waiting to look returns the unknown outcome and looks no further", func(t *testing.T) {
		e := newEnv(t)
		e.fault(lost)
		ctx, cancel := context.WithCancel(context.Background())
		opts := e.options()
		opts.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
		_, err := dispatch.Trigger(ctx, e.me, newTrigger(t, onMain), nil, opts)
		require.ErrorIs(t, err, circleci.ErrOutcomeUnknown)
		assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
		assert.Equal(t, 0, e.countRequests("listPipelinesForProject"))
		assert.Equal(t, 1, e.posts())
	})

	t.Run("a pipeline/run that creates no pipeline says why", func(t *testing.T) {
		e := newEnv(t)
		tr, err := dispatch.Trigger(context.Background(), e.me,
			newTrigger(t, request.Input{Project: appSlug, DefinitionID: definitionID, Branch: "skip-me"}), nil, e.options())
		require.NoError(t, err)
		assert.Nil(t, tr.Creation)
		assert.Equal(t, "Ignoring pipeline due to CI skip in the commit", tr.NotCreated)
		assert.Empty(t, e.pipelines())
	})
}

// laggingList is an API whose pipeline list omits the newest pipelines for its first hide
// calls, as an API that has not caught up yet.
type laggingList struct {
	dispatch.API
	hide atomic.Int32
}

func (l *laggingList) ListProjectPipelines(ctx context.Context, slug, branch, token string) (*circleci.PipelinePage, error) {
	page, err := l.API.ListProjectPipelines(ctx, slug, branch, token)
	if err == nil && l.hide.Add(-1) >= 0 {
		page.Items = []circleci.Pipeline{}
	}
	return page, err
}
