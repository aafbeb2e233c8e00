// Package watch follows one triggered CircleCI pipeline to its end, the way GitLab's
// `strategy: depend` or Jenkins' `build job: …, wait: true, propagate: true` follow a downstream
// build, and says how it ended.
//
// A pipeline is followed by a Tracker, one poll per Step; Watch steps one, package follow many.
// The loop has the shape of the Buildkite CLI's WatchBuild and gh's `run watch`: it polls, waits
// on a timer that stops early when the context ends (never a bare time.Sleep), keeps going
// through a few failed polls in a row (a consecutive-error budget), and reports every change
// through a callback so rendering stays out of the loop. When to look again is package pace's
// answer: with history (each workflow's usual duration from CircleCI's insights, see History),
// sparse while the expected end is far and dense around it; without, backing off while nothing
// changes (5s ×1.5 up to 30s, back to 5s after a change). A poll that needed several requests
// waits longer, so a pipeline costs at most one request per 5s on average. Once the workflows
// are listed, a poll is one request; a 10-minute pipeline costs about 30. Whether the pipeline
// is done, and how it ended, is decided by one small pure function (decide).
//
// Files, by responsibility:
//
//   - options.go: Options, OnHold and their defaults.
//   - result.go: Outcome, Result, WorkflowResult and Event.
//   - decide.go: the pure part: the latest attempt of each workflow, each workflow's state, and
//     the verdict on the whole pipeline with its one-line reason.
//   - watch.go: Tracker, one pipeline's state machine (Step polls once and says when to poll
//     next), and Watch, the loop that steps one Tracker; package follow steps many from one loop.
//   - durations.go: every duration baton shows, from the API's own timestamps (Lasted, and
//     Result's SpanAt, WorkflowLasted, JobDuration).
//   - plausible.go: times no pipeline can have (a stopped_at in year 9999) read as missing.
//   - history.go: History, each workflow's usual duration from insights, asked once.
//   - stop.go: what happens when the context ends: timed out, interrupted or canceled (a
//     StopReason such as --fail-fast), and cancelling the workflows still running.
package watch
