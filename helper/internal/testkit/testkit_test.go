package testkit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/testkit"
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
