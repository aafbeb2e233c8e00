package watch

import (
	"fmt"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// SkewAllowance is how far the API's clock may run ahead of baton's, or a workflow's times
// before its pipeline's created_at, before a time counts as impossible. CircleCI's clocks and a
// CI machine's are kept by NTP; minutes of difference already mean something is wrong.
const SkewAllowance = 5 * time.Minute

// implausible says why t cannot be a real time of the pipeline, or "": later than now (beyond
// SkewAllowance), as a stopped_at of 9999-12-31 is; or before floor, the pipeline's created_at
// (beyond SkewAllowance), when floor is known.
func implausible(t, now, floor time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.After(now.Add(SkewAllowance)):
		return "is later than now"
	case !floor.IsZero() && t.Before(floor.Add(-SkewAllowance)):
		return "is before the pipeline was created"
	}
	return ""
}

// The checks below read the times the API cannot mean as missing, in what the tracker keeps, so
// that no printer shows a duration of 292 years. Each time set aside is said once in --debug
// output.

// checkPipeline sets aside a created_at or updated_at later than now.
func (w *Tracker) checkPipeline(p *circleci.Pipeline) {
	now := w.o.Now()
	what := fmt.Sprintf("pipeline #%d", p.Number)
	if why := implausible(p.CreatedAt, now, time.Time{}); why != "" {
		w.setAside(what, "created_at", p.CreatedAt, why, "when baton started watching")
		p.CreatedAt = time.Time{}
	}
	if why := implausible(p.UpdatedAt, now, p.CreatedAt); why != "" {
		w.setAside(what, "updated_at", p.UpdatedAt, why, "missing")
		p.UpdatedAt = time.Time{}
	}
}

// checkWorkflows sets aside workflow times later than now or before the pipeline was created:
// a created_at counts as the pipeline's, a stopped_at as missing (the workflow is timed to now).
func (w *Tracker) checkWorkflows(ws []circleci.Workflow) {
	now, floor := w.o.Now(), w.pipelineCreated()
	for i := range ws {
		wf := &ws[i]
		what := "workflow " + wf.Name
		if why := implausible(wf.CreatedAt, now, floor); why != "" {
			w.setAside(what, "created_at", wf.CreatedAt, why, "the pipeline's created_at")
			wf.CreatedAt = floor
		}
		if wf.StoppedAt != nil {
			if why := implausible(*wf.StoppedAt, now, floor); why != "" {
				w.setAside(what, "stopped_at", *wf.StoppedAt, why, "missing")
				wf.StoppedAt = nil
			}
		}
	}
}

// checkJobs does the same for jobs' started_at and stopped_at.
func (w *Tracker) checkJobs(js []circleci.Job) {
	now, floor := w.o.Now(), w.pipelineCreated()
	for i := range js {
		j := &js[i]
		for _, f := range []struct {
			name string
			t    **time.Time
		}{{"started_at", &j.StartedAt}, {"stopped_at", &j.StoppedAt}} {
			if *f.t == nil {
				continue
			}
			if why := implausible(**f.t, now, floor); why != "" {
				w.setAside("job "+j.Name, f.name, **f.t, why, "missing")
				*f.t = nil
			}
		}
	}
}

func (w *Tracker) pipelineCreated() time.Time {
	if p := w.res.Pipeline; p != nil {
		return p.CreatedAt
	}
	return time.Time{}
}

// setAside says once in --debug output that a time was set aside, and what it counts as.
func (w *Tracker) setAside(what, field string, t time.Time, why, readAs string) {
	note := fmt.Sprintf("* %s: %s %s %s (allowing %s of clock skew); read as %s",
		what, field, t.Format(time.RFC3339), why, Human(SkewAllowance), readAs)
	if w.noted == nil {
		w.noted = map[string]bool{}
	}
	if !w.noted[note] {
		w.noted[note] = true
		w.o.Debugf("%s", note)
	}
}
