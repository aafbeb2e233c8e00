package circleci

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/safetext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIErrorText(t *testing.T) {
	const trigger = "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: "
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   string
	}{
		{"a 400 quotes CircleCI's message", 400, "application/json",
			`{"message":"Unexpected request body provided."}`,
			trigger + "400 Unexpected request body provided."},
		{"a 400 without a body gives the status text", 400, "", ``,
			trigger + "400 Bad Request"},
		{"a 401 adds the token hint", 401, "application/json",
			`{"message":"Invalid token provided."}`,
			trigger + "401 Invalid token provided: the token was not accepted: use a personal API token, not a project token, and check that it has not been revoked"},
		{"a 401 without a body still has the hint", 401, "", ``,
			trigger + "401 Unauthorized: the token was not accepted: use a personal API token, not a project token, and check that it has not been revoked"},
		{"a 403 adds the permission hint", 403, "application/json",
			`{"message":"Permission denied"}`,
			trigger + "403 Permission denied: the token's user lacks permission for this; check their role in the organization and project"},
		{"a 403 as plain text quotes the text", 403, "text/plain",
			"Forbidden by policy\n",
			trigger + "403 Forbidden by policy: the token's user lacks permission for this; check their role in the organization and project"},
		{"a 404 on a project route hints at the slug", 404, "application/json",
			`{"message":"Project not found"}`,
			trigger + "404 Project not found: check the project slug and that the token's user can see the project"},
		{"a 404 without a body hints at the slug too", 404, "", ``,
			trigger + "404 Not Found: check the project slug and that the token's user can see the project"},
		{"a 500 quotes CircleCI's message", 500, "application/json",
			`{"message":"An internal server error occurred."}`,
			trigger + "500 An internal server error occurred."},
		{"a 500 with an HTML page gives the page title", 500, "text/html",
			"<html>\n<head><title>500 Internal Server Error</title></head>\n<body><h1>oops</h1></body></html>",
			trigger + "500 500 Internal Server Error"},
		{"a 500 with an HTML page without a title gives the status text", 500, "text/html",
			"<html><body>oops</body></html>",
			trigger + "500 Internal Server Error"},
		{"a 500 without a body gives the status text", 500, "", ``,
			trigger + "500 Internal Server Error"},
		{"a long multi-line body is cut to one short line", 422, "text/plain",
			"first line\n\tsecond line " + strings.Repeat("x", 300),
			trigger + "422 first line second line " + strings.Repeat("x", 97) + "…"},
		{"JSON without a message is quoted as a snippet", 400, "application/json",
			`{"error":"bad"}`,
			trigger + `400 {"error":"bad"}`},
		{"a message that is not a string is quoted as a snippet", 400, "application/json",
			`{"message":{"x":1}}`,
			trigger + `400 {"message":{"x":1}}`},
		{"an empty message gives the status text", 400, "application/json",
			`{"message":"  "}`,
			trigger + `400 Bad Request`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
			_, err := c.TriggerPipeline(context.Background(), "gh/acme/api", []byte(`{}`))
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.Status)
			assert.Equal(t, "POST", apiErr.Method)
			assert.Equal(t, "/api/v2/project/gh%2Facme%2Fapi/pipeline", apiErr.Route)
			assert.Equal(t, tt.want, apiErr.Error())
			if tt.status < 500 {
				assert.Same(t, apiErr, err, "a 4xx is the APIError itself")
				assert.Equal(t, exitcode.Refused, exitcode.Of(err))
			}
		})
	}
	t.Run("a 404 on an ID route hints at the ID", func(t *testing.T) {
		e := &APIError{Method: "GET", Route: "/api/v2/pipeline/" + pipelineID, Status: 404, Message: "Pipeline not found"}
		assert.Equal(t, "GET /api/v2/pipeline/"+pipelineID+": 404 Pipeline not found: check the ID and that the token's user can see its project", e.Error())
	})
	t.Run("an APIError made by hand without a message uses the status text", func(t *testing.T) {
		e := &APIError{Method: "GET", Route: "/api/v2/me", Status: 418}
		assert.Equal(t, "GET /api/v2/me: 418 I'm a teapot", e.Error())
		assert.Equal(t, "GET /api/v2/me: 599 unexpected status", (&APIError{Method: "GET", Route: "/api/v2/me", Status: 599}).Error())
	})
}

func TestRetryErrorText(t *testing.T) {
	last := &APIError{Method: "GET", Route: "/api/v2/pipeline/" + pipelineID, Status: 503, Message: "Service Unavailable"}
	tests := []struct {
		name     string
		attempts int
		want     string
	}{
		{"several attempts are counted", 4, "giving up after 4 attempts: GET /api/v2/pipeline/" + pipelineID + ": 503 Service Unavailable"},
		{"one attempt is singular", 1, "giving up after 1 attempt: GET /api/v2/pipeline/" + pipelineID + ": 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(&RetryError{Attempts: tt.attempts, Last: last})
			assert.EqualError(t, err, tt.want)
			assert.Equal(t, exitcode.Unreachable, exitcode.Of(err), "the retry's exit code wins over the APIError's")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Same(t, last, apiErr)
		})
	}
}

func TestOutcomeUnknownErrorText(t *testing.T) {
	err := error(&OutcomeUnknownError{
		Method: "POST", Route: "/api/v2/project/gh%2Facme%2Fapi/pipeline",
		Cause: &APIError{Method: "POST", Route: "/api/v2/project/gh%2Facme%2Fapi/pipeline", Status: 502, Message: "Bad Gateway"},
	})
	assert.EqualError(t, err, "POST /api/v2/project/gh%2Facme%2Fapi/pipeline: the request was sent but its outcome is unknown: a pipeline may have been created (502 Bad Gateway)")
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, exitcode.Unreachable, exitcode.Of(err))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.Status)

	withCtx := &OutcomeUnknownError{Method: "POST", Route: "/r", Cause: context.Canceled}
	assert.ErrorIs(t, withCtx, context.Canceled)
	assert.EqualError(t, withCtx, "POST /r: the request was sent but its outcome is unknown: a pipeline may have been created (context canceled)")
}

func TestRedact(t *testing.T) {
	h := http.Header{
		"Circle-Token":  {testToken},
		"Authorization": {"Basic abc"},
		"Cookie":        {"a=b"},
		"Accept":        {"application/json"},
	}
	got := Redact(h)
	assert.Equal(t, http.Header{
		"Circle-Token":  {"[redacted]"},
		"Authorization": {"[redacted]"},
		"Cookie":        {"[redacted]"},
		"Accept":        {"application/json"},
	}, got)
	assert.Equal(t, testToken, h.Get("Circle-Token"), "the original is untouched")
	assert.Nil(t, Redact(nil))
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short text stays", "Project not found", 20, "Project not found"},
		{"whitespace runs collapse", "  a \n\t b\r\n", 20, "a b"},
		{"control characters become spaces", "a\x00\x1bb", 20, "a b"},
		{"long text is cut with an ellipsis", "abcdefghij", 4, "abcd…"},
		{"a cut never ends on a space", "abcd efgh", 5, "abcd…"},
		{"runes are counted, not bytes", "ééééé", 3, "ééé…"},
		{"invalid UTF-8 is replaced", "a\xffb", 10, "a\uFFFDb"},
		{"escape sequences lose their ESC", "\x1b]0;pwned\x07\x1b[2Jok", 40, "]0;pwned [2Jok"},
		{"C1 controls become spaces", "a\u009b2Jb", 20, "a 2Jb"},
		{"bidi controls become visible escapes", "fail\u202eliated", 20, `fail\u202eliated`},
		{"an escape is never cut in two", "ab\u202ecd", 4, "ab…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, oneLine(tt.in, tt.max))
		})
	}
}

// FuzzAPIMessage checks that any answer becomes one short, valid line.
func FuzzAPIMessage(f *testing.F) {
	for _, s := range []string{`{"message":"x"}`, "<title>t</title>", "a\nb", "", `{"message":"` + strings.Repeat("é", 400) + `"}`} {
		f.Add(500, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		msg := apiMessage(status, http.Header{}, []byte(body))
		require.NotEmpty(t, msg)
		require.True(t, utf8.ValidString(msg))
		require.NotContains(t, msg, "\n")
		require.Equal(t, safetext.Terminal(msg), msg, "nothing a terminal would obey")
		require.LessOrEqual(t, utf8.RuneCountInString(msg), maxMessageLen+1)
	})
}

func TestDetailOf(t *testing.T) {
	assert.Equal(t, "plain", detailOf(errors.New("plain")))
	assert.Equal(t, "no cause", detailOf(nil))
}
