package dispatch

import "github.com/baton-ci/baton/helper/internal/exitcode"

// WorstExitCode is the exit code of the worst outcome (see Outcome.ExitCode), as
// exitcode.Worst ranks them; 0 when there are no outcomes.
func WorstExitCode(outcomes []Outcome) int {
	codes := make([]int, len(outcomes))
	for i, o := range outcomes {
		codes[i] = o.ExitCode()
	}
	return exitcode.Worst(codes...)
}
