// Package circleci is baton's client for CircleCI API v2: typed requests and responses for the
// few operations baton needs, one explicit retry policy, and errors that read like sentences and
// carry their exit code.
//
// Files, by responsibility:
//
//   - client.go: Config, New, ParseHost, building requests and running them with retries.
//   - retry.go: RetryPolicy, the retry decision (decide) and the waits between attempts.
//   - budget.go: the one request budget every attempt waits on (a token bucket, paused for all
//     requests when the API throttles one).
//   - errors.go: APIError, RetryError, ErrOutcomeUnknown, redaction of the token.
//   - trace.go: the request/response trace written to Config.Debug.
//   - types.go: the API's response types, named after CircleCI's OpenAPI description.
//   - times.go: their timestamps, read leniently: one that cannot be read counts as missing.
//   - pipeline.go, workflow.go, user.go, insights.go: one method per API operation.
//   - page.go: decoding a page of a list item by item, within a cap on items.
//   - jobdetail.go, steptail.go: a job's tests, steps and step output; the output is read in
//     one pass and only its last MiB kept, however large it is.
//
// Answers are bounded: at most 4 MiB each (a step's output excepted: its end is kept), a list
// at most 10,000 items across its pages (and 100 pages). Server text quoted in an error is one line, redacted and safe for a terminal.
//
// The trigger operations (TriggerPipeline, RunPipeline) must never create two pipelines, so they
// are retried only when the request certainly was not processed; when it may have been, the error
// wraps ErrOutcomeUnknown and the caller looks the pipeline up instead of sending again.
//
// The token travels only in the Circle-Token header. It never appears in an error, a trace line
// or the String form of Config or Client.
package circleci
