// Package orbrun runs the baton orb the way CircleCI would, without CircleCI: it is the test
// support behind the orb's end-to-end tests and `make demo`.
//
//   - orb.go: an orb, packed (circleci orb pack's output) or read from its source directory
//     with <<include(…)>> resolved as the circleci CLI resolves it.
//   - pack.go: `circleci orb pack` byte for byte, for make demo (scripts/test-orb.sh compares).
//   - params.go: parameter declarations, arguments checked against them, defaults.
//   - subst.go: << parameters.x >> and << pipeline.x >> substitution, when/unless logic.
//   - config.go: a config (an example's usage, or a project's .circleci/*.yml, inline orbs
//     included) and its workflows, in requires order; requires names jobs of the same
//     workflow only.
//   - filters.go: the branches and tags a workflow job runs for.
//   - expand.go: a workflow's jobs expanded to flat lists of steps: orb jobs, commands
//     calling commands, executors and their parameters, when/unless, pre- and post-steps.
//   - run.go: the run steps executed in the shell CircleCI would choose (bash -eo pipefail
//     when the image has bash, else /bin/sh, which is dash here) in an environment like a
//     CircleCI job's (CIRCLECI=true, $BASH_ENV sourced by every step, contexts), after a
//     failure only the steps CircleCI runs then, whatever their kind. checkout is carried out
//     when the Machine is given a way to check out, restore_cache when it can restore;
//     `circleci-agent step halt` ends the job; save_cache and the like are recorded.
//   - workspace.go: persist_to_workspace and attach_workspace, carried out as CircleCI does:
//     a workspace per workflow, layers seen only by downstream jobs; store_test_results and
//     store_artifacts, which keep a copy of what they stored.
//   - standin.go: standin steps, Go code carrying out a real orb's script in a stand-in orb.
//   - orbtools.go: stand-ins for orb-tools (lint, pack, review, publish) and the continuation
//     orb, and the orb registry publish writes to.
//   - pipeline.go: a project's pipelines run against the API simulator: which workflows and
//     jobs run, setup configs continued (POST /api/v2/pipeline/continue) and the continuation
//     run as the same pipeline, everything reported to the simulator as it goes.
//   - release.go: a local release server for the archives scripts/build-release.sh makes.
//   - review.go: orb-tools' review rules and this project's own, as checks of orb/src.
//   - schema.go: CircleCI's JSON schema for configs and orbs, when it is present.
//
// Nothing here knows baton's flags: the orb passes them through its steps' environment, and
// the tests look at what the CircleCI API simulator received.
package orbrun
