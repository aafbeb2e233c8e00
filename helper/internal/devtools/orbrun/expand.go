package orbrun

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Job is a workflow job expanded as CircleCI compiles it: where it runs and a flat list of
// steps, every parameter and pipeline value substituted.
type Job struct {
	Name     string // its name in the workflow
	Ref      string // the job it runs, e.g. baton/trigger-pipeline
	Approval bool
	Requires []string
	// RequiresStatus is WorkflowJob.RequiresStatus.
	RequiresStatus map[string][]string
	Contexts       []string
	// Params are the job's parameters: the arguments, else the defaults.
	Params map[string]any
	// Overridden are the orb parameters the Expander's Overrides replaced, by name, with the
	// value the outermost component that declares them had: what the config gave, or the
	// default.
	Overridden       map[string]any
	Executor         Executor
	Environment      map[string]string // the executor's, then the job's
	WorkingDirectory string
	Steps            []Step
}

// Executor is where a job runs.
type Executor struct {
	Ref              string         // e.g. baton/default; "" when the job declares docker: itself
	Params           map[string]any // the executor's parameters
	Image            string         // the first docker image, if any
	Kind             string         // docker, machine or macos
	ResourceClass    string
	Shell            string
	Environment      map[string]string
	WorkingDirectory string
}

// Step is one step of an expanded job.
type Step struct {
	Type        string // run, checkout, store_test_results, …
	Name        string
	Command     string            // run
	Shell       string            // run: its own shell, if any
	Environment map[string]string // run
	WorkDir     string            // run: working_directory, if any
	When        string            // on_success, on_fail or always
	Args        map[string]any    // the arguments of a step that is not run
	// Path is the chain of commands the step came from, outermost first, e.g.
	// [baton/trigger-pipeline install] for the install step of the trigger-pipeline command.
	Path []string
}

// builtinSteps are CircleCI's own steps (besides run, when and unless), with their default
// names in the UI.
var builtinSteps = map[string]string{
	"checkout":             "Checkout code",
	"setup_remote_docker":  "Setup a remote Docker engine",
	"save_cache":           "Saving cache",
	"restore_cache":        "Restoring cache",
	"store_artifacts":      "Uploading artifacts",
	"store_test_results":   "Uploading test results",
	"persist_to_workspace": "Persisting to workspace",
	"attach_workspace":     "Attaching workspace",
	"add_ssh_keys":         "Adding SSH keys",
}

// runKeys are the keys a run step may have.
var runKeys = []string{"command", "name", "shell", "environment", "when", "working_directory", "background", "no_output_timeout", "max_auto_reruns", "auto_rerun_delay"}

// Expander expands a config's workflows.
type Expander struct {
	Config   *Config
	Pipeline Pipeline
	// Overrides replaces, by name, parameters of the orbs' jobs and commands wherever they
	// are declared, whatever the config gives: how the tests point host and helper_base_url
	// at local servers. Job.Overridden records what was replaced.
	Overrides map[string]any
}

// namespace is where names are looked up: an orb (by its alias in the config) or the config.
type namespace struct {
	alias string
	orb   *Orb
}

func (n namespace) qualify(name string) string {
	if n.orb == nil {
		return name
	}
	return n.alias + "/" + name
}

// Workflow expands the jobs of the named workflow that run for the pipeline's branch or tag
// (filters.go), in requires order. A job whose required job does not run is left out too.
func (x *Expander) Workflow(name string) ([]*Job, error) {
	w, ok := x.Config.Workflows[name]
	if !ok {
		return nil, fmt.Errorf("no workflow %q (the config has %s)", name, strings.Join(sortedKeys(x.Config.Workflows), ", "))
	}
	ordered, err := w.Ordered()
	if err != nil {
		return nil, err
	}
	jobs := make([]*Job, 0, len(ordered))
	left := map[string]bool{}
	for _, wj := range ordered {
		if !wj.Filters.Runs(x.Pipeline.Branch, x.Pipeline.Tag) || slices.ContainsFunc(wj.Requires, func(r string) bool { return left[r] }) {
			left[wj.Name] = true
			continue
		}
		j, err := x.Job(wj)
		if err != nil {
			return nil, fmt.Errorf("workflow %s, job %s: %w", name, wj.Name, err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// Runs decides the named workflow's when and unless with the pipeline's values: whether
// CircleCI would run it at all.
func (x *Expander) Runs(name string) (bool, error) {
	w, ok := x.Config.Workflows[name]
	if !ok {
		return false, fmt.Errorf("no workflow %q", name)
	}
	for _, c := range []struct {
		key  string
		cond any
		want bool
	}{{"when", w.When, true}, {"unless", w.Unless, false}} {
		if c.cond == nil {
			continue
		}
		v, err := substitute(c.cond, x.pipelineScope())
		if err != nil {
			return false, fmt.Errorf("workflow %s: %s: %w", name, c.key, err)
		}
		b, err := evalCondition(v)
		if err != nil {
			return false, fmt.Errorf("workflow %s: %s: %w", name, c.key, err)
		}
		if b != c.want {
			return false, nil
		}
	}
	return true, nil
}

func (x *Expander) pipelineScope() scope {
	defaults := map[string]any{}
	for name, p := range x.Config.Parameters {
		defaults[name] = p.Default
	}
	maps.Copy(defaults, x.Pipeline.Parameters)
	return scope{pipeline: x.Pipeline.values(defaults)}
}

// Job expands one workflow job.
func (x *Expander) Job(wj *WorkflowJob) (*Job, error) {
	job := &Job{Name: wj.Name, Ref: wj.Ref, Requires: wj.Requires, RequiresStatus: wj.RequiresStatus, Contexts: wj.Contexts, Overridden: map[string]any{}}
	if wj.Type == "approval" {
		job.Approval = true
		return job, nil
	}
	top := x.pipelineScope()
	argsV, err := substitute(wj.Args, top)
	if err != nil {
		return nil, err
	}
	def, ns, qname, err := x.lookup("jobs", wj.Ref, namespace{})
	if err != nil {
		return nil, err
	}
	params, err := x.bindComponent(def, ns, qname, argsV.(map[string]any), job)
	if err != nil {
		return nil, err
	}
	job.Params = params
	body, err := substituteBody(def, scope{params: params, pipeline: top.pipeline})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", qname, err)
	}
	if job.Executor, err = x.executor(body, ns, top); err != nil {
		return nil, fmt.Errorf("%s: %w", qname, err)
	}
	job.Environment = maps.Clone(job.Executor.Environment)
	if job.Environment == nil {
		job.Environment = map[string]string{}
	}
	env, err := envMap(body["environment"])
	if err != nil {
		return nil, fmt.Errorf("%s: environment: %w", qname, err)
	}
	maps.Copy(job.Environment, env)
	job.WorkingDirectory = job.Executor.WorkingDirectory
	if wd, ok := body["working_directory"].(string); ok {
		job.WorkingDirectory = wd
	}
	if job.WorkingDirectory == "" {
		job.WorkingDirectory = "~/project"
	}

	pre, err := substitute(anyList(wj.PreSteps), top)
	if err != nil {
		return nil, err
	}
	post, err := substitute(anyList(wj.PostSteps), top)
	if err != nil {
		return nil, err
	}
	for _, part := range []struct {
		steps any
		ns    namespace
		path  []string
	}{{pre, namespace{}, nil}, {body["steps"], ns, nil}, {post, namespace{}, nil}} {
		steps, err := x.steps(part.steps, part.ns, top, part.path, job)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", qname, err)
		}
		job.Steps = append(job.Steps, steps...)
	}
	if len(job.Steps) == 0 {
		return nil, fmt.Errorf("%s has no steps", qname)
	}
	return job, nil
}

func anyList(l []any) any {
	if l == nil {
		return []any{}
	}
	return l
}

// substituteBody substitutes a component's body, leaving its own description and parameter
// declarations as written.
func substituteBody(def map[string]any, sc scope) (map[string]any, error) {
	body := maps.Clone(def)
	delete(body, "parameters")
	delete(body, "description")
	out, err := substitute(body, sc)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// bindComponent binds a job's or command's arguments, applying the Expander's Overrides to
// orb components.
func (x *Expander) bindComponent(def map[string]any, ns namespace, qname string, args map[string]any, job *Job) (map[string]any, error) {
	decls, err := parseParams(def["parameters"], qname)
	if err != nil {
		return nil, err
	}
	params, err := bind(decls, args, qname)
	if err != nil {
		return nil, err
	}
	if ns.orb != nil {
		for name, v := range x.Overrides {
			if old, ok := params[name]; ok {
				if _, seen := job.Overridden[name]; !seen {
					job.Overridden[name] = old
				}
				params[name] = v
			}
		}
	}
	return params, nil
}

// lookup finds a component by name: alias/name in an orb the config imports, a bare name in
// from's namespace (and, for executors named by an argument from the config, the config's).
func (x *Expander) lookup(kind, name string, from namespace) (map[string]any, namespace, string, error) {
	if alias, rest, ok := strings.Cut(name, "/"); ok {
		o, ok := x.Config.Orbs[alias]
		if !ok {
			return nil, namespace{}, "", fmt.Errorf("%s: no orb is imported as %q", name, alias)
		}
		ns := namespace{alias: alias, orb: o}
		c, ok := componentsOf(kind, o, nil)[rest]
		if !ok {
			return nil, namespace{}, "", fmt.Errorf("%s: orb %s has no %s %q (it has %s)", name, x.Config.OrbRefs[alias], singular(kind), rest, strings.Join(sortedKeys(componentsOf(kind, o, nil)), ", "))
		}
		return c, ns, name, nil
	}
	if c, ok := componentsOf(kind, from.orb, x.Config)[name]; ok {
		return c, from, from.qualify(name), nil
	}
	if from.orb != nil && kind == "executors" {
		if c, ok := x.Config.Executors[name]; ok {
			return c, namespace{}, name, nil
		}
	}
	return nil, namespace{}, "", fmt.Errorf("no %s named %q", singular(kind), name)
}

func componentsOf(kind string, o *Orb, c *Config) map[string]map[string]any {
	if o != nil {
		return map[string]map[string]map[string]any{"jobs": o.Jobs, "commands": o.Commands, "executors": o.Executors}[kind]
	}
	return map[string]map[string]map[string]any{"jobs": c.Jobs, "commands": c.Commands, "executors": c.Executors}[kind]
}

func singular(kind string) string { return strings.TrimSuffix(kind, "s") }

// executor resolves where a job runs from its (substituted) body.
func (x *Expander) executor(body map[string]any, ns namespace, top scope) (Executor, error) {
	var e Executor
	src := body
	if ref, ok := body["executor"]; ok {
		name, args := "", map[string]any{}
		switch r := ref.(type) {
		case string:
			name = r
		case map[string]any:
			name, _ = r["name"].(string)
			for k, v := range r {
				if k != "name" {
					args[k] = v
				}
			}
		default:
			return e, fmt.Errorf("executor: a name or a mapping with a name, not %s", kindOf(ref))
		}
		def, ens, qname, err := x.lookup("executors", name, ns)
		if err != nil {
			return e, err
		}
		decls, err := parseParams(def["parameters"], qname)
		if err != nil {
			return e, err
		}
		if e.Params, err = bind(decls, args, qname); err != nil {
			return e, err
		}
		if src, err = substituteBody(def, scope{params: e.Params, pipeline: top.pipeline}); err != nil {
			return e, fmt.Errorf("%s: %w", qname, err)
		}
		e.Ref = ens.qualify(strings.TrimPrefix(name, ens.alias+"/"))
	}
	for _, kind := range []string{"docker", "machine", "macos"} {
		if v, ok := src[kind]; ok {
			if e.Kind != "" {
				return e, fmt.Errorf("an executor has one of docker, machine and macos, not both %s and %s", e.Kind, kind)
			}
			e.Kind = kind
			if images, ok := v.([]any); ok && kind == "docker" && len(images) > 0 {
				if first, ok := images[0].(map[string]any); ok {
					e.Image, _ = first["image"].(string)
				}
			}
		}
	}
	if e.Kind == "" {
		return e, fmt.Errorf("the job has no executor: give it executor:, docker:, machine: or macos:")
	}
	var err error
	if e.Environment, err = envMap(src["environment"]); err != nil {
		return e, fmt.Errorf("executor environment: %w", err)
	}
	e.ResourceClass, _ = src["resource_class"].(string)
	e.Shell, _ = src["shell"].(string)
	e.WorkingDirectory, _ = src["working_directory"].(string)
	// The job's own keys win over its executor's.
	if rc, ok := body["resource_class"].(string); ok {
		e.ResourceClass = rc
	}
	if sh, ok := body["shell"].(string); ok {
		e.Shell = sh
	}
	if e.ResourceClass == "" {
		e.ResourceClass = "medium"
	}
	return e, nil
}

// maxDepth bounds commands calling commands, to catch a command that calls itself.
const maxDepth = 20

// steps expands a (substituted) steps list in namespace ns.
func (x *Expander) steps(v any, ns namespace, top scope, path []string, job *Job) ([]Step, error) {
	if len(path) > maxDepth {
		return nil, fmt.Errorf("commands nest deeper than %d: %s", maxDepth, strings.Join(path, " → "))
	}
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("steps: a list, not %s", kindOf(v))
	}
	var out []Step
	for _, item := range list {
		if nested, ok := item.([]any); ok { // a steps parameter substituted in place
			steps, err := x.steps(nested, ns, top, path, job)
			if err != nil {
				return nil, err
			}
			out = append(out, steps...)
			continue
		}
		name, arg, err := stepHead(item)
		if err != nil {
			return nil, err
		}
		steps, err := x.step(name, arg, ns, top, path, job)
		if err != nil {
			return nil, err
		}
		out = append(out, steps...)
	}
	return out, nil
}

// stepHead splits a step into its name and argument.
func stepHead(item any) (string, any, error) {
	switch s := item.(type) {
	case string:
		return s, nil, nil
	case map[string]any:
		if len(s) != 1 {
			return "", nil, fmt.Errorf("a step is a mapping with one key, not %d (%s)", len(s), strings.Join(sortedKeys(s), ", "))
		}
		for k, v := range s {
			return k, v, nil
		}
	}
	return "", nil, fmt.Errorf("a step is a name or a mapping, not %s", kindOf(item))
}

func (x *Expander) step(name string, arg any, ns namespace, top scope, path []string, job *Job) ([]Step, error) {
	switch name {
	case "run":
		s, err := runStep(arg)
		if err != nil {
			return nil, err
		}
		s.Path = slices.Clone(path)
		return []Step{s}, nil
	case "when", "unless":
		m, err := mapping(arg, name)
		if err != nil {
			return nil, err
		}
		cond, err := evalCondition(m["condition"])
		if err != nil {
			return nil, fmt.Errorf("%s: condition: %w", name, err)
		}
		if cond == (name == "unless") {
			return nil, nil
		}
		return x.steps(m["steps"], ns, top, path, job)
	case "standin":
		s, err := standInStep(arg)
		if err != nil {
			return nil, err
		}
		s.Path = slices.Clone(path)
		return []Step{s}, nil
	}
	if defaultName, ok := builtinSteps[name]; ok {
		args, err := mapping(arg, name)
		if err != nil {
			return nil, err
		}
		s := Step{Type: name, Name: defaultName, Args: args, When: builtinWhen(name), Path: slices.Clone(path)}
		if n, ok := args["name"].(string); ok {
			s.Name = n
		}
		if w, ok := args["when"]; ok {
			if !slices.Contains(whenKeySteps, name) {
				return nil, fmt.Errorf("%s %q: when is not one of its keys (only run and save_cache take when; %s)", name, s.Name, whenAfterFailure(name))
			}
			if s.When, err = whenValue(w, s.Name); err != nil {
				return nil, err
			}
		}
		return []Step{s}, nil
	}
	def, cns, qname, err := x.lookup("commands", name, ns)
	if err != nil {
		return nil, err
	}
	args, err := mapping(arg, qname)
	if err != nil {
		return nil, err
	}
	params, err := x.bindComponent(def, cns, qname, args, job)
	if err != nil {
		return nil, err
	}
	body, err := substituteBody(def, scope{params: params, pipeline: top.pipeline})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", qname, err)
	}
	steps, err := x.steps(body["steps"], cns, top, append(slices.Clone(path), qname), job)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", qname, err)
	}
	return steps, nil
}

// When a step runs, after CircleCI's rule (configuration reference, "The when attribute",
// https://circleci.com/docs/configuration-reference/#the-when-attribute): steps run one at a
// time until one fails; after that only steps with when: always or on_fail run. run and
// save_cache take a when key (CircleCI's config schema allows it on no other step); and
// "some steps, such as store_artifacts and store_test_results will always run, even if a step
// has failed". Every other step (persist_to_workspace, attach_workspace, checkout, …) runs only
// while the job succeeds, and CircleCI ignores a when written on one
// (https://discuss.circleci.com/t/when-parameter-remains-ignored-for-persist-to-workspace/32042),
// so here it is refused: it would promise what CircleCI does not do.

// whenKeySteps are the built-in steps that take a when key.
var whenKeySteps = []string{"save_cache"}

// builtinWhen is when a built-in step runs without a when key.
func builtinWhen(step string) string {
	if step == "store_test_results" || step == "store_artifacts" {
		return "always"
	}
	return "on_success"
}

// whenAfterFailure says what CircleCI does with a step of this type after a failed step.
func whenAfterFailure(step string) string {
	if builtinWhen(step) == "always" {
		return "CircleCI runs " + step + " after a failed step anyway"
	}
	return "CircleCI runs " + step + " only while no step has failed"
}

// whenValue reads a step's when: on_success, on_fail or always.
func whenValue(v any, step string) (string, error) {
	w, _ := v.(string)
	if !slices.Contains([]string{"on_success", "on_fail", "always"}, w) {
		return "", fmt.Errorf("%q: when: %v is not on_success, on_fail or always", step, v)
	}
	return w, nil
}

// runStep reads a run step: a command string (also its name) or a mapping.
func runStep(arg any) (Step, error) {
	s := Step{Type: "run", When: "on_success"}
	switch a := arg.(type) {
	case string:
		s.Command, s.Name = a, a
		return s, nil
	case map[string]any:
		for k := range a {
			if !slices.Contains(runKeys, k) {
				return s, fmt.Errorf("run: unknown key %q", k)
			}
		}
		var ok bool
		if s.Command, ok = a["command"].(string); !ok {
			return s, fmt.Errorf("run: command must be a string, not %s", kindOf(a["command"]))
		}
		s.Name, _ = a["name"].(string)
		if s.Name == "" {
			s.Name = s.Command
		}
		s.Shell, _ = a["shell"].(string)
		s.WorkDir, _ = a["working_directory"].(string)
		if w, ok := a["when"]; ok {
			var err error
			if s.When, err = whenValue(w, s.Name); err != nil {
				return s, fmt.Errorf("run %w", err)
			}
		}
		if b, _ := a["background"].(bool); b {
			return s, fmt.Errorf("run %q: background steps are not supported here", s.Name)
		}
		env, err := envMap(a["environment"])
		if err != nil {
			return s, fmt.Errorf("run %q: environment: %w", s.Name, err)
		}
		s.Environment = env
		return s, nil
	}
	return s, fmt.Errorf("run: a command string or a mapping, not %s", kindOf(arg))
}

// envMap reads an environment: block, a mapping or a list of KEY=VALUE strings. Values are
// written out as CircleCI does: 3, "" for null, and a boolean as 1 or 0. A << parameters.x >>
// that is the whole value keeps its type, so a boolean parameter arrives as 1 or 0 too, while
// inside a longer string it reads true or false (CircleCI's note on boolean parameters, "Boolean
// values may be returned as a '1' for True and '0' for False", and
// https://github.com/circleci/circleci-docs/issues/5304; the slack orb's scripts test
// [ "$SLACK_PARAM_DEBUG" -eq 1 ] for this reason,
// https://github.com/CircleCI-Public/slack-orb/blob/master/src/scripts/notify.sh). A literal
// true or false in an environment block is a boolean just the same once the config is
// compiled, so it is written 1 or 0 as well.
func envMap(v any) (map[string]string, error) {
	out := map[string]string{}
	switch e := v.(type) {
	case nil:
		return out, nil
	case map[string]any:
		for k, x := range e {
			if !envVarNameRE.MatchString(k) {
				return nil, fmt.Errorf("%q is not an environment variable name", k)
			}
			s, err := envText(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = s
		}
		return out, nil
	case []any:
		for _, x := range e {
			s, ok := x.(string)
			k, val, found := strings.Cut(s, "=")
			if !ok || !found {
				return nil, fmt.Errorf("%v is not KEY=VALUE", x)
			}
			out[k] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("a mapping or a list of KEY=VALUE, not %s", kindOf(v))
}

// envText writes one environment value out: a boolean as 1 or 0, anything else as inside a
// string.
func envText(v any) (string, error) {
	if b, ok := v.(bool); ok {
		if b {
			return "1", nil
		}
		return "0", nil
	}
	return asText(v)
}

// String describes the job in one line, for logs.
func (j *Job) String() string {
	if j.Approval {
		return fmt.Sprintf("%s (approval)", j.Name)
	}
	where := j.Executor.Kind
	if j.Executor.Image != "" {
		where = j.Executor.Image
	}
	s := fmt.Sprintf("%s: %s on %s (%s)", j.Name, j.Ref, where, j.Executor.ResourceClass)
	if len(j.Contexts) > 0 {
		s += ", contexts " + strings.Join(j.Contexts, ", ")
	}
	return s
}

// RunSteps returns the job's run steps.
func (j *Job) RunSteps() []Step {
	var out []Step
	for _, s := range j.Steps {
		if s.Type == "run" {
			out = append(out, s)
		}
	}
	return out
}

// Step returns the job's first step with the given name.
func (j *Job) Step(name string) (Step, bool) {
	for _, s := range j.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}
