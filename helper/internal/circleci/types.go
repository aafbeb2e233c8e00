package circleci

import "time"

// The types below follow the response schemas of CircleCI's OpenAPI description of API v2; the
// JSON names are the description's (spec_test.go holds them to it). Timestamps that are null
// while something runs are pointers; nullable strings decode to "". A timestamp that cannot be
// read counts as missing (times.go).

// Pipeline states (Pipeline.State, PipelineCreation.State).
const (
	PipelineCreated      = "created"
	PipelineErrored      = "errored"
	PipelineSetupPending = "setup-pending"
	PipelineSetup        = "setup"
	PipelinePending      = "pending"
)

// Workflow statuses (Workflow.Status).
const (
	WorkflowSuccess      = "success"
	WorkflowRunning      = "running"
	WorkflowNotRun       = "not_run"
	WorkflowFailed       = "failed"
	WorkflowError        = "error"
	WorkflowFailing      = "failing"
	WorkflowOnHold       = "on_hold"
	WorkflowCanceled     = "canceled"
	WorkflowUnauthorized = "unauthorized"
)

// WorkflowTagSetup is Workflow.Tag of a dynamic-config setup workflow.
const WorkflowTagSetup = "setup"

// PipelineCreation is the answer to a trigger: schema PipelineCreation (POST
// /project/{project-slug}/pipeline, 201) and pipeline (POST …/pipeline/run, 201).
type PipelineCreation struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Number    int64     `json:"number"`
	CreatedAt time.Time `json:"created_at"`

	unread unreadTimes // timestamps that could not be read (times.go)
}

// RunResult is the answer to RunPipeline: a created pipeline (201), or (200) a message saying why
// none was created, e.g. the commit asked CI to skip it.
type RunResult struct {
	Created *PipelineCreation // nil when no pipeline was created
	Message string            // the 200 answer's message; "" when a pipeline was created
}

// Pipeline is GET /pipeline/{pipeline-id} and an item of GET /project/{project-slug}/pipeline.
type Pipeline struct {
	ID                string          `json:"id"`
	Errors            []PipelineError `json:"errors"`
	ProjectSlug       string          `json:"project_slug"`
	UpdatedAt         time.Time       `json:"updated_at"`
	Number            int64           `json:"number"`
	TriggerParameters map[string]any  `json:"trigger_parameters,omitempty"`
	State             string          `json:"state"`
	CreatedAt         time.Time       `json:"created_at"`
	Trigger           PipelineTrigger `json:"trigger"`
	VCS               *PipelineVCS    `json:"vcs,omitempty"`

	unread unreadTimes
}

// PipelineError is one entry of Pipeline.Errors, e.g. {config, "Unexpected argument(s): foo"}.
type PipelineError struct {
	Type    string `json:"type"` // config, invalid-trigger-setup, config-fetch, timeout, permission, other, trigger-rule, plan
	Message string `json:"message"`
}

// PipelineTrigger says what started a pipeline.
type PipelineTrigger struct {
	Type       string    `json:"type"` // scheduled_pipeline, explicit, api, webhook
	ReceivedAt time.Time `json:"received_at"`
	Actor      Actor     `json:"actor"`

	unread unreadTimes
}

// Actor is the user who triggered a pipeline.
type Actor struct {
	Login     string `json:"login"`
	AvatarURL string `json:"avatar_url"`
}

// PipelineVCS is the version-control information of a pipeline.
type PipelineVCS struct {
	ProviderName        string     `json:"provider_name"`
	TargetRepositoryURL string     `json:"target_repository_url"`
	Branch              string     `json:"branch,omitempty"`
	ReviewID            string     `json:"review_id,omitempty"`
	ReviewURL           string     `json:"review_url,omitempty"`
	Revision            string     `json:"revision"`
	Tag                 string     `json:"tag,omitempty"`
	Commit              *VCSCommit `json:"commit,omitempty"`
	OriginRepositoryURL string     `json:"origin_repository_url"`
}

// VCSCommit is the commit a pipeline ran on.
type VCSCommit struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// PipelinePage is one page of GET /project/{project-slug}/pipeline.
type PipelinePage struct {
	Items         []Pipeline `json:"items"`
	NextPageToken string     `json:"next_page_token"` // "" on the last page
}

// Workflow is GET /workflow/{id} and an item of GET /pipeline/{pipeline-id}/workflow.
type Workflow struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	Tag             string     `json:"tag,omitempty"` // WorkflowTagSetup for a setup workflow, else ""
	PipelineID      string     `json:"pipeline_id"`
	PipelineNumber  int64      `json:"pipeline_number"`
	ProjectSlug     string     `json:"project_slug"`
	StartedBy       string     `json:"started_by"`
	CanceledBy      string     `json:"canceled_by,omitempty"`
	ErroredBy       string     `json:"errored_by,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	StoppedAt       *time.Time `json:"stopped_at"`                  // nil while running
	AutoRerunNumber int64      `json:"auto_rerun_number,omitempty"` // > 0 for an automatic rerun
	MaxAutoReruns   int64      `json:"max_auto_reruns,omitempty"`

	unread unreadTimes
}

// Job is an item of GET /workflow/{id}/job.
type Job struct {
	ID                string              `json:"id"`
	Name              string              `json:"name"`
	Status            string              `json:"status"`
	Type              string              `json:"type"`                 // build or approval
	JobNumber         *int64              `json:"job_number,omitempty"` // nil for approval jobs and jobs not started
	ProjectSlug       string              `json:"project_slug"`
	StartedAt         *time.Time          `json:"started_at"`
	StoppedAt         *time.Time          `json:"stopped_at,omitempty"`
	Dependencies      []string            `json:"dependencies"`
	Requires          map[string][]string `json:"requires,omitempty"`
	ApprovedBy        string              `json:"approved_by,omitempty"`
	ApprovalRequestID string              `json:"approval_request_id,omitempty"`
	CanceledBy        string              `json:"canceled_by,omitempty"`

	unread unreadTimes
}

// User is GET /me: the user whose token this is.
type User struct {
	ID        string `json:"id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url"`
}
