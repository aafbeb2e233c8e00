package circleci

import (
	"encoding/json"
	"strconv"
	"time"
)

// The answers' timestamps are read leniently: one that cannot be read ("stopped_at":
// "yesterday", a number, an object) counts as missing rather than failing the whole answer,
// which would end a wait after a few polls over a field baton only uses for durations. What was
// set aside is kept (unread) for the --debug trace. A body that is not JSON at all is still an
// error.

// lenientTime is a timestamp as RFC 3339 text; null, absent, "" or unreadable leave it zero.
type lenientTime struct {
	t   time.Time
	bad string // the unreadable value as sent; "" when read or missing
}

func (l *lenientTime) UnmarshalJSON(b []byte) error {
	var t time.Time
	if err := t.UnmarshalJSON(b); err == nil { // null leaves t zero
		l.t = t
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil && s == "" {
		return nil
	}
	l.bad = string(b)
	return nil
}

// ptr is the time for a nullable field: nil when missing.
func (l lenientTime) ptr() *time.Time {
	if l.t.IsZero() {
		return nil
	}
	t := l.t
	return &t
}

// unreadTimes collects the fields set aside while decoding one value.
type unreadTimes []string

func (u *unreadTimes) note(field string, l lenientTime) {
	if l.bad != "" {
		*u = append(*u, field+" "+l.bad)
	}
}

// unreadable is implemented by the answers with timestamps: what was set aside, each as
// `workflow build: stopped_at "yesterday"`.
type unreadable interface{ unreadTimes() []string }

func named(kind, name string, fields unreadTimes) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = kind + " " + strconv.Quote(name) + ": " + f
	}
	return out
}

func (p *PipelineCreation) UnmarshalJSON(b []byte) error {
	type plain PipelineCreation
	aux := struct {
		*plain
		CreatedAt lenientTime `json:"created_at"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	p.CreatedAt = aux.CreatedAt.t
	p.unread = nil
	p.unread.note("created_at", aux.CreatedAt)
	return nil
}

func (p *PipelineCreation) unreadTimes() []string {
	return named("pipeline", strconv.FormatInt(p.Number, 10), p.unread)
}

func (p *Pipeline) UnmarshalJSON(b []byte) error {
	type plain Pipeline
	aux := struct {
		*plain
		CreatedAt lenientTime `json:"created_at"`
		UpdatedAt lenientTime `json:"updated_at"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = aux.CreatedAt.t, aux.UpdatedAt.t
	p.unread = nil
	p.unread.note("created_at", aux.CreatedAt)
	p.unread.note("updated_at", aux.UpdatedAt)
	p.unread = append(p.unread, p.Trigger.unread...)
	return nil
}

func (p *Pipeline) unreadTimes() []string {
	return named("pipeline", strconv.FormatInt(p.Number, 10), p.unread)
}

func (t *PipelineTrigger) UnmarshalJSON(b []byte) error {
	type plain PipelineTrigger
	aux := struct {
		*plain
		ReceivedAt lenientTime `json:"received_at"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	t.ReceivedAt = aux.ReceivedAt.t
	t.unread = nil
	t.unread.note("trigger.received_at", aux.ReceivedAt)
	return nil
}

func (w *Workflow) UnmarshalJSON(b []byte) error {
	type plain Workflow
	aux := struct {
		*plain
		CreatedAt lenientTime `json:"created_at"`
		StoppedAt lenientTime `json:"stopped_at"`
	}{plain: (*plain)(w)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	w.CreatedAt, w.StoppedAt = aux.CreatedAt.t, aux.StoppedAt.ptr()
	w.unread = nil
	w.unread.note("created_at", aux.CreatedAt)
	w.unread.note("stopped_at", aux.StoppedAt)
	return nil
}

func (w *Workflow) unreadTimes() []string { return named("workflow", w.Name, w.unread) }

func (j *Job) UnmarshalJSON(b []byte) error {
	type plain Job
	aux := struct {
		*plain
		StartedAt lenientTime `json:"started_at"`
		StoppedAt lenientTime `json:"stopped_at"`
	}{plain: (*plain)(j)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	j.StartedAt, j.StoppedAt = aux.StartedAt.ptr(), aux.StoppedAt.ptr()
	j.unread = nil
	j.unread.note("started_at", aux.StartedAt)
	j.unread.note("stopped_at", aux.StoppedAt)
	return nil
}

func (j *Job) unreadTimes() []string { return named("job", j.Name, j.unread) }

// noteUnread says in the --debug trace which timestamps of an answer to route were set aside.
func (c *Client) noteUnread(route string, v any) {
	if c.trace == nil {
		return
	}
	u, ok := v.(unreadable)
	if !ok {
		return
	}
	for _, f := range u.unreadTimes() {
		// redacted whole before it is cut, so that no piece of the token survives the cut
		c.Debugf("* %s: %s is not a time; read as missing", route, oneLine(c.red.String(f), 200))
	}
}
