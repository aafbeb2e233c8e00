package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Approval jobs through the API: POST /workflow/{id}/approve/{approval_request_id}. A workflow
// scripted on_hold waits at its approval jobs; once every approval job on hold has been
// approved it runs again (status running) for Workflow.Approved.Duration and then ends with
// Workflow.Approved.Status. The jobs that require an approved job are blocked until then, run
// meanwhile, and end with the workflow.
//
// No capture of the approve endpoint's answers has been published (see
// ../shared/circleci-real-api/SOURCES.md); the answers follow the description's 202
// MessageResponse and the {"message": …} error bodies every other route has: 404 for a workflow
// the token cannot see or a request id that is no approval job of it, 400 for an approval job
// that is not on hold (already approved, or still blocked).

const opApproveJob = "approvePendingApprovalJobById"

// normalizeApproved checks and completes Workflow.Approved.
func normalizeApproved(w *Workflow, f string) error {
	if w.Approved == nil {
		return nil
	}
	a := *w.Approved
	if a.Status == "" {
		a.Status = "success"
	}
	if a.Status == "on_hold" || !slices.Contains(workflowFinalStatuses, a.Status) {
		return fmt.Errorf("%s.approved.status: %q is not a final workflow status; use success, failed, error, canceled, unauthorized or not_run", f, a.Status)
	}
	if a.Duration < 0 {
		return fmt.Errorf("%s.approved.duration: %s is negative", f, a.Duration)
	}
	w.Approved = &a
	return nil
}

// approved is the script's Approved, or its default.
func (w *workflow) approved() Approved {
	if w.cfg.Approved != nil {
		return *w.cfg.Approved
	}
	return Approved{Status: "success"}
}

// afterApproval is the workflow's status once approved; ok is false before.
func (w *workflow) afterApproval(now time.Time) (string, *time.Time, bool) {
	if w.approvedAt == nil {
		return "", nil, false
	}
	a := w.approved()
	end := w.approvedAt.Add(a.Duration.D())
	if now.Before(end) {
		return "running", nil, true
	}
	return a.Status, &end, true
}

// jobAfterApproval is an approved approval job's status, or that of a job requiring an approval
// job: blocked until approved, then running and ending with the workflow; ok is false for any
// other job, and for the jobs of a canceled workflow.
func (w *workflow) jobAfterApproval(j *job, now time.Time) (string, *time.Time, bool) {
	if j.approvedAt != nil {
		return "success", j.approvedAt, true
	}
	held, released := w.heldBy(j)
	if c := w.canceledAt; !held || c != nil && !now.Before(*c) {
		return "", nil, false
	}
	if w.approvedAt == nil || !released {
		return "blocked", nil, true
	}
	st, stopped, _ := w.afterApproval(now)
	if stopped == nil {
		return "running", nil, true
	}
	if st != "success" {
		st = "failed"
	}
	return st, stopped, true
}

// heldBy reports whether j requires an approval job of w, and whether that was approved.
func (w *workflow) heldBy(j *job) (held, released bool) {
	for _, dep := range j.deps {
		for _, a := range w.jobs {
			if a.id == dep && a.cfg.Type == "approval" {
				held, released = true, a.approvedAt != nil
			}
		}
	}
	return held, released
}

// approveJob serves POST /workflow/{id}/approve/{approval_request_id}.
func (s *Simulator) approveJob(w http.ResponseWriter, rt route, user *Token) {
	status, msg := s.approve(rt, user)
	writeMessage(w, status, msg)
}

func (s *Simulator) approve(rt route, user *Token) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	wf := s.visibleWorkflow(rt.id, user, now)
	if wf == nil {
		return http.StatusNotFound, "Workflow not found"
	}
	var target *job
	for _, j := range wf.jobs {
		if j.cfg.Type == "approval" && strings.EqualFold(j.id, rt.name) {
			target = j
		}
	}
	if target == nil {
		return http.StatusNotFound, "Approval request not found"
	}
	if st, _ := wf.jobAt(target, now); st != "on_hold" {
		return http.StatusBadRequest, "Job is not on hold (status " + st + ")"
	}
	at := now
	target.approvedAt, target.approvedBy = &at, user.ID
	for _, j := range wf.jobs {
		if st, _ := wf.jobAt(j, now); j.cfg.Type == "approval" && st == "on_hold" {
			return http.StatusAccepted, "Accepted." // another approval still holds the workflow
		}
	}
	wf.approvedAt = &at
	return http.StatusAccepted, "Accepted."
}
