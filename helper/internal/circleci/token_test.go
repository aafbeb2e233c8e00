package circleci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// assertNoToken fails when s holds the token or any 12-character piece of it (a cut-off token).
func assertNoToken(t *testing.T, s, where string) {
	t.Helper()
	for i := 0; i+12 <= len(testToken); i++ {
		if piece := testToken[i : i+12]; strings.Contains(s, piece) {
			t.Errorf("%s holds a piece of the token (%q):\n%s", where, piece, s)
			return
		}
	}
}

// TestTokenNeverLeaks runs every failure path against a server that echoes the token back in
// every way it can, and checks the error text, its %+v and %#v forms, and the debug trace.
func TestTokenNeverLeaks(t *testing.T) {
	ctx := context.Background()
	echo := func(status int, ctype, body string) func(w http.ResponseWriter, r *http.Request, n int) {
		return func(w http.ResponseWriter, r *http.Request, n int) {
			tok := r.Header.Get("Circle-Token")
			w.Header().Set("X-Echo", tok)
			w.Header().Set("Set-Cookie", "session="+tok)
			if ctype != "" {
				w.Header().Set("Content-Type", ctype)
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, strings.ReplaceAll(body, "TOKEN", tok))
		}
	}
	trigger := func(c *Client) error {
		_, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{"parameters":{"t":"TOKEN"}}`))
		return err
	}
	run := func(c *Client) error { _, err := c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{}`)); return err }
	get := func(c *Client) error { _, err := c.GetPipeline(ctx, pipelineID); return err }
	// An unreadable timestamp is set aside, not an error: the answer is read, and the trace says
	// what was set aside.
	readSetAside := func(c *Client) error {
		p, err := c.GetPipeline(ctx, pipelineID)
		if err == nil && p.CreatedAt.IsZero() {
			return errors.New("read; its created_at was set aside")
		}
		return fmt.Errorf("want the answer read and its created_at set aside; got %v", err)
	}
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request, n int)
		call   func(c *Client) error
	}{
		{"a 401 whose message quotes the token", echo(401, "application/json", `{"message":"Invalid token TOKEN"}`), trigger},
		{"a 400 whose plain-text body quotes the token", echo(400, "text/plain", "bad token TOKEN\n"), trigger},
		{"a 404 whose HTML title quotes the token", echo(404, "text/html", "<html><title>no TOKEN</title></html>"), get},
		{"a message cutting the token in two at its length limit", echo(403, "application/json",
			`{"message":"`+strings.Repeat("x", maxMessageLen-20)+`TOKEN"}`), trigger},
		{"a snippet cutting the token in two at its length limit", echo(403, "text/plain",
			strings.Repeat("y", maxSnippetLen-20)+"TOKEN"), trigger},
		{"a long body cutting the token in two where the trace cuts it", echo(400, "application/json",
			`{"message":"no","pad":"`+strings.Repeat("z", maxTraceBody-40)+`TOKEN"}`), trigger},
		{"a 500 after the trigger, quoting the token", echo(500, "application/json", `{"message":"crashed on TOKEN"}`), trigger},
		{"a 503 on every attempt, quoting the token", echo(503, "application/json", `{"message":"busy: TOKEN"}`), get},
		{"a redirect to a URL holding the token", func(w http.ResponseWriter, r *http.Request, n int) {
			http.Redirect(w, r, "https://example.com/?t="+r.Header.Get("Circle-Token"), http.StatusFound)
		}, get},
		{"a 200 whose timestamp is the token", echo(200, "application/json", `{"id":"x","created_at":"TOKEN"}`), readSetAside},
		{"a 201 whose timestamp is the token", echo(201, "application/json", `{"id":"x","created_at":"TOKEN"}`), trigger},
		{"a 201 without an id after the token", echo(201, "application/json", `{"state":"TOKEN"}`), run},
		{"a dropped connection", func(w http.ResponseWriter, r *http.Request, n int) { hangUp(t, w) }, trigger},
		{"a timeout after the trigger was written", func(w http.ResponseWriter, r *http.Request, n int) { <-r.Context().Done() }, trigger},
	}
	for _, tt := range tests {
		t.Run("the token does not leak after "+tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handle)
			var trace testkit.SyncBuffer
			c, _ := newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.Debug = &trace
				cfg.Retry.MaxAttempts = 2
				cfg.RequestTimeout = 100 * time.Millisecond
			})
			err := tt.call(c)
			require.Error(t, err)
			assertNoToken(t, err.Error(), "the error")
			assertNoToken(t, fmt.Sprintf("%+v", err), "the error's %+v")
			assertNoToken(t, fmt.Sprintf("%#v", err), "the error's %#v")
			assertNoToken(t, trace.String(), "the trace")
			assert.Contains(t, trace.String(), "[redacted]")
		})
	}
	t.Run("the token does not leak through a 200 message of pipeline/run", func(t *testing.T) {
		srv := newServer(t, echo(200, "application/json", `{"message":"skipped for TOKEN"}`))
		c, _ := newTestClient(t, srv.URL)
		res, err := c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{}`))
		require.NoError(t, err)
		assert.Equal(t, "skipped for [redacted]", res.Message)
	})
	t.Run("the token does not leak through connection errors or cancellation", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		c, _ := newTestClient(t, "http://"+addr, func(cfg *Config) { cfg.Retry.MaxAttempts = 2 })
		err = trigger(c)
		require.Error(t, err)
		assertNoToken(t, err.Error(), "the refused-connection error")

		srv := newServer(t, echo(503, "application/json", `{"message":"busy: TOKEN"}`))
		cctx, cancel := context.WithCancel(ctx)
		c, _ = newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
		})
		_, err = c.GetPipeline(cctx, pipelineID)
		require.ErrorIs(t, err, context.Canceled)
		assertNoToken(t, err.Error(), "the cancellation error")
	})
	t.Run("printing a Config or a Client does not show the token", func(t *testing.T) {
		cfg := Config{Host: "https://circleci.com", Token: testToken, Retry: RetryPolicy{Jitter: noJitter}}
		c, err := New(cfg)
		require.NoError(t, err)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assertNoToken(t, fmt.Sprintf(verb, cfg), "Config printed with "+verb)
			assertNoToken(t, fmt.Sprintf(verb, &cfg), "*Config printed with "+verb)
			assertNoToken(t, fmt.Sprintf(verb, c), "Client printed with "+verb)
		}
		assert.Equal(t, "circleci.Client{https://circleci.com}", fmt.Sprint(c))
		assert.Contains(t, fmt.Sprint(cfg), "Token: [redacted]")
	})
}
