package circleci

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Request budget defaults, used for zero fields of Config.
const (
	// DefaultRequestsPerMinute is the sustained pace of one client: 5 requests a second, far
	// below what CircleCI throttles (it does not publish a figure; see helper/README.md, "One request budget").
	DefaultRequestsPerMinute = 300
	// DefaultBurst lets a fan-out of 100 projects send its triggers at once; the sustained pace
	// applies after that. A budget below 100 a minute gets a burst of one minute's worth.
	DefaultBurst = 100
)

// budget is the client's one request budget: every attempt of every request (triggers, polls,
// job lists, cancels, retries) takes a token from one token bucket before it is sent, and an
// answer that says the API is throttling (429, or a RateLimit-Remaining of 0) pauses every
// request until the time it names, not only the one that got it.
//
// A caller with many requests to make (a follower of many pipelines) needs nothing more than to
// make them: each waits its turn, so polls scheduled from when the previous one finished stretch
// their own intervals when the budget is short.
type budget struct {
	lim       *rate.Limiter
	perMinute int
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	trace     *tracer

	mu          sync.Mutex
	pausedUntil time.Time // no request goes out before this
	drain       bool      // empty the bucket when the pause ends, so requests resume at the sustained pace
}

func newBudget(perMinute, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error, trace *tracer) *budget {
	if perMinute <= 0 {
		perMinute = DefaultRequestsPerMinute
	}
	if burst <= 0 {
		burst = min(DefaultBurst, perMinute)
	}
	return &budget{
		lim:       rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst),
		perMinute: perMinute,
		now:       now, sleep: sleep, trace: trace,
	}
}

// wait blocks until a request may be sent: after any pause, and with a token. It returns early
// only when ctx ends (its error then; a deadline is waited out, not anticipated, so that the
// caller sees its context done and reports a timeout). own is the pause the caller's previous
// answer started (observe's result): its retry policy has waited for that already, so it is not
// waited for twice.
func (b *budget) wait(ctx context.Context, own time.Time) error {
	if err := b.waitPause(ctx, own); err != nil {
		return err
	}
	b.mu.Lock()
	now := b.now()
	if b.drain {
		// A throttled API wants less, not the same burst again: what piled up during the pause is
		// dropped but for this request's token.
		b.drain = false
		if n := int(b.lim.TokensAt(now)) - 1; n > 0 {
			b.lim.ReserveN(now, n)
		}
	}
	r := b.lim.ReserveN(now, 1) // never refused: the burst is at least 1
	until := b.pausedUntil
	b.mu.Unlock()
	if d := r.DelayFrom(now); d > 0 {
		b.trace.note("* waiting %s for the request budget (%d a minute)", d.Round(time.Millisecond), b.perMinute)
		if err := b.sleep(ctx, d); err != nil {
			r.CancelAt(b.now())
			return err
		}
	}
	// A pause that began while this request waited for its token holds it too.
	return b.waitPause(ctx, until)
}

// waitPause sleeps until the pause is over. A pause already waited out (seen) is not waited for
// again, so a clock that sleeps do not move (tests) cannot make it spin.
func (b *budget) waitPause(ctx context.Context, seen time.Time) error {
	for {
		b.mu.Lock()
		until := b.pausedUntil
		b.mu.Unlock()
		d := until.Sub(b.now())
		if d <= 0 || !until.After(seen) {
			return nil
		}
		if err := b.sleep(ctx, d); err != nil {
			return err
		}
		seen = until
	}
}

// observe reads an answer for signs of throttling and pauses every request accordingly: a 429
// for as long as it asks (Retry-After, else the reset headers, else fallback), any answer whose
// remaining allowance is 0 until its reset. It returns the end of the pause it started, or the
// zero time.
func (b *budget) observe(res *response, fallback time.Duration) time.Time {
	if res == nil {
		return time.Time{}
	}
	now := b.now()
	d, why, ok := serverWait(res.status, res.header, now)
	switch {
	case res.status == http.StatusTooManyRequests && !ok:
		d, why = fallback, "429 without a time"
	case res.status == http.StatusTooManyRequests:
	default:
		if d, why, ok = spent(res.header, now); !ok {
			return time.Time{}
		}
	}
	d = min(d, MaxServerWait)
	if d <= 0 {
		return time.Time{}
	}
	until := now.Add(d)
	b.mu.Lock()
	moved := until.After(b.pausedUntil)
	if moved {
		b.pausedUntil, b.drain = until, true
	}
	b.mu.Unlock()
	if !moved {
		return time.Time{}
	}
	b.trace.note("* pausing every request for %s (%s)", d.Round(time.Millisecond), why)
	return until
}

// delay is how long a request made now would wait for the budget.
func (b *budget) delay() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	d := max(b.pausedUntil.Sub(now), 0)
	if tokens := b.lim.TokensAt(now); tokens < 1 {
		d = max(d, time.Duration((1-tokens)/float64(b.lim.Limit())*float64(time.Second)))
	}
	return d
}

// spent reads the remaining-allowance headers CircleCI documents (RateLimit-Remaining,
// X-RateLimit-Remaining and X-RateLimit-Remaining-<Second|Minute|Hour|Day>): when any is 0, the
// wait until the latest reset (RateLimit-Reset or X-RateLimit-Reset, seconds or a Unix time).
// Where two systems report different limits, the lower one is enforced, so any 0 counts.
func spent(h http.Header, now time.Time) (time.Duration, string, bool) {
	exhausted := false
	for name, vs := range h {
		if name != "Ratelimit-Remaining" && !strings.HasPrefix(name, "X-Ratelimit-Remaining") {
			continue
		}
		for _, v := range vs {
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && n <= 0 {
				exhausted = true
			}
		}
	}
	if !exhausted {
		return 0, "", false
	}
	var wait time.Duration
	from := ""
	for _, name := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		if d, ok := parseReset(h.Get(name), now); ok && d > wait {
			wait, from = d, name
		}
	}
	if from == "" {
		return 0, "", false // no time to wait for: the next answer will say more
	}
	return wait, "remaining 0, " + from, true
}

// waitedOut is the error of a request whose context ended while it waited for the budget: a
// deadline that passed meanwhile is a timeout (exit 4), as canceled makes every one.
func (c *Client) waitedOut(method, route string, err, last error) error {
	return c.canceled(method, route, err, last)
}
