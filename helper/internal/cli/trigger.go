package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/dispatch"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/preflight"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/userfile"
)

// TriggerCmd is `baton trigger`. Its fields come in the order --help shows their groups.
type TriggerCmd struct {
	Project        []string `sep:"none"`
	Projects       string
	ProjectsFile   string
	Branch         string
	Tag            string
	MaxParallel    int
	FailFast       bool
	DefinitionID   string
	ConfigBranch   string
	ConfigTag      string
	CheckoutBranch string
	CheckoutTag    string

	Param          []string `short:"p" sep:"none"`
	Parameters     string
	ParametersJSON string
	ParametersFile string
	NoExpand       bool
	Preflight      string

	Wait          bool
	CallbackFlags `embed:""`
	OutputFlags   `embed:""`
	WaitFlags     `embed:""`
	APIFlags      `embed:""`
	DryRun        bool
}

// flagDocs is everything about TriggerCmd's flags but their Go fields (see help.go).
func (TriggerCmd) flagDocs() []flagDoc { return triggerCmdDocs }

// triggerCmdDocs is TriggerCmd's flag table, laid out by the linker rather than built on each run.
var triggerCmdDocs = []flagDoc{
	{name: "retries", help: "Retries of a failed request (default: ${default}); never a blind resend."},
	{name: "env-file", help: "Append export BATON_PIPELINE_ID=… lines to FILE (e.g. $BASH_ENV) for later steps."},
	{name: "project", env: "BATON_PROJECT", placeholder: "SLUG", help: "Project: gh/ORG/REPO, bb/ORG/REPO or circleci/ORG_ID/PROJECT_ID; repeatable.", group: groupTarget},
	{name: "projects", env: "BATON_PROJECTS", placeholder: "LINES", help: "Projects to fan out to, one per line (SLUG, SLUG BRANCH or SLUG tag=TAG), or YAML/JSON entries with their own parameters.", group: groupTarget},
	{name: "projects-file", env: "BATON_PROJECTS_FILE", placeholder: "FILE", help: "Read --projects from FILE.", group: groupTarget},
	{name: "branch", env: "BATON_BRANCH", placeholder: "NAME", help: "Branch to run; neither --branch nor --tag: the default branch.", group: groupTarget},
	{name: "tag", env: "BATON_TAG", placeholder: "NAME", help: "Tag to run, instead of --branch.", group: groupTarget},
	{name: "param", placeholder: "KEY=VALUE", help: "Pipeline parameter, typed as the project declares it; KEY:string=, KEY:int=, KEY:bool= force a type.", group: groupParameters},
	{name: "parameters", env: "BATON_PARAMETERS", placeholder: "LINES", help: "Parameters as KEY=VALUE lines, typed like --param; # comments.", group: groupParameters},
	{name: "parameters-json", env: "BATON_PARAMETERS_JSON", placeholder: "JSON", help: "Parameters as a JSON object, typed as written.", group: groupParameters},
	{name: "parameters-file", env: "BATON_PARAMETERS_FILE", placeholder: "FILE", help: "Parameters as a JSON object read from FILE (- for standard input).", group: groupParameters},
	{name: "no-expand", env: "BATON_NO_EXPAND", help: "Send $VAR and ${VAR} as written, not expanded from the environment.", group: groupParameters},
	{name: "preflight", env: "BATON_PREFLIGHT", def: "on", enum: "on,strict,off", help: "Check and type parameters by the project's config: on, strict or off (default: ${default}).", group: groupParameters},
	{name: "definition-id", env: "BATON_DEFINITION_ID", placeholder: "UUID", help: "Pipeline definition ID, for GitHub App and GitLab projects.", group: groupTarget},
	{name: "config-branch", env: "BATON_CONFIG_BRANCH", placeholder: "NAME", help: "With --definition-id: the config's branch (default: --branch).", group: groupTarget},
	{name: "config-tag", env: "BATON_CONFIG_TAG", placeholder: "NAME", help: "With --definition-id: the config's tag (default: --tag).", group: groupTarget},
	{name: "checkout-branch", env: "BATON_CHECKOUT_BRANCH", placeholder: "NAME", help: "With --definition-id: the branch checked out (default: --branch).", group: groupTarget},
	{name: "checkout-tag", env: "BATON_CHECKOUT_TAG", placeholder: "NAME", help: "With --definition-id: the tag checked out (default: --tag).", group: groupTarget},
	{name: "dry-run", env: "BATON_DRY_RUN", help: "Print the exact request (method, URL, headers, JSON body) and send nothing.", group: groupDebug},
	{name: "max-parallel", env: "BATON_MAX_PARALLEL", def: "8", placeholder: "N", help: "Triggers in flight at once (default: ${default}).", group: groupTarget},
	{name: "fail-fast", env: "BATON_FAIL_FAST", help: "Once one project fails, trigger no more and cancel the others' workflows.", group: groupTarget},
	{name: "wait", env: "BATON_WAIT", help: "Wait for the pipelines to finish, and fail when one fails.", group: groupWaiting},
}

// Help is the long help shown by `baton trigger --help`. The flags' details (pre-flight, the
// projects list's formats, the retry policy, the env file's variables) are in helper/README.md.
func (c *TriggerCmd) Help() string {
	return `Triggers pipelines through CircleCI API v2 and prints each one's number and link. Values
are sent as typed JSON, exactly as given; $VAR and ${VAR} in them (and in the branch, tag and
project) are expanded from the environment, $$ being a literal $.

Pre-flight refuses a parameter the project's config does not declare, or of another type (exit 2,
nothing sent). --wait follows the pipelines and fails when one fails; several projects fan out.

Examples:
  # Deploy the image just built, from a job with CIRCLE_TOKEN in a context:
  baton trigger --project gh/acme/deploy --branch main -p image-name=acme/api:0.1.123 -p replicas=3

  # Run another project's integration tests and fail with them:
  baton trigger --project gh/acme/e2e --wait --timeout 45m --junit downstream.xml

  # Redeploy two services at once, and see exactly what would be sent:
  baton trigger --project gh/acme/billing --project bb/acme/mail -p version:string=3 --dry-run

` + exitCodes
}

// Run triggers the pipelines, and follows them with --wait.
func (c *TriggerCmd) Run(d *Deps) error {
	token, err := c.token(d)
	if err != nil {
		return err
	}
	if token == "" && !c.DryRun {
		if _, err := c.requireToken(d); err != nil {
			return err
		}
	}
	calledBack, err := c.CallbackFlags.prepare(d, c.Wait)
	if err != nil {
		return err
	}
	if calledBack {
		c.WaitStart = true // see prepare
	}
	waiting := c.Wait || c.WaitStart
	if err := c.WaitFlags.check(d, waiting); err != nil {
		return err
	}
	if !c.DryRun {
		if err := checkOutputs([2]string{"--result-file", c.ResultFile}, [2]string{"--env-file", c.EnvFile},
			[2]string{"--junit", c.JUnit}, [2]string{"--summary", c.Summary}); err != nil {
			return err
		}
	}
	host, err := c.host()
	if err != nil {
		return err
	}
	if warning := params.CommaJoined(c.Parameters); warning != "" {
		fmt.Fprintf(d.Stderr, "baton: warning: %s\n", warning) // sent as written all the same
	}
	targets, err := c.targets(d)
	if err != nil {
		return err
	}
	client, err := c.client(d, host, token)
	if err != nil {
		return err
	}
	checked, err := c.preflight(d, client, targets, token)
	if err != nil {
		return err
	}
	if c.DryRun {
		return c.dryRun(d, client, targets, checked, token)
	}

	ctx := d.Context
	if waiting || len(targets) > 1 {
		var stop context.CancelFunc
		ctx, stop = d.interruptible(ctx)
		defer stop()
	}
	if waiting {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var view renderer = &lines{w: d.Stdout}
	switch {
	case c.Output == "json": // stdout is for the JSON document alone
		view = &lines{w: d.Stderr}
	case waiting:
		view = newRenderer(d, d.Stdout)
	}
	f := &follower{flags: c.WaitFlags, failFast: c.FailFast, api: client, deps: d, view: view, total: len(targets),
		deadline: d.clock().Add(c.Timeout)}
	opts := dispatch.Options{
		MaxParallel: c.MaxParallel,
		FailFast:    c.FailFast,
		Trigger: dispatch.TriggerOptions{
			Sleep: d.Sleep,
			Now:   d.Now,
			OnResend: func(t *request.Trigger, send int, looked time.Duration) {
				fmt.Fprintf(d.Stderr, "baton: %s: the trigger's outcome was unknown and no pipeline it created showed in the project's list within %s; sending it again (send %d)\n", t.Project, looked, send)
			},
			PipelineURL: func(t *request.Trigger, number int64) string {
				return report.AppURL(host, t.Project.AppPath(), number)
			},
		},
		OnTriggered: func(i int, t dispatch.Target, tr *dispatch.Triggered) {
			switch {
			case tr.Creation != nil && (waiting || len(targets) > 1):
				p, number := t.Trigger.Project, tr.Creation.Number
				created := report.Pipeline{Project: p.String(), Number: number, URL: report.AppURL(host, p.AppPath(), number)}
				created.Ref, created.RefType = refFields(t.Trigger.Ref)
				view.triggered(pipelineRef{key: i, label: label(p.String(), number), url: created.URL,
					created: report.TriggeredLine(created)}, tr.Recovered)
			case tr.Recovered:
				fmt.Fprintf(d.Stderr, "baton: %s: the answer to the trigger was lost; pipeline #%d was found by looking it up and proven to be this trigger's, so it was not sent again\n", t.Trigger.Project, tr.Creation.Number)
			}
		},
	}
	if waiting {
		opts.Follower = triggerFollower{follower: f, host: host}
	}
	outcomes := dispatch.Run(ctx, client, targets, opts)
	view.close()
	return c.finish(d, host, outcomes, waiting)
}

// targets builds one validated request per project, so that any bad input in any of them is
// refused before the first is sent.
func (c *TriggerCmd) targets(d *Deps) ([]dispatch.Target, error) {
	lines, err := c.projectLines(d)
	if err != nil {
		return nil, err
	}
	targets := make([]dispatch.Target, 0, len(lines))
	type projectRef struct {
		project string // slug.Key: gh/ACME/API is gh/acme/api
		request.Ref
	}
	seen := map[projectRef]string{} // canonical project and ref → where it was first named
	read := map[string][]byte{}     // --parameters-file, read once however many projects there are
	readFile := func(path string) ([]byte, error) {
		if data, ok := read[path]; ok {
			return data, nil
		}
		var data []byte
		var err error
		if path == "-" { // standard input, as for most tools' file arguments
			data, err = userfile.ReadAll(d.stdin(), 0)
		} else {
			data, err = d.ReadFile(path)
		}
		if err == nil {
			read[path] = data
		}
		return data, err
	}
	for _, line := range lines {
		in := request.Input{
			Project: line.Slug, Branch: c.Branch, Tag: c.Tag,
			DefinitionID: c.DefinitionID,
			ConfigBranch: c.ConfigBranch, ConfigTag: c.ConfigTag,
			CheckoutBranch: c.CheckoutBranch, CheckoutTag: c.CheckoutTag,
			Params: c.Param, ParamLines: c.Parameters, ParamsJSON: c.ParametersJSON, ParamsFile: c.ParametersFile,
			NoExpand:    c.NoExpand,
			LookupEnv:   d.LookupEnv,
			ReadFile:    readFile,
			HoldsSecret: d.secrets().Contains,
		}
		if line.Branch != "" || line.Tag != "" { // the line's own ref wins over --branch/--tag
			in.Branch, in.Tag = line.Branch, line.Tag
		}
		in.ProjectParams, in.ProjectSource = line.Params, line.Source
		t, err := request.New(in)
		if err != nil {
			if line.Source != "" && !strings.HasPrefix(err.Error(), line.Source+":") {
				return nil, exitcode.Wrap(exitcode.Usage, fmt.Errorf("%s: %w", line.Source, err))
			}
			return nil, err
		}
		if err := c.CallbackFlags.addParam(t); err != nil {
			return nil, err
		}
		// Two identical triggers could not be told apart if an answer were lost.
		key := projectRef{t.Project.Key(), t.Ref}
		where := line.Source
		if where == "" {
			where = "--project " + line.Slug
		}
		if first, dup := seen[key]; dup {
			return nil, exitcode.Usagef("%s: %s is already named by %s; trigger each project and ref once", where, t.Project, first)
		}
		seen[key] = where
		targets = append(targets, dispatch.Target{Trigger: t}) // bodies come after pre-flight

	}
	return targets, nil
}

// projectLine is one project to trigger and where it was named, for error messages.
type projectLine struct {
	dispatch.ProjectLine
	Source string // "" for --project; "--projects line 3" for the lists
}

func (c *TriggerCmd) projectLines(d *Deps) ([]projectLine, error) {
	var out []projectLine
	for _, p := range c.Project {
		if p != "" { // an empty BATON_PROJECT from the orb means "not given"
			out = append(out, projectLine{ProjectLine: dispatch.ProjectLine{Slug: p}})
		}
	}
	var lists []struct{ source, text string }
	if c.Projects != "" {
		lists = append(lists, struct{ source, text string }{"--projects", c.Projects})
	}
	if c.ProjectsFile != "" {
		data, err := d.ReadFile(c.ProjectsFile)
		if err != nil {
			return nil, exitcode.Usagef("--projects-file %s: %v", c.ProjectsFile, unwrapPath(err))
		}
		lists = append(lists, struct{ source, text string }{"--projects-file", string(data)})
	}
	for _, list := range lists {
		lines, err := dispatch.ParseProjects(list.source, list.text)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			out = append(out, projectLine{ProjectLine: l, Source: fmt.Sprintf("%s line %d", list.source, l.Line)})
		}
	}
	if len(out) == 0 {
		return []projectLine{{}}, nil // request.New says that --project is required
	}
	return out, nil
}

// dryRun prints exactly the requests that would be sent, built by the same code that sends them.
func (c *TriggerCmd) dryRun(d *Deps, client *circleci.Client, targets []dispatch.Target, checked []preflight.Result, token string) error {
	for i, target := range targets {
		t := target.Trigger
		var req *http.Request
		var err error
		if t.UsesRun() {
			req, err = client.RunPipelineRequest(d.Context, t.Project.Provider, t.Project.Org, t.Project.Project, target.Body)
		} else {
			req, err = client.TriggerPipelineRequest(d.Context, t.Project.String(), target.Body)
		}
		if err != nil {
			return err
		}
		header := circleci.Redact(req.Header)
		if token == "" {
			header.Set("Circle-Token", "[missing: $"+c.tokenEnv()+" is not set]")
		}
		if i > 0 {
			fmt.Fprintln(d.Stdout)
		}
		if i < len(checked) {
			dryRunPreflight(d.Stdout, t, checked[i])
		}
		fmt.Fprintf(d.Stdout, "%s %s\n", req.Method, req.URL.String())
		circleci.WriteHeader(d.Stdout, "", header)
		fmt.Fprintf(d.Stdout, "\n%s\n", target.Body)
	}
	fmt.Fprintln(d.Stderr, "dry run: nothing was sent")
	return nil
}

// finish reports every outcome and returns the worst as the command's error.
func (c *TriggerCmd) finish(d *Deps, host *url.URL, outcomes []dispatch.Outcome, waiting bool) error {
	rows := rowsOf(host, outcomes, c.explain)
	c.CallbackFlags.settle(d, rows)
	if c.SoftFail {
		applySoftFail(rows)
	}
	res := result(rows)
	if c.Output == "text" && !waiting && len(outcomes) == 1 {
		if err := report.Text(d.Stdout, res); err != nil {
			return err
		}
	}
	if err := c.OutputFlags.emitResult(d, res); err != nil {
		return err
	}
	if waiting {
		if err := c.WaitFlags.writeReports(d, c.Output == "text", rows); err != nil {
			return err
		}
	}
	return conclude(d, rows, waiting)
}

// unwrapPath keeps "open x: no such file or directory" from naming the file twice.
func unwrapPath(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}
