package circleci

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/redact"
	"github.com/baton-ci/baton/helper/internal/safetext"
)

// Defaults applied by New.
const (
	DefaultHost           = "https://circleci.com"
	DefaultUserAgent      = "baton"
	DefaultRequestTimeout = 30 * time.Second
)

const (
	apiPrefix        = "/api/v2"
	maxResponseBytes = 4 << 20 // larger answers are an error, not a reason to use all memory
	// maxListItems bounds a list across all its pages (workflows of a pipeline, jobs of a
	// workflow, one page of a project's pipelines): far above any real one, and small enough
	// that a server sending endless pages cannot fill memory.
	maxListItems = 10000
)

// Config configures a Client. The zero value of every field but Token has a sane default.
type Config struct {
	Host           string                                           // "https://circleci.com" (default), a CircleCI server or a loopback simulator; the client adds "/api/v2"
	Token          string                                           // personal API token, sent as header Circle-Token; may be empty to build requests for a dry run
	HTTPClient     *http.Client                                     // nil: a client with dial, TLS and idle timeouts; redirects are never followed either way
	UserAgent      string                                           // e.g. "baton/1.2.3"; "" → "baton"
	Retry          RetryPolicy                                      // zero fields → defaults (4 attempts, 1s, 30s, full jitter)
	Sleep          func(ctx context.Context, d time.Duration) error // waits between attempts; nil → a timer that stops early when ctx is done
	RequestTimeout time.Duration                                    // per attempt, under the caller's ctx; 0 → 30s
	Debug          io.Writer                                        // nil → silent; else a request/response trace with the token redacted
	// The request budget shared by every request of the client (budget.go): 0 → 300 a minute
	// sustained, after a burst of 100.
	RequestsPerMinute, Burst int
	Now                      func() time.Time // the budget's, Retry-After's and the server clock estimate's clock; nil → time.Now (tests pass the clock their Sleep moves)
}

// String describes c without its token, so printing a Config cannot leak it.
func (c Config) String() string {
	tok := "none"
	if c.Token != "" {
		tok = redacted
	}
	return fmt.Sprintf("circleci.Config{Host: %q, Token: %s, UserAgent: %q, Retry: %+v, RequestTimeout: %s}",
		c.Host, tok, c.UserAgent, c.Retry.withoutFunc(), c.RequestTimeout)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Client calls CircleCI API v2. It is safe for concurrent use.
type Client struct {
	base    *url.URL // scheme and host only
	token   string
	hc      *http.Client
	ua      string
	retry   RetryPolicy
	sleep   func(context.Context, time.Duration) error
	timeout time.Duration
	trace   *tracer          // nil when Config.Debug is nil
	red     *redact.Redactor // the token in every form, scrubbed from decoded answers
	now     func() time.Time
	budget  *budget
	clock   serverClock // the server's clock, learnt from Date headers (serverclock.go)
}

// String names the client's host and nothing secret.
func (c *Client) String() string { return "circleci.Client{" + c.base.String() + "}" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// New checks cfg and returns a client. A bad Host gives ParseHost's error unchanged, so the caller
// can name its own flag in front of it.
func New(cfg Config) (*Client, error) {
	host := cfg.Host
	if host == "" {
		host = DefaultHost
	}
	base, err := ParseHost(host)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(cfg.Token)
	if strings.ContainsFunc(token, unicode.IsControl) {
		return nil, exitcode.Usagef("the API token contains a line break or another control character")
	}
	c := &Client{
		base:    base,
		token:   token,
		red:     redact.New(token),
		hc:      httpClient(cfg.HTTPClient),
		ua:      cfg.UserAgent,
		retry:   cfg.Retry.withDefaults(),
		sleep:   cfg.Sleep,
		timeout: cfg.RequestTimeout,
		now:     cfg.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.sleep == nil {
		c.sleep = Sleep
	}
	if c.timeout <= 0 {
		c.timeout = DefaultRequestTimeout
	}
	if cfg.Debug != nil {
		c.trace = &tracer{w: cfg.Debug, secret: token}
	}
	c.budget = newBudget(cfg.RequestsPerMinute, cfg.Burst, c.now, c.sleep, c.trace)
	return c, nil
}

// httpClient returns a copy of hc (or a new client) that never follows redirects: the token is a
// custom header, which Go would forward to whatever host a redirect names, and a redirected POST
// would turn into a GET. A 3xx answer becomes an *APIError.
func httpClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone() // keeps proxy settings from the environment
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 10 * time.Second
		t.ResponseHeaderTimeout = 0 // the per-attempt timeout covers it
		// Shorter than the idle timeouts of common load balancers (60s), so a trigger is unlikely
		// to be written into a connection the server has just closed.
		t.IdleConnTimeout = 30 * time.Second
		t.MaxIdleConnsPerHost = 16
		c.Transport = t
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Sleep waits d, or less when ctx is done first, and then returns ctx's error: the default wait
// of the client, the watcher and dispatch (tests inject their own).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ParseHost checks the API host: https:// for any host, http:// only for a loopback address
// (127.0.0.0/8, ::1, localhost); scheme and host (with an optional port) only. The error text
// does not name a flag.
func ParseHost(s string) (*url.URL, error) {
	bad := func(format string, args ...any) (*url.URL, error) {
		return nil, exitcode.Usagef(format, args...)
	}
	if s == "" {
		return bad("empty; want a URL such as https://circleci.com")
	}
	if strings.TrimSpace(s) != s {
		return bad("has leading or trailing spaces")
	}
	if !strings.Contains(s, "://") {
		return bad("has no scheme; write https://%s (http:// only for a loopback address)", strings.TrimPrefix(s, "//"))
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole input, user information included
		}
		return bad("not a valid URL: %v", err)
	}
	if u.User != nil {
		return bad("must not contain a user name or password; the token is passed separately")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return bad("scheme %q is not supported; use https://", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("has no host name; want a URL such as https://circleci.com")
	}
	if u.Path != "" && u.Path != "/" || u.RawPath != "" {
		if strings.HasPrefix(strings.TrimSuffix(u.Path, "/"), apiPrefix) {
			return bad("must not include %s; the client adds it", apiPrefix)
		}
		return bad("must not have a path (%q); give only the scheme and host, e.g. https://circleci.example.com", u.Path)
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad("must not have a query (?…)")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return bad("must not have a fragment (#…)")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return bad("http:// is allowed only for a loopback address (127.0.0.0/8, ::1, localhost); use https://%s", u.Host)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSegment refuses path values that would not name one resource.
func checkSegment(what, v string) error {
	switch v {
	case "":
		return exitcode.Usagef("the %s is empty", what)
	case ".", "..":
		return exitcode.Usagef("the %s %q is not allowed", what, v)
	}
	return nil
}

// endpoint is the URL of apiPrefix + segments, each segment escaped on its own so that a "/"
// inside one (a project slug) is sent as %2F. RawPath keeps Go from unescaping it.
func (c *Client) endpoint(segments ...string) *url.URL {
	u := *c.base
	var plain, raw strings.Builder
	plain.WriteString(apiPrefix)
	raw.WriteString(apiPrefix)
	for _, s := range segments {
		plain.WriteString("/" + s)
		raw.WriteString("/" + url.PathEscape(s))
	}
	u.Path, u.RawPath = plain.String(), raw.String()
	return &u
}

// newRequest builds a request with the headers every request carries. body nil means no body.
func (c *Client) newRequest(ctx context.Context, method string, u *url.URL, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body) // lets NewRequest set GetBody, so each attempt sends it afresh
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.URL = u
	if c.token != "" {
		req.Header.Set("Circle-Token", c.token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json") // without it CircleCI ignores parameters
	}
	return req, nil
}

// response is an answer read in full within its attempt.
type response struct {
	status int
	header http.Header
	body   []byte
}

// get runs a GET and decodes its JSON answer into out.
func (c *Client) get(ctx context.Context, u *url.URL, out any) error {
	req, res, err := c.getRaw(ctx, u)
	if err != nil {
		return err
	}
	return c.decode(req, res, out)
}

// getRaw runs a GET and returns its 2xx answer undecoded.
func (c *Client) getRaw(ctx context.Context, u *url.URL) (*http.Request, *response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	res, err := c.do(req, repeatable)
	return req, res, err
}

// decode reads a 2xx JSON answer into out.
func (c *Client) decode(req *http.Request, res *response, out any) error {
	if err := c.unmarshal(res.body, out); err != nil {
		return c.readError(req, res, err)
	}
	c.noteUnread(req.URL.EscapedPath(), out)
	return nil
}

// unmarshal decodes a JSON answer into out, with the token scrubbed from its strings.
func (c *Client) unmarshal(body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return err
	}
	scrub(c.red, out)
	return nil
}

// readError is a 2xx answer whose body could not be understood: the API gave no usable
// answer, as when it cannot be reached (exit 5), not a bug in baton.
func (c *Client) readError(req *http.Request, res *response, err error) error {
	msg := fmt.Sprintf("%s %s: the %d response could not be read: %v", req.Method, req.URL.EscapedPath(), res.status, err)
	return exitcode.Wrap(exitcode.Unreachable, &textError{msg: safetext.Terminal(redactString(msg, c.token)), err: err})
}

// do sends req until it succeeds, the retry policy says stop, or attempts run out. It returns
// 2xx answers; anything else becomes an error (see decide for which).
func (c *Client) do(req *http.Request, kind requestKind) (*response, error) {
	return c.doReading(req, kind, nil)
}

// bodyReader reads a 2xx answer's body into what the caller decodes; nil reads it whole, up to
// maxResponseBytes.
type bodyReader func(io.Reader) ([]byte, error)

// doReading is do with the 2xx answers' bodies read by read.
func (c *Client) doReading(req *http.Request, kind requestKind, read bodyReader) (*response, error) {
	ctx := req.Context()
	method, route := req.Method, req.URL.EscapedPath()
	var last error       // the previous attempt's error, for the text of a cancellation while waiting
	var paused time.Time // the request budget's pause the previous answer started (budget.go)
	for attempt := 1; ; attempt++ {
		if err := context.Cause(ctx); err != nil { // the cause says why, and may carry an exit code (a signal's)
			return nil, c.canceled(method, route, err, last)
		}
		if err := c.budget.wait(ctx, paused); err != nil {
			return nil, c.waitedOut(method, route, cmp.Or(ctx.Err(), err), last)
		}
		res, o := c.attempt(ctx, req, attempt, read)
		paused = c.budget.observe(res, c.retry.BaseDelay)
		if o.err != nil && ctx.Err() != nil { // the caller gave up; that beats any retry
			if kind == createsPipeline && o.sent {
				return nil, c.unknown(method, route, context.Cause(ctx))
			}
			return nil, c.canceled(method, route, context.Cause(ctx), nil)
		}
		var cause error
		switch {
		case o.err != nil:
			cause = &connError{method: method, route: route, msg: redactString(transportDetail(o.err), c.token), err: o.err}
		case res.status >= 200 && res.status < 300:
			return res, nil
		default:
			cause = newAPIError(method, route, res, c.token)
		}
		switch decide(kind, o) {
		case stop:
			return nil, cause
		case unknownOutcome:
			return nil, c.unknown(method, route, cause)
		}
		if attempt >= c.retry.MaxAttempts {
			err := &RetryError{Attempts: attempt, Last: cause}
			c.trace.note("! %v", err)
			return nil, err
		}
		if d := tooLong(res, c.now()); d != nil {
			err := &WaitTooLongError{Method: method, Route: route, Wait: d.wait, Header: d.header, Value: redactString(d.value, c.token), Last: cause}
			c.trace.note("! %s", safetext.Terminal(err.Error()))
			return nil, err
		}
		wait, why := c.retry.wait(attempt, res, c.now())
		// A wait that reaches the caller's deadline is cut to it, and no attempt follows: one
		// started at the deadline could only fail.
		atDeadline := false
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); wait >= left {
				wait, why, atDeadline = max(left, 0), "until the deadline", true
			}
		}
		c.trace.note("* %s; waiting %s (%s) before attempt %d of %d", detailOf(cause), wait.Round(time.Millisecond), why, attempt+1, c.retry.MaxAttempts)
		err := c.sleep(ctx, wait)
		if err == nil && atDeadline {
			err = context.DeadlineExceeded
		}
		if err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			return nil, c.canceled(method, route, err, cause)
		}
		last = cause
	}
}

// canceled is the error for a caller's context that ended, given its cause: errors.Is finds
// the context's error in the causes baton sets (a signal, --fail-fast), and a signal's exit
// code is kept.
func (c *Client) canceled(method, route string, err, last error) error {
	msg := method + " " + route + ": " + err.Error()
	if last != nil {
		msg += " while waiting to retry after " + detailOf(last)
	}
	if errors.Is(err, context.DeadlineExceeded) { // the caller's time ran out (--timeout): exit 4, whatever it was doing
		return exitcode.Wrap(exitcode.Timeout, &textError{msg: redactString(msg, c.token), err: err})
	}
	return &textError{msg: redactString(msg, c.token), err: err}
}

func (c *Client) unknown(method, route string, cause error) error {
	c.trace.note("! %v (%s)", ErrOutcomeUnknown, detailOf(cause))
	return &OutcomeUnknownError{Method: method, Route: route, Cause: cause}
}

// sendState tracks, through httptrace, how far the request got onto the connection.
const (
	notStarted  int32 = iota // no byte can have reached the server
	writing                  // headers written (perhaps only buffered); the body may be on its way
	written                  // the whole request was written
	writeFailed              // writing failed part-way: the server cannot have the whole request
)

// attempt sends req once under its own timeout and reads the whole answer (a 2xx one with read,
// when it is set).
func (c *Client) attempt(ctx context.Context, req *http.Request, n int, read bodyReader) (*response, outcome) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var state atomic.Int32
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { state.Store(writing) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err != nil {
				state.Store(writeFailed)
			} else {
				state.Store(written)
			}
		},
	})
	r := req.Clone(actx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, outcome{err: err}
		}
		r.Body = body
	}
	c.trace.request(r, req, n, c.retry.MaxAttempts)
	start, sentAt := time.Now(), c.now()
	resp, err := c.hc.Do(r)
	sent := func() bool { s := state.Load(); return s == writing || s == written }
	if err != nil {
		err = c.timeoutCause(ctx, actx, err)
		c.trace.failure(err, time.Since(start))
		return nil, outcome{err: err, sent: sent()}
	}
	defer resp.Body.Close()
	c.clock.observe(sentAt, c.now(), resp.Header.Get("Date"))
	var body []byte
	if read != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		body, err = read(resp.Body)
	} else {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
		if err == nil && len(body) > maxResponseBytes {
			err = errTooLarge
		}
	}
	res := &response{status: resp.StatusCode, header: resp.Header, body: body}
	c.trace.response(resp, body, time.Since(start))
	if err != nil {
		err = &bodyError{status: resp.StatusCode, err: c.timeoutCause(ctx, actx, err)}
		c.trace.failure(err, time.Since(start))
		return res, outcome{status: resp.StatusCode, err: err, sent: true}
	}
	return res, outcome{status: resp.StatusCode, sent: true}
}

// timeoutCause replaces the error of an attempt cut off by its own timeout (not the caller's).
func (c *Client) timeoutCause(ctx, actx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return &attemptTimeoutError{after: c.timeout.String()}
	}
	return err
}
