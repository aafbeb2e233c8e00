// Package callback is the logic of the callback pattern (orb/README.md, "The callback pattern"): the reference an
// upstream trigger sends to the downstream pipeline, the allow-list of upstream projects the
// downstream accepts, and the choice of what, if anything, may be approved. It decides; the CLI
// asks the API and acts.
package callback

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// DefaultParameter is the pipeline parameter the reference travels in, unless renamed.
const DefaultParameter = "baton_callback"

// prefix starts every reference: it names the format's version, so a later baton can change
// the format and still read (or clearly refuse) an older one.
const prefix = "baton-callback:v1:"

// maxJobName bounds the approval job's name; CircleCI's own names are far shorter, and the
// reference must fit a pipeline parameter (512 characters).
const maxJobName = 256

// Reference names the approval job of one upstream workflow: nothing else. It carries no host
// (the downstream calls its own) and no token (the downstream uses its own), so a leaked or
// forged reference gives nobody anything the allow-list does not already grant.
type Reference struct {
	WorkflowID string // the upstream workflow's UUID ($CIRCLE_WORKFLOW_ID)
	Job        string // the name of its approval job
}

// String is the reference as the pipeline parameter carries it:
// baton-callback:v1:WORKFLOW_ID:JOB_NAME.
func (r Reference) String() string { return prefix + r.WorkflowID + ":" + r.Job }

// New checks the parts of a reference the trigger side builds; what names each part is for
// the error message (e.g. "--callback", "$CIRCLE_WORKFLOW_ID").
func New(workflowID, job string) (Reference, error) {
	if workflowID == "" {
		return Reference{}, exitcode.Usagef("--callback needs $CIRCLE_WORKFLOW_ID, which CircleCI sets in every job: run it in the upstream workflow's job")
	}
	if !slug.IsUUID(workflowID) {
		return Reference{}, exitcode.Usagef("$CIRCLE_WORKFLOW_ID %q: not a UUID", workflowID)
	}
	if err := checkJobName("--callback", job); err != nil {
		return Reference{}, err
	}
	return Reference{WorkflowID: strings.ToLower(workflowID), Job: job}, nil
}

// Parse reads a reference received in the pipeline parameter. Every error is one line, exit 2,
// and never quotes more than the start of the value.
func Parse(s string) (Reference, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return Reference{}, exitcode.Usagef("callback reference %s: not a baton callback reference (want %sWORKFLOW_ID:JOB, as baton trigger --callback sends)", show(s), prefix)
	}
	id, job, ok := strings.Cut(rest, ":")
	if !ok || !slug.IsUUID(id) {
		return Reference{}, exitcode.Usagef("callback reference %s: the workflow id is not a UUID", show(s))
	}
	if err := checkJobName("callback reference "+show(s)+": the job name", job); err != nil {
		return Reference{}, err
	}
	return Reference{WorkflowID: strings.ToLower(id), Job: job}, nil
}

// checkJobName refuses names no CircleCI job has: empty, too long, invalid UTF-8, control
// characters or surrounding spaces.
func checkJobName(what, name string) error {
	switch {
	case name == "":
		return exitcode.Usagef("%s: the approval job's name is empty", what)
	case len(name) > maxJobName:
		return exitcode.Usagef("%s: the approval job's name is longer than %d bytes", what, maxJobName)
	case !utf8.ValidString(name):
		return exitcode.Usagef("%s: the approval job's name is not valid UTF-8", what)
	case strings.ContainsFunc(name, unicode.IsControl):
		return exitcode.Usagef("%s: the approval job's name contains a control character", what)
	case strings.TrimSpace(name) != name:
		return exitcode.Usagef("%s: the approval job's name has surrounding spaces", what)
	}
	return nil
}

// show quotes the start of an untrusted value for an error message, escaped.
func show(s string) string {
	const max = 80
	if len(s) > max {
		return strconv.QuoteToASCII(s[:max]) + "..."
	}
	return strconv.QuoteToASCII(s)
}
