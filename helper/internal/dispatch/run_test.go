package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

// followed is a Follow result with a fixed exit code.
type followed int

func (f followed) ExitCode() int { return int(f) }

// guard bounds every wait in these tests, so a bug fails a test instead of hanging it.
const guard = 5 * time.Second

func projectTargets(t *testing.T, slugs ...string) []dispatch.Target {
	out := make([]dispatch.Target, len(slugs))
	for i, s := range slugs {
		out[i] = target(t, request.Input{Project: s, Branch: "main"})
	}
	return out
}

func fanOutSlugs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("gh/acme/p%02d", i+1)
	}
	return out
}

// counting is an API that counts trigger requests in flight; each waits (within guard) until
// want are in flight at once, so the peak shows the bound. full closes once peak reaches want.
type counting struct {
	dispatch.API
	want int

	mu       sync.Mutex
	inFlight int
	peak     int
	full     chan struct{}
}

func (c *counting) TriggerPipeline(ctx context.Context, slug string, body []byte) (*circleci.PipelineCreation, error) {
	c.mu.Lock()
	c.inFlight++
	if c.inFlight > c.peak {
		c.peak = c.inFlight
		if c.peak == c.want {
			close(c.full)
		}
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.inFlight--
	}()
	select {
	case <-c.full:
	case <-time.After(guard):
	}
	return c.API.TriggerPipeline(ctx, slug, body)
}

// each is a Follower that follows every pipeline with f in a goroutine of its own, as these
// tests need; package follow's scheduler is the real one (through the CLI).
type each func(ctx context.Context, t dispatch.Target, tr *dispatch.Triggered) (dispatch.Followed, error)

func (f each) Follow(ctx context.Context, created <-chan dispatch.Created, done func(dispatch.Created, dispatch.Followed, error)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range created {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f(ctx, c.Target, c.Triggered)
			mu.Lock()
			defer mu.Unlock()
			done(c, res, err)
		}()
	}
	wg.Wait()
}

func TestRunFanOut(t *testing.T) {
	t.Run("MaxParallel bounds the triggers in flight, not the pipelines followed: all 20 are followed at once", func(t *testing.T) {
		e := newEnv(t)
		api := &counting{API: e.me, want: 4, full: make(chan struct{})}
		targets := projectTargets(t, fanOutSlugs(fanOutProjects)...)
		var following sync.WaitGroup
		following.Add(fanOutProjects)
		allFollowed := make(chan struct{})
		go func() { following.Wait(); close(allFollowed) }()
		var landed []string // OnTriggered is serialized by Run: no lock here, -race checks that
		outcomes := dispatch.Run(context.Background(), api, targets, dispatch.Options{
			MaxParallel: 4,
			Trigger:     e.options(),
			Follower: each(func(ctx context.Context, tg dispatch.Target, tr *dispatch.Triggered) (dispatch.Followed, error) {
				following.Done()
				select { // hold every follow until all of them are in flight at once
				case <-allFollowed:
				case <-time.After(guard):
					t.Error("the pipelines were not all followed at once")
				}
				return followed(0), nil
			}),
			OnTriggered: func(_ int, tg dispatch.Target, tr *dispatch.Triggered) {
				landed = append(landed, tg.Trigger.Project.String())
			},
		})

		assert.Equal(t, 4, api.peak, "trigger requests in flight at once")
		require.Len(t, outcomes, len(targets))
		for i, o := range outcomes {
			assert.Same(t, targets[i].Trigger, o.Target.Trigger, "outcome %d is out of order", i)
			require.NoError(t, o.Err)
			assert.Equal(t, int64(1), o.Triggered.Creation.Number)
			assert.Equal(t, followed(0), o.Followed)
			assert.False(t, o.Started.IsZero())
			assert.False(t, o.Finished.Before(o.Started))
		}
		var want []string
		for _, s := range fanOutSlugs(fanOutProjects) {
			want = append(want, s+"#1 main")
		}
		got := e.pipelines()
		sort.Strings(got)
		assert.Equal(t, want, got, "one pipeline per project, none twice")
		sort.Strings(landed)
		assert.Equal(t, fanOutSlugs(fanOutProjects), landed)
		assert.Equal(t, exitcode.OK, dispatch.WorstExitCode(outcomes))
	})

	t.Run("lost answers across a fan-out are each recovered once, and no target takes another's pipeline", func(t *testing.T) {
		e := newEnv(t)
		for range 3 {
			e.fault(lost)
		}
		targets := []dispatch.Target{
			target(t, request.Input{Project: "gh/acme/api", Branch: "main"}),
			target(t, request.Input{Project: "gh/acme/api", Branch: "dev"}),
			target(t, request.Input{Project: "gh/acme/api", Tag: "v1"}),
			target(t, request.Input{Project: "gh/acme/p01"}),
		}
		outcomes := dispatch.Run(context.Background(), e.me, targets, dispatch.Options{MaxParallel: 2, Trigger: e.options()})
		ids := map[string]bool{}
		for _, o := range outcomes {
			require.NoError(t, o.Err)
			assert.False(t, ids[o.Triggered.Creation.ID], "pipeline %s claimed twice", o.Triggered.Creation.ID)
			ids[o.Triggered.Creation.ID] = true
		}
		assert.Len(t, e.sim.Pipelines(), 4)
		assert.Equal(t, 4, e.posts())
	})

	t.Run("without Follow only triggers, with the outcome in target order", func(t *testing.T) {
		e := newEnv(t)
		targets := projectTargets(t, "gh/acme/p03", "gh/acme/p01", "gh/acme/p02")
		outcomes := dispatch.Run(context.Background(), e.me, targets, dispatch.Options{Trigger: e.options()})
		for i, o := range outcomes {
			require.NoError(t, o.Err)
			assert.Equal(t, targets[i].Trigger.Project, o.Target.Trigger.Project)
			assert.Nil(t, o.Followed)
		}
		assert.Len(t, e.sim.Pipelines(), 3)
	})

	t.Run("the trigger options reach every target as given, never-resend included", func(t *testing.T) {
		e := newEnv(t)
		e.fault(dropped)
		opts := e.options()
		opts.Resends = -1
		opts.Lookups = []time.Duration{0}
		outcomes := dispatch.Run(context.Background(), e.me, projectTargets(t, "gh/acme/p01"), dispatch.Options{Trigger: opts})
		assert.Contains(t, outcomes[0].Err.Error(), "trigger gh/acme/p01: giving up after 1 attempt: POST")
		assert.Equal(t, exitcode.Unreachable, dispatch.WorstExitCode(outcomes))
		assert.Equal(t, 1, e.posts())
		assert.Equal(t, []time.Duration{0}, e.sleeps.all())
	})

	t.Run("no targets give no outcomes", func(t *testing.T) {
		e := newEnv(t)
		assert.Empty(t, dispatch.Run(context.Background(), e.me, nil, dispatch.Options{}))
	})

	t.Run("a pipeline/run that creates no pipeline is a refusal, reported as it lands", func(t *testing.T) {
		e := newEnv(t)
		targets := []dispatch.Target{target(t, request.Input{Project: appSlug, DefinitionID: definitionID, Branch: "skip-me"})}
		var seen *dispatch.Triggered
		outcomes := dispatch.Run(context.Background(), e.me, targets, dispatch.Options{
			Trigger:     e.options(),
			OnTriggered: func(_ int, _ dispatch.Target, tr *dispatch.Triggered) { seen = tr },
			Follower: each(func(context.Context, dispatch.Target, *dispatch.Triggered) (dispatch.Followed, error) {
				t.Error("Follow called without a pipeline")
				return nil, nil
			}),
		})
		require.NotNil(t, seen)
		assert.Equal(t, "Ignoring pipeline due to CI skip in the commit", seen.NotCreated)
		require.Error(t, outcomes[0].Err)
		assert.Equal(t, "trigger "+appSlug+": no pipeline was created: Ignoring pipeline due to CI skip in the commit", outcomes[0].Err.Error())
		assert.Equal(t, exitcode.Refused, dispatch.WorstExitCode(outcomes))
	})

	t.Run("a failure without FailFast leaves the other targets alone", func(t *testing.T) {
		e := newEnv(t)
		targets := projectTargets(t, "gh/acme/p01", "gh/acme/missing", "gh/acme/p02", "gh/acme/p03")
		outcomes := dispatch.Run(context.Background(), e.me, targets, dispatch.Options{MaxParallel: 1, Trigger: e.options()})
		assert.Equal(t, "trigger gh/acme/missing: POST /api/v2/project/gh%2Facme%2Fmissing/pipeline: 404 Project not found: check the project slug and that the token's user can see the project", outcomes[1].Err.Error())
		for _, i := range []int{0, 2, 3} {
			assert.NoError(t, outcomes[i].Err)
		}
		assert.Equal(t, exitcode.Refused, dispatch.WorstExitCode(outcomes))
	})

	t.Run("a caller's context that has ended leaves every target unsent, saying why", func(t *testing.T) {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		outcomes := dispatch.Run(ctx, e.me, projectTargets(t, "gh/acme/p01", "gh/acme/p02"), dispatch.Options{Trigger: e.options()})
		assert.Equal(t, "trigger gh/acme/p01: not sent: context canceled", outcomes[0].Err.Error())
		assert.Equal(t, "trigger gh/acme/p02: not sent: context canceled", outcomes[1].Err.Error())
		assert.True(t, outcomes[0].Started.IsZero())
		assert.Equal(t, 0, e.posts())

		ctx, cancel = context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		outcomes = dispatch.Run(ctx, e.me, projectTargets(t, "gh/acme/p01"), dispatch.Options{Trigger: e.options()})
		assert.Equal(t, exitcode.Timeout, dispatch.WorstExitCode(outcomes), outcomes[0].Err.Error())
	})
}

func TestRunFailFast(t *testing.T) {
	// waitForCancel is a Follow that, like the watcher, returns once its ctx is canceled
	// (having canceled the downstream workflows) with the outcome canceled.
	waitForCancel := func(ctx context.Context) (dispatch.Followed, error) {
		select {
		case <-ctx.Done():
			return followed(exitcode.Canceled), nil
		case <-time.After(guard):
			return followed(exitcode.OK), nil
		}
	}
	// failFast runs targets with FailFast, parallel triggers at a time, each followed by follow.
	failFast := func(e *env, api dispatch.API, targets []dispatch.Target, parallel int, follow each) []dispatch.Outcome {
		return dispatch.Run(context.Background(), api, targets, dispatch.Options{MaxParallel: parallel, FailFast: true, Trigger: e.options(), Follower: follow})
	}

	t.Run("a failed trigger cancels the follows in flight and the targets not yet started", func(t *testing.T) {
		e := newEnv(t)
		targets := projectTargets(t, "gh/acme/p01", "gh/acme/missing", "gh/acme/p02", "gh/acme/p03")
		// one at a time: p01 lands before gh/acme/missing is sent
		outcomes := failFast(e, e.me, targets, 1, func(ctx context.Context, _ dispatch.Target, _ *dispatch.Triggered) (dispatch.Followed, error) {
			return waitForCancel(ctx)
		})

		assert.Contains(t, outcomes[1].Err.Error(), "trigger gh/acme/missing: POST /api/v2/project/gh%2Facme%2Fmissing/pipeline: 404 Project not found")

		var canceled *dispatch.CanceledError
		require.ErrorAs(t, outcomes[0].Err, &canceled)
		assert.Equal(t, "gh/acme/p01: canceled by --fail-fast after gh/acme/missing failed: follow ended with exit code 6", outcomes[0].Err.Error())
		assert.NotNil(t, outcomes[0].Triggered)
		assert.Equal(t, followed(exitcode.Canceled), outcomes[0].Followed)
		assert.Equal(t, exitcode.Canceled, outcomes[0].ExitCode())

		for _, i := range []int{2, 3} {
			o := outcomes[i]
			require.ErrorAs(t, o.Err, &canceled)
			assert.ErrorIs(t, o.Err, context.Canceled)
			assert.Equal(t, "trigger "+o.Target.Trigger.Project.String()+": not sent: canceled by --fail-fast after gh/acme/missing failed", o.Err.Error())
			assert.Nil(t, o.Triggered)
			assert.True(t, o.Started.IsZero())
			assert.False(t, o.Finished.IsZero())
		}
		assert.Equal(t, []string{"gh/acme/p01#1 main"}, e.pipelines())
		assert.Equal(t, exitcode.Refused, dispatch.WorstExitCode(outcomes), "the first failure explains the run")
	})

	t.Run("a pipeline that failed on its own before it could be stopped stays a failure", func(t *testing.T) {
		e := newEnv(t)
		targets := projectTargets(t, "gh/acme/p01", "gh/acme/p02")
		p02failed := make(chan struct{})
		outcomes := failFast(e, e.me, targets, 2, func(ctx context.Context, tg dispatch.Target, _ *dispatch.Triggered) (dispatch.Followed, error) {
			if tg.Trigger.Project.Project == "p02" {
				defer close(p02failed)
				return followed(exitcode.Failed), nil
			}
			<-p02failed
			<-ctx.Done()
			return followed(exitcode.Failed), nil // its workflow had failed when the cancel came
		})
		assert.NoError(t, outcomes[0].Err, "not reported as canceled by --fail-fast")
		assert.Equal(t, exitcode.Failed, outcomes[0].ExitCode())
		assert.Equal(t, exitcode.Failed, dispatch.WorstExitCode(outcomes))
	})

	t.Run("a failing follow cancels the rest", func(t *testing.T) {
		e := newEnv(t)
		targets := projectTargets(t, fanOutSlugs(5)...)
		outcomes := failFast(e, e.me, targets, 2, func(ctx context.Context, tg dispatch.Target, _ *dispatch.Triggered) (dispatch.Followed, error) {
			if tg.Trigger.Project.Project == "p02" {
				return followed(exitcode.Failed), exitcode.Wrap(exitcode.Failed, errors.New("gh/acme/p02 pipeline 1: workflow build failed"))
			}
			return waitForCancel(ctx)
		})
		assert.Equal(t, "gh/acme/p02 pipeline 1: workflow build failed", outcomes[1].Err.Error())
		assert.Equal(t, "gh/acme/p01: canceled by --fail-fast after gh/acme/p02 failed: follow ended with exit code 6", outcomes[0].Err.Error())
		// Triggers do not wait for follows, so some of the rest may have been sent before p02
		// failed: those were canceled, the others never sent.
		for _, o := range outcomes[2:] {
			if o.Triggered != nil {
				assert.Contains(t, o.Err.Error(), "canceled by --fail-fast after gh/acme/p02 failed: follow ended with exit code 6")
			} else {
				assert.Contains(t, o.Err.Error(), "not sent: canceled by --fail-fast after gh/acme/p02 failed")
			}
		}
		assert.Equal(t, exitcode.Failed, dispatch.WorstExitCode(outcomes))
	})

	t.Run("a trigger being sent when another target fails lands, and its Follow gets a canceled ctx to cancel it", func(t *testing.T) {
		e := newEnv(t)
		runCtx := make(chan context.Context, 1)
		api := &blockedTrigger{API: e.me, slug: "gh/acme/p01", release: runCtx}
		targets := projectTargets(t, "gh/acme/p01", "gh/acme/p02")
		var followCanceled bool
		outcomes := failFast(e, api, targets, 2, func(ctx context.Context, tg dispatch.Target, _ *dispatch.Triggered) (dispatch.Followed, error) {
			if tg.Trigger.Project.Project == "p02" {
				runCtx <- ctx // p01's trigger goes on once this is canceled
				return followed(exitcode.Failed), nil
			}
			followCanceled = ctx.Err() != nil
			return followed(exitcode.Failed), context.Cause(ctx)
		})
		assert.True(t, followCanceled, "p01's Follow ran with its ctx already canceled")
		require.NotNil(t, outcomes[0].Triggered, outcomes[0].Err)
		assert.Equal(t, int64(1), outcomes[0].Triggered.Creation.Number)
		assert.Equal(t, "gh/acme/p01: canceled by --fail-fast after gh/acme/p02 failed", outcomes[0].Err.Error())
		assert.ErrorIs(t, outcomes[0].Err, context.Canceled)
		assert.Equal(t, []string{"gh/acme/p02#1 main", "gh/acme/p01#1 main"}, e.pipelines())
	})
}

// blockedTrigger holds the trigger of one project until the context it receives on release
// has ended, then sends it under its own context.
type blockedTrigger struct {
	dispatch.API
	slug    string
	release chan context.Context
}

func (b *blockedTrigger) TriggerPipeline(ctx context.Context, slug string, body []byte) (*circleci.PipelineCreation, error) {
	if slug == b.slug {
		select {
		case other := <-b.release:
			select {
			case <-other.Done():
			case <-time.After(guard):
			}
		case <-time.After(guard):
		}
	}
	return b.API.TriggerPipeline(ctx, slug, body)
}

func TestWorstExitCode(t *testing.T) {
	refused := exitcode.Wrap(exitcode.Refused, errors.New("refused"))
	unreachable := exitcode.Wrap(exitcode.Unreachable, errors.New("unreachable"))
	usage := exitcode.Usagef("usage")
	timeout := exitcode.Wrap(exitcode.Timeout, errors.New("timeout"))
	canceled := &dispatch.CanceledError{Project: "gh/a/b", By: "gh/a/c"}
	for _, tc := range []struct {
		name     string
		outcomes []dispatch.Outcome
		want     int
	}{
		{"no outcomes are a success", nil, 0},
		{"all followed to success is a success", []dispatch.Outcome{{Followed: followed(0)}, {Followed: followed(0)}}, 0},
		{"triggered without following is a success", []dispatch.Outcome{{}}, 0},
		{"an error without a code is an internal error", []dispatch.Outcome{{Followed: followed(0)}, {Err: errors.New("boom")}}, 70},
		{"a canceled pipeline exits 6", []dispatch.Outcome{{Followed: followed(0)}, {Followed: followed(6)}}, 6},
		{"a failed pipeline outranks a canceled one", []dispatch.Outcome{{Followed: followed(6)}, {Followed: followed(1)}, {Err: canceled}}, 1},
		{"a timeout outranks a failed pipeline", []dispatch.Outcome{{Followed: followed(1)}, {Followed: followed(4)}}, 4},
		{"a refusal outranks a timeout", []dispatch.Outcome{{Followed: followed(4)}, {Err: refused}}, 3},
		{"an unreachable API outranks a refusal", []dispatch.Outcome{{Err: refused}, {Err: unreachable}}, 5},
		{"bad usage outranks everything", []dispatch.Outcome{{Err: unreachable}, {Err: usage}, {Followed: followed(1)}}, 2},
		{"an error outranks the follow result beside it", []dispatch.Outcome{{Err: refused, Followed: followed(0)}}, 3},
		{"targets canceled by --fail-fast do not hide the failure that caused it", []dispatch.Outcome{{Err: canceled}, {Err: timeout}, {Err: canceled}}, 4},
		{"an unlisted code ranks above a failed pipeline", []dispatch.Outcome{{Followed: followed(1)}, {Followed: followed(7)}}, 7},
		{"an unlisted code ranks below a timeout", []dispatch.Outcome{{Followed: followed(7)}, {Followed: followed(4)}}, 4},
		{"a signal outranks what it interrupted", []dispatch.Outcome{{Err: unreachable}, {Followed: followed(143)}, {Followed: followed(1)}}, 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, dispatch.WorstExitCode(tc.outcomes))
		})
	}
}

// panicking is an API whose trigger panics, as a bug below dispatch would.
type panicking struct{ dispatch.API }

func (panicking) TriggerPipeline(context.Context, string, []byte) (*circleci.PipelineCreation, error) {
	panic("boom in a target's goroutine")
}

func TestRunCarriesAPanicToItsCaller(t *testing.T) {
	targets := projectTargets(t, fanOutSlugs(3)...)
	defer func() {
		p, ok := recover().(*dispatch.PanicError)
		require.True(t, ok, "Run re-raises a *PanicError in the caller's goroutine")
		assert.Equal(t, "boom in a target's goroutine", p.Value)
		assert.Contains(t, string(p.Stack), "TriggerPipeline", "the stack of the goroutine that panicked")
	}()
	dispatch.Run(context.Background(), panicking{}, targets, dispatch.Options{MaxParallel: 2})
	t.Fatal("Run returned instead of panicking")
}
