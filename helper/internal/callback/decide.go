package callback

import (
	"fmt"
	"strings"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// Verdict is what to do about the referenced approval job.
type Verdict int

const (
	// Approve: the job is an approval job on hold; approve Decision.RequestID.
	Approve Verdict = iota
	// Approved: someone (or an earlier run of this callback) already approved it.
	Approved
	// NotYet: the approval job is there but not on hold yet (blocked or queued behind the
	// upstream trigger job, which may still be ending); look again shortly.
	NotYet
	// Over: the job can no longer be approved (canceled, not run, …): nothing to do.
	Over
)

// Decision is Choose's answer.
type Decision struct {
	Verdict   Verdict
	RequestID string // with Approve: the approval_request_id to post
	Status    string // the job's status, for messages
}

// RefusedError is a reference that names something the callback must not approve: the
// workflow of a project outside the allow-list, a job that is not an approval job, a name that
// is no job's. Nothing is approved; exit 2.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused, nothing approved: " + e.Reason }
func (e *RefusedError) ExitCode() int { return exitcode.Usage }

func refuse(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// CheckWorkflow refuses an upstream workflow the allow-list does not cover; the project is the
// API's answer, never the reference's word.
func CheckWorkflow(w *circleci.Workflow, allow AllowList) error {
	if !allow.Allows(w.ProjectSlug) {
		return refuse("workflow %s belongs to %s, which is not in --allowed-projects (%s)", w.ID, show(w.ProjectSlug), allow)
	}
	return nil
}

// CheckJob refuses a job name that --allowed-projects does not allow in the workflow's project.
// When only the project's wildcard entry allows it, that entry (gh/acme/deploy:*) is returned,
// for the approval to announce; "" otherwise.
func CheckJob(w *circleci.Workflow, job string, allow AllowList) (wildcard string, err error) {
	ok, wildcard := allow.Match(w.ProjectSlug, job)
	if !ok {
		return "", refuse("job %s of %s is not among the approval jobs --allowed-projects allows (%s)", show(job), show(w.ProjectSlug), allow)
	}
	return wildcard, nil
}

// WorkflowOver reports whether a workflow has ended for good, so no job of it can be approved:
// canceled, or finished in any other way (only running, failing and on_hold can still wait).
func WorkflowOver(status string) bool {
	switch status {
	case circleci.WorkflowRunning, circleci.WorkflowFailing, circleci.WorkflowOnHold:
		return false
	}
	return true
}

// Choose decides about the job named name among a workflow's jobs. It refuses (RefusedError)
// a name no job has, a name two jobs share, a job that is not of type approval, and an approval
// job on hold whose approval_request_id is not a UUID.
func Choose(jobs []circleci.Job, name string) (Decision, error) {
	var found []circleci.Job
	for _, j := range jobs {
		if j.Name == name {
			found = append(found, j)
		}
	}
	switch len(found) {
	case 0:
		return Decision{}, refuse("the upstream workflow has no job named %s", show(name))
	case 1:
	default:
		return Decision{}, refuse("the upstream workflow has %d jobs named %s; which one to approve is not clear", len(found), show(name))
	}
	j := found[0]
	if j.Type != "approval" {
		return Decision{}, refuse("job %s of the upstream workflow is of type %s, not an approval job", show(name), show(j.Type))
	}
	d := Decision{Status: j.Status}
	switch j.Status {
	case "on_hold":
		if !slug.IsUUID(j.ApprovalRequestID) {
			return Decision{}, refuse("approval job %s has no usable approval_request_id (%s)", show(name), show(j.ApprovalRequestID))
		}
		d.Verdict, d.RequestID = Approve, strings.ToLower(j.ApprovalRequestID)
	case "success":
		d.Verdict = Approved
	case "blocked", "queued", "not_running", "running":
		d.Verdict = NotYet
	default: // canceled, not_run, unauthorized, failed, …
		d.Verdict = Over
	}
	return d, nil
}
