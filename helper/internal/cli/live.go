package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// liveView is the terminal's view: one row per pipeline, redrawn in place with ANSI cursor
// movement (up, erase line) whenever something changes and on each heartbeat, so its clocks
// tick. No TUI library: a few escape codes do it, and anything not a terminal gets lines.
// Rows are cut to the terminal's width, since a wrapped row would throw the redraw off.
type liveView struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	rows  []*liveRow
	byKey map[int]*liveRow
	drawn int       // lines drawn last time, to move back up over
	now   time.Time // the latest time an event carried
	after []string  // lines for under the view once it is closed: failed jobs' links
}

type liveRow struct {
	label, url string
	status     string    // what it is doing, or how it ended
	since      time.Time // the pipeline's created_at; zero until known
	done       bool
}

func newLiveView(w io.Writer, width int) *liveView {
	if width <= 0 {
		width = 100
	}
	return &liveView{w: w, width: width, byKey: map[int]*liveRow{}}
}

func (v *liveView) live() bool { return true }

func (v *liveView) row(ref pipelineRef) *liveRow {
	r := v.byKey[ref.key]
	if r == nil {
		r = &liveRow{label: ref.label, url: ref.url, status: "triggered"}
		v.byKey[ref.key] = r
		v.rows = append(v.rows, r)
	}
	return r
}

func (v *liveView) triggered(ref pipelineRef, recovered bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.row(ref)
	if recovered {
		r.status = "triggered (its answer was lost; found by looking it up, not sent twice)"
	}
	v.draw()
}

func (v *liveView) event(ref pipelineRef, ev follow.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ev.Time.After(v.now) {
		v.now = ev.Time
	}
	if ev.Kind != follow.EventHeartbeat {
		r := v.row(ref)
		r.status = ev.Message
		r.since = ev.Since
		if ev.Workflow != nil {
			for _, j := range ev.FailedJobs {
				line := fmt.Sprintf("%s: workflow %s: job %s %s", ref.label, ev.Workflow.Name, j.Name, watch.StatusText(j.Status))
				if j.JobNumber != nil {
					line += " " + report.JobURL(ref.url, ev.Workflow.ID, *j.JobNumber)
				}
				v.after = append(v.after, line)
			}
		}
	}
	v.draw()
}

func (v *liveView) ended(ref pipelineRef, res *watch.Result, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.row(ref)
	r.done = true
	if res != nil {
		r.status = strings.TrimPrefix(endLine(ref.label, res, true), ref.label+": ")
	} else {
		r.status = "stopped following: " + err.Error()
	}
	v.draw()
}

func (v *liveView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	var b strings.Builder
	for _, l := range v.after { // below the rows, drawn once: whole, links and all
		b.WriteString(terminalText(l) + "\n")
	}
	io.WriteString(v.w, b.String())
	v.after = nil
}

// draw moves up over the rows drawn last time and draws them all again, each line erased first.
func (v *liveView) draw() {
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	for _, r := range v.rows {
		clock := ""
		if !r.done && !r.since.IsZero() && !v.now.IsZero() {
			clock = watch.Human(watch.Lasted(r.since, nil, v.now, time.Time{}, time.Time{}).Truncate(time.Second))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", terminalText(r.label), clock, terminalText(r.status))
	}
	tw.Flush()
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	n := 0
	for line := range strings.Lines(table.String()) {
		b.WriteString("\r\x1b[2K" + v.cut(strings.TrimRight(line, "\n")) + "\n")
		n++
	}
	v.drawn = n
	io.WriteString(v.w, b.String())
}

// cut shortens a line to the width, so that it never wraps.
func (v *liveView) cut(s string) string {
	if utf8.RuneCountInString(s) < v.width {
		return s
	}
	r := []rune(s)
	return string(r[:v.width-2]) + "…"
}
