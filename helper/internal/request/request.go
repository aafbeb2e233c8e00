// Package request turns what the user typed into a validated trigger request: every refusal
// happens here, before anything is built or sent.
package request

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/expand"
	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/slug"
)

// Ref is a git branch or tag; at most one is set, and neither means the project's default branch.
type Ref struct{ Branch, Tag string }

// Trigger is a request that has passed every check.
type Trigger struct {
	Project      slug.Slug
	Ref          Ref    // what the legacy endpoint runs
	DefinitionID string // set: trigger through pipeline/run
	Config       Ref    // pipeline/run: where the config comes from
	Checkout     Ref    // pipeline/run: what checkout steps fetch
	Params       []params.Param
	// Origins says, for each parameter key, where it came from and how its type was decided;
	// pre-flight retypes only what was inferred.
	Origins map[string]params.Origin
}

// ConfigRef is the ref whose config the pipeline will run: Config for pipeline/run, else Ref.
func (t *Trigger) ConfigRef() Ref {
	if t.UsesRun() {
		return t.Config
	}
	return t.Ref
}

// ProjectParam is a parameter that a structured projects list gives one project; it is merged
// over the shared ones (--param and the rest), replacing one of the same key.
type ProjectParam struct {
	Key, Text string
	Quoted    bool // a quoted scalar: a string as written; plain ones are typed like --param
}

// UsesRun reports whether the request goes to POST /project/{p}/{o}/{r}/pipeline/run.
func (t *Trigger) UsesRun() bool { return t.DefinitionID != "" }

// Input is the raw text of the flags (or their environment variables); empty means not given.
type Input struct {
	Project        string
	Branch, Tag    string
	DefinitionID   string
	ConfigBranch   string
	ConfigTag      string
	CheckoutBranch string
	CheckoutTag    string
	Params         []string // --param, one assignment each
	ParamLines     string   // --parameters: assignments one per line (the orb's multi-line parameter)
	ParamsJSON     string   // --parameters-json
	ParamsFile     string   // --parameters-file
	// ProjectParams are this project's own parameters from a projects list, named in errors
	// by ProjectSource.
	ProjectParams []ProjectParam
	ProjectSource string
	NoExpand      bool
	LookupEnv     func(string) (string, bool)
	ReadFile      func(string) ([]byte, error)
	// HoldsSecret reports whether a value holds the API token (in any form); such a value is
	// refused. nil: nothing is.
	HoldsSecret func(string) bool
}

// New validates in and builds the request, or returns a one-line error with exit code 2.
func New(in Input) (*Trigger, error) {
	v := &validator{in: in}
	t := &Trigger{}
	project := v.expand("--project", in.Project)
	if v.err == nil {
		if project == "" {
			return nil, exitcode.Usagef("--project is required: the slug of the project to trigger, e.g. gh/acme/deploy")
		}
		p, err := slug.Parse(project)
		if err != nil {
			return nil, exitcode.Usagef("--project: %v", err)
		}
		t.Project = p
	}
	t.Ref = v.ref("--branch", in.Branch, "--tag", in.Tag)
	t.DefinitionID = v.expand("--definition-id", in.DefinitionID)
	t.Config = v.ref("--config-branch", in.ConfigBranch, "--config-tag", in.ConfigTag)
	t.Checkout = v.ref("--checkout-branch", in.CheckoutBranch, "--checkout-tag", in.CheckoutTag)
	if v.err != nil {
		return nil, v.err
	}
	if err := t.settleEndpoint(); err != nil {
		return nil, err
	}
	ps, origins, err := collectParams(in)
	if err != nil {
		return nil, err
	}
	t.Params, t.Origins = ps, origins
	if in.HoldsSecret != nil {
		if err := t.refuseSecrets(in.HoldsSecret); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// refuseSecrets refuses a request that would carry the token where others can read it: CircleCI
// shows a pipeline's parameters, branch and tag to everyone who can see the project. The error
// names the field, never the value.
func (t *Trigger) refuseSecrets(holds func(string) bool) error {
	refuse := func(what string) error {
		return exitcode.Usagef("%s holds the API token; CircleCI shows it to everyone who can see the project, so nothing was sent", what)
	}
	if holds(t.Project.String()) {
		return refuse("--project")
	}
	for _, r := range []struct {
		branchFlag, tagFlag string
		ref                 Ref
	}{{"--branch", "--tag", t.Ref}, {"--config-branch", "--config-tag", t.Config}, {"--checkout-branch", "--checkout-tag", t.Checkout}} {
		if holds(r.ref.Branch) {
			return refuse(r.branchFlag)
		}
		if holds(r.ref.Tag) {
			return refuse(r.tagFlag)
		}
	}
	if holds(t.DefinitionID) {
		return refuse("--definition-id")
	}
	for _, p := range t.Params {
		if holds(p.Key) {
			return refuse("a pipeline parameter's name")
		}
		if holds(fmt.Sprint(p.Value)) {
			return refuse(fmt.Sprintf("pipeline parameter %q", p.Key))
		}
	}
	return nil
}

// settleEndpoint decides between the two trigger endpoints and fills pipeline/run's refs.
func (t *Trigger) settleEndpoint() error {
	if !t.UsesRun() {
		if t.Config != (Ref{}) || t.Checkout != (Ref{}) {
			return exitcode.Usagef("--config-branch, --config-tag, --checkout-branch and --checkout-tag need --definition-id (they belong to the pipeline/run endpoint)")
		}
		if t.Project.Standalone() {
			return exitcode.Usagef("--project %s: GitHub App and GitLab projects can only be triggered through the pipeline/run endpoint; pass --definition-id (the pipeline definition's ID from Project Settings > Pipelines)", t.Project)
		}
		return nil
	}
	if !slug.IsUUID(t.DefinitionID) {
		return exitcode.Usagef("--definition-id %q: not a UUID; copy the pipeline definition's ID from Project Settings > Pipelines", t.DefinitionID)
	}
	if t.Config == (Ref{}) {
		t.Config = t.Ref
	}
	if t.Checkout == (Ref{}) {
		t.Checkout = t.Ref
	}
	return nil
}

// collectParams reads the shared parameters, then merges the project's own over them.
func collectParams(in Input) ([]params.Param, map[string]params.Origin, error) {
	opts := params.Options{Expand: !in.NoExpand, Lookup: in.LookupEnv}
	set, err := sharedParams(in, opts)
	if err != nil {
		return nil, nil, err
	}
	own := params.NewSet(opts)
	for _, p := range in.ProjectParams {
		if err := own.AddScalar(in.ProjectSource, p.Key, p.Text, p.Quoted); err != nil {
			return nil, nil, err
		}
	}
	origins := map[string]params.Origin{}
	var out []params.Param
	replaced := map[string]bool{}
	for _, p := range own.Params() {
		replaced[p.Key] = true
	}
	for _, from := range []*params.Set{set, own} {
		for _, p := range from.Params() {
			if from == set && replaced[p.Key] {
				continue
			}
			out = append(out, p)
			origins[p.Key] = from.Origin(p.Key)
		}
	}
	if len(out) > params.MaxParams {
		return nil, nil, exitcode.Usagef("%s: with the shared parameters it gives %d; the API takes at most %d", in.ProjectSource, len(out), params.MaxParams)
	}
	return out, origins, nil
}

func sharedParams(in Input, opts params.Options) (*params.Set, error) {
	set := params.NewSet(opts)
	for _, p := range in.Params {
		if err := set.AddAssignment(p); err != nil {
			return nil, err
		}
	}
	if in.ParamLines != "" {
		if err := set.AddLines(in.ParamLines); err != nil {
			return nil, err
		}
	}
	if in.ParamsJSON != "" {
		if err := set.AddJSON("--parameters-json", []byte(in.ParamsJSON)); err != nil {
			return nil, err
		}
	}
	if in.ParamsFile != "" {
		data, err := in.ReadFile(in.ParamsFile)
		if err != nil {
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err // the path is already named below
			}
			return nil, exitcode.Usagef("--parameters-file %s: %v", in.ParamsFile, err)
		}
		if err := set.AddJSON("--parameters-file "+in.ParamsFile, data); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// validator keeps the first error so the fields can be read in one straight pass.
type validator struct {
	in  Input
	err error
}

func (v *validator) expand(field, value string) string {
	if v.err != nil || value == "" || v.in.NoExpand {
		return value
	}
	out, err := expand.Expand(value, v.in.LookupEnv)
	if err != nil {
		v.err = exitcode.Usagef("%s %q: %v (write $$ for a literal $, or pass --no-expand)", field, value, err)
	}
	return out
}

func (v *validator) ref(branchFlag, branch, tagFlag, tag string) Ref {
	r := Ref{Branch: v.expand(branchFlag, branch), Tag: v.expand(tagFlag, tag)}
	if v.err != nil {
		return Ref{}
	}
	if r.Branch != "" && r.Tag != "" {
		v.err = exitcode.Usagef("%s and %s: give one or neither (neither runs the project's default branch)", branchFlag, tagFlag)
		return Ref{}
	}
	if r.Branch != "" {
		v.err = checkRefName(branchFlag, r.Branch)
	} else if r.Tag != "" {
		v.err = checkRefName(tagFlag, r.Tag)
	}
	return r
}

// checkRefName applies git's rules for ref names (git check-ref-format), so a typo is refused
// here rather than becoming a pipeline that errors downstream.
func checkRefName(flag, name string) error {
	bad := func(why string) error { return exitcode.Usagef("%s %q: %s", flag, name, why) }
	switch {
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case strings.HasPrefix(name, "-"):
		return bad("a git ref cannot start with '-'")
	case strings.HasPrefix(name, "refs/"):
		return bad("give the short name (main, v1.2.3), not refs/…")
	case strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") || strings.HasSuffix(name, ".lock"):
		return bad("a git ref cannot end with '/', '.' or '.lock'")
	case strings.Contains(name, "..") || strings.Contains(name, "@{") || strings.Contains(name, "//") || name == "@":
		return bad("a git ref cannot contain '..', '@{' or '//', nor be '@'")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == ' ' || strings.ContainsRune(`~^:?*[\`, r) {
			return bad(fmt.Sprintf("a git ref cannot contain %q", r))
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return bad("no part of a git ref can start with '.'")
		}
	}
	return nil
}
