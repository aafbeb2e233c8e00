package watch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// insightsFunc answers WorkflowDuration with f, counting the calls.
type insightsFunc struct {
	calls atomic.Int32
	f     func(call int32) (circleci.WorkflowDurations, bool, error)
}

func (i *insightsFunc) WorkflowDuration(context.Context, string, string, string) (circleci.WorkflowDurations, bool, error) {
	return i.f(i.calls.Add(1))
}

func TestHistoryAsksAgainAfterAFailedRequestButNotForever(t *testing.T) {
	ten := circleci.WorkflowDurations{Median: 10 * time.Minute}
	throttled := errors.New("429 Too Many Requests")
	t.Run("a throttled answer, then history", func(t *testing.T) {
		api := &insightsFunc{f: func(call int32) (circleci.WorkflowDurations, bool, error) {
			if call == 1 {
				return circleci.WorkflowDurations{}, false, throttled
			}
			return ten, true, nil
		}}
		h := NewHistory(api)
		_, _, ok := h.Expect(context.Background(), "gh/acme/e2e", "", "browser")
		assert.False(t, ok, "no history while insights fails")
		got, _, ok := h.Expect(context.Background(), "gh/acme/e2e", "", "browser")
		assert.True(t, ok, "asked again at the next poll")
		assert.Equal(t, 10*time.Minute, got)
		h.Expect(context.Background(), "gh/acme/e2e", "", "browser")
		assert.Equal(t, int32(2), api.calls.Load(), "known history is not asked for again")
	})
	t.Run("insights keeps failing", func(t *testing.T) {
		api := &insightsFunc{f: func(int32) (circleci.WorkflowDurations, bool, error) {
			return circleci.WorkflowDurations{}, false, throttled
		}}
		h := NewHistory(api)
		for range 10 {
			h.Expect(context.Background(), "gh/acme/e2e", "", "browser")
		}
		assert.Equal(t, int32(maxHistoryAsks), api.calls.Load())
	})
	t.Run("no history is an answer, asked once", func(t *testing.T) {
		api := &insightsFunc{f: func(int32) (circleci.WorkflowDurations, bool, error) { return circleci.WorkflowDurations{}, false, nil }}
		h := NewHistory(api)
		for range 5 {
			h.Expect(context.Background(), "gh/acme/e2e", "", "browser")
		}
		assert.Equal(t, int32(1), api.calls.Load())
	})
}

func TestTrackersAskingAtOnceShareOneInsightsRequest(t *testing.T) {
	release := make(chan struct{})
	api := &insightsFunc{f: func(int32) (circleci.WorkflowDurations, bool, error) {
		<-release
		return circleci.WorkflowDurations{Median: time.Minute}, true, nil
	}}
	h := NewHistory(api)
	var wg sync.WaitGroup
	var withHistory atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, ok := h.Expect(context.Background(), "gh/acme/e2e", "", "browser"); ok {
				withHistory.Add(1)
			}
		}()
	}
	for h.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), api.calls.Load())
	assert.Equal(t, int32(8), withHistory.Load())
}
