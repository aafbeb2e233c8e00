package circleci

import (
	"net/http"
	"sync"
	"time"
)

// serverClock estimates how far the API server's clock is from this machine's, from the Date
// headers of its answers, so that "created after this request was sent" can be judged on the
// clock that stamps created_at and received_at rather than by a guessed window.
//
// A Date is the server's time when it answered, cut to the whole second; the answer was made
// after the request left (sent) and before the answer arrived (got), both read on this
// machine's clock. So each answer bounds the offset (server − local) to
// [Date − got, Date + 1s − sent]. The bounds of all answers are intersected, which narrows them
// as answers arrive; an answer that contradicts them (a clock stepped meanwhile) starts the
// estimate afresh from itself.
type serverClock struct {
	mu     sync.Mutex
	lo, hi time.Duration
	known  bool
}

// observe adds one answer's Date header; an absent or unreadable one changes nothing.
func (s *serverClock) observe(sent, got time.Time, date string) {
	if date == "" || got.Before(sent) {
		return
	}
	d, err := http.ParseTime(date)
	if err != nil {
		return
	}
	lo, hi := d.Sub(got), d.Add(time.Second).Sub(sent)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known && lo <= s.hi && hi >= s.lo {
		s.lo, s.hi = max(s.lo, lo), min(s.hi, hi)
		return
	}
	s.lo, s.hi, s.known = lo, hi, true
}

// offset returns the bounds, and false when no answer has carried a usable Date yet.
func (s *serverClock) offset() (lo, hi time.Duration, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lo, s.hi, s.known
}

// ServerClockOffset returns bounds of how far the API server's clock is ahead of this
// machine's (negative: behind), learned from the Date headers of every answer so far: the
// server's time at a local time t lies within [t+lo, t+hi]. ok is false until an answer has
// carried a Date. Local time is Config.Now's.
func (c *Client) ServerClockOffset() (lo, hi time.Duration, ok bool) {
	return c.clock.offset()
}
