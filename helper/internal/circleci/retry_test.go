package circleci

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The retry policy as a table: what happens after one attempt, per kind of request and outcome.
func TestDecide(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	timeout := &attemptTimeoutError{after: "30s"}
	badCert := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	bodyCut := &bodyError{status: 201, err: io.ErrUnexpectedEOF}
	type row struct {
		name string
		o    outcome
		get  verdict // a repeatable request: GET, or CancelWorkflow
		post verdict // a trigger, which creates a pipeline
	}
	rows := []row{
		{"200 OK", outcome{status: 200, sent: true}, stop, stop},
		{"201 Created", outcome{status: 201, sent: true}, stop, stop},
		{"202 Accepted", outcome{status: 202, sent: true}, stop, stop},
		{"302 Found", outcome{status: 302, sent: true}, stop, stop},
		{"400 Bad Request", outcome{status: 400, sent: true}, stop, stop},
		{"401 Unauthorized", outcome{status: 401, sent: true}, stop, stop},
		{"403 Forbidden", outcome{status: 403, sent: true}, stop, stop},
		{"404 Not Found", outcome{status: 404, sent: true}, stop, stop},
		{"408 Request Timeout", outcome{status: 408, sent: true}, stop, stop},
		{"409 Conflict", outcome{status: 409, sent: true}, stop, stop},
		{"422 Unprocessable Entity", outcome{status: 422, sent: true}, stop, stop},
		{"429 Too Many Requests", outcome{status: 429, sent: true}, retry, retry},
		{"500 Internal Server Error", outcome{status: 500, sent: true}, retry, unknownOutcome},
		{"501 Not Implemented", outcome{status: 501, sent: true}, stop, stop},
		{"502 Bad Gateway", outcome{status: 502, sent: true}, retry, unknownOutcome},
		{"503 Service Unavailable", outcome{status: 503, sent: true}, retry, unknownOutcome},
		{"504 Gateway Timeout", outcome{status: 504, sent: true}, retry, unknownOutcome},
		{"505 HTTP Version Not Supported", outcome{status: 505, sent: true}, retry, unknownOutcome},
		{"599 (unnamed 5xx)", outcome{status: 599, sent: true}, retry, unknownOutcome},
		{"600 (not HTTP)", outcome{status: 600, sent: true}, stop, stop},
		{"connection refused, nothing sent", outcome{err: refused}, retry, retry},
		{"timeout before the request was written", outcome{err: timeout}, retry, retry},
		{"write failed part-way, request incomplete", outcome{err: io.ErrClosedPipe}, retry, retry},
		{"timeout after the request was written", outcome{err: timeout, sent: true}, retry, unknownOutcome},
		{"connection dropped after the request was written", outcome{err: io.EOF, sent: true}, retry, unknownOutcome},
		{"201 whose body was cut off", outcome{status: 201, err: bodyCut, sent: true}, retry, unknownOutcome},
		{"TLS certificate not trusted", outcome{err: badCert}, stop, stop},
		{"TLS host name mismatch", outcome{err: x509.HostnameError{}}, stop, stop},
		{"an answer larger than 4 MiB", outcome{status: 200, err: &bodyError{status: 200, err: errTooLarge}, sent: true}, stop, unknownOutcome},
	}
	for _, r := range rows {
		t.Run(fmt.Sprintf("after %s a read does %s and a trigger does %s", r.name, r.get, r.post), func(t *testing.T) {
			assert.Equal(t, r.get, decide(repeatable, r.o), "repeatable")
			assert.Equal(t, r.post, decide(createsPipeline, r.o), "creates a pipeline")
		})
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{Jitter: noJitter}.withDefaults()
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, p.backoff(n))
	}
	assert.Equal(t, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}, got)

	t.Run("a huge retry number does not overflow", func(t *testing.T) {
		assert.Equal(t, 30*time.Second, p.backoff(1000))
	})
	t.Run("jitter is kept within zero and the cap", func(t *testing.T) {
		neg := RetryPolicy{Jitter: func(time.Duration) time.Duration { return -time.Hour }}.withDefaults()
		assert.Zero(t, neg.backoff(1))
		big := RetryPolicy{Jitter: func(time.Duration) time.Duration { return time.Hour }}.withDefaults()
		assert.Equal(t, DefaultMaxDelay, big.backoff(1))
	})
	t.Run("full jitter stays within zero and the delay", func(t *testing.T) {
		for range 1000 {
			d := FullJitter(time.Second)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, time.Second)
		}
		assert.Zero(t, FullJitter(0))
	})
	t.Run("a max delay below the base delay is raised to it", func(t *testing.T) {
		q := RetryPolicy{BaseDelay: 5 * time.Second, MaxDelay: time.Second, Jitter: noJitter}.withDefaults()
		assert.Equal(t, 5*time.Second, q.backoff(3))
	})
}

func TestServerWait(t *testing.T) {
	now := time.Date(2025, 10, 17, 9, 41, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		want   time.Duration
		from   string // "" when the server asked nothing
	}{
		{"Retry-After in seconds", 429, h("Retry-After", "7"), 7 * time.Second, "Retry-After"},
		{"Retry-After with spaces", 503, h("Retry-After", " 7 "), 7 * time.Second, "Retry-After"},
		{"Retry-After zero", 429, h("Retry-After", "0"), 0, "Retry-After"},
		{"Retry-After as an HTTP date", 503, h("Retry-After", now.Add(30*time.Second).Format(http.TimeFormat)), 30 * time.Second, "Retry-After"},
		{"Retry-After as a date in the past", 429, h("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 0, "Retry-After"},
		{"Retry-After beats the reset headers", 429, h("Retry-After", "2", "RateLimit-Reset", "9"), 2 * time.Second, "Retry-After"},
		{"Retry-After that is negative is ignored", 429, h("Retry-After", "-1"), 0, ""},
		{"Retry-After with a fraction is ignored", 503, h("Retry-After", "1.5"), 0, ""},
		{"Retry-After that is not a time is ignored", 503, h("Retry-After", "soon"), 0, ""},
		{"RateLimit-Reset in seconds on a 429", 429, h("RateLimit-Reset", "3"), 3 * time.Second, "RateLimit-Reset"},
		{"RateLimit-Reset beats X-RateLimit-Reset", 429, h("RateLimit-Reset", "3", "X-RateLimit-Reset", "8"), 3 * time.Second, "RateLimit-Reset"},
		{"X-RateLimit-Reset as a Unix time", 429, h("X-RateLimit-Reset", strconv.FormatInt(now.Unix()+20, 10)), 20 * time.Second, "X-RateLimit-Reset"},
		{"X-RateLimit-Reset as a Unix time in the past", 429, h("X-RateLimit-Reset", strconv.FormatInt(now.Unix()-20, 10)), 0, "X-RateLimit-Reset"},
		{"X-RateLimit-Reset with a fraction", 429, h("X-RateLimit-Reset", "1.5"), 1500 * time.Millisecond, "X-RateLimit-Reset"},
		{"a reset header that is not a number is ignored", 429, h("RateLimit-Reset", "NaN"), 0, ""},
		{"a negative reset header is ignored", 429, h("RateLimit-Reset", "-3"), 0, ""},
		{"reset headers on a 503 are ignored", 503, h("RateLimit-Reset", "9"), 0, ""},
		{"no headers, no wait asked", 429, h(), 0, ""},
		{"an absurd number of seconds does not overflow", 429, h("Retry-After", "99999999999999999"), math.MaxInt64, "Retry-After"},
		{"years are what the server asked for (the caller caps them)", 429, h("Retry-After", "99999999"), 99999999 * time.Second, "Retry-After"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, from, ok := serverWait(tt.status, tt.header, now)
			assert.Equal(t, tt.from != "", ok)
			assert.Equal(t, tt.from, from)
			assert.Equal(t, tt.want, d)
		})
	}
}

// FuzzServerWait checks the header parsers never give a negative wait.
func FuzzServerWait(f *testing.F) {
	for _, s := range []string{"7", "Fri, 17 Oct 2025 09:41:30 GMT", "1.5", "1e400", "-0", "1760694090"} {
		f.Add(s, s)
	}
	now := time.Date(2025, 10, 17, 9, 41, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, retryAfter, reset string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("RateLimit-Reset", reset)
		if d, _, ok := serverWait(429, h, now); ok {
			require.GreaterOrEqual(t, d, time.Duration(0))
		}
	})
}

func TestReadsAreRetried(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 10, 17, 9, 41, 0, 0, time.UTC)
	tests := []struct {
		name      string
		first     func(t *testing.T, w http.ResponseWriter) // the first answer; the second is a 200
		wantSleep time.Duration
	}{
		{"a 429 with Retry-After waits as long as it says", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			reply(w, 429, `{"message":"Rate limit exceeded"}`)
		}, 7 * time.Second},
		{"a 429 with Retry-After as a date waits until then", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", now.Add(12*time.Second).Format(http.TimeFormat))
			reply(w, 429, ``)
		}, 12 * time.Second},
		{"a 429 with RateLimit-Reset waits for the reset", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("RateLimit-Reset", "3")
			reply(w, 429, ``)
		}, 3 * time.Second},
		{"a 429 with X-RateLimit-Reset as a Unix time waits until then", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Unix()+20, 10))
			reply(w, 429, ``)
		}, 20 * time.Second},
		{"a Retry-After of four minutes is waited for", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "240")
			reply(w, 429, ``)
		}, 4 * time.Minute},
		{"a 429 without hints backs off", func(t *testing.T, w http.ResponseWriter) { reply(w, 429, ``) }, time.Second},
		{"a 503 backs off", func(t *testing.T, w http.ResponseWriter) { reply(w, 503, ``) }, time.Second},
		{"a 503 with Retry-After waits as long as it says", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "5")
			reply(w, 503, ``)
		}, 5 * time.Second},
		{"a 500 backs off", func(t *testing.T, w http.ResponseWriter) { reply(w, 500, `{"message":"oops"}`) }, time.Second},
		{"a 502 backs off", func(t *testing.T, w http.ResponseWriter) { reply(w, 502, `<html>bad gateway</html>`) }, time.Second},
		{"a 504 backs off", func(t *testing.T, w http.ResponseWriter) { reply(w, 504, ``) }, time.Second},
		{"a dropped connection backs off", func(t *testing.T, w http.ResponseWriter) { hangUp(t, w) }, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					tt.first(t, w)
					return
				}
				reply(w, 200, workflowRunningJSON)
			})
			c, sl := newTestClient(t, srv.URL)
			c.now = func() time.Time { return now }
			wf, err := c.GetWorkflow(ctx, workflowID)
			require.NoError(t, err)
			assert.Equal(t, workflowID, wf.ID)
			assert.Len(t, srv.requests(), 2)
			assert.Equal(t, []time.Duration{tt.wantSleep}, sl.got())
		})
	}
	t.Run("a 501 is not retried", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 501, ``) })
		c, sl := newTestClient(t, srv.URL)
		_, err := c.GetWorkflow(ctx, workflowID)
		assert.EqualError(t, err, "GET /api/v2/workflow/"+workflowID+": 501 Not Implemented")
		assert.Len(t, srv.requests(), 1)
		assert.Empty(t, sl.got())
	})
	t.Run("CancelWorkflow is retried like a read", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				reply(w, 502, ``)
				return
			}
			reply(w, 202, `{"message":"Accepted."}`)
		})
		c, sl := newTestClient(t, srv.URL)
		require.NoError(t, c.CancelWorkflow(ctx, workflowID))
		assert.Len(t, srv.requests(), 2)
		assert.Equal(t, []time.Duration{time.Second}, sl.got())
	})
}

func TestGivingUp(t *testing.T) {
	ctx := context.Background()
	t.Run("a read that keeps failing gives up after four attempts with growing waits", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 503, ``) })
		c, sl := newTestClient(t, srv.URL)
		_, err := c.GetPipeline(ctx, pipelineID)
		require.EqualError(t, err, "giving up after 4 attempts: GET /api/v2/pipeline/"+pipelineID+": 503 Service Unavailable")
		assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
		var re *RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 4, re.Attempts)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 503, apiErr.Status)
		assert.Len(t, srv.requests(), 4)
		assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, sl.got())
	})
	t.Run("a custom policy sets attempts, delays and cap", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 500, ``) })
		c, sl := newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.Retry = RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond, Jitter: noJitter}
		})
		_, err := c.Me(ctx)
		require.EqualError(t, err, "giving up after 5 attempts: GET /api/v2/me: 500 Internal Server Error")
		assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}, sl.got())
	})
	t.Run("one attempt means no retry, and still says it gave up", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 503, ``) })
		c, sl := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
		_, err := c.Me(ctx)
		require.EqualError(t, err, "giving up after 1 attempt: GET /api/v2/me: 503 Service Unavailable")
		assert.Len(t, srv.requests(), 1)
		assert.Empty(t, sl.got())
	})
	t.Run("a read whose connection keeps dropping gives up", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { hangUp(t, w) })
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry.MaxAttempts = 2 })
		_, err := c.Me(ctx)
		require.EqualError(t, err, "giving up after 2 attempts: GET /api/v2/me: the connection closed without a response")
		assert.ErrorIs(t, err, io.EOF)
		assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
	})
	t.Run("a 4xx is not retried and keeps its own exit code", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 404, `{"message":"Pipeline not found"}`) })
		c, sl := newTestClient(t, srv.URL)
		_, err := c.GetPipeline(ctx, pipelineID)
		require.EqualError(t, err, "GET /api/v2/pipeline/"+pipelineID+": 404 Pipeline not found: check the ID and that the token's user can see its project")
		assert.Equal(t, exitcode.Refused, exitcode.Of(err))
		assert.Len(t, srv.requests(), 1)
		assert.Empty(t, sl.got())
	})
}

// triggers are the two requests that create a pipeline.
var triggers = []struct {
	name  string
	route string
	call  func(ctx context.Context, c *Client) error
}{
	{"TriggerPipeline", "/api/v2/project/gh%2Facme%2Fapi/pipeline", func(ctx context.Context, c *Client) error {
		_, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{"branch":"main"}`))
		return err
	}},
	{"RunPipeline", "/api/v2/project/gh/acme/api/pipeline/run", func(ctx context.Context, c *Client) error {
		_, err := c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80"}`))
		return err
	}},
}

func TestTriggersAreRetriedOnlyWhenNothingWasCreated(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		first     func(t *testing.T, w http.ResponseWriter)
		wantSleep time.Duration
	}{
		{"after a 429 with Retry-After", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "2")
			reply(w, 429, `{"message":"Rate limit exceeded"}`)
		}, 2 * time.Second},
	}
	for _, trig := range triggers {
		for _, tt := range tests {
			t.Run(trig.name+" is retried "+tt.name, func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
					if n == 1 {
						tt.first(t, w)
						return
					}
					reply(w, 201, created201)
				})
				c, sl := newTestClient(t, srv.URL)
				require.NoError(t, trig.call(ctx, c))
				reqs := srv.requests()
				require.Len(t, reqs, 2)
				assert.Equal(t, reqs[0].Body, reqs[1].Body, "the retry sends the same body")
				assert.Equal(t, "application/json", reqs[1].Header.Get("Content-Type"))
				assert.Equal(t, []time.Duration{tt.wantSleep}, sl.got())
			})
		}
		t.Run(trig.name+" is retried when the connection is refused, and gives up", func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close()) // nothing listens there now
			c, sl := newTestClient(t, "http://"+addr)
			err = trig.call(ctx, c)
			require.EqualError(t, err, "giving up after 4 attempts: POST "+trig.route+": dial tcp "+addr+": connect: connection refused")
			assert.ErrorIs(t, err, syscall.ECONNREFUSED)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
			assert.Len(t, sl.got(), 3)
		})
		t.Run(trig.name+" succeeds after a refused connection, sending once", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 201, created201) })
			var dials atomic.Int32
			hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dials.Add(1) == 1 {
					return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}}}
			c, sl := newTestClient(t, srv.URL, func(cfg *Config) { cfg.HTTPClient = hc })
			require.NoError(t, trig.call(ctx, c))
			assert.Len(t, srv.requests(), 1)
			assert.Equal(t, []time.Duration{time.Second}, sl.got())
		})
	}
}

func TestTriggersAreNotRetriedWhenAPipelineMayExist(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // Config.RequestTimeout; 0 for the default
		handle  func(t *testing.T, w http.ResponseWriter, r *http.Request)
		cause   string // the text in parentheses
		apiErr  int    // the status of the *APIError in the chain; 0 for none
	}{
		{"a 500", 0, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			reply(w, 500, `{"message":"An internal server error occurred."}`)
		}, "500 An internal server error occurred.", 500},
		{"a 502", 0, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head></html>")
		}, "502 502 Bad Gateway", 502},
		{"a 503, which a gateway answers whatever the server behind it did", 0, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			reply(w, 503, ``)
		}, "503 Service Unavailable", 503},
		{"a 504", 0, func(t *testing.T, w http.ResponseWriter, r *http.Request) { reply(w, 504, ``) }, "504 Gateway Timeout", 504},
		{"a timeout after the request was written", 100 * time.Millisecond, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // the body was read; now say nothing until the client hangs up
		}, "no response within 100ms", 0},
		{"a dropped connection after the body was read", 0, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			hangUp(t, w)
		}, "the connection closed without a response", 0},
		{"a connection dropped in the middle of a 201", 0, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			_, _ = buf.WriteString("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":")
			_ = buf.Flush()
			_ = conn.Close()
		}, "the 201 response was cut off", 0},
	}
	for _, trig := range triggers {
		for _, tt := range tests {
			t.Run(trig.name+" is sent once and reports an unknown outcome after "+tt.name, func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.handle(t, w, r) })
				c, sl := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RequestTimeout = tt.timeout })
				err := trig.call(context.Background(), c)
				require.EqualError(t, err, "POST "+trig.route+": the request was sent but its outcome is unknown: a pipeline may have been created ("+tt.cause+")")
				assert.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "the per-attempt timeout is not the caller's deadline")
				var re *RetryError
				assert.False(t, errors.As(err, &re), "no retry happened")
				var apiErr *APIError
				if assert.Equal(t, tt.apiErr != 0, errors.As(err, &apiErr)) && tt.apiErr != 0 {
					assert.Equal(t, tt.apiErr, apiErr.Status)
				}
				assert.Len(t, srv.requests(), 1, "exactly one request reached the server")
				assert.Empty(t, sl.got())
			})
		}
		t.Run(trig.name+" is not retried after a 501 or a 4xx", func(t *testing.T) {
			for _, status := range []int{400, 401, 403, 404, 422, 501} {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, status, `{"message":"no"}`) })
				c, _ := newTestClient(t, srv.URL)
				err := trig.call(context.Background(), c)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, status, apiErr.Status)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown)
				assert.Equal(t, exitcode.Refused, exitcode.Of(err))
				assert.Len(t, srv.requests(), 1)
			}
		})
	}
}

func TestContextEndsTheWait(t *testing.T) {
	t.Run("cancelling during the backoff returns at once, unwrapped from any retry", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 503, ``) })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.Sleep = func(ctx context.Context, d time.Duration) error {
				cancel()
				<-ctx.Done()
				return ctx.Err()
			}
		})
		_, err := c.GetPipeline(ctx, pipelineID)
		require.EqualError(t, err, "GET /api/v2/pipeline/"+pipelineID+": context canceled while waiting to retry after 503 Service Unavailable")
		assert.ErrorIs(t, err, context.Canceled)
		var re *RetryError
		assert.False(t, errors.As(err, &re))
		assert.Len(t, srv.requests(), 1)
	})
	t.Run("the deadline cuts the real backoff short", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 503, ``) })
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.Sleep = nil // the real timer
			cfg.Retry = RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour, Jitter: noJitter}
		})
		start := time.Now()
		_, err := c.GetPipeline(ctx, pipelineID)
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.EqualError(t, err, "GET /api/v2/pipeline/"+pipelineID+": context deadline exceeded while waiting to retry after 503 Service Unavailable")
		assert.Len(t, srv.requests(), 1)
	})
	t.Run("a wait the server asks for is capped at the deadline, and ends the call there", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "60")
			reply(w, 429, ``)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, sl := newTestClient(t, srv.URL)
		_, err := c.Me(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.EqualError(t, err, "GET /api/v2/me: context deadline exceeded while waiting to retry after 429 Too Many Requests")
		require.Len(t, sl.got(), 1)
		assert.LessOrEqual(t, sl.got()[0], 10*time.Second)
		assert.Greater(t, sl.got()[0], 5*time.Second)
		assert.Len(t, srv.requests(), 1)
	})
	t.Run("a wait that ends before the deadline is followed by another attempt", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "3")
				reply(w, 429, ``)
				return
			}
			reply(w, 200, userJSON)
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, sl := newTestClient(t, srv.URL)
		_, err := c.Me(ctx)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{3 * time.Second}, sl.got())
	})
	t.Run("a cancelled read in flight is not retried", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			cancel()
			<-r.Context().Done()
		})
		c, sl := newTestClient(t, srv.URL)
		_, err := c.GetPipeline(ctx, pipelineID)
		assert.ErrorIs(t, err, context.Canceled)
		assert.EqualError(t, err, "GET /api/v2/pipeline/"+pipelineID+": context canceled")
		assert.Len(t, srv.requests(), 1)
		assert.Empty(t, sl.got())
	})
	t.Run("the caller's deadline after a trigger was written leaves the outcome unknown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { <-r.Context().Done() })
		c, _ := newTestClient(t, srv.URL)
		_, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{}`))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.EqualError(t, err, "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (context deadline exceeded)")
		assert.Len(t, srv.requests(), 1)
	})
	t.Run("a context already cancelled sends nothing", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 201, created201) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c, _ := newTestClient(t, srv.URL)
		_, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{}`))
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		assert.Empty(t, srv.requests())
	})
}

func TestPerAttemptTimeout(t *testing.T) {
	ctx := context.Background()
	t.Run("a read that hangs is cut off and retried", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				<-r.Context().Done()
				return
			}
			reply(w, 200, userJSON)
		})
		c, sl := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RequestTimeout = 50 * time.Millisecond })
		u, err := c.Me(ctx)
		require.NoError(t, err)
		assert.Equal(t, "octocat", u.Login)
		assert.Len(t, srv.requests(), 2)
		assert.Len(t, sl.got(), 1)
	})
	t.Run("a read that always hangs gives up, without looking like the caller's deadline", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { <-r.Context().Done() })
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.RequestTimeout = 50 * time.Millisecond
			cfg.Retry.MaxAttempts = 2
		})
		_, err := c.Me(ctx)
		require.EqualError(t, err, "giving up after 2 attempts: GET /api/v2/me: no response within 50ms")
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
	})
}

func TestSleepCtx(t *testing.T) {
	t.Run("it waits the whole time when nothing cancels it", func(t *testing.T) {
		start := time.Now()
		require.NoError(t, Sleep(context.Background(), 20*time.Millisecond))
		assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	})
	t.Run("it returns promptly when the context is cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		start := time.Now()
		assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
		assert.Less(t, time.Since(start), time.Second)
	})
	t.Run("a zero wait still reports a cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled)
	})
}

// A server asking for a wait longer than baton ever waits is not obeyed by sleeping: the request
// gives up at once with exit 5, and the error quotes what the server asked.
func TestAWaitLongerThanBatonWaitsGivesUpAtOnce(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header map[string]string
		says   string
	}{
		{"Retry-After in seconds", map[string]string{"Retry-After": "99999999"},
			"the server asked to wait 1157d9h46m (Retry-After: 99999999), more than baton waits (5m0s); giving up"},
		{"Retry-After as a date in 2099", map[string]string{"Retry-After": "Thu, 31 Dec 2099 23:59:59 GMT"},
			"the server asked to wait 26688d3h59m (Retry-After: Thu, 31 Dec 2099 23:59:59 GMT), more than baton waits (5m0s); giving up"},
		{"RateLimit-Reset of an hour", map[string]string{"RateLimit-Reset": "3600"},
			"the server asked to wait 1h0m0s (RateLimit-Reset: 3600), more than baton waits (5m0s); giving up"},
		{"X-RateLimit-Reset as a Unix time far ahead", map[string]string{"X-RateLimit-Reset": "4102444800"},
			"the server asked to wait 26688d4h0m (X-RateLimit-Reset: 4102444800), more than baton waits (5m0s); giving up"},
	} {
		for _, call := range []struct {
			name string
			do   func(c *Client) error
			path string
		}{
			{"a read", func(c *Client) error { _, err := c.GetPipeline(ctx, pipelineID); return err }, "GET /api/v2/pipeline/" + pipelineID},
			{"a trigger", func(c *Client) error { _, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{}`)); return err }, "POST /api/v2/project/gh%2Facme%2Fapi/pipeline"},
		} {
			t.Run(call.name+" answered 429 with "+tc.name, func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
					for k, v := range tc.header {
						w.Header()[k] = []string{v}
					}
					reply(w, 429, `{"message":"Rate limit exceeded"}`)
				})
				var trace bytes.Buffer
				c, sl := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &trace })
				c.now = func() time.Time { return now }
				err := call.do(c)
				require.Error(t, err)
				assert.EqualError(t, err, call.path+": 429 Rate limit exceeded; "+tc.says)
				assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
				assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a 429 is answered before anything is created")
				assert.Len(t, srv.requests(), 1, "never sent again")
				assert.Empty(t, sl.got(), "no wait at all")
				assert.Contains(t, trace.String(), "! "+call.path+": 429 Rate limit exceeded; the server asked to wait ")
			})
		}
	}
	t.Run("a wait within MaxServerWait is waited for and the request sent again", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", strconv.Itoa(int(MaxServerWait/time.Second)))
				reply(w, 429, ``)
				return
			}
			reply(w, 200, pipelineJSON)
		})
		c, sl := newTestClient(t, srv.URL)
		_, err := c.GetPipeline(ctx, pipelineID)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{MaxServerWait}, sl.got())
	})
}
