package dispatch

import "github.com/baton-ci/baton/helper/internal/exitcode"

// severity ranks exit codes for WorstExitCode, most severe first. Codes that say baton could
// not do its job outrank the one that says it did and a pipeline failed, because they leave
// the state of some target unknown or wrong, and that must not pass for an ordinary red build:
//
//   - 2 usage: the input was wrong; nothing, or not everything, was sent.
//   - 5 unreachable: the API could not be reached, or a trigger's outcome is unknown; a
//     pipeline may exist that nobody follows.
//   - 3 refused: the API said no, or created no pipeline; the fix is on the caller's side.
//   - 4 timeout: a pipeline was still running when baton stopped waiting.
//   - 1 failed: a pipeline failed (or an unexpected error); the one outcome that is a result.
//
// Any other non-zero code ranks between 4 and 1, a larger one first; 0 is last.
var severity = []int{exitcode.Usage, exitcode.Unreachable, exitcode.Refused, exitcode.Timeout}

// rank orders codes: a higher rank is worse.
func rank(code int) int {
	for i, c := range severity {
		if code == c {
			return 1<<20 - i
		}
	}
	switch {
	case code == exitcode.OK:
		return 0
	case code == exitcode.Failed:
		return 1
	case code < 0:
		return 2 // beyond any ordinary code; not expected
	}
	return 2 + min(code, 1<<19)
}

// WorstExitCode is the exit code of the worst outcome (see Outcome.ExitCode), ranked
// 2 > 5 > 3 > 4 > other codes > 1 > 0; 0 when there are no outcomes.
func WorstExitCode(outcomes []Outcome) int {
	worst := exitcode.OK
	for _, o := range outcomes {
		if c := o.ExitCode(); rank(c) > rank(worst) {
			worst = c
		}
	}
	return worst
}
