package testkit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := testkit.NewClock(start)
	assert.Equal(t, start, c.Now())
	c.Advance(time.Minute)
	assert.Equal(t, start.Add(time.Minute), c.Now())

	assert.NoError(t, c.Sleep(context.Background(), time.Hour))
	assert.Equal(t, start.Add(time.Hour+time.Minute), c.Now())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Second), context.Canceled, "a sleep reports the end of its context")
	assert.Equal(t, start.Add(time.Hour+time.Minute+time.Second), c.Now())
}

func TestSyncBufferKeepsEveryWrite(t *testing.T) {
	var b testkit.SyncBuffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "%02d\n", i) })
	}
	wg.Wait()
	assert.Len(t, b.String(), 50*3)
}

func TestBadTriggerIDs(t *testing.T) {
	h := testkit.BadTriggerIDs(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Sat, 07 Jun 2025 08:09:10 GMT")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"5034460f-c7c4-4c43-9457-de07e2029e7b","number":1}`)
	}), "..")
	for method, want := range map[string]string{
		http.MethodPost: `{"id":"..","number":1}`,
		http.MethodGet:  `{"id":"5034460f-c7c4-4c43-9457-de07e2029e7b","number":1}`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/api/v2/project/gh/acme/api/pipeline", nil))
		assert.Equal(t, http.StatusCreated, rec.Code)
		assert.Equal(t, want, rec.Body.String(), method)
		assert.Equal(t, "Sat, 07 Jun 2025 08:09:10 GMT", rec.Header().Get("Date"), "headers pass through")
	}
}
