package follow

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/watch"
)

// maxHeartbeat caps the heartbeat line: a fan-out of a hundred names the first few and counts
// the rest, so that the line stays a line.
const maxHeartbeat = 300

// heartbeatLine is e.g. "still waiting on 3 of 20: gh/acme/e2e #41 (workflow browser running
// 14m), gh/acme/api #7 (pending 1m), … and 1 more". Labels and details carry server text
// (workflow names); the renderer makes them safe to print.
func heartbeatLine(ws []Waiting, total int) string {
	head := fmt.Sprintf("still waiting on %d of %d", len(ws), total)
	if len(ws) == 0 {
		return head
	}
	var b strings.Builder
	b.WriteString(head + ": ")
	for i, w := range ws {
		part := w.Label
		if w.Detail != "" {
			part += " (" + w.Detail + ")"
		}
		if i > 0 {
			part = ", " + part
		}
		rest := len(ws) - i - 1
		more := ""
		if rest > 0 {
			more = fmt.Sprintf(", … and %d more", rest)
		}
		if i > 0 && b.Len()+len(part)+len(more) > maxHeartbeat {
			fmt.Fprintf(&b, ", … and %d more", len(ws)-i)
			break
		}
		b.WriteString(part)
	}
	return b.String()
}

// detail says what a followed pipeline is doing, as last seen: its workflows still running (or
// waiting for approval) and for how long, from their created_at; or that the pipeline is pending
// or shows no workflow yet (see watch.Lasted).
func detail(r *watch.Result, now time.Time) string {
	if r == nil || r.Pipeline == nil {
		return "not read yet"
	}
	switch r.Pipeline.State {
	case circleci.PipelinePending, circleci.PipelineSetupPending:
		return watch.StatusText(r.Pipeline.State) + " " + short(r.PipelineLasted(now))
	}
	var open []string
	for _, w := range r.Workflows {
		st := w.Workflow.Status
		switch st {
		case circleci.WorkflowSuccess, circleci.WorkflowFailed, circleci.WorkflowError,
			circleci.WorkflowCanceled, circleci.WorkflowUnauthorized, circleci.WorkflowNotRun:
			continue
		}
		open = append(open, fmt.Sprintf("workflow %s %s %s", w.Workflow.Name, watch.StatusText(st), short(r.WorkflowLasted(w.Workflow, now))))
	}
	switch {
	case len(open) > 2:
		return strings.Join(open[:2], ", ") + fmt.Sprintf(", %d more", len(open)-2)
	case len(open) > 0:
		return strings.Join(open, ", ")
	case len(r.Workflows) == 0:
		return "no workflow yet " + short(r.PipelineLasted(now))
	}
	return "between workflows"
}

// snapshot copies what detail reads of a tracker's result, so that the loop can read it while
// the tracker's next poll changes the original.
func snapshot(r *watch.Result) *watch.Result {
	c := *r
	if r.Pipeline != nil {
		p := *r.Pipeline
		c.Pipeline = &p
	}
	c.Workflows = slices.Clone(r.Workflows)
	return &c
}

// short is a duration in whole minutes (or seconds under a minute): 14m, 1h5m, 40s.
func short(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	}
	s := d.Truncate(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
