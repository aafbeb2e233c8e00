package simulator

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault kinds.
const (
	// FaultStatus answers Status (with a {"message"} body) without processing the request.
	FaultStatus = "status"
	// FaultSlow waits Delay, then processes the request normally.
	FaultSlow = "slow"
	// FaultDrop closes the connection without an answer, before processing.
	FaultDrop = "drop"
	// FaultLost processes the request (a trigger really creates its pipeline), then closes
	// the connection without delivering the answer.
	FaultLost = "lost"
	// FaultProcessed processes the request (a trigger really creates its pipeline), then
	// answers Status instead, as a gateway that timed out on a server that went on working.
	FaultProcessed = "processed"
)

// Fault is a misbehaviour injected into the next matching requests. As JSON (POST /_sim/faults)
// and YAML it reads:
//
//	{"operation": "triggerPipeline", "kind": "status", "status": 429, "retry_after": 2, "times": 1}
//	{"operation": "*", "kind": "slow", "delay": "3s"}
//	{"operation": "getPipelineById", "kind": "drop", "times": 2}
//	{"operation": "triggerPipelineRun", "kind": "lost"}
type Fault struct {
	// Operation is the operationId to match (e.g. "getPipelineById"), or "*" for any request.
	Operation string `json:"operation" yaml:"operation"`
	// Kind is status, slow, drop, lost or processed. When empty it is status if Status is set, else slow
	// if Delay is set.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// Status is the HTTP status of a status fault (400-599).
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
	// Message is the {"message"} of a status fault (default: the status text, and
	// "Rate limit exceeded" for 429).
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
	// RetryAfter is the Retry-After header in seconds; a 429 gets 1 by default; -1 sends none.
	RetryAfter int `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// Delay is waited before the fault acts (the whole point of slow; allowed with any kind).
	// A client that gives up meanwhile is noticed and recorded with status 0.
	Delay Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	// Times is how many requests the fault hits (default 1; -1: every request, forever).
	Times int `json:"times,omitempty" yaml:"times,omitempty"`
}

var operations = []string{
	"triggerPipeline", "triggerPipelineRun", "getPipelineById", "listWorkflowsByPipelineId",
	"getWorkflowById", "listWorkflowJobs", "cancelWorkflow", "getCurrentUser",
	"listPipelinesForProject", "getProjectBySlug", opWorkflowSummary, opPipelineConfig, opAppPage,
	opApproveJob,
}

// normalized validates f and fills in its defaults. Errors start with the field name.
func (f Fault) normalized() (Fault, error) {
	if f.Operation == "" {
		return Fault{}, fmt.Errorf("operation: must be an operationId (%s) or \"*\"", strings.Join(operations, ", "))
	}
	if f.Operation != "*" && !slices.Contains(operations, f.Operation) {
		return Fault{}, fmt.Errorf("operation: %q is not an operation the simulator serves; use one of %s or \"*\"", f.Operation, strings.Join(operations, ", "))
	}
	if f.Kind == "" {
		switch {
		case f.Status != 0:
			f.Kind = FaultStatus
		case f.Delay > 0:
			f.Kind = FaultSlow
		default:
			return Fault{}, fmt.Errorf("kind: missing; use status (with status: 503), slow (with delay: 2s), drop, lost or processed (with status: 502)")
		}
	}
	switch f.Kind {
	case FaultStatus, FaultProcessed:
		if f.Status < 400 || f.Status > 599 {
			return Fault{}, fmt.Errorf("status: %d; a %s fault answers an error status between 400 and 599", f.Status, f.Kind)
		}
	case FaultSlow:
		if f.Delay <= 0 {
			return Fault{}, fmt.Errorf("delay: a slow fault needs a positive delay such as 2s")
		}
	case FaultDrop, FaultLost:
	default:
		return Fault{}, fmt.Errorf("kind: %q; use status, slow, drop, lost or processed", f.Kind)
	}
	if f.Kind != FaultStatus && f.Kind != FaultProcessed && f.Status != 0 {
		return Fault{}, fmt.Errorf("status: only a status fault answers a status (kind is %s)", f.Kind)
	}
	if f.Delay < 0 {
		return Fault{}, fmt.Errorf("delay: %s is negative", f.Delay)
	}
	if f.RetryAfter < -1 {
		return Fault{}, fmt.Errorf("retry_after: %d; use seconds, or -1 for no Retry-After header", f.RetryAfter)
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Times < -1 {
		return Fault{}, fmt.Errorf("times: %d; use a positive count, or -1 for every request", f.Times)
	}
	return f, nil
}

// takeFault returns the first pending fault matching op and uses it up once. Caller holds s.mu.
func (s *Simulator) takeFault(op string) (Fault, bool) {
	for i, f := range s.faults {
		if f.Operation != "*" && f.Operation != op {
			continue
		}
		if f.Times > 0 {
			s.faults[i].Times--
			if s.faults[i].Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// writeStatusFault answers a status fault.
func (s *Simulator) writeStatusFault(w http.ResponseWriter, f Fault) {
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
		if f.Status == http.StatusTooManyRequests {
			msg = "Rate limit exceeded"
		}
	}
	retry := f.RetryAfter
	if retry == 0 && f.Status == http.StatusTooManyRequests {
		retry = 1
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if f.Status == http.StatusTooManyRequests {
		limit := 100
		if s.cfg.RateLimit != nil {
			limit = s.cfg.RateLimit.Requests
		}
		setRateHeaders(w.Header(), limit, 0, time.Duration(max(retry, 1))*time.Second)
	}
	writeMessage(w, f.Status, msg)
}

// rateLimiter allows a number of requests per sliding window of the simulator's clock.
// Requests it refuses do not count.
type rateLimiter struct {
	limit  int
	window time.Duration
	times  []time.Time
}

// allow records a request at now when there is room; otherwise it says how long until there is.
// The remaining count and the time until the window frees a slot come back either way.
func (l *rateLimiter) allow(now time.Time) (ok bool, remaining int, reset time.Duration) {
	cut := now.Add(-l.window)
	keep := l.times[:0]
	for _, t := range l.times {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	l.times = keep
	if len(l.times) >= l.limit {
		return false, 0, l.times[0].Add(l.window).Sub(now)
	}
	l.times = append(l.times, now)
	return true, l.limit - len(l.times), l.times[0].Add(l.window).Sub(now)
}

// setRateHeaders writes the RateLimit-* and X-RateLimit-* headers CircleCI documents (API
// developer's guide, "Rate limits"): both resets in seconds until the window frees a slot.
func setRateHeaders(h http.Header, limit, remaining int, reset time.Duration) {
	secs := strconv.Itoa(int(math.Ceil(reset.Seconds())))
	for _, prefix := range []string{"", "X-"} {
		h.Set(prefix+"RateLimit-Limit", strconv.Itoa(limit))
		h.Set(prefix+"RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set(prefix+"RateLimit-Reset", secs)
	}
}
