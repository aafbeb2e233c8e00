package circleci

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

var (
	durationRE = regexp.MustCompile(`\(\d+ms\)`)
	dateRE     = regexp.MustCompile(`(?m)^< Date: .*$`)
	afterRE    = regexp.MustCompile(`after \d+ms`)
)

// normalize makes a trace comparable: no port, no timings, no dates.
func normalize(trace, host string) string {
	trace = strings.ReplaceAll(trace, host, "http://HOST")
	trace = durationRE.ReplaceAllString(trace, "(Nms)")
	trace = afterRE.ReplaceAllString(trace, "after Nms")
	return dateRE.ReplaceAllString(trace, "< Date: DATE")
}

func TestDebugTrace(t *testing.T) {
	ctx := context.Background()
	t.Run("each attempt shows the request with the token redacted, the answer, and the wait", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				reply(w, 429, `{"message":"Rate limit exceeded"}`)
				return
			}
			reply(w, 201, created201)
		})
		var trace testkit.SyncBuffer
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &trace })
		_, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{"branch":"main"}`))
		require.NoError(t, err)
		want := `> POST http://HOST/api/v2/project/gh%2Facme%2Fapi/pipeline
> Accept: application/json
> Circle-Token: [redacted]
> Content-Type: application/json
> User-Agent: baton/1.2.3
{"branch":"main"}
< 429 Too Many Requests (Nms)
< Content-Length: 33
< Content-Type: application/json
< Date: DATE
{"message":"Rate limit exceeded"}
* pausing every request for 1s (429 without a time)
* 429 Rate limit exceeded; waiting 1s (backoff) before attempt 2 of 4
> POST http://HOST/api/v2/project/gh%2Facme%2Fapi/pipeline (attempt 2 of 4)
> Accept: application/json
> Circle-Token: [redacted]
> Content-Type: application/json
> User-Agent: baton/1.2.3
{"branch":"main"}
< 201 Created (Nms)
< Content-Length: ` + strconv.Itoa(len(created201)) + `
< Content-Type: application/json
< Date: DATE
` + created201 + "\n"
		assert.Equal(t, want, normalize(trace.String(), srv.URL))
	})
	t.Run("a failed attempt and an unknown outcome are reported", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { hangUp(t, w) })
		var trace testkit.SyncBuffer
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &trace })
		_, err := c.TriggerPipeline(ctx, "gh/acme/api", nil)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		want := `> POST http://HOST/api/v2/project/gh%2Facme%2Fapi/pipeline
> Accept: application/json
> Circle-Token: [redacted]
> User-Agent: baton/1.2.3
! no answer after Nms: the connection closed without a response
! the request was sent but its outcome is unknown: a pipeline may have been created (the connection closed without a response)
`
		assert.Equal(t, want, normalize(trace.String(), srv.URL))
	})
	t.Run("giving up and a pipeline not created are reported", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if r.Method == http.MethodGet {
				reply(w, 500, ``)
				return
			}
			reply(w, 200, `{"message":"CI skipped"}`)
		})
		var trace testkit.SyncBuffer
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &trace; cfg.Retry.MaxAttempts = 2 })
		_, err := c.Me(ctx)
		require.Error(t, err)
		_, err = c.RunPipeline(ctx, "gh", "acme", "api", []byte(`{}`))
		require.NoError(t, err)
		got := trace.String()
		assert.Contains(t, got, "* 500 Internal Server Error; waiting 1s (backoff) before attempt 2 of 2\n")
		assert.Contains(t, got, "! giving up after 2 attempts: GET /api/v2/me: 500 Internal Server Error\n")
		assert.Contains(t, got, "* no pipeline was created: CI skipped\n")
	})
	t.Run("a long body is cut, saying how long it was", func(t *testing.T) {
		long := `{"items":[],"next_page_token":null,"pad":"` + strings.Repeat("é", 3000) + `"}`
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, long) })
		var trace testkit.SyncBuffer
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &trace })
		_, err := c.ListPipelineWorkflows(ctx, pipelineID)
		require.NoError(t, err)
		got := trace.String()
		assert.Contains(t, got, "\n… (cut; "+strconv.Itoa(len(long))+" bytes in all)\n")
		assert.NotContains(t, got, "\uFFFD", "the cut does not split a character")
		assert.Less(t, len(got), maxTraceBody+1000)
	})
	t.Run("a silent client writes nothing", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, userJSON) })
		c, _ := newTestClient(t, srv.URL)
		_, err := c.Me(ctx)
		require.NoError(t, err)
		assert.Nil(t, c.trace)
	})
	t.Run("concurrent requests write whole blocks into a plain buffer", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, userJSON) })
		var buf bytes.Buffer // not safe for concurrent use by itself; the race detector watches
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Debug = &buf })
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := c.Me(ctx)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		assert.Equal(t, 8, strings.Count(buf.String(), "> GET "))
		assert.Equal(t, 8, strings.Count(buf.String(), "< 200 OK"))
	})
}
