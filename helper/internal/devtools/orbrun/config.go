package orbrun

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pipeline is the pipeline a config runs in: the values << pipeline.x >> names.
type Pipeline struct {
	ID       string
	Number   int
	Branch   string // pipeline.git.branch
	Tag      string // pipeline.git.tag
	Revision string // pipeline.git.revision
	GitURL   string // pipeline.project.git_url
	// Parameters are the pipeline parameters its trigger sent, over the config's defaults.
	Parameters map[string]any
}

// values are the pipeline values by name after "pipeline.", plus the config's pipeline
// parameters. CircleCI substitutes them as text.
func (p Pipeline) values(params map[string]any) map[string]any {
	v := map[string]any{
		"id":                p.ID,
		"number":            strconv.Itoa(p.Number),
		"git.branch":        p.Branch,
		"git.tag":           p.Tag,
		"git.revision":      p.Revision,
		"git.base_revision": p.Revision,
		"project.git_url":   p.GitURL,
		"project.type":      "github",
		"trigger_source":    "webhook",
	}
	for name, x := range params {
		v["parameters."+name] = x
	}
	return v
}

// Config is a CircleCI config (an example's usage, or a project's .circleci/*.yml) with the
// orbs it imports.
type Config struct {
	// Setup marks a setup config (setup: true): its jobs may continue the pipeline with
	// another config (pipeline.go).
	Setup      bool
	Orbs       map[string]*Orb   // by alias
	OrbRefs    map[string]string // by alias: the reference as written, e.g. baton-ci/baton@1.0, or "inline"
	Jobs       map[string]map[string]any
	Commands   map[string]map[string]any
	Executors  map[string]map[string]any
	Parameters map[string]Param // pipeline parameters
	Workflows  map[string]*Workflow
}

// Workflow is one workflow of a config.
type Workflow struct {
	Name string
	// When and Unless are the workflow's conditions as written (nil when absent), decided
	// once the pipeline's values are known (Runs).
	When, Unless any
	Jobs         []*WorkflowJob // as declared
}

// WorkflowJob is one entry of a workflow's jobs list.
type WorkflowJob struct {
	Name     string // its name in the workflow: name:, else the job reference
	Ref      string // the job it runs, e.g. build or baton/trigger-pipeline
	Type     string // "approval" or ""
	Requires []string
	// RequiresStatus: for a requirement written {job: status} (or a list of statuses), the
	// statuses that satisfy it; a plain name needs success.
	RequiresStatus map[string][]string
	Contexts       []string
	// Filters say which branches and tags the job runs for (filters.go).
	Filters   Filters
	Args      map[string]any // the job's parameters as written
	PreSteps  []any
	PostSteps []any
}

// OrbResolver finds the orb an orbs: entry of a config names (e.g. baton-ci/baton@1.0).
type OrbResolver func(ref string) (*Orb, error)

// invocationKeys are the keys of a workflow's job entry that are not job parameters.
var invocationKeys = []string{"name", "requires", "context", "filters", "type", "matrix", "pre-steps", "post-steps", "serial-group", "override-with"}

// ParseConfig reads a config, resolving the orbs it imports with resolve.
func ParseConfig(doc map[string]any, resolve OrbResolver) (*Config, error) {
	c := &Config{Orbs: map[string]*Orb{}, OrbRefs: map[string]string{}, Workflows: map[string]*Workflow{}}
	if v := fmt.Sprint(doc["version"]); v != "2.1" {
		return nil, fmt.Errorf("version %s: configs using orbs need version 2.1", v)
	}
	orbs, err := mapping(doc["orbs"], "orbs")
	if err != nil {
		return nil, err
	}
	c.Setup, _ = doc["setup"].(bool)
	for alias, ref := range orbs {
		switch ref := ref.(type) {
		case string:
			o, err := resolve(ref)
			if err != nil {
				return nil, fmt.Errorf("orbs: %s: %w", alias, err)
			}
			c.Orbs[alias], c.OrbRefs[alias] = o, ref
		case map[string]any: // an inline orb, as the continuation of a setup config carries one
			o, err := orbFromDoc(ref)
			if err != nil {
				return nil, fmt.Errorf("orbs: %s (inline): %w", alias, err)
			}
			c.Orbs[alias], c.OrbRefs[alias] = o, "inline"
		default:
			return nil, fmt.Errorf("orbs: %s: an orb reference (namespace/name@version) or an inline orb, not %s", alias, kindOf(ref))
		}
	}
	for kind, dst := range map[string]*map[string]map[string]any{"jobs": &c.Jobs, "commands": &c.Commands, "executors": &c.Executors} {
		all, err := mapping(doc[kind], kind)
		if err != nil {
			return nil, err
		}
		*dst = map[string]map[string]any{}
		for name, v := range all {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s: a mapping, not %s", kind, name, kindOf(v))
			}
			(*dst)[name] = m
		}
	}
	if c.Parameters, err = parseParams(doc["parameters"], "pipeline"); err != nil {
		return nil, err
	}
	workflows, err := mapping(doc["workflows"], "workflows")
	if err != nil {
		return nil, err
	}
	for name, v := range workflows {
		if name == "version" {
			continue
		}
		w, err := parseWorkflow(name, v)
		if err != nil {
			return nil, err
		}
		c.Workflows[name] = w
	}
	if len(c.Workflows) == 0 {
		return nil, fmt.Errorf("the config has no workflow")
	}
	return c, nil
}

func parseWorkflow(name string, v any) (*Workflow, error) {
	m, err := mapping(v, "workflow "+name)
	if err != nil {
		return nil, err
	}
	list, ok := m["jobs"].([]any)
	if !ok {
		return nil, fmt.Errorf("workflow %s: jobs must be a list", name)
	}
	w := &Workflow{Name: name, When: m["when"], Unless: m["unless"]}
	seen := map[string]bool{}
	for i, entry := range list {
		wj, err := parseWorkflowJob(entry)
		if err != nil {
			return nil, fmt.Errorf("workflow %s, job %d: %w", name, i+1, err)
		}
		if seen[wj.Name] {
			return nil, fmt.Errorf("workflow %s: two jobs are named %s: give them distinct name:s", name, wj.Name)
		}
		seen[wj.Name] = true
		w.Jobs = append(w.Jobs, wj)
	}
	return w, nil
}

func parseWorkflowJob(entry any) (*WorkflowJob, error) {
	if ref, ok := entry.(string); ok {
		return &WorkflowJob{Name: ref, Ref: ref, Args: map[string]any{}}, nil
	}
	m, ok := entry.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, fmt.Errorf("a job entry is a name or a mapping with one key, not %s", kindOf(entry))
	}
	ref := sortedKeys(m)[0]
	body, err := mapping(m[ref], ref)
	if err != nil {
		return nil, err
	}
	wj := &WorkflowJob{Name: ref, Ref: ref, Args: map[string]any{}}
	for k, x := range body {
		if !slices.Contains(invocationKeys, k) {
			wj.Args[k] = x
		}
	}
	if n, ok := body["name"].(string); ok {
		wj.Name = n
	}
	wj.Type, _ = body["type"].(string)
	if wj.Requires, wj.RequiresStatus, err = requiresList(body["requires"]); err != nil {
		return nil, err
	}
	if wj.Contexts, err = stringList(body["context"], "context"); err != nil {
		return nil, err
	}
	if wj.Filters, err = parseFilters(body["filters"]); err != nil {
		return nil, fmt.Errorf("%s: %w", wj.Name, err)
	}
	wj.PreSteps, _ = body["pre-steps"].([]any)
	wj.PostSteps, _ = body["post-steps"].([]any)
	if _, ok := body["matrix"]; ok {
		return nil, fmt.Errorf("%s: matrix jobs are not supported here", ref)
	}
	return wj, nil
}

// stringList reads a string or a list of strings.
func stringList(v any, what string) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s: %v is not a string", what, x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: a string or a list of strings, not %s", what, kindOf(v))
}

// Ordered lists the workflow's jobs so that each comes after the jobs it requires, otherwise
// in the order declared.
func (w *Workflow) Ordered() ([]*WorkflowJob, error) {
	byName := map[string]*WorkflowJob{}
	for _, j := range w.Jobs {
		byName[j.Name] = j
	}
	var out []*WorkflowJob
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(j *WorkflowJob, chain []string) error
	visit = func(j *WorkflowJob, chain []string) error {
		switch state[j.Name] {
		case 1:
			return fmt.Errorf("workflow %s: requires form a cycle: %s", w.Name, strings.Join(append(chain, j.Name), " → "))
		case 2:
			return nil
		}
		state[j.Name] = 1
		for _, r := range j.Requires {
			dep, ok := byName[r]
			if !ok {
				// CircleCI's compiler says it this way (CircleCI-Public/circleci-cli#1077):
				// requires names jobs of the same workflow only, never another workflow's.
				return fmt.Errorf("Job '%s' requires '%s', which is the name of 0 other jobs in workflow '%s'", j.Name, r, w.Name)
			}
			if err := visit(dep, append(chain, j.Name)); err != nil {
				return err
			}
		}
		state[j.Name] = 2
		out = append(out, j)
		return nil
	}
	for _, j := range w.Jobs {
		if err := visit(j, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
