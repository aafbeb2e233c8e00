package circleci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/redact"
	"github.com/baton-ci/baton/helper/internal/safetext"
)

// redacted replaces secrets in headers, traces and messages.
const redacted = "[redacted]"

// ErrOutcomeUnknown is wrapped by errors from the trigger operations when the request was sent
// but no clear answer came back, so a pipeline may or may not have been created. Sending again
// could create a second pipeline: look the pipeline up instead.
var ErrOutcomeUnknown = errors.New("the request was sent but its outcome is unknown: a pipeline may have been created")

// APIError is a non-2xx answer from the API.
type APIError struct {
	Method  string // "POST"
	Route   string // escaped path without query: /api/v2/project/gh%2Facme%2Fapi/pipeline
	Status  int    // 404
	Message string // CircleCI's "message", else a one-line snippet of the body, else the status text
}

// Error reads like "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: 404 Project not found: check
// the project slug and that the token's user can see the project".
func (e *APIError) Error() string { return e.Method + " " + e.Route + ": " + e.detail() }

// ExitCode is exitcode.Refused: the API answered and said no.
func (e *APIError) ExitCode() int { return exitcode.Refused }

// detail is the error without method and route: "404 Project not found: check …".
func (e *APIError) detail() string {
	msg := e.Message
	if msg == "" {
		msg = statusText(e.Status)
	}
	if h := e.hint(); h != "" {
		return strconv.Itoa(e.Status) + " " + strings.TrimSuffix(msg, ".") + ": " + h
	}
	return strconv.Itoa(e.Status) + " " + msg
}

// hint says what to check for the statuses whose cause is usually on the caller's side.
func (e *APIError) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "the token was not accepted: use a personal API token, not a project token, and check that it has not been revoked"
	case e.Status == http.StatusForbidden:
		return "the token's user lacks permission for this; check their role in the organization and project"
	case e.Status == http.StatusNotFound && strings.HasPrefix(e.Route, apiPrefix+"/project/"):
		return "check the project slug and that the token's user can see the project"
	case e.Status == http.StatusNotFound:
		return "check the ID and that the token's user can see its project"
	case e.Status >= 300 && e.Status < 400:
		return "the API does not redirect; check the host (https:// and the API's own address)"
	}
	return ""
}

// RetryError is returned when the last allowed attempt failed in a way that is worth retrying.
type RetryError struct {
	Attempts int
	Last     error // the last attempt's error: *APIError or a connection error
}

// Error reads like "giving up after 4 attempts: GET /api/v2/pipeline/…: 503 Service Unavailable".
func (e *RetryError) Error() string {
	unit := "attempts"
	if e.Attempts == 1 {
		unit = "attempt"
	}
	return fmt.Sprintf("giving up after %d %s: %v", e.Attempts, unit, e.Last)
}

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Last }

// ExitCode is exitcode.Unreachable.
func (e *RetryError) ExitCode() int { return exitcode.Unreachable }

// WaitTooLongError is an answer that asked baton to wait longer than it ever waits
// (MaxServerWait) before asking again, e.g. "Retry-After: 99999999": baton gives up at once,
// rather than sleep for years, and says what the server asked. A trigger that got it created
// nothing (a 429 is answered before anything is done; other answers to a trigger are not
// retried at all).
type WaitTooLongError struct {
	Method string
	Route  string
	Wait   time.Duration // what the server asked for
	Header string        // the header that asked: Retry-After, RateLimit-Reset or X-RateLimit-Reset
	Value  string        // its value, as sent
	Last   error         // the answer that asked: an *APIError
}

// Error reads like "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: 429 Rate limit exceeded; the
// server asked to wait 1157d9h46m (Retry-After: 99999999), more than baton waits (5m0s); giving
// up".
func (e *WaitTooLongError) Error() string {
	return fmt.Sprintf("%s %s: %s; the server asked to wait %s (%s: %s), more than baton waits (%s); giving up",
		e.Method, e.Route, detailOf(e.Last), days(e.Wait), e.Header, oneLine(e.Value, 60), MaxServerWait)
}

// Unwrap returns the answer's error.
func (e *WaitTooLongError) Unwrap() error { return e.Last }

// ExitCode is exitcode.Unreachable: the API would not answer within any time baton waits.
func (e *WaitTooLongError) ExitCode() int { return exitcode.Unreachable }

// OutcomeUnknownError is returned by the trigger operations when the request was sent but its
// outcome is unknown. It matches ErrOutcomeUnknown with errors.Is, and also its Cause (so a
// cancelled context still matches context.Canceled).
type OutcomeUnknownError struct {
	Method string
	Route  string
	Cause  error // what happened after sending: a 502 *APIError, a timeout, a dropped connection…
}

// Error reads like "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its
// outcome is unknown: a pipeline may have been created (502 Bad Gateway)".
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("%s %s: %v (%s)", e.Method, e.Route, ErrOutcomeUnknown, detailOf(e.Cause))
}

// Unwrap returns ErrOutcomeUnknown and the cause.
func (e *OutcomeUnknownError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.Cause} }

// ExitCode is exitcode.Unreachable.
func (e *OutcomeUnknownError) ExitCode() int { return exitcode.Unreachable }

// connError is an attempt that got no complete HTTP response: the connection failed, was dropped,
// or the per-attempt timeout passed. Its text is fixed, and redacted, when it is made.
type connError struct {
	method, route string
	msg           string // without method and route
	err           error
}

func (e *connError) Error() string  { return e.method + " " + e.route + ": " + e.msg }
func (e *connError) Unwrap() error  { return e.err }
func (e *connError) detail() string { return e.msg }

// ExitCode is exitcode.Unreachable: the API could not be reached.
func (e *connError) ExitCode() int { return exitcode.Unreachable }

// attemptTimeoutError is an attempt cut off by Config.RequestTimeout. It deliberately does not
// match context.DeadlineExceeded, which is kept for the caller's own deadline.
type attemptTimeoutError struct{ after string }

func (e *attemptTimeoutError) Error() string { return "no response within " + e.after }

// errTooLarge is an answer larger than maxResponseBytes; it is not read further.
var errTooLarge = fmt.Errorf("larger than %d MiB", maxResponseBytes>>20)

// bodyError is an answer whose body did not arrive in full.
type bodyError struct {
	status int
	err    error
}

func (e *bodyError) Error() string {
	var timeout *attemptTimeoutError
	switch {
	case errors.Is(e.err, errTooLarge):
		return fmt.Sprintf("the %d response is %v", e.status, errTooLarge)
	case errors.Is(e.err, errMalformed):
		return fmt.Sprintf("the %d response could not be read: %v", e.status, e.err)
	case errors.As(e.err, &timeout):
		return fmt.Sprintf("the %d response did not arrive in full within %s", e.status, timeout.after)
	case errors.Is(e.err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("the %d response was cut off", e.status)
	}
	return fmt.Sprintf("the %d response was cut off: %v", e.status, e.err)
}

func (e *bodyError) Unwrap() error { return e.err }

// textError is an error whose text was fixed (and redacted) when it was made; it unwraps to its
// cause so errors.Is still finds, say, context.Canceled.
type textError struct {
	msg string
	err error
}

func (e *textError) Error() string { return e.msg }
func (e *textError) Unwrap() error { return e.err }

// detailOf is an error's text without the "METHOD route: " prefix where it has one.
func detailOf(err error) string {
	if d, ok := err.(interface{ detail() string }); ok {
		return d.detail()
	}
	if err == nil {
		return "no cause"
	}
	return err.Error()
}

// Redact returns a copy of h with the token and other credentials replaced by "[redacted]".
func Redact(h http.Header) http.Header {
	out := h.Clone()
	for _, name := range []string{"Circle-Token", "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"} {
		if vs, ok := out[name]; ok {
			for i := range vs {
				vs[i] = redacted
			}
		}
	}
	return out
}

// redactString replaces every occurrence of secret in s, also JSON-, URL- and HTML-escaped (see
// package redact). An empty secret changes nothing.
func redactString(s, secret string) string {
	if secret == "" {
		return s
	}
	return redact.New(secret).String(s)
}

// newAPIError builds the error for a non-2xx answer, with the token redacted from the message.
// The body and Location are redacted before anything is cut short, so no piece of the token
// survives at a cut.
func newAPIError(method, route string, res *response, secret string) *APIError {
	body, h := res.body, res.header
	if secret != "" {
		body = []byte(redactString(string(body), secret))
		if loc := h.Get("Location"); loc != "" {
			h = http.Header{"Location": {redactString(loc, secret)}}
		}
	}
	return &APIError{
		Method:  method,
		Route:   route,
		Status:  res.status,
		Message: redactString(apiMessage(res.status, h, body), secret),
	}
}

const maxMessageLen = 300 // runes of a server message kept in an error
const maxSnippetLen = 120 // runes of a non-JSON body kept in an error

// titleRE is compiled on first use: only an HTML error page needs it, and start-up is most of
// baton's run time.
var titleRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`) })

// apiMessage is the one-line message for a non-2xx answer: CircleCI's {"message": …}; else where a
// redirect points; else the title of an HTML page or a short snippet of the body; else the status
// text.
func apiMessage(status int, h http.Header, body []byte) string {
	var m struct {
		Message any `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil {
		if s, ok := m.Message.(string); ok {
			if s = oneLine(s, maxMessageLen); s != "" {
				return s
			}
			return statusText(status)
		}
	}
	if status >= 300 && status < 400 && h.Get("Location") != "" {
		return "redirected to " + oneLine(h.Get("Location"), maxSnippetLen)
	}
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "<") {
		if t := titleRE().FindStringSubmatch(text); t != nil {
			if s := oneLine(t[1], maxSnippetLen); s != "" {
				return s
			}
		}
		return statusText(status)
	}
	if s := oneLine(text, maxSnippetLen); s != "" {
		return s
	}
	return statusText(status)
}

// oneLine collapses whitespace and control characters to single spaces and shortens s to at most
// max runes, marking a cut with "…"; what a terminal would still obey (bidi controls) becomes a
// visible escape (safetext.Terminal).
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		piece := safetext.Terminal(string(r)) // a bidi control becomes its escape, \u202e
		need := utf8.RuneCountInString(piece)
		if space {
			need++
		}
		if n+need > max {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteString(piece)
		n += utf8.RuneCountInString(piece)
	}
	return b.String()
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "unexpected status"
}

// transportDetail is a short text for an error from http.Client.Do or from reading the body.
func transportDetail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // *url.Error repeats the method and the whole URL; keep what went wrong
	}
	var be *bodyError
	switch {
	case errors.As(err, &be):
		return be.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed in the middle of the response"
	case errors.Is(err, io.EOF):
		return "the connection closed without a response"
	}
	return err.Error()
}
