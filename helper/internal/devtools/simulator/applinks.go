package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// appPage answers the app's links, /pipelines/{provider}/{org}/{repo}/{number} and
// .../{number}/workflows/{workflow-id}, with a short text page, so a link a client prints leads
// somewhere when the simulator stands in for circleci.com. Like a browser, it needs no token.
func (s *Simulator) appPage(w http.ResponseWriter, rt route) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	slug, okSlug := canonicalSlug(rt.slug)
	number, err := strconv.ParseInt(rt.number, 10, 64)
	var text string
	s.mu.Lock()
	now := s.now()
	var p *pipeline
	for _, c := range s.pipelines {
		if okSlug && err == nil && c.proj.cfg.Slug == slug && c.number == number {
			p = c
		}
	}
	if p != nil {
		s.advance(p, now)
		text = describePipeline(p, rt.workflowID, now)
	}
	s.mu.Unlock()
	if text == "" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "CircleCI simulator: no pipeline %s of %s\n", rt.number, rt.slug)
		return
	}
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, text)
}

// describePipeline renders the text page; with workflowID, that workflow and its jobs.
// It returns "" when workflowID names no workflow of p. Caller holds s.mu.
func describePipeline(p *pipeline, workflowID string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CircleCI simulator: pipeline %d of %s\n", p.number, p.proj.cfg.Slug)
	fmt.Fprintf(&b, "id:      %s\n", p.id)
	fmt.Fprintf(&b, "state:   %s\n", p.state(now))
	if p.tag != "" {
		fmt.Fprintf(&b, "tag:     %s\n", p.tag)
	} else {
		fmt.Fprintf(&b, "branch:  %s\n", p.branch)
	}
	fmt.Fprintf(&b, "created: %s\n", timestamp(p.createdAt))
	for _, e := range p.errors {
		fmt.Fprintf(&b, "error:   %s: %s\n", e.Type, e.Message)
	}
	if workflowID != "" {
		for _, w := range p.workflows {
			if w.id != strings.ToLower(workflowID) {
				continue
			}
			st, _ := w.statusAt(now)
			fmt.Fprintf(&b, "workflow %s (%s): %s\n", w.cfg.Name, w.id, st)
			for _, j := range w.jobs {
				js, _ := w.jobAt(j, now)
				fmt.Fprintf(&b, "  job %s: %s\n", j.cfg.Name, js)
			}
			return b.String()
		}
		return ""
	}
	if len(p.workflows) == 0 {
		b.WriteString("workflows: none\n")
	} else {
		b.WriteString("workflows:\n")
	}
	for _, w := range p.workflows {
		st, _ := w.statusAt(now)
		fmt.Fprintf(&b, "  %s (%s): %s\n", w.cfg.Name, w.id, st)
	}
	return b.String()
}
