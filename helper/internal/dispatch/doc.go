// Package dispatch sends triggers: one at a time without ever creating two pipelines for one
// intent (Trigger), to many projects at once with bounded concurrency, handing each pipeline to
// a follower as it is created (Run), and reads the list
// of projects a fan-out goes to (ParseProjects).
//
// Files, by responsibility:
//
//   - trigger.go: API, Trigger, its options, Resends, and its errors (UnknownOutcomeError,
//     GiveUpError).
//   - lookup.go: judging the pipelines listed after an unknown outcome; ClockSlack; what is
//     remembered per API value.
//   - run.go: Run, Target, Options, Follower, Outcome, CanceledError.
//   - exit.go: WorstExitCode, the run's exit code as exitcode.Worst ranks the targets' codes.
//   - projects.go: ParseProjects, the --projects-file and BATON_PROJECTS format.
//
// # Retries that never double-trigger
//
// The client refuses to send a trigger again when the first attempt may have been acted on
// (circleci.ErrOutcomeUnknown: the request was written, then a timeout, a dropped connection,
// any 5xx, or a 2xx without a usable pipeline id); it retries only a refused connection and 429.
// Trigger settles the unknown by looking: it reads the project's pipeline list after each of
// TriggerOptions.Lookups (2, 5, 10 and 20 s after the send, since the list lags behind a
// creation) and judges each pipeline listed:
//
//   - not ours when anything it shows rules it out: another actor than the token's user (GET
//     /me, remembered per API value); another ref than exactly the one sent (the default branch
//     read from GET /project/{slug}; "refs/heads/main" is "main"); received before the first send
//     of this trigger, less ClockSlack, on the server's clock (its offset from Now's is bounded
//     by the client from the Date headers of its answers); already accounted for through the
//     same API value (named by a trigger's answer or recovered by an earlier lookup, which keeps
//     two targets of a fan-out from claiming one pipeline); or a parameter value other than the
//     one sent, where trigger_parameters shows it;
//   - possible when nothing rules it out but something keeps it from being proven: no vcs, no
//     actor or time, a server clock that could not be estimated, a trigger.type other than
//     "api", an id that is no UUID;
//   - proven otherwise.
//
// Exactly one proven pipeline and nothing else possible: Trigger returns it as recovered. Nothing
// possible in any listing: the request was not acted on, so it is sent again (told through
// TriggerOptions.OnResend), at most TriggerOptions.Resends times. Anything else — a possible
// pipeline, two proven ones, or a list too busy to read back to the send — stops with an
// *UnknownOutcomeError naming and linking the candidates: never a claim, never a resend.
//
// Matching goes by actor, ref, time and the parameters shown because CircleCI offers nothing
// better: a trigger cannot carry a per-invocation marker that shows up on the pipeline without
// changing the downstream project's config (a pipeline parameter that the config does not
// declare makes the pipeline error). Two consequences follow. A pipeline the same user triggers
// on the same ref, with the same or unshown parameters, within about ClockSlack of ours through
// another route is indistinguishable from it: the lookup reports both instead of guessing. And a
// pipeline that the list shows only after the last lookup is missed, and the resend creates a
// second one (said on stderr by the CLI).
//
// # Fan-out
//
// Run triggers every Target with at most Options.MaxParallel trigger requests in flight, and
// hands each created pipeline at once to Options.Follower, which follows them all together
// (package follow's scheduler, through the CLI): following holds no slot, so the last of a
// hundred projects is triggered as soon as the triggers before it are sent, not when the first
// pipelines finish. It returns one Outcome per target, in target order. With Options.FailFast
// the first failure cancels what has not started and stops what is followed (a cause with a
// StopReason: the pipelines end as canceled, their workflows canceled); a trigger already being
// sent is left to land, so that its pipeline is known and can be canceled rather than left in
// an unknown state. WorstExitCode sums the outcomes up in one exit code.
package dispatch
