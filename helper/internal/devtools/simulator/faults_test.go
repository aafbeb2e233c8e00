package simulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

const faultConfig = `
tokens: [{token: tok}]
projects:
  - slug: gh/acme/api
    workflows: [{name: build}]
`

func TestStatusFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       simulator.Fault
		status      int
		message     string
		retryAfter  string
		rateHeaders bool
	}{
		{"a 429 carries Retry-After (1s by default) and rate limit headers", simulator.Fault{Operation: "getCurrentUser", Status: 429}, 429, "Rate limit exceeded", "1", true},
		{"a 429 can ask for a longer wait", simulator.Fault{Operation: "getCurrentUser", Status: 429, RetryAfter: 7}, 429, "Rate limit exceeded", "7", true},
		{"a 429 can come without Retry-After", simulator.Fault{Operation: "getCurrentUser", Status: 429, RetryAfter: -1}, 429, "Rate limit exceeded", "", true},
		{"a 500 says Internal Server Error", simulator.Fault{Operation: "getCurrentUser", Status: 500}, 500, "Internal Server Error", "", false},
		{"a 502 says Bad Gateway", simulator.Fault{Operation: "*", Status: 502}, 502, "Bad Gateway", "", false},
		{"a 503 can carry its own message and Retry-After", simulator.Fault{Operation: "getCurrentUser", Kind: "status", Status: 503, Message: "maintenance", RetryAfter: 30}, 503, "maintenance", "30", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, faultConfig)
			require.NoError(t, e.sim.AddFault(tt.fault))
			r := e.api("GET", "/api/v2/me", "")
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.JSONEq(t, `{"message":"`+tt.message+`"}`, r.body)
			assert.Equal(t, tt.retryAfter, r.header.Get("Retry-After"))
			if tt.rateHeaders {
				assert.Equal(t, "0", r.header.Get("X-RateLimit-Remaining"))
				assert.Equal(t, "0", r.header.Get("RateLimit-Remaining"))
				assert.NotEmpty(t, r.header.Get("X-RateLimit-Limit"))
				assert.NotEmpty(t, r.header.Get("X-RateLimit-Reset"))
			}
			assert.Equal(t, "status", e.sim.Requests()[0].Fault)
			assert.Equal(t, http.StatusOK, e.api("GET", "/api/v2/me", "").status, "used up after once")
		})
	}

	t.Run("a fault answers before authentication and without processing", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Status: 500}))
		r := e.do("POST", "/api/v2/project/gh/acme/api/pipeline", "{}", nil)
		assert.Equal(t, 500, r.status)
		assert.Empty(t, e.sim.Pipelines())
	})

	t.Run("a fault hits only its operation, as many times as asked", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getPipelineById", Status: 503, Times: 2}))
		id := e.trigger("gh/acme/api", "")
		var got []int
		for range 3 {
			got = append(got, e.api("GET", "/api/v2/pipeline/"+id, "").status)
		}
		assert.Equal(t, []int{503, 503, 200}, got)
		assert.Empty(t, e.sim.Faults())
	})

	t.Run("faults are used in the order they were added", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "*", Status: 502}))
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getCurrentUser", Status: 503}))
		assert.Equal(t, 502, e.api("GET", "/api/v2/me", "").status)
		assert.Equal(t, 503, e.api("GET", "/api/v2/me", "").status)
		assert.Equal(t, 200, e.api("GET", "/api/v2/me", "").status)
	})

	t.Run("a fault with times -1 never runs out", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getCurrentUser", Status: 500, Times: -1}))
		for range 5 {
			assert.Equal(t, 500, e.api("GET", "/api/v2/me", "").status)
		}
		assert.Len(t, e.sim.Faults(), 1)
	})

	t.Run("faults from the config are pending from the start", func(t *testing.T) {
		e := start(t, faultConfig+"faults: [{operation: getCurrentUser, status: 429, retry_after: 4}]\n")
		r := e.api("GET", "/api/v2/me", "")
		assert.Equal(t, 429, r.status)
		assert.Equal(t, "4", r.header.Get("Retry-After"))
	})

	t.Run("an invalid fault is refused with the field named", func(t *testing.T) {
		e := start(t, faultConfig)
		err := e.sim.AddFault(simulator.Fault{Operation: "getCurrentUser", Status: 302})
		assert.EqualError(t, err, "fault status: 302; a status fault answers an error status between 400 and 599")
	})
}

// freshClient never reuses a connection, so a dropped one is not silently retried by the
// transport.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestConnectionFaults(t *testing.T) {
	t.Run("slow waits the delay, then answers normally", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getCurrentUser", Delay: simulator.Duration(80 * time.Millisecond)}))
		began := time.Now()
		r := e.api("GET", "/api/v2/me", "")
		assert.GreaterOrEqual(t, time.Since(began), 80*time.Millisecond)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "slow", e.sim.Requests()[0].Fault)
	})

	t.Run("slow notices a client that gives up and records no answer", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: "slow", Delay: simulator.Duration(time.Minute)}))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/api/v2/project/gh/acme/api/pipeline", nil)
		req.Header.Set("Circle-Token", "tok")
		_, err := freshClient().Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Eventually(t, func() bool { return len(e.sim.Requests()) == 1 }, 5*time.Second, 5*time.Millisecond)
		rec := e.sim.Requests()[0]
		assert.Equal(t, 0, rec.Status)
		assert.Equal(t, "slow", rec.Fault)
		assert.Empty(t, e.sim.Pipelines(), "the request was never processed")
	})

	t.Run("a delay can precede a status fault", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getCurrentUser", Status: 504, Delay: simulator.Duration(30 * time.Millisecond)}))
		began := time.Now()
		assert.Equal(t, 504, e.api("GET", "/api/v2/me", "").status)
		assert.GreaterOrEqual(t, time.Since(began), 30*time.Millisecond)
	})

	t.Run("drop closes the connection before processing", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: "drop"}))
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2/project/gh/acme/api/pipeline", strings.NewReader("{}"))
		req.Header.Set("Circle-Token", "tok")
		req.Header.Set("Content-Type", "application/json")
		_, err := freshClient().Do(req)
		require.Error(t, err)
		assert.Empty(t, e.sim.Pipelines())
		rec := e.sim.Requests()[0]
		assert.True(t, rec.Dropped)
		assert.Equal(t, 0, rec.Status)
		assert.Equal(t, "drop", rec.Fault)
		assert.Equal(t, "{}", string(rec.Body))
	})

	t.Run("lost processes the request, then drops the answer", func(t *testing.T) {
		e := start(t, faultConfig)
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "triggerPipeline", Kind: "lost"}))
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2/project/gh/acme/api/pipeline", strings.NewReader(`{"branch":"main"}`))
		req.Header.Set("Circle-Token", "tok")
		req.Header.Set("Content-Type", "application/json")
		_, err := freshClient().Do(req)
		require.Error(t, err, "the client never hears back")
		ps := e.sim.Pipelines()
		require.Len(t, ps, 1, "but the pipeline exists")
		rec := e.sim.Requests()[0]
		assert.True(t, rec.Dropped)
		assert.Equal(t, "lost", rec.Fault)
		assert.Equal(t, http.StatusCreated, rec.Status, "the answer that was lost is recorded")
		assert.Equal(t, ps[0].ID, gjsonGet(string(rec.ResponseBody), "id"))
	})
}

func TestRateLimit(t *testing.T) {
	e := start(t, faultConfig+"rate_limit: {requests: 3, window: 10s}\n")
	t.Run("requests within the limit pass and count down", func(t *testing.T) {
		for i, want := range []string{"2", "1", "0"} {
			r := e.api("GET", "/api/v2/me", "")
			require.Equal(t, http.StatusOK, r.status, "request %d", i)
			assert.Equal(t, "3", r.header.Get("X-RateLimit-Limit"))
			assert.Equal(t, want, r.header.Get("X-RateLimit-Remaining"))
			assert.Equal(t, want, r.header.Get("RateLimit-Remaining"))
			e.clock.Advance(time.Second)
		}
	})
	t.Run("the next request gets 429 with Retry-After until the window frees a slot", func(t *testing.T) {
		r := e.api("GET", "/api/v2/me", "")
		assert.Equal(t, http.StatusTooManyRequests, r.status)
		assert.JSONEq(t, `{"message":"Rate limit exceeded"}`, r.body)
		assert.Equal(t, "7", r.header.Get("Retry-After"))
		assert.Equal(t, "7", r.header.Get("RateLimit-Reset"))
		assert.Equal(t, "7", r.header.Get("X-RateLimit-Reset"), "seconds, as CircleCI documents it")
		reqs := e.sim.Requests()
		assert.Equal(t, "rate_limit", reqs[len(reqs)-1].Fault)
	})
	t.Run("admin endpoints are not limited", func(t *testing.T) {
		r := e.do("GET", "/_sim/requests", "", nil)
		assert.Equal(t, http.StatusOK, r.status)
	})
	t.Run("once the oldest request leaves the window one more passes", func(t *testing.T) {
		e.clock.Advance(7 * time.Second)
		assert.Equal(t, http.StatusOK, e.api("GET", "/api/v2/me", "").status)
		assert.Equal(t, http.StatusTooManyRequests, e.api("GET", "/api/v2/me", "").status)
	})
}

func TestAdminEndpoints(t *testing.T) {
	e := start(t, faultConfig)
	e.trigger("gh%2Facme%2Fapi", `{"branch":"main"}`)
	e.api("GET", "/api/v2/me?x=1", "")

	t.Run("GET /_sim/requests lists the records with bodies as strings", func(t *testing.T) {
		r := e.do("GET", "/_sim/requests", "", nil)
		require.Equal(t, http.StatusOK, r.status)
		var got []simulator.Request
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		require.Len(t, got, 2, "admin calls are not recorded")
		assert.Equal(t, `{"branch":"main"}`, gjsonGet(r.body, "0.body"))
		assert.Equal(t, "/api/v2/project/gh%2Facme%2Fapi/pipeline", got[0].Path)
		assert.Equal(t, "POST", got[0].Method)
		assert.Equal(t, "tok", got[0].Header.Get("Circle-Token"))
		assert.Equal(t, 201, got[0].Status)
		assert.Equal(t, "application/json", got[0].ResponseHeader.Get("Content-Type"))
		assert.Equal(t, "pending", gjsonGet(string(got[0].ResponseBody), "state"))
		assert.Equal(t, "x=1", got[1].RawQuery)
		assert.Equal(t, "getCurrentUser", got[1].Operation)
		assert.Equal(t, epoch, got[1].Time)
	})

	t.Run("GET /_sim/pipelines lists what was created", func(t *testing.T) {
		r := e.do("GET", "/_sim/pipelines", "", nil)
		assert.Equal(t, "gh/acme/api", gjsonGet(r.body, "0.project_slug"))
		assert.Equal(t, "created", gjsonGet(r.body, "0.state"))
	})

	t.Run("POST /_sim/faults queues a fault given as JSON", func(t *testing.T) {
		r := e.do("POST", "/_sim/faults", `{"operation":"getCurrentUser","status":429,"retry_after":2,"times":2}`, nil)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.JSONEq(t, `{"operation":"getCurrentUser","kind":"status","status":429,"retry_after":2,"times":2}`, r.body)
		r = e.do("GET", "/_sim/faults", "", nil)
		assert.JSONEq(t, `[{"operation":"getCurrentUser","kind":"status","status":429,"retry_after":2,"times":2}]`, r.body)
		assert.Equal(t, 429, e.api("GET", "/api/v2/me", "").status)
		assert.Equal(t, 429, e.api("GET", "/api/v2/me", "").status)
		assert.Equal(t, 200, e.api("GET", "/api/v2/me", "").status)
	})

	t.Run("POST /_sim/faults accepts a slow fault with its delay as a string", func(t *testing.T) {
		r := e.do("POST", "/_sim/faults", `{"operation":"*","kind":"slow","delay":"10ms"}`, nil)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "10ms", gjsonGet(r.body, "delay"))
		assert.Equal(t, 200, e.api("GET", "/api/v2/me", "").status)
	})

	refusals := []struct{ name, body, msg string }{
		{"an unknown field", `{"operation":"*","stauts":500}`, `fault: json: unknown field "stauts"`},
		{"a bad kind", `{"operation":"*","kind":"boom"}`, `fault kind: "boom"; use status, slow, drop, lost or processed`},
		{"a bad delay", `{"operation":"*","delay":"soon"}`, `"soon" is not a duration`},
	}
	for _, tt := range refusals {
		t.Run("POST /_sim/faults refuses "+tt.name, func(t *testing.T) {
			r := e.do("POST", "/_sim/faults", tt.body, nil)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, gjsonGet(r.body, "message"), tt.msg)
		})
	}

	t.Run("an unknown admin endpoint is not found", func(t *testing.T) {
		r := e.do("GET", "/_sim/nothing", "", nil)
		assert.Equal(t, http.StatusNotFound, r.status)
	})

	t.Run("POST /_sim/reset forgets the records", func(t *testing.T) {
		r := e.do("POST", "/_sim/reset", "", nil)
		assert.Equal(t, http.StatusNoContent, r.status)
		assert.Empty(t, e.sim.Requests())
		r = e.do("GET", "/_sim/requests", "", nil)
		assert.JSONEq(t, `[]`, r.body)
		assert.Len(t, e.sim.Pipelines(), 1, "pipelines stay")
	})
}

func TestRecording(t *testing.T) {
	t.Run("every request is recorded in order, including refusals and unknown paths", func(t *testing.T) {
		e := start(t, faultConfig)
		e.do("GET", "/api/v2/me", "", nil)
		e.api("GET", "/api/v2/nowhere", "")
		e.api("POST", "/api/v2/project/gh/acme/api/pipeline", `{"tag":"v1"}`)
		var got []string
		for _, r := range e.sim.Requests() {
			got = append(got, r.Method+" "+r.Path+" "+strconv.Itoa(r.Status)+" "+r.Operation)
		}
		assert.Equal(t, []string{
			"GET /api/v2/me 401 getCurrentUser",
			"GET /api/v2/nowhere 404 ",
			"POST /api/v2/project/gh/acme/api/pipeline 201 triggerPipeline",
		}, got)
		e.sim.Reset()
		assert.Empty(t, e.sim.Requests())
	})

	t.Run("records are copies the caller may change", func(t *testing.T) {
		e := start(t, faultConfig)
		e.api("GET", "/api/v2/me", "")
		e.sim.Requests()[0].Header.Set("Circle-Token", "changed")
		assert.Equal(t, "tok", e.sim.Requests()[0].Header.Get("Circle-Token"))
	})

	t.Run("WithLog writes one line per request", func(t *testing.T) {
		var log testkit.SyncBuffer
		e := start(t, faultConfig, simulator.WithLog(&log))
		require.NoError(t, e.sim.AddFault(simulator.Fault{Operation: "getCurrentUser", Status: 503}))
		e.api("GET", "/api/v2/me", "")
		e.api("GET", "/api/v2/me?a=b", "")
		assert.Equal(t, "GET /api/v2/me -> 503 getCurrentUser [fault: status]\nGET /api/v2/me?a=b -> 200 getCurrentUser\n", log.String())
	})

	t.Run("WithLogBodies adds each body exactly as received", func(t *testing.T) {
		var log testkit.SyncBuffer
		e := start(t, faultConfig, simulator.WithLog(&log), simulator.WithLogBodies())
		e.api("POST", "/api/v2/project/gh/acme/api/pipeline", `{"branch":"main","parameters":{"q":"it's \"x\""}}`)
		e.api("GET", "/api/v2/me", "")
		assert.Regexp(t, `^POST /api/v2/project/gh/acme/api/pipeline -> 201 triggerPipeline\n  body: \{"branch":"main","parameters":\{"q":"it's \\"x\\""\}\}\nGET /api/v2/me -> 200 getCurrentUser\n$`, log.String())
	})

	t.Run("concurrent clients are all recorded", func(t *testing.T) {
		e := start(t, faultConfig)
		done := make(chan struct{})
		for range 20 {
			go func() {
				defer func() { done <- struct{}{} }()
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2/project/gh/acme/api/pipeline", nil)
				req.Header.Set("Circle-Token", "tok")
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
				_ = e.sim.Pipelines()
			}()
		}
		for range 20 {
			<-done
		}
		assert.Len(t, e.sim.Requests(), 20)
		numbers := map[int64]bool{}
		for _, p := range e.sim.Pipelines() {
			numbers[p.Number] = true
		}
		assert.Len(t, numbers, 20, "every pipeline has its own number")
	})
}

func TestRateLimitOnlyWhenThrottled(t *testing.T) {
	e := start(t, faultConfig+"rate_limit: {requests: 1, window: 10s, only_when_throttled: true}\n")
	r := e.api("GET", "/api/v2/me", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.header.Get("RateLimit-Remaining"), "the limit is not announced before it is hit")
	assert.Empty(t, r.header.Get("X-RateLimit-Remaining"))
	r = e.api("GET", "/api/v2/me", "")
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "10", r.header.Get("Retry-After"))
	assert.Equal(t, "0", r.header.Get("X-RateLimit-Remaining"))
}
