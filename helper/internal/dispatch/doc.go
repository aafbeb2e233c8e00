// Package dispatch sends triggers: one at a time without ever creating two pipelines for one
// intent (Trigger), to many projects at once with bounded concurrency (Run), and reads the list
// of projects a fan-out goes to (ParseProjects).
//
// Files, by responsibility:
//
//   - trigger.go: API, Trigger, its options and errors (AmbiguousError, GiveUpError).
//   - lookup.go: finding the pipeline of an unknown outcome; ClockSkew; what is remembered per
//     API value.
//   - run.go: Run, Target, Options, Outcome, CanceledError.
//   - exit.go: WorstExitCode and the ranking of exit codes.
//   - projects.go: ParseProjects, the --projects-file and BATON_PROJECTS format.
//
// # Retries that never double-trigger
//
// The client refuses to send a trigger again when the first attempt may have been acted on
// (circleci.ErrOutcomeUnknown: the request was written, then a timeout, a dropped connection, a
// 500/502/504). Trigger settles that unknown by looking: it waits a moment for the API to catch
// up, lists the project's recent pipelines and keeps those that could be the one it created:
//
//   - trigger.type "api" and trigger.actor.login the token's own login (GET /me, remembered per
//     API value);
//   - the same ref: vcs.tag the trigger's tag, or vcs.branch its branch (any branch when the
//     trigger named none, since the default branch's name is not known here; any ref when the
//     pipeline reports no vcs at all, as standalone projects may);
//   - received (created) at or after the first send of this intent, less ClockSkew;
//   - not a pipeline already accounted for through the same API value: one a trigger's answer
//     named, or one an earlier lookup recovered. Fan-outs rely on this to keep two targets from
//     claiming one pipeline.
//
// Exactly one candidate is the pipeline: Trigger returns it as recovered. None means the request
// was not acted on, so it is sent again, at most TriggerOptions.Resends times. Several mean the
// question cannot be settled; Trigger stops with an *AmbiguousError naming them rather than risk
// a third.
//
// Matching goes by actor, ref and time because CircleCI offers nothing better: a trigger cannot
// carry a per-invocation marker that shows up on the pipeline without changing the downstream
// project's config (a pipeline parameter that the config does not declare makes the pipeline
// error). Two consequences follow. A pipeline the same user triggers on the same ref at nearly
// the same moment through another route is indistinguishable from ours: it makes the lookup
// ambiguous, which stops with an error instead of guessing. And a pipeline that the API lists
// only after the lookup (LookupDelay is a bet against that lag) would be missed, and the re-send
// would create a second one; a later lookup would then find two and say so.
//
// # Fan-out
//
// Run triggers every Target, and follows each pipeline through Options.Follow when it is set,
// with at most Options.MaxParallel targets in flight. It returns one Outcome per target, in
// target order. With Options.FailFast the first failure cancels what has not started and the
// follows in flight; a trigger already being sent is left to land, so that its pipeline is known
// and can be canceled rather than left in an unknown state. WorstExitCode sums the outcomes up
// in one exit code.
package dispatch
