package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/baton-ci/baton/helper/internal/follow"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/safetext"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// renderer shows people what baton does while it waits: lines on change in CI and pipes, rows
// redrawn in place on a terminal. Its methods may be called from several goroutines.
type renderer interface {
	triggered(ref pipelineRef, recovered bool)
	event(ref pipelineRef, ev follow.Event)
	ended(ref pipelineRef, res *watch.Result, err error)
	live() bool // whether it redraws (and wants a beat every second for its clocks)
	close()     // leaves the view as it is, for what is printed after it
}

// newRenderer picks the live view when w is a terminal people watch, else lines.
func newRenderer(d *Deps, w io.Writer) renderer {
	if d.Terminal != nil && d.Terminal() && !inCI(d) {
		cols, _ := d.LookupEnv("COLUMNS")
		width, _ := strconv.Atoi(cols)
		return newLiveView(w, width)
	}
	return &lines{w: w}
}

// inCI reports whether baton runs in CI (CircleCI sets CI=true; CI=false or 0 says not), or on
// a terminal that cannot move its cursor: there a redrawn view would be a mess of escape codes
// in the log.
func inCI(d *Deps) bool {
	ci, _ := d.LookupEnv("CI")
	term, _ := d.LookupEnv("TERM")
	return ci != "" && ci != "false" && ci != "0" || term == "dumb"
}

// terminalText makes text that carries server-supplied strings safe to print on a terminal
// (see safetext.Terminal). Every line of progress goes through it.
func terminalText(s string) string { return safetext.Terminal(s) }

// lines writes one line per change, one at a time.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

func (l *lines) live() bool { return false }
func (l *lines) close()     {}

func (l *lines) triggered(ref pipelineRef, recovered bool) {
	l.line(triggeredLine(ref, recovered))
}

// triggeredLine is report.TriggeredLine, the same line a trigger that does not wait prints.
func triggeredLine(ref pipelineRef, recovered bool) string {
	line := terminalText(ref.created)
	if recovered {
		line += " (its answer was lost; found by looking it up, not sent twice)"
	}
	return line
}

// event renders one change: what changed, since when (from the pipeline's created_at), and where
// to look; a failed workflow's failed jobs each on a line of their own with their links.
func (l *lines) event(ref pipelineRef, ev follow.Event) {
	if ev.Kind == follow.EventHeartbeat {
		l.line(terminalText(ev.Message))
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %s (%s)", terminalText(ref.label), terminalText(ev.Message), watch.Human(ev.Elapsed))
	if ev.Workflow != nil {
		if u := report.WorkflowURL(ref.url, ev.Workflow.ID); u != "" {
			sb.WriteString(" " + terminalText(u))
		}
		for _, j := range ev.FailedJobs {
			fmt.Fprintf(&sb, "\n    job %s %s", terminalText(j.Name), watch.StatusText(terminalText(j.Status)))
			if j.JobNumber != nil {
				sb.WriteString(" " + terminalText(report.JobURL(ref.url, ev.Workflow.ID, *j.JobNumber)))
			}
		}
	}
	l.line(sb.String())
}

func (l *lines) ended(ref pipelineRef, res *watch.Result, err error) {
	if res == nil {
		return // the error is the command's, said once at the end
	}
	l.line(terminalText(endLine(ref.label, res, false)))
}

// endLine is how one followed pipeline ended, e.g. "gh/acme/e2e #41: failed after 6m14s".
// withReason: also a failure's reason, which the lines before it already told.
func endLine(label string, res *watch.Result, withReason bool) string {
	d := watch.Human(res.Duration())
	switch res.Outcome {
	case watch.Success:
		if strings.HasSuffix(res.Reason, "succeeded") { // "all 3 workflows succeeded": nothing to add
			return fmt.Sprintf("%s: succeeded after %s", label, d)
		}
		return fmt.Sprintf("%s: succeeded after %s: %s", label, d, res.Reason)
	case watch.Failed:
		if withReason {
			return fmt.Sprintf("%s: failed after %s: %s", label, d, res.Reason)
		}
		return fmt.Sprintf("%s: failed after %s", label, d)
	case watch.Started:
		return fmt.Sprintf("%s: %s after %s", label, res.Reason, d)
	}
	return label + ": " + res.Reason
}
