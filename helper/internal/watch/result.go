package watch

import (
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// Outcome is how a watched pipeline ended, as far as the caller is concerned.
type Outcome string

// The outcomes.
const (
	Success     Outcome = "success"      // every workflow succeeded (not_run ones aside), or no workflow ran and that was allowed
	Failed      Outcome = "failed"       // a workflow failed, errored or was unauthorized (or held, with OnHoldFail)
	Errored     Outcome = "errored"      // the pipeline itself errored (e.g. its config did not compile); no workflow ran
	NoWorkflows Outcome = "no_workflows" // the pipeline ran no workflow, and that was not allowed
	TimedOut    Outcome = "timed_out"    // the context's deadline passed first
	Interrupted Outcome = "interrupted"  // the context was canceled first (e.g. SIGINT)
	// Canceled: a workflow was canceled and none failed, or the context was canceled with a
	// StopReason (e.g. --fail-fast), and the workflows with it.
	Canceled Outcome = "canceled"
	Started  Outcome = "started" // with Options.WaitStart: the pipeline's workflows started
)

// ExitCode is the process exit code for the outcome (see package exitcode): 0 for success and
// started; 1 for failed, errored and no_workflows (the pipeline did not succeed); 6 for
// canceled; 4 for timed_out; 130 for interrupted, as by SIGINT (the caller, which knows the
// signal, says 143 for SIGTERM). The empty outcome (the watch itself failed) is an internal
// error, but the error Watch returned with it carries the better code.
func (o Outcome) ExitCode() int {
	switch o {
	case Success, Started:
		return exitcode.OK
	case Failed, Errored, NoWorkflows:
		return exitcode.Failed
	case Canceled:
		return exitcode.Canceled
	case TimedOut:
		return exitcode.Timeout
	case Interrupted:
		return exitcode.Interrupted
	}
	return exitcode.Internal
}

// Result is what Watch found. It is filled in as the watch goes, so it is meaningful (partial)
// when the watch timed out, was interrupted, or gave up on API errors.
type Result struct {
	PipelineID string
	Pipeline   *circleci.Pipeline // as last read; nil when it could never be read
	// Workflows holds the latest attempt of each workflow name, ordered by when the name first
	// appeared, so an automatic rerun keeps its place.
	Workflows []WorkflowResult
	Outcome   Outcome  // "" only when Watch returned an error
	Reason    string   // one line, e.g. "workflow deploy failed (job rollout failed)"
	Canceled  []string // IDs of the workflows baton canceled
	// Requests counts calls to the API: one per poll once the workflows are known, plus the
	// job lists and cancels. A list spread over several pages, and the client's own retries,
	// are more HTTP requests than calls; count those on the HTTP transport.
	Requests          int
	Started, Finished time.Time // when the watch started and ended
}

// WorkflowResult is the latest attempt of one workflow.
type WorkflowResult struct {
	Workflow circleci.Workflow
	// Jobs are the workflow's jobs, listed once it reached its current status: for failed,
	// errored, canceled, unauthorized and on-hold workflows, and with Options.AllJobs for the
	// other terminal ones too; nil when not listed.
	Jobs     []circleci.Job
	Attempts int // how many workflows of this name the pipeline has: 1 + reruns
}

// Event kinds.
const (
	EventPipeline = "pipeline" // the pipeline is pending, or was created after it had been pending
	EventWorkflow = "workflow" // a workflow appeared or changed status
	EventApproval = "approval" // a workflow went on hold for an approval job (once per workflow; no workflow event for it)
	EventCanceled = "canceled" // baton could not cancel a workflow (those it canceled, the reason names)
	EventError    = "error"    // a poll failed; the watch goes on until the error budget is spent
)

// Event is one change seen by the watch, for the caller to render. Message is a complete line
// for people, e.g. "workflow deploy failed (job rollout failed)".
type Event struct {
	Time time.Time
	// Elapsed is how long what the event is about has lasted: a workflow that ended, from its
	// created_at to its stopped_at; anything else, the pipeline so far (see Lasted).
	Elapsed    time.Duration
	Since      time.Time // when the pipeline started (its created_at, else when the watch did)
	PipelineID string
	Kind       string             // one of the Event* constants
	Pipeline   *circleci.Pipeline // the pipeline as last read
	Workflow   *circleci.Workflow // for workflow, approval and canceled events
	FailedJobs []circleci.Job     // for a workflow that failed: its failed jobs; for an approval: the jobs on hold
	Err        error              // for error events (and a cancel that failed)
	Message    string
}
