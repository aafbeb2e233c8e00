package pace_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/pace"
)

var (
	t0       = time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	defaults = pace.Limits{Min: 5 * time.Second, Max: 30 * time.Second}
)

const s = time.Second

func TestNext(t *testing.T) {
	tenMinutes := func(elapsed time.Duration) pace.State {
		return pace.State{Now: t0.Add(elapsed), Start: t0, Expected: 10 * time.Minute, Last: 30 * s}
	}
	tests := []struct {
		name   string
		state  pace.State
		limits pace.Limits
		expect time.Duration
	}{
		{"without history the first look comes after the poll interval", pace.State{Now: t0}, defaults, 5 * s},
		{"without history a change brings the poll interval back", pace.State{Now: t0, Last: 20 * s, Changed: true}, defaults, 5 * s},
		{"without history no change backs off by half", pace.State{Now: t0, Last: 10 * s}, defaults, 15 * s},
		{"without history the back-off stops at the cap", pace.State{Now: t0, Last: 25 * s}, defaults, 30 * s},
		{"a huge last wait is the cap, not an overflow", pace.State{Now: t0, Last: time.Duration(1 << 62)}, defaults, 30 * s},
		{"far from the expected end the wait is the cap", tenMinutes(time.Minute), defaults, 30 * s},
		{"30s before the end the wait is two thirds of that", tenMinutes(9*time.Minute + 30*s), defaults, 20 * s},
		{"close to the end the wait is the poll interval", tenMinutes(9*time.Minute + 55*s), defaults, 5 * s},
		{"at the expected end the wait is the poll interval", tenMinutes(10 * time.Minute), defaults, 5 * s},
		{"5s late it backs off as from the poll interval", tenMinutes(10*time.Minute + 5*s), defaults, 7500 * time.Millisecond},
		{"12.5s late it has backed off twice", tenMinutes(10*time.Minute + 12500*time.Millisecond), defaults, 11250 * time.Millisecond},
		{"long overdue it is the cap", tenMinutes(time.Hour), defaults, 30 * s},
		{"the back-off after the end does not depend on the last wait", pace.State{Now: t0.Add(10 * time.Minute), Start: t0, Expected: 10 * time.Minute, Last: 30 * s}, defaults, 5 * s},
		{"with history a change brings no quick look", pace.State{Now: t0.Add(3 * time.Minute), Start: t0, Expected: 10 * time.Minute, Last: 30 * s, Changed: true}, defaults, 30 * s},
		{"with history a change near the end keeps the approach", pace.State{Now: t0.Add(9*time.Minute + 45*s), Start: t0, Expected: 10 * time.Minute, Last: 10 * s, Changed: true}, defaults, 10 * s},
		{"Early makes the looks converge sooner", pace.State{Now: t0.Add(8*time.Minute + 30*s), Start: t0, Expected: 10 * time.Minute, Early: time.Minute, Last: 30 * s}, defaults, 20 * s},
		{"within Early they converge on the expected end", pace.State{Now: t0.Add(9*time.Minute + 30*s), Start: t0, Expected: 10 * time.Minute, Early: time.Minute, Last: 5 * s}, defaults, 20 * s},
		{"Early longer than the run converges on the expected end from the start", pace.State{Now: t0, Start: t0, Expected: time.Minute, Early: time.Hour}, defaults, 30 * s},
		{"a start in the future (clock skew) counts as now", pace.State{Now: t0, Start: t0.Add(time.Hour), Expected: 2 * time.Minute}, defaults, 30 * s},
		{"a cap below the poll interval is the poll interval", pace.State{Now: t0, Last: 5 * s}, pace.Limits{Min: 5 * s, Max: 2 * s}, 5 * s},
		{"a smaller cap bounds the sparse looks", tenMinutes(time.Minute), pace.Limits{Min: 5 * s, Max: 10 * s}, 10 * s},
		{"a zero poll interval waits the cap", tenMinutes(time.Minute), pace.Limits{Max: 10 * s}, 10 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pace.Next(tt.state, tt.limits)
			assert.Equal(t, tt.expect, got)
			assert.LessOrEqual(t, got, max(tt.limits.Max, tt.limits.Min), "never above the cap")
		})
	}
}

// follow runs the looks of a workflow that really ends after actual, on a pretend clock, and
// says how many looks it took and how late the last one saw the end.
func follow(expected, early, actual time.Duration, l pace.Limits) (looks int, late time.Duration) {
	elapsed, last := time.Duration(0), time.Duration(0)
	for elapsed < actual {
		last = pace.Next(pace.State{Now: t0.Add(elapsed), Start: t0, Expected: expected, Early: early, Last: last}, l)
		elapsed += last
		looks++
	}
	return looks, elapsed - actual
}

func TestHistoryMakesTheEndSeenSoonerForFewerLooks(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual time.Duration
		early            time.Duration
		maxLooks         int
		maxLate          time.Duration
	}{
		{"a 10-minute run ending on time", 10 * time.Minute, 10 * time.Minute, 0, 22, 5 * s},
		{"a 10-minute run ending 20s early", 10 * time.Minute, 9*time.Minute + 40*s, 0, 20, 10 * s},
		{"the same run with a minute of Early", 10 * time.Minute, 9*time.Minute + 40*s, time.Minute, 22, 11 * s},
		{"a 10-minute run ending 2 minutes late is seen within the cap", 10 * time.Minute, 12 * time.Minute, 0, 29, 30 * s},
		{"a 40-second run ending on time", 40 * s, 40 * s, 0, 3, 5 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			looks, late := follow(tt.expected, tt.early, tt.actual, defaults)
			assert.LessOrEqual(t, looks, tt.maxLooks)
			assert.LessOrEqual(t, late, tt.maxLate)
			looksBlind, _ := follow(0, 0, tt.actual, defaults)
			if tt.actual <= tt.expected && tt.early == 0 { // Early buys precision with looks
				assert.LessOrEqual(t, looks, looksBlind, "no more looks than backing off blindly")
			}
		})
	}
}

func TestBackoffIsTheOldSequence(t *testing.T) {
	var got []time.Duration
	last := time.Duration(0)
	for range 7 {
		last = pace.Backoff(last, false, defaults)
		got = append(got, last)
	}
	assert.Equal(t, []time.Duration{5 * s, 7500 * time.Millisecond, 11250 * time.Millisecond, 16875 * time.Millisecond, 25312500 * time.Microsecond, 30 * s, 30 * s}, got)
}
