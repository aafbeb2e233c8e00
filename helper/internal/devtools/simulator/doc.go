// Package simulator is a faithful stand-in for the parts of CircleCI API v2 that baton uses,
// for tests and demos where the network is loopback only.
//
// It serves, under /api/v2 and named by the OpenAPI operationIds: triggerPipeline (POST
// /project/{project-slug}/pipeline, slug escaped or not), triggerPipelineRun (POST
// /project/{provider}/{organization}/{project}/pipeline/run), getPipelineById,
// getPipelineConfigById (the config written from the project's declared parameters),
// listWorkflowsByPipelineId, getWorkflowById, listWorkflowJobs, cancelWorkflow, getCurrentUser,
// listPipelinesForProject and getWorkflowSummary (insights, from the simulator's own history of
// workflows), continuePipeline (POST /pipeline/continue, for projects whose pipelines an
// outside runner runs: continuation.go), plus the app's pipeline links (/pipelines/...) as
// text pages.
//
// A Config scripts projects, tokens, declared pipeline parameters and what each pipeline's
// workflows and jobs do over an injectable clock (see WithClock). Faults (status answers,
// slow answers, dropped connections, answers lost after processing) and a rate limit can be
// injected from the config, from Go (AddFault) or over HTTP (POST /_sim/faults). Every API
// request is recorded with its answer (Requests); the JSON the simulator sends is built here,
// independently of baton's API client, and tests hold it to the OpenAPI description.
package simulator
