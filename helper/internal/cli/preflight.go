package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/payload"
	"github.com/baton-ci/baton/helper/internal/preflight"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/safetext"
)

// Pre-flight modes (--preflight).
const (
	preflightOn     = "on"
	preflightStrict = "strict"
	preflightOff    = "off"
)

// preflight checks and types every target's parameters against what its project declares, then
// builds the bodies: the stage between the validated requests and the payloads. Any problem in
// any target refuses the whole run (exit 2, one line per problem) before anything is sent. It
// returns what was learnt, per target, for --dry-run.
func (c *TriggerCmd) preflight(d *Deps, client *circleci.Client, targets []dispatch.Target, token string) ([]preflight.Result, error) {
	var results []preflight.Result
	if c.Preflight != preflightOff {
		triggers := make([]*request.Trigger, len(targets))
		for i, t := range targets {
			triggers[i] = t.Trigger
		}
		if token == "" { // a dry run without a token cannot read any config
			results = make([]preflight.Result, len(targets))
			for i, t := range triggers {
				if len(t.Params) > 0 {
					results[i] = preflight.Result{Checked: true, Decision: preflight.Decision{Params: t.Params,
						Unknown: []string{fmt.Sprintf("%s: cannot check the parameters: $%s is not set, so its config cannot be read", t.Project, c.tokenEnv())}}}
				}
			}
		} else {
			results = preflight.CheckAll(d.Context, client, triggers, c.MaxParallel)
		}
		if err := c.judge(d.Stderr, results); err != nil {
			return nil, err
		}
		for i, r := range results {
			if r.Checked {
				targets[i].Trigger.Params = r.Params
			}
		}
	}
	for i := range targets {
		body, err := payload.Body(targets[i].Trigger)
		if err != nil {
			return nil, err
		}
		targets[i].Body = body
	}
	return results, nil
}

// judge prints what pre-flight could not check and refuses the run when anything would be
// rejected (or, with --preflight=strict, when anything could not be checked). Its lines quote
// the downstream's config and the API's answers, so they pass safetext like every server string.
func (c *TriggerCmd) judge(stderr io.Writer, results []preflight.Result) error {
	var problems []string
	for _, r := range results {
		for _, p := range r.Problems {
			problems = append(problems, safetext.Terminal(p))
		}
		for _, u := range r.Unknown {
			u = safetext.Terminal(u)
			if c.Preflight == preflightStrict {
				problems = append(problems, u+" (--preflight=strict sends nothing unchecked)")
			} else {
				fmt.Fprintf(stderr, "baton: pre-flight: %s; sending as given\n", u)
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	for _, p := range problems[:len(problems)-1] {
		fmt.Fprintf(stderr, "baton: %s\n", p)
	}
	last := problems[len(problems)-1]
	if len(problems) > 1 || len(results) > 1 {
		last += "; nothing was sent"
	}
	return exitcode.Wrap(exitcode.Usage, errors.New(last))
}

// dryRunPreflight shows, before a target's request, what pre-flight learnt and decided for it.
func dryRunPreflight(w io.Writer, t *request.Trigger, r preflight.Result) {
	if !r.Checked || r.Decls == nil {
		return
	}
	fmt.Fprintf(w, "pre-flight: %s declares %s (learnt from its %s)\n", t.Project, safetext.Terminal(r.Decls.Summary()), safetext.Terminal(r.Decls.From))
	for _, line := range r.Typed {
		fmt.Fprintf(w, "pre-flight: %s\n", safetext.Terminal(line))
	}
}
