package circleci

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults, used for zero fields of RetryPolicy.
const (
	DefaultMaxAttempts = 4
	DefaultBaseDelay   = time.Second
	DefaultMaxDelay    = 30 * time.Second
)

// MaxServerWait is the longest baton waits when the server asks it to (Retry-After,
// RateLimit-Reset): long enough for a rate-limit window, short enough that a CI job does not
// hang on one odd header. A request asked to wait longer gives up at once (WaitTooLongError),
// and the pause it puts on every other request (budget.go) lasts at most this long.
const MaxServerWait = 5 * time.Minute

// RetryPolicy says how often and how patiently to retry. Zero fields take the defaults.
// Which outcomes are retried at all is decided by decide, not by the policy.
type RetryPolicy struct {
	MaxAttempts int                               // attempts in all, the first included; 1 = never retry
	BaseDelay   time.Duration                     // wait before the first retry, doubled for each further one
	MaxDelay    time.Duration                     // cap of that doubling
	Jitter      func(time.Duration) time.Duration // spreads a wait; nil → full jitter (uniform in [0, d])
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.Jitter == nil {
		p.Jitter = FullJitter
	}
	return p
}

// withoutFunc is p for printing (a func prints as an address).
func (p RetryPolicy) withoutFunc() any {
	return struct {
		MaxAttempts         int
		BaseDelay, MaxDelay time.Duration
	}{p.MaxAttempts, p.BaseDelay, p.MaxDelay}
}

// FullJitter returns a uniformly random duration in [0, d].
func FullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// backoff is the wait before retry number n (1 for the first retry): BaseDelay·2^(n-1), capped
// at MaxDelay, then jittered, and kept within [0, MaxDelay].
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MaxDelay
	if n < 1 {
		n = 1
	}
	if n-1 < 62 && p.BaseDelay <= p.MaxDelay>>(n-1) {
		d = p.BaseDelay << (n - 1)
	}
	return min(max(p.Jitter(d), 0), p.MaxDelay)
}

// wait is how long to wait after attempt n, which got res (nil: no answer), and why: what the
// server asked for when it said (at most MaxServerWait: see tooLong), else the jittered backoff.
func (p RetryPolicy) wait(n int, res *response, now time.Time) (time.Duration, string) {
	if res != nil {
		if d, from, ok := serverWait(res.status, res.header, now); ok {
			return min(d, MaxServerWait), from
		}
	}
	return p.backoff(n), "backoff"
}

// tooLong is the demand of an answer that asks for a longer wait than MaxServerWait, or nil.
func tooLong(res *response, now time.Time) *demand {
	if res == nil {
		return nil
	}
	if d, from, ok := serverWait(res.status, res.header, now); ok && d > MaxServerWait {
		return &demand{wait: d, header: from, value: res.header.Get(from)}
	}
	return nil
}

// demand is a wait the server asked for, with the header that asked and its value as sent.
type demand struct {
	wait          time.Duration
	header, value string
}

// serverWait reads how long the server asked the client to wait: Retry-After on any answer
// (seconds or an HTTP date); on a 429 also RateLimit-Reset and X-RateLimit-Reset (seconds, or a
// Unix time when the number is that large). On other answers the reset headers only describe a
// window that is not used up, so they are ignored. The wait is what the server asked, however
// long (up to the longest time.Duration); callers cap it.
func serverWait(status int, h http.Header, now time.Time) (time.Duration, string, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if d, ok := parseRetryAfter(v, now); ok {
			return d, "Retry-After", true
		}
	}
	if status == http.StatusTooManyRequests {
		for _, name := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
			if d, ok := parseReset(h.Get(name), now); ok {
				return d, name, true
			}
		}
	}
	return 0, "", false
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date. A date in the past
// means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return seconds(float64(n)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// unixTimeFloor tells a Unix time (2001 onward) from a number of seconds in a reset header.
const unixTimeFloor = 1e9

// parseReset reads a RateLimit-Reset or X-RateLimit-Reset value: seconds until the window
// resets, or, when at least 1e9, the Unix time at which it does.
func parseReset(v string, now time.Time) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, false
	}
	if f >= unixTimeFloor {
		sec, frac := math.Modf(f)
		return max(time.Unix(int64(sec), int64(frac*1e9)).Sub(now), 0), true
	}
	return seconds(f), true
}

// seconds converts without overflowing: beyond the longest time.Duration (292 years), that.
func seconds(f float64) time.Duration {
	if f >= float64(math.MaxInt64)/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(f * float64(time.Second))
}

// days is a long duration for people: 1157d9h46m, 2h30m, 45s.
func days(d time.Duration) string {
	if d < 24*time.Hour {
		return d.Round(time.Second).String()
	}
	d = d.Truncate(time.Minute)
	return fmt.Sprintf("%dd%dh%dm", d/(24*time.Hour), d%(24*time.Hour)/time.Hour, d%time.Hour/time.Minute)
}

// requestKind says what sending a request twice would do.
type requestKind int

const (
	// repeatable requests are harmless to send twice: reads, and CancelWorkflow.
	repeatable requestKind = iota
	// createsPipeline requests would create a second pipeline if sent twice: the triggers.
	createsPipeline
)

func (k requestKind) String() string {
	if k == createsPipeline {
		return "creates a pipeline"
	}
	return "repeatable"
}

// outcome is what one attempt came to, as far as the retry decision needs to know.
type outcome struct {
	status int   // the HTTP status; 0 when no answer came
	err    error // why there is no (complete) answer; nil when one came
	sent   bool  // the request may have reached the server whole (see attempt's httptrace)
}

// verdict is decide's answer.
type verdict int

const (
	stop           verdict = iota // return the answer or error as it is
	retry                         // wait and send again
	unknownOutcome                // stop: a pipeline may have been created; wrap ErrOutcomeUnknown
)

func (v verdict) String() string {
	return [...]string{"stop", "retry", "outcome unknown"}[v]
}

// decide is the retry policy: what to do after an attempt of a request of kind k.
//
// Repeatable requests are retried on any connection failure or timeout, on 429, and on 5xx
// except 501. A request that creates a pipeline is retried only when the server certainly did
// not act on it: the request never reached it whole (refused connection, DNS or TLS handshake
// failure, a write that failed part-way), or CircleCI throttled it (429, which it answers before
// doing anything). Every other failure after the request was written — a timeout, a dropped
// connection, any 5xx, 503 included, since a gateway's 502, 503 or 504 says nothing about
// whether the server behind it went on to create the pipeline — leaves the outcome unknown:
// sending again could create a second pipeline, so the caller must look first. TLS certificate
// errors and oversized answers are never retried: they will not go away.
func decide(k requestKind, o outcome) verdict {
	if o.err != nil {
		switch {
		case k == createsPipeline && o.sent:
			return unknownOutcome
		case isPermanent(o.err):
			return stop
		default:
			return retry
		}
	}
	switch s := o.status; {
	case s < 300:
		return stop // success (or a 1xx the client does not expect; it is an error either way)
	case s == http.StatusTooManyRequests:
		return retry
	case s == http.StatusNotImplemented, s >= 600:
		return stop
	case s >= 500:
		if k == repeatable {
			return retry
		}
		return unknownOutcome
	}
	return stop // 3xx, 4xx: the answer will not change
}

// isPermanent reports connection errors that retrying cannot fix.
func isPermanent(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
	)
	return errors.Is(err, errTooLarge) || errors.Is(err, errMalformed) ||
		errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verification)
}
