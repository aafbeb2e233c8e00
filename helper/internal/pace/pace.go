// Package pace decides when to look at a running pipeline again. It is pure: the follower gives
// it what it knows (when the workflow started, how long it usually takes, the clock, the last
// wait, whether the last look saw a change) and gets the next wait back.
//
// Without history it backs off as baton always did: the poll interval after a change, ×1.5 per
// look that saw none, up to the cap. With history (CircleCI's insights, see
// circleci.Client.WorkflowDuration) the wait follows the expected end instead, changes or not:
// the cap while the end is far, two thirds of the time left as it nears (so the last 45 seconds
// cost four looks), and once the run is later than usual the same ×1.5 back-off, starting from
// the poll interval at the expected end. A 10-minute workflow that ends on time then costs 22
// looks and its end is seen within a poll interval, where backing off blindly sees it anywhere
// up to 30s late.
package pace

import "time"

// Factor multiplies the wait after each look that saw no change, when there is no history.
const Factor = 1.5

// Limits bound every wait.
type Limits struct {
	Min time.Duration // the poll interval: the wait after a change, and around the expected end
	Max time.Duration // the cap of every wait (--max-interval); below Min it counts as Min
}

// State is what the follower knows when it schedules its next look.
type State struct {
	Now     time.Time
	Last    time.Duration // the previous wait; 0 before the first
	Changed bool          // the last look saw something change
	// Start is when the workflow expected to end last was created (its created_at).
	Start time.Time
	// Expected is how long that workflow usually runs; 0 when there is no history.
	Expected time.Duration
	// Early is how much sooner than Expected it may well end (e.g. the median minus the fastest
	// run): the looks converge on that moment first, then on Expected. Each second of it costs
	// looks; 0 is fine.
	Early time.Duration
}

// Next is the wait before the next look, always within l.
func Next(s State, l Limits) time.Duration {
	lo, hi := l.Min, max(l.Max, l.Min)
	if lo <= 0 {
		return max(hi, 0)
	}
	if s.Expected <= 0 {
		return Backoff(s.Last, s.Changed, l)
	}
	// A change does not move the expected end, so it does not bring a quick look: that would
	// cost a request per change and see the end no sooner.
	elapsed := max(s.Now.Sub(s.Start), 0)
	early := max(s.Expected-max(s.Early, 0), 0)
	switch {
	case elapsed < early:
		// Waiting two thirds of the time left makes the looks converge on the expected end: with
		// a 30s cap and a 5s poll interval the last 45s cost four looks, the time before one per
		// 30s. (Halving cost a look more and, measured, saw the end no sooner.)
		return clamp(approach(early-elapsed), lo, hi)
	case elapsed < s.Expected:
		return clamp(approach(s.Expected-elapsed), lo, hi)
	default:
		// Later than usual, by how much nobody knows: back off as without history, from the
		// poll interval at the expected end (Min·Factor^k once k looks came after it, so the
		// wait is Min plus half the delay so far, whatever the last wait was).
		return clamp(lo+(elapsed-s.Expected)/2, lo, hi)
	}
}

// Backoff is the wait without history: Min after a change (or before the first look), else the
// last wait ×Factor, within the limits.
func Backoff(last time.Duration, changed bool, l Limits) time.Duration {
	lo, hi := l.Min, max(l.Max, l.Min)
	switch {
	case changed || last <= 0:
		return max(lo, 0)
	case last >= hi:
		return hi // also keeps the product below from overflowing
	}
	return clamp(time.Duration(float64(last)*Factor), lo, hi)
}

func approach(left time.Duration) time.Duration { return left / 3 * 2 }

func clamp(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }
