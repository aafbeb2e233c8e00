package circleci

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testToken looks like a real personal API token, so redaction is tested on a realistic value.
const testToken = "CCIPAT_4Lx9Qm2ZtV7bNcR8wYpK3s_0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"

// received is one request as the server saw it.
type received struct {
	Method      string
	RequestURI  string // the request target exactly as sent
	EscapedPath string
	Query       map[string][]string
	Header      http.Header
	Body        []byte
}

// server is an httptest server whose handler gets the 1-based number of each request.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
	n    atomic.Int32
}

func newServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, received{
			Method: r.Method, RequestURI: r.RequestURI, EscapedPath: r.URL.EscapedPath(),
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		})
		s.mu.Unlock()
		handle(w, r, int(s.n.Add(1)))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.reqs...)
}

// reply writes a JSON answer.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hangUp closes the connection without answering.
func hangUp(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// sleeps records the waits the client asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration{}, s.ds...)
}

// noJitter makes waits exact.
func noJitter(d time.Duration) time.Duration { return d }

// newTestClient is a client of host with the test token, recorded sleeps and no jitter.
func newTestClient(t *testing.T, host string, edit ...func(*Config)) (*Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	cfg := Config{
		Host:      host,
		Token:     testToken,
		UserAgent: "baton/1.2.3",
		Sleep:     sl.sleep,
		Retry:     RetryPolicy{Jitter: noJitter},
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, sl
}

const (
	pipelineID = "5034460f-c7c4-4c43-9457-de07e2029e7b"
	workflowID = "fda08377-fe7e-46b1-8992-3a7aaecac9c3"
)
