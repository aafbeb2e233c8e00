package circleci

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

var local = time.Date(2025, 6, 7, 8, 9, 10, 250e6, time.UTC) // this machine's clock, mid-second

func TestServerClock(t *testing.T) {
	date := func(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
	t.Run("nothing is known before an answer with a Date", func(t *testing.T) {
		var s serverClock
		s.observe(local, local, "")
		s.observe(local, local, "yesterday")
		_, _, ok := s.offset()
		assert.False(t, ok)
	})
	t.Run("one answer bounds the offset by its second and its round trip", func(t *testing.T) {
		var s serverClock
		server := local.Add(-45 * time.Second) // the server runs 45s behind
		s.observe(local, local.Add(100*time.Millisecond), date(server.Add(50*time.Millisecond)))
		lo, hi, ok := s.offset()
		require.True(t, ok)
		assert.Equal(t, -45*time.Second-350*time.Millisecond, lo)
		assert.Equal(t, -45*time.Second+750*time.Millisecond, hi)
	})
	t.Run("answers at different points of the second narrow the bounds around the true offset", func(t *testing.T) {
		var s serverClock
		const skew = 7*time.Second + 300*time.Millisecond
		for i := range 10 {
			at := local.Add(time.Duration(i) * 130 * time.Millisecond)
			s.observe(at, at, date(at.Add(skew)))
		}
		lo, hi, ok := s.offset()
		require.True(t, ok)
		assert.LessOrEqual(t, lo, skew)
		assert.GreaterOrEqual(t, hi, skew)
		assert.Less(t, hi-lo, 200*time.Millisecond)
	})
	t.Run("an answer that contradicts the estimate (a clock stepped) starts it afresh", func(t *testing.T) {
		var s serverClock
		s.observe(local, local, date(local))
		s.observe(local, local, date(local.Add(time.Hour)))
		lo, hi, _ := s.offset()
		assert.Equal(t, time.Hour-250*time.Millisecond, lo)
		assert.Equal(t, time.Hour+750*time.Millisecond, hi)
	})
	t.Run("a round trip that ends before it starts is ignored", func(t *testing.T) {
		var s serverClock
		s.observe(local, local.Add(-time.Second), date(local))
		_, _, ok := s.offset()
		assert.False(t, ok)
	})
}

func TestClientLearnsTheServerClock(t *testing.T) {
	server := local.Add(-2 * time.Minute)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Date", server.Format(http.TimeFormat))
		reply(w, 200, `{"login":"bot"}`)
	})
	c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Now = func() time.Time { return local } })
	_, _, ok := c.ServerClockOffset()
	assert.False(t, ok)
	_, err := c.Me(context.Background())
	require.NoError(t, err)
	lo, hi, ok := c.ServerClockOffset()
	require.True(t, ok)
	assert.Equal(t, -2*time.Minute-250*time.Millisecond, lo)
	assert.Equal(t, -2*time.Minute+750*time.Millisecond, hi)
}

func TestGetProject(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		assert.Equal(t, "/api/v2/project/gh%2Facme%2Fapi", r.URL.EscapedPath())
		reply(w, 200, `{"slug":"gh/acme/api","name":"api","id":"`+pipelineID+`","vcs_info":{"vcs_url":"https://github.com/acme/api","provider":"GitHub","default_branch":"trunk"}}`)
	})
	c, _ := newTestClient(t, srv.URL)
	p, err := c.GetProject(context.Background(), "gh/acme/api")
	require.NoError(t, err)
	assert.Equal(t, "trunk", p.VCSInfo.DefaultBranch)
}

func TestRunningOutOfTimeIsATimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "60")
		reply(w, 429, `{"message":"Rate limit exceeded"}`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _ := newTestClient(t, srv.URL)
	_, err := c.TriggerPipeline(ctx, "gh/acme/api", []byte(`{}`))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a 429 created nothing")
	assert.Equal(t, exitcode.Timeout, exitcode.Of(err), "rate-limited past the deadline exits 4: %v", err)
}

func FuzzServerClock(f *testing.F) {
	f.Add("Sat, 07 Jun 2025 08:09:10 GMT", int64(0), int64(100))
	f.Add("Sunday, 06-Nov-94 08:49:37 GMT", int64(-5), int64(3))
	f.Add("Sun Nov  6 08:49:37 1994", int64(7), int64(7))
	f.Add("", int64(1), int64(2))
	f.Fuzz(func(t *testing.T, date string, sentMS, gotMS int64) {
		var s serverClock
		sent, got := local.Add(time.Duration(sentMS)*time.Millisecond), local.Add(time.Duration(gotMS)*time.Millisecond)
		s.observe(sent, got, date)
		s.observe(got, got.Add(time.Second), date)
		if lo, hi, ok := s.offset(); ok && lo > hi {
			t.Fatalf("bounds crossed: [%s, %s]", lo, hi)
		}
	})
}
