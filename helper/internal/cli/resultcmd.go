package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/report"
)

// ResultCmd is `baton result`: the upstream's pipeline-result job of the callback pattern. It
// reads the pipelines an earlier trigger recorded in its result file and reports them exactly
// as baton wait would: a pipeline that has ended is read once; one still running is followed.
type ResultCmd struct {
	From        string `arg:"" optional:"" name:"recorded"`
	MaxParallel int
	OutputFlags `embed:""`
	WaitFlags   `embed:""`
	APIFlags    `embed:""`
}

// flagDocs is everything about ResultCmd's flags but their Go fields (see help.go).
func (ResultCmd) flagDocs() []flagDoc { return resultCmdDocs }

// resultCmdDocs is ResultCmd's flag table, laid out by the linker rather than built on each run.
var resultCmdDocs = []flagDoc{
	{name: "env-file", help: "Append export BATON_OUTCOME=… and the pipelines' BATON_PIPELINE_ID=…, BATON_PIPELINE_URL=… to FILE, e.g. $BASH_ENV."},
	{name: "recorded", env: "BATON_RESULT_FROM", help: "The result JSON an earlier baton trigger wrote (--result-file), e.g. from the workspace."},
	{name: "max-parallel", env: "BATON_MAX_PARALLEL", def: "8", placeholder: "N", help: "Pipelines read at once to start with (default: ${default}).", group: groupWaiting},
}

// Help is the long help shown by `baton result --help`.
func (c *ResultCmd) Help() string {
	return `Reports how the pipelines an earlier baton trigger recorded in its result file ended, and fails
when one of them failed, exactly as baton wait does (same lines, links, --junit and --summary).
It is the upstream's last step of the callback pattern (orb/README.md, "The callback pattern"): the trigger job
started the pipelines with --callback and --result-file, the workflow waited at an approval job
that the downstream approved when done, and this reads each pipeline once. A pipeline still
running (its callback job ending) is followed until it ends.

Examples:
  baton result /tmp/ws/baton-callback/await-e2e.json --junit test-results/e2e/junit.xml

` + exitCodes
}

// Run reads the recorded pipeline ids and waits for them.
func (c *ResultCmd) Run(d *Deps) error {
	if c.From == "" {
		return exitcode.Usagef("the recorded result file is required: the result JSON baton trigger --callback --result-file wrote (the orb persists it in the workspace)")
	}
	data, err := d.ReadFile(c.From)
	if err != nil {
		return exitcode.Usagef("%s: %v", c.From, unwrapPath(err))
	}
	var recorded report.Result
	if err := json.Unmarshal(data, &recorded); err != nil {
		return exitcode.Usagef("%s: not a baton result file: %v", c.From, err)
	}
	var ids, unsent []string
	code := exitcode.OK
	for _, p := range recorded.Pipelines {
		if p.ID == "" {
			unsent = append(unsent, p.Project+" ("+report.OutcomeText(p.Outcome)+")")
			code = exitcode.Worst(code, p.ExitCode)
			continue
		}
		ids = append(ids, p.ID)
	}
	if len(unsent) > 0 {
		if code == exitcode.OK { // a file that records a failure without its code
			code = exitcode.Refused
		}
		// The trigger job's own exit code for them: what the file recorded.
		return exitcode.Wrap(code, fmt.Errorf("%s records no pipeline for %s: the trigger job failed for it", c.From, terminalText(strings.Join(unsent, ", "))))
	}
	if len(ids) == 0 {
		return exitcode.Usagef("%s lists no pipeline", c.From)
	}
	w := WaitCmd{PipelineIDs: ids, MaxParallel: c.MaxParallel, OutputFlags: c.OutputFlags, WaitFlags: c.WaitFlags, APIFlags: c.APIFlags}
	return w.Run(d)
}
