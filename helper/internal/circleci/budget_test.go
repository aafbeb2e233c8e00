package circleci

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

var budgetStart = time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)

// clocked is a client whose budget, retries and Retry-After all read one hand-moved clock that
// its sleeps move, plus the server-side arrival time of every request on that clock.
type clocked struct {
	c       *Client
	clock   *testkit.Clock
	sleeps  *sleeps
	mu      sync.Mutex
	arrived []time.Time
}

func newClocked(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int), edit ...func(*Config)) *clocked {
	t.Helper()
	cl := &clocked{clock: testkit.NewClock(budgetStart), sleeps: &sleeps{}}
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		cl.mu.Lock()
		cl.arrived = append(cl.arrived, cl.clock.Now())
		cl.mu.Unlock()
		handle(w, r, n)
	})
	c, _ := newTestClient(t, srv.URL, append([]func(*Config){func(cfg *Config) {
		cfg.Now = cl.clock.Now
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			_ = cl.sleeps.sleep(ctx, d)
			return cl.clock.Sleep(ctx, d)
		}
	}}, edit...)...)
	cl.c = c
	return cl
}

func (cl *clocked) arrivals() []time.Duration {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var out []time.Duration
	for _, a := range cl.arrived {
		out = append(out, a.Sub(budgetStart))
	}
	return out
}

func ok200(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, userJSON) }

// throttleNth answers request number nth 429 with the given Retry-After, every other one 200.
func throttleNth(nth int, retryAfter string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		if n == nth {
			w.Header().Set("Retry-After", retryAfter)
			reply(w, 429, `{}`)
			return
		}
		reply(w, 200, userJSON)
	}
}

func TestTheBurstGoesAtOnceThenTheSustainedPace(t *testing.T) {
	tests := []struct {
		name      string
		perMinute int
		burst     int
		requests  int
		waits     []time.Duration
	}{
		{"the default lets 100 requests go at once, then 5 a second", 0, 0, 103, []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}},
		{"60 a minute after a burst of 2 is one a second", 60, 2, 5, []time.Duration{time.Second, time.Second, time.Second}},
		{"within the burst nobody waits", 60, 10, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := newClocked(t, ok200, func(cfg *Config) { cfg.RequestsPerMinute, cfg.Burst = tt.perMinute, tt.burst })
			for range tt.requests {
				_, err := cl.c.Me(context.Background())
				require.NoError(t, err)
			}
			assert.Equal(t, tt.waits, nilIfEmpty(cl.sleeps.got()))
		})
	}
}

func nilIfEmpty(d []time.Duration) []time.Duration {
	if len(d) == 0 {
		return nil
	}
	return d
}

func TestAThrottledAnswerPausesEveryRequest(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		status int
		pause  time.Duration
	}{
		{"a 429 with Retry-After pauses for that long", map[string]string{"Retry-After": "20"}, 429, 20 * time.Second},
		{"a 429 with only RateLimit-Reset pauses until the reset", map[string]string{"RateLimit-Reset": "7"}, 429, 7 * time.Second},
		{"a 429 with X-RateLimit-Reset as seconds, as CircleCI documents it", map[string]string{"X-RateLimit-Reset": "9"}, 429, 9 * time.Second},
		{"a 429 saying nothing pauses for the base delay", nil, 429, time.Second},
		{"a Retry-After beyond MaxServerWait pauses the others that long", map[string]string{"Retry-After": "3600"}, 429, MaxServerWait},
		{"a RateLimit-Reset beyond MaxServerWait too", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "99999999999"}, 200, MaxServerWait},
		{"a 200 with RateLimit-Remaining 0 pauses until its reset", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "4"}, 200, 4 * time.Second},
		{"a 200 with X-RateLimit-Remaining-Minute 0 pauses until the reset", map[string]string{"X-RateLimit-Remaining-Minute": "0", "X-RateLimit-Reset": "30"}, 200, 30 * time.Second},
		{"the latest reset counts when both systems are spent", map[string]string{"RateLimit-Remaining": "0", "X-RateLimit-Remaining": "0", "RateLimit-Reset": "3", "X-RateLimit-Reset": "6"}, 200, 6 * time.Second},
		{"any spent allowance counts, the lower limit being enforced", map[string]string{"RateLimit-Remaining": "0", "X-RateLimit-Remaining": "80", "RateLimit-Reset": "5"}, 200, 5 * time.Second},
		{"an allowance left does not pause", map[string]string{"RateLimit-Remaining": "3", "RateLimit-Reset": "50"}, 200, 0},
		{"an allowance spent without a reset does not pause", map[string]string{"RateLimit-Remaining": "0"}, 200, 0},
		{"a Retry-After on a 200 is not throttling", map[string]string{"Retry-After": "30"}, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := newClocked(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					reply(w, tt.status, `{"message":"Rate limit exceeded"}`)
					return
				}
				reply(w, 200, userJSON)
			}, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 }) // the first caller gives up; the pause is for the others
			_, _ = cl.c.Me(context.Background())
			assert.Equal(t, tt.pause, cl.c.budget.delay())
			_, _ = cl.c.GetPipeline(context.Background(), pipelineID)
			assert.Equal(t, []time.Duration{0, tt.pause}, cl.arrivals(), "the second request went out after the pause")
		})
	}
}

func TestTheThrottledRequestWaitsItsRetryOnly(t *testing.T) {
	cl := newClocked(t, throttleNth(1, "20"))
	_, err := cl.c.Me(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{20 * time.Second}, cl.sleeps.got(), "the retry's wait covers the pause; it is not waited twice")
	assert.Equal(t, []time.Duration{0, 20 * time.Second}, cl.arrivals())
}

func TestAfterAPauseRequestsResumeAtTheSustainedPace(t *testing.T) {
	cl := newClocked(t, throttleNth(3, "10"), func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
	for range 6 {
		_, _ = cl.c.Me(context.Background())
	}
	// Ten seconds of pause refill 50 tokens; sent at once they would be throttled again.
	assert.Equal(t, []time.Duration{0, 0, 0, 10 * time.Second, 10*time.Second + 200*time.Millisecond, 10*time.Second + 400*time.Millisecond}, cl.arrivals())
}

func TestALaterPauseHoldsARequestAlreadyWaitingForItsToken(t *testing.T) {
	b := newBudget(60, 1, nil, nil, nil)
	clock := testkit.NewClock(budgetStart)
	b.now = clock.Now
	var slept []time.Duration
	b.sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		if len(slept) == 1 { // while this request waits for its token, another one is throttled
			b.observe(&response{status: 429, header: http.Header{"Retry-After": {"30"}}}, time.Second)
		}
		return clock.Sleep(ctx, d)
	}
	require.NoError(t, b.wait(context.Background(), time.Time{}))
	require.NoError(t, b.wait(context.Background(), time.Time{}))
	assert.Equal(t, []time.Duration{time.Second, 29 * time.Second}, slept, "the pause began when the token wait did")
}

func TestAWaitForTheBudgetEndsWithTheContext(t *testing.T) {
	// Real clock and sleep: the context's deadline, not a fake clock, ends the wait.
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "60")
		reply(w, 429, `{}`)
	})
	c, err := New(Config{Host: srv.URL, Token: testToken, Retry: RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	_, err = c.Me(context.Background())
	require.Error(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.GetPipeline(ctx, pipelineID)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, exitcode.Timeout, exitcode.Of(err), "a wait past the deadline is a timeout")
	assert.Len(t, srv.requests(), 1, "nothing was sent during the pause")

	ctx2, cancel2 := context.WithCancelCause(context.Background())
	cancel2(exitcode.SignalOf(syscall.SIGTERM))
	_, err = c.GetPipeline(ctx2, pipelineID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, exitcode.Terminated, exitcode.Of(err), "an interrupt is not a timeout: it carries the signal's code")
	assert.Contains(t, err.Error(), "interrupted by SIGTERM")
}

func TestTheTraceSaysWhenTheBudgetHoldsARequest(t *testing.T) {
	var trace strings.Builder
	cl := newClocked(t, throttleNth(2, "5"), func(cfg *Config) { cfg.RequestsPerMinute, cfg.Burst, cfg.Debug = 30, 1, &trace })
	_, err := cl.c.Me(context.Background())
	require.NoError(t, err)
	_, err = cl.c.Me(context.Background())
	require.NoError(t, err)
	assert.Contains(t, trace.String(), "* waiting 2s for the request budget (30 a minute)\n")
	assert.Contains(t, trace.String(), "* pausing every request for 5s (Retry-After)\n")
}

func TestRequestsPerMinuteDefaults(t *testing.T) {
	c, err := New(Config{Token: testToken})
	require.NoError(t, err)
	assert.Equal(t, DefaultRequestsPerMinute, c.budget.perMinute)
	assert.Equal(t, DefaultBurst, c.budget.lim.Burst())
	assert.Equal(t, time.Duration(0), c.budget.delay())
	c, err = New(Config{Token: testToken, RequestsPerMinute: 42})
	require.NoError(t, err)
	assert.Equal(t, 42, c.budget.perMinute)
	assert.Equal(t, 42, c.budget.lim.Burst(), "below 100 a minute the burst is a minute's worth")
}

// FuzzObserveNeverPausesBeyondTheCap: whatever the throttling headers say, a pause is never
// negative and never longer than two minutes.
func FuzzObserveNeverPausesBeyondTheCap(f *testing.F) {
	f.Add(429, "20", "", "", "")
	f.Add(200, "", "0", "7", "")
	f.Add(200, "", "0", "", "1893456000")
	f.Add(429, "Wed, 21 Oct 2015 07:28:00 GMT", "", "", "")
	f.Add(200, "", "-0", "1e308", "NaN")
	f.Fuzz(func(t *testing.T, status int, retryAfter, remaining, reset, xReset string) {
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": retryAfter, "RateLimit-Remaining": remaining, "RateLimit-Reset": reset, "X-RateLimit-Reset": xReset} {
			if v != "" {
				h.Set(k, v)
			}
		}
		clock := testkit.NewClock(budgetStart)
		b := newBudget(0, 0, clock.Now, clock.Sleep, nil)
		until := b.observe(&response{status: status, header: h}, time.Second)
		if !until.IsZero() && (!until.After(budgetStart) || until.Sub(budgetStart) > MaxServerWait) {
			t.Fatalf("paused until %s, %s from now", until, until.Sub(budgetStart))
		}
		if d := b.delay(); d < 0 || d > MaxServerWait {
			t.Fatalf("delay %s", d)
		}
	})
}
