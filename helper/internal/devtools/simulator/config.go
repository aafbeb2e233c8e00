package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config scripts the simulated CircleCI organisation: who may call the API, which projects exist,
// what each project's pipelines do over time, and which faults to inject. It is read from YAML
// (JSON is valid YAML) by ParseConfig or LoadConfig, or built in Go and passed to New.
type Config struct {
	// Tokens are the personal API tokens the simulator accepts, each with the user it stands for.
	Tokens []Token `yaml:"tokens"`
	// Projects are the projects the API knows.
	Projects []Project `yaml:"projects"`
	// PageSize is the number of items per page of every paginated list (default 20).
	PageSize int `yaml:"page_size,omitempty"`
	// RateLimit, when set, answers 429 once more than Requests API calls arrive within Window.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty"`
	// Faults are injected from the start, in order (see Fault).
	Faults []Fault `yaml:"faults,omitempty"`
	// Hostile rewrite answers from the start, as a hostile or broken server would (see Hostile).
	Hostile []Hostile `yaml:"hostile,omitempty"`
	// ClockSkew puts the server's clock ahead (positive) or behind (negative) the clock the
	// simulator is given: its Date headers and every timestamp it reports move with it.
	ClockSkew Duration `yaml:"clock_skew,omitempty"`
}

// Token is an accepted Circle-Token and the user behind it.
type Token struct {
	Token string `yaml:"token"`
	// ID is the user's UUID (default: derived from Login).
	ID string `yaml:"id,omitempty"`
	// Login is the user's VCS login (default "sim-user").
	Login string `yaml:"login,omitempty"`
	// Name is the user's display name (default: Login).
	Name string `yaml:"name,omitempty"`
	// AvatarURL is the user's avatar; empty is answered as null.
	AvatarURL string `yaml:"avatar_url,omitempty"`
	// Projects lists the slugs this token can see; empty means every project.
	Projects []string `yaml:"projects,omitempty"`
}

// Project is one CircleCI project.
type Project struct {
	// Slug is provider/organization/project: gh/acme/api, bb/acme/api, or
	// circleci/ORG_ID/PROJECT_ID for GitHub App and GitLab projects.
	Slug string `yaml:"slug"`
	// DefaultBranch is used when a trigger names neither branch nor tag (default "main").
	DefaultBranch string `yaml:"default_branch,omitempty"`
	// VCSURL is the repository URL reported in a pipeline's vcs object. gh and bb projects
	// default to their GitHub or Bitbucket URL; circleci projects report no vcs without it.
	VCSURL string `yaml:"vcs_url,omitempty"`
	// DefinitionIDs are the pipeline definitions POST .../pipeline/run accepts.
	DefinitionIDs []string `yaml:"definition_ids,omitempty"`
	// FirstNumber is the number of the project's first pipeline (default 1).
	FirstNumber int64 `yaml:"first_number,omitempty"`
	// StartDelay is how long a new pipeline stays pending (setup-pending for dynamic config)
	// before its first workflows appear.
	StartDelay Duration `yaml:"start_delay,omitempty"`
	// CISkipBranches: a run trigger whose checkout branch is listed creates no pipeline and is
	// answered 200 {"message": "Ignoring pipeline due to CI skip in the commit"}.
	CISkipBranches []string `yaml:"ci_skip_branches,omitempty"`
	// Parameters are the pipeline parameters the project's config declares (its setup
	// config's, for a project with a setup workflow), served by GET /pipeline/{id}/config.
	Parameters []Parameter `yaml:"parameters,omitempty"`
	// ContinuationParameters, for a project with a setup workflow, are declared only in its
	// continuation config: a trigger that passes one is refused as undeclared.
	ContinuationParameters []Parameter `yaml:"continuation_parameters,omitempty"`
	// Workflows are what every pipeline of the project runs. Empty: the pipeline is created
	// and runs no workflow at all (as when filters exclude everything).
	Workflows []Workflow `yaml:"workflows,omitempty"`
	// ListLag is how long a new pipeline stays out of the project's pipeline list, as an API
	// whose list is fed by a slower path than GET /pipeline/{id} (see quirks.go).
	ListLag Duration `yaml:"list_lag,omitempty"`
	// TriggerType is the trigger.type reported for pipelines triggered through the API
	// (default "api"); real answers also carry "explicit", "unknown" and others.
	TriggerType string `yaml:"trigger_type,omitempty"`
	// BranchAsRef reports vcs.branch as the full ref, refs/heads/NAME.
	BranchAsRef bool `yaml:"branch_as_ref,omitempty"`
	// External: the project's pipelines are run by a runner outside the simulator, which
	// reports their workflows and jobs and continues their setup configs (continuation.go).
	// Such a project scripts no workflows.
	External bool `yaml:"external,omitempty"`
}

// Parameter is a declared pipeline parameter.
type Parameter struct {
	Name string `yaml:"name"`
	// Type is string, integer, boolean or enum.
	Type string `yaml:"type"`
	// Default is the declared default (optional; checked against Type).
	Default any `yaml:"default,omitempty"`
	// Enum lists the allowed values of an enum parameter.
	Enum []string `yaml:"enum,omitempty"`
}

// Workflow scripts one workflow of a project's pipelines.
type Workflow struct {
	Name string `yaml:"name"`
	// Tag "setup" marks a dynamic-config setup workflow: it runs first, alone, and the
	// project's other workflows appear only once it succeeds.
	Tag string `yaml:"tag,omitempty"`
	// Status is the final status: success (default), failed, error, canceled, unauthorized,
	// not_run or on_hold.
	Status string `yaml:"status,omitempty"`
	// Outcomes, when set, is the final status of each attempt in turn (the original run,
	// then each automatic rerun); the last one repeats. It overrides Status.
	Outcomes []string `yaml:"outcomes,omitempty"`
	// Duration is how long the workflow runs (status running or failing) before it reaches
	// its final status.
	Duration Duration `yaml:"duration,omitempty"`
	// Durations, when set, is the duration in each pipeline in turn (the project's first
	// pipeline takes the first), repeating: runs that vary, for a history worth the name. It
	// overrides Duration.
	Durations []Duration `yaml:"durations,omitempty"`
	// MaxAutoReruns: a failed attempt whose auto_rerun_number is below this is followed by a
	// new workflow of the same name with auto_rerun_number+1.
	MaxAutoReruns int `yaml:"max_auto_reruns,omitempty"`
	// Jobs are the workflow's jobs, listed in this order.
	Jobs []Job `yaml:"jobs,omitempty"`
	// Approved scripts what an on_hold workflow does once its approval jobs on hold have been
	// approved through the API (approvals.go); without it, it succeeds at once.
	Approved *Approved `yaml:"approved,omitempty"`
}

// Approved is how an on_hold workflow goes on after its approval: running for Duration, then
// Status (success by default; failed, error, canceled, …).
type Approved struct {
	Status   string   `yaml:"status,omitempty"`
	Duration Duration `yaml:"duration,omitempty"`
}

// Job scripts one job of a workflow.
type Job struct {
	Name string `yaml:"name"`
	// Type is build (default) or approval.
	Type string `yaml:"type,omitempty"`
	// Status is the job's final status; by default it follows the workflow's outcome
	// (success, failed, canceled, ...; build jobs of an on_hold workflow succeed and its
	// approval jobs are on_hold).
	Status string `yaml:"status,omitempty"`
	// Outcomes, when set, is the final status per attempt, like Workflow.Outcomes.
	Outcomes []string `yaml:"outcomes,omitempty"`
	// Duration is how long the job runs (default: the workflow's duration); a job that
	// fails before the workflow ends makes the workflow "failing" meanwhile.
	Duration Duration `yaml:"duration,omitempty"`
	// Requires names earlier jobs of the same workflow (reported as dependencies).
	Requires []string `yaml:"requires,omitempty"`
	// Tests, Steps and Artifacts are what the job leaves behind once stopped (jobdetail.go).
	Tests     *JobTests     `yaml:"tests,omitempty"`
	Steps     []JobStep     `yaml:"steps,omitempty"`
	Artifacts []JobArtifact `yaml:"artifacts,omitempty"`
}

// RateLimit allows Requests API calls per sliding Window; calls beyond get 429.
type RateLimit struct {
	Requests int      `yaml:"requests"`
	Window   Duration `yaml:"window"`
	// OnlyWhenThrottled sends Retry-After and the RateLimit headers with the 429 answers only,
	// so a client cannot see the limit coming (CircleCI's headers vary by service). By default
	// every answer carries them.
	OnlyWhenThrottled bool `yaml:"only_when_throttled,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("1m30s") in YAML and JSON;
// a bare number means seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads "30s", "1m" or a number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value, n.Kind == yaml.ScalarNode && n.Tag != "!!str")
	if err != nil || n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration; write e.g. 30s or 1m30s", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalJSON reads "30s", "1m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, quoted := string(b), false
	if strings.HasPrefix(s, `"`) {
		if err := jsonUnmarshal(b, &s); err != nil {
			return err
		}
		quoted = true
	}
	v, err := parseDuration(s, !quoted)
	if err != nil {
		return fmt.Errorf("%s is not a duration; write e.g. \"30s\" or \"1m30s\"", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

func parseDuration(s string, numberAllowed bool) (time.Duration, error) {
	if numberAllowed {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
	}
	return time.ParseDuration(s)
}

// LoadConfig reads and validates the config file at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads a YAML (or JSON) config, rejects unknown keys, validates it and fills in
// defaults. Errors are one line and name the offending field, e.g.
// `projects[0].workflows[1].status: "sucess" is not a workflow status; use one of ...`.
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, errors.New("config is empty; it needs at least tokens and projects")
		}
		return Config{}, explainYAMLError(data, err)
	}
	return cfg.normalized()
}

// Validate reports the first problem in c, naming the field.
func (c Config) Validate() error {
	_, err := c.normalized()
	return err
}

var (
	yamlLineRE    = regexp.MustCompile(`line (\d+): (.*)`)
	yamlUnknownRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// explainYAMLError turns yaml's "line N: ..." messages into one line naming the field path.
func explainYAMLError(data []byte, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.ReplaceAll(msg, "\n", `\n`) // keep it one line whatever the values hold
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("config: %s", strings.TrimPrefix(msg, "yaml: "))
	}
	line, _ := strconv.Atoi(m[1])
	detail, field := m[2], ""
	if u := yamlUnknownRE.FindStringSubmatch(detail); u != nil {
		field, detail = u[1], "unknown field"
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return fmt.Errorf("config line %d: %s", line, detail)
	}
	path := pathAtLine(&root, "", line, field)
	if path == "" {
		return fmt.Errorf("config line %d: %s", line, detail)
	}
	if field != "" {
		detail += " (check the spelling, or remove it)"
	}
	return fmt.Errorf("%s: %s (line %d)", path, detail, line)
}

// pathAtLine finds the deepest field path whose key (or scalar value) sits on line; when field
// is given, a key of that name wins.
func pathAtLine(n *yaml.Node, prefix string, line int, field string) string {
	best := ""
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathAtLine(c, prefix, line, field); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := fieldName(k.Value)
			if prefix != "" {
				p = prefix + "." + p
			}
			if deeper := pathAtLine(v, p, line, field); deeper != "" {
				return deeper
			}
			if k.Line == line && (field == "" || strings.ReplaceAll(k.Value, "\n", `\n`) == field) {
				best = p
				if field != "" {
					return best
				}
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if deeper := pathAtLine(c, p, line, field); deeper != "" {
				return deeper
			}
			if c.Kind == yaml.ScalarNode && c.Line == line && field == "" {
				return p
			}
		}
	}
	return best
}

var plainField = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldName is a key as it appears in a field path: quoted unless it is a plain word.
func fieldName(key string) string {
	if plainField.MatchString(key) {
		return key
	}
	return strconv.Quote(key)
}

// The statuses a script may end in.
var (
	workflowFinalStatuses = []string{"success", "failed", "error", "canceled", "unauthorized", "not_run", "on_hold"}
	jobFinalStatuses      = []string{"success", "failed", "canceled", "unauthorized", "not_run", "on_hold", "blocked", "queued", "not_running", "retried", "infrastructure_fail", "timedout", "terminated-unknown"}
	parameterTypes        = []string{"string", "integer", "boolean", "enum"}
	providers             = map[string]string{"gh": "gh", "github": "gh", "bb": "bb", "bitbucket": "bb", "circleci": "circleci"}
)

const defaultPageSize = 20

// normalized validates c and returns a copy with defaults filled in.
func (c Config) normalized() (Config, error) {
	out := c
	if out.PageSize == 0 {
		out.PageSize = defaultPageSize
	}
	if out.PageSize < 0 {
		return Config{}, fmt.Errorf("page_size: %d is negative; use a positive number of items per page", c.PageSize)
	}
	if len(c.Tokens) == 0 {
		return Config{}, errors.New("tokens: at least one token is needed (e.g. tokens: [{token: test-token, login: octocat}])")
	}
	out.Projects = make([]Project, len(c.Projects))
	slugs := map[string]bool{}
	defs := map[string]string{}
	for i, p := range c.Projects {
		np, err := normalizeProject(p, fmt.Sprintf("projects[%d]", i))
		if err != nil {
			return Config{}, err
		}
		if slugs[np.Slug] {
			return Config{}, fmt.Errorf("projects[%d].slug: %q is listed twice", i, p.Slug)
		}
		slugs[np.Slug] = true
		for j, d := range np.DefinitionIDs {
			if other, dup := defs[d]; dup {
				return Config{}, fmt.Errorf("projects[%d].definition_ids[%d]: %s is already a definition of %s", i, j, d, other)
			}
			defs[d] = np.Slug
		}
		out.Projects[i] = np
	}
	out.Tokens = make([]Token, len(c.Tokens))
	seen := map[string]bool{}
	for i, t := range c.Tokens {
		f := fmt.Sprintf("tokens[%d]", i)
		if t.Token == "" {
			return Config{}, fmt.Errorf("%s.token: must not be empty", f)
		}
		if seen[t.Token] {
			return Config{}, fmt.Errorf("%s.token: listed twice", f)
		}
		seen[t.Token] = true
		if t.Login == "" {
			t.Login = "sim-user"
		}
		if t.Name == "" {
			t.Name = t.Login
		}
		if t.ID == "" {
			t.ID = derivedUUID("user/" + t.Login)
		} else if !isUUID(t.ID) {
			return Config{}, fmt.Errorf("%s.id: %q is not a UUID", f, t.ID)
		}
		t.Projects = slices.Clone(t.Projects)
		for j, s := range t.Projects {
			ns, ok := canonicalSlug(s)
			if !ok || !slugs[ns] {
				return Config{}, fmt.Errorf("%s.projects[%d]: %q is not one of the configured projects", f, j, s)
			}
			t.Projects[j] = ns
		}
		out.Tokens[i] = t
	}
	if rl := c.RateLimit; rl != nil {
		if rl.Requests < 1 {
			return Config{}, fmt.Errorf("rate_limit.requests: %d; allow at least 1 request per window", rl.Requests)
		}
		if rl.Window <= 0 {
			return Config{}, errors.New("rate_limit.window: must be a positive duration such as 1s or 1m")
		}
		cp := *rl
		out.RateLimit = &cp
	}
	out.Faults = make([]Fault, len(c.Faults))
	for i, f := range c.Faults {
		nf, err := f.normalized()
		if err != nil {
			return Config{}, fmt.Errorf("faults[%d].%w", i, err)
		}
		out.Faults[i] = nf
	}
	out.Hostile = make([]Hostile, len(c.Hostile))
	for i, h := range c.Hostile {
		nh, err := h.normalized()
		if err != nil {
			return Config{}, fmt.Errorf("hostile[%d].%w", i, err)
		}
		out.Hostile[i] = nh
	}
	return out, nil
}

func normalizeProject(p Project, f string) (Project, error) {
	slug, ok := canonicalSlug(p.Slug)
	if !ok {
		return Project{}, fmt.Errorf("%s.slug: %q is not provider/organization/project with provider gh, github, bb, bitbucket or circleci", f, p.Slug)
	}
	p.Slug = slug
	if err := normalizeQuirks(&p, f); err != nil {
		return Project{}, err
	}
	if p.DefaultBranch == "" {
		p.DefaultBranch = "main"
	}
	if p.FirstNumber == 0 {
		p.FirstNumber = 1
	}
	if p.FirstNumber < 0 {
		return Project{}, fmt.Errorf("%s.first_number: %d is negative", f, p.FirstNumber)
	}
	if p.StartDelay < 0 {
		return Project{}, fmt.Errorf("%s.start_delay: %s is negative", f, p.StartDelay)
	}
	for j, d := range p.DefinitionIDs {
		if !isUUID(d) {
			return Project{}, fmt.Errorf("%s.definition_ids[%d]: %q is not a UUID", f, j, d)
		}
	}
	params := map[string]bool{}
	p.Parameters = slices.Clone(p.Parameters)
	for j := range p.Parameters {
		if err := checkParameter(p.Parameters[j], fmt.Sprintf("%s.parameters[%d]", f, j)); err != nil {
			return Project{}, err
		}
		if params[p.Parameters[j].Name] {
			return Project{}, fmt.Errorf("%s.parameters[%d].name: %q is declared twice", f, j, p.Parameters[j].Name)
		}
		params[p.Parameters[j].Name] = true
	}
	p.ContinuationParameters = slices.Clone(p.ContinuationParameters)
	for j, cp := range p.ContinuationParameters {
		if err := checkParameter(cp, fmt.Sprintf("%s.continuation_parameters[%d]", f, j)); err != nil {
			return Project{}, err
		}
		if params[cp.Name] {
			return Project{}, fmt.Errorf("%s.continuation_parameters[%d].name: %q is declared twice", f, j, cp.Name)
		}
		params[cp.Name] = true
	}
	p.Workflows = slices.Clip(slices.Clone(p.Workflows))
	if len(p.Workflows) == 0 {
		p.Workflows = nil // workflows: [] and no workflows key both mean none
	}
	setup := false
	for j := range p.Workflows {
		wf := fmt.Sprintf("%s.workflows[%d]", f, j)
		w, err := normalizeWorkflow(p.Workflows[j], wf)
		if err != nil {
			return Project{}, err
		}
		if w.Tag == "setup" {
			if setup {
				return Project{}, fmt.Errorf("%s.tag: only one setup workflow per project", wf)
			}
			setup = true
		}
		p.Workflows[j] = w
	}
	if p.External && (len(p.Workflows) > 0 || len(p.ContinuationParameters) > 0 || p.StartDelay != 0) {
		return Project{}, fmt.Errorf("%s.external: an external project's runner decides its workflows; script none (no workflows, continuation_parameters or start_delay)", f)
	}
	if len(p.ContinuationParameters) > 0 && !setup {
		return Project{}, fmt.Errorf("%s.continuation_parameters: only a project with a setup workflow has a continuation config", f)
	}
	return p, nil
}

func checkParameter(p Parameter, f string) error {
	if p.Name == "" {
		return fmt.Errorf("%s.name: must not be empty", f)
	}
	if !slices.Contains(parameterTypes, p.Type) {
		return fmt.Errorf("%s.type: %q is not a parameter type; use one of %s", f, p.Type, strings.Join(parameterTypes, ", "))
	}
	if p.Type == "enum" && len(p.Enum) == 0 {
		return fmt.Errorf("%s.enum: an enum parameter needs its list of allowed values", f)
	}
	if p.Type != "enum" && len(p.Enum) > 0 {
		return fmt.Errorf("%s.enum: only enum parameters take a list of values (type is %s)", f, p.Type)
	}
	if p.Default == nil {
		return nil
	}
	ok := false
	switch d := p.Default.(type) {
	case string:
		ok = p.Type == "string" || (p.Type == "enum" && slices.Contains(p.Enum, d))
	case int, int64, uint64:
		ok = p.Type == "integer"
	case bool:
		ok = p.Type == "boolean"
	}
	if !ok {
		shown := fmt.Sprint(p.Default)
		if d, isString := p.Default.(string); isString {
			shown = strconv.Quote(d)
		}
		return fmt.Errorf("%s.default: %s does not fit type %s", f, shown, p.Type)
	}
	return nil
}

func normalizeWorkflow(w Workflow, f string) (Workflow, error) {
	if w.Name == "" {
		return Workflow{}, fmt.Errorf("%s.name: must not be empty", f)
	}
	if w.Tag != "" && w.Tag != "setup" {
		return Workflow{}, fmt.Errorf("%s.tag: %q; the only workflow tag is setup", f, w.Tag)
	}
	if w.Status == "" {
		w.Status = "success"
	}
	if !slices.Contains(workflowFinalStatuses, w.Status) {
		return Workflow{}, fmt.Errorf("%s.status: %q is not a workflow status; use one of %s", f, w.Status, strings.Join(workflowFinalStatuses, ", "))
	}
	for k, o := range w.Outcomes {
		if !slices.Contains(workflowFinalStatuses, o) {
			return Workflow{}, fmt.Errorf("%s.outcomes[%d]: %q is not a workflow status; use one of %s", f, k, o, strings.Join(workflowFinalStatuses, ", "))
		}
	}
	if w.Duration < 0 {
		return Workflow{}, fmt.Errorf("%s.duration: %s is negative", f, w.Duration)
	}
	shortest := w.Duration
	for k, d := range w.Durations {
		if d < 0 {
			return Workflow{}, fmt.Errorf("%s.durations[%d]: %s is negative", f, k, d)
		}
		if k == 0 || d < shortest {
			shortest = d
		}
	}
	w.Durations = slices.Clone(w.Durations)
	if w.MaxAutoReruns < 0 {
		return Workflow{}, fmt.Errorf("%s.max_auto_reruns: %d is negative", f, w.MaxAutoReruns)
	}
	if len(w.Outcomes) > w.MaxAutoReruns+1 {
		return Workflow{}, fmt.Errorf("%s.outcomes: %d outcomes but at most %d attempts (max_auto_reruns %d)", f, len(w.Outcomes), w.MaxAutoReruns+1, w.MaxAutoReruns)
	}
	w.Outcomes = slices.Clone(w.Outcomes)
	if err := normalizeApproved(&w, f); err != nil {
		return Workflow{}, err
	}
	w.Jobs = slices.Clone(w.Jobs)
	names := map[string]bool{}
	for k := range w.Jobs {
		jf := fmt.Sprintf("%s.jobs[%d]", f, k)
		j := w.Jobs[k]
		if j.Name == "" {
			return Workflow{}, fmt.Errorf("%s.name: must not be empty", jf)
		}
		if names[j.Name] {
			return Workflow{}, fmt.Errorf("%s.name: %q is used twice in this workflow", jf, j.Name)
		}
		if j.Type == "" {
			j.Type = "build"
		}
		if j.Type != "build" && j.Type != "approval" {
			return Workflow{}, fmt.Errorf("%s.type: %q; use build or approval", jf, j.Type)
		}
		if j.Status != "" && !slices.Contains(jobFinalStatuses, j.Status) {
			return Workflow{}, fmt.Errorf("%s.status: %q is not a job status; use one of %s", jf, j.Status, strings.Join(jobFinalStatuses, ", "))
		}
		for m, o := range j.Outcomes {
			if !slices.Contains(jobFinalStatuses, o) {
				return Workflow{}, fmt.Errorf("%s.outcomes[%d]: %q is not a job status; use one of %s", jf, m, o, strings.Join(jobFinalStatuses, ", "))
			}
		}
		if j.Duration < 0 {
			return Workflow{}, fmt.Errorf("%s.duration: %s is negative", jf, j.Duration)
		}
		if j.Duration > shortest {
			return Workflow{}, fmt.Errorf("%s.duration: %s is longer than the workflow's %s", jf, j.Duration, shortest)
		}
		for m, r := range j.Requires {
			if !names[r] {
				return Workflow{}, fmt.Errorf("%s.requires[%d]: %q is not an earlier job of this workflow", jf, m, r)
			}
		}
		j.Requires = slices.Clone(j.Requires)
		j.Outcomes = slices.Clone(j.Outcomes)
		names[j.Name] = true
		w.Jobs[k] = j
	}
	return w, nil
}

// canonicalSlug returns provider/org/project with the provider's short name (github → gh,
// bitbucket → bb), or false when s is not a project slug.
func canonicalSlug(s string) (string, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return "", false
	}
	prov, ok := providers[parts[0]]
	if !ok {
		return "", false
	}
	return prov + "/" + parts[1] + "/" + parts[2], true
}
