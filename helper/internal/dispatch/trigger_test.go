package dispatch_test

import (
	"context"

	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/simulator"
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
			name:       "a dropped request, which created nothing, is sent again and makes exactly one pipeline",
			in:         onMain,
			setup:      func(e *env) { e.fault(dropped) },
			wantNumber: 1, wantAttempts: 2, wantPosts: 2,
			wantPipelines: []string{"gh/acme/api#1 main"},
		},
		{
			name: "a 502 answer is an unknown outcome: nothing was created, so it is sent again",
			in:   onMain,
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipeline", Kind: simulator.FaultStatus, Status: 502})
			},
			wantNumber: 1, wantAttempts: 2, wantPosts: 2,
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
			wantErr:   "giving up after 2 attempts: POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (the connection closed without a response); no pipeline it created was found",
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
			name: "our own pipeline from before the clock-skew allowance is not taken for the lost one",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
				e.clock.Advance(dispatch.ClockSkew + time.Second)
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
			name: "two candidates make an error naming both, and nothing is sent again",
			in:   onMain,
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
				e.clock.Advance(time.Second)
				e.fault(lost)
			},
			wantErr:       "(the connection closed without a response); 2 recent pipelines by this token's user on the same ref could be the one it created (numbers 2, 1), so it was not sent again: check them and cancel any extra",
			wantPosts:     2,
			wantPipelines: []string{"gh/acme/api#1 main", "gh/acme/api#2 main"},
		},
		{
			name: "a trigger with no ref matches any branch, so our recent pipeline makes it ambiguous",
			in:   request.Input{Project: "gh/acme/api"},
			setup: func(e *env) {
				e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "dev"}`)
				e.fault(lost)
			},
			wantErr:       "2 recent pipelines by this token's user on the same ref could be the one it created (numbers 2, 1)",
			wantPosts:     2,
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
			name: "a project that reports no vcs is matched by actor and time alone",
			in:   request.Input{Project: noVCSSlug, DefinitionID: noVCSDefID, Branch: "main"},
			setup: func(e *env) {
				e.fault(simulator.Fault{Operation: "triggerPipelineRun", Kind: simulator.FaultLost})
			},
			wantNumber: 1, wantRecovered: true, wantAttempts: 1, wantPosts: 1,
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
			name:      "an answer that refuses the trigger is returned as it is",
			in:        request.Input{Project: "gh/acme/missing", Branch: "main"},
			wantErr:   "POST /api/v2/project/gh%2Facme%2Fmissing/pipeline: 404 Project not found: check the project slug and that the token's user can see the project",
			wantPosts: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
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
			} else {
				require.NoError(t, err)
				require.NotNil(t, tr.Creation)
				assert.Equal(t, tc.wantNumber, tr.Creation.Number)
				assert.NotEmpty(t, tr.Creation.ID)
				assert.Equal(t, tc.wantRecovered, tr.Recovered)
				assert.Equal(t, tc.wantAttempts, tr.Attempts)
			}
			assert.Equal(t, tc.wantPosts, e.posts(), "trigger requests sent")
			assert.Equal(t, tc.wantPipelines, e.pipelines())
		})
	}
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

	t.Run("an ambiguous lookup lists the candidates' numbers", func(t *testing.T) {
		e := newEnv(t)
		e.triggerDirectly(e.me, "gh/acme/api", `{"branch": "main"}`)
		e.fault(lost)
		_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		var amb *dispatch.AmbiguousError
		require.ErrorAs(t, err, &amb)
		assert.Equal(t, []int64{2, 1}, amb.Numbers)
		assert.Equal(t, 1, amb.Attempts)
	})
}

func TestTriggerLookup(t *testing.T) {
	t.Run("it waits LookupDelay before looking, 2s by default", func(t *testing.T) {
		e := newEnv(t)
		e.fault(lost)
		_, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, onMain), nil, e.options())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{2 * time.Second}, e.sleeps.all())

		opts := e.options()
		opts.LookupDelay = -1
		e.fault(lost)
		_, err = dispatch.Trigger(context.Background(), e.me, newTrigger(t, request.Input{Project: "gh/acme/p01"}), nil, opts)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{2 * time.Second, 0}, e.sleeps.all())
	})

	t.Run("the token's login is asked for once per client", func(t *testing.T) {
		e := newEnv(t)
		for _, p := range []string{"gh/acme/p01", "gh/acme/p02", "gh/acme/p03"} {
			e.fault(lost)
			tr, err := dispatch.Trigger(context.Background(), e.me, newTrigger(t, request.Input{Project: p}), nil, e.options())
			require.NoError(t, err)
			assert.True(t, tr.Recovered)
		}
		assert.Equal(t, 1, e.countRequests("getCurrentUser"))
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

	t.Run("a pipeline the list shows late is sent twice, and the next lookup reports both rather than pick one", func(t *testing.T) {
		e := newEnv(t)
		f := lost
		f.Times = 2
		e.fault(f)
		api := &laggingList{API: e.me}
		api.hide.Store(1)
		_, err := dispatch.Trigger(context.Background(), api, newTrigger(t, onMain), nil, e.options())
		var amb *dispatch.AmbiguousError
		require.ErrorAs(t, err, &amb)
		assert.Equal(t, []int64{2, 1}, amb.Numbers)
		assert.Equal(t, 2, amb.Attempts)
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
		assert.Equal(t, 0, e.countRequests("getCurrentUser"))
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
