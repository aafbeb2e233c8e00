package preflight

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/request"
)

// API is what pre-flight reads through: the client's methods, so every request waits its turn
// in the client's one request budget.
type API interface {
	GetProject(ctx context.Context, slug string) (*circleci.Project, error)
	NewestPipeline(ctx context.Context, slug, branch string, match func(*circleci.Pipeline) bool) (*circleci.Pipeline, error)
	GetPipelineConfig(ctx context.Context, id string) (*circleci.PipelineConfig, error)
}

// Learned is what pre-flight learnt about one project: its declarations, or why it has none.
type Learned struct {
	Decls *Declarations // nil: unknown, and Why says why
	Why   string
}

// Learn finds the config of the project's most recent pipeline on ref (the branch or tag whose
// config a trigger will run), else on its default branch, and reads its declarations. It makes
// two GETs when ref has a pipeline (the list, the config), three for the default branch (the
// project too), four when a named ref has none and the default branch's is used.
func Learn(ctx context.Context, api API, slug string, ref request.Ref) Learned {
	p, where, why := latest(ctx, api, slug, ref)
	if p == nil {
		return Learned{Why: why}
	}
	from := fmt.Sprintf("pipeline #%d on %s", p.Number, where)
	cfg, err := api.GetPipelineConfig(ctx, p.ID)
	if err != nil {
		return Learned{Why: fmt.Sprintf("reading the config of its %s failed: %v", from, err)}
	}
	decls, err := declarations(cfg)
	if err != nil {
		return Learned{Why: fmt.Sprintf("the config of its %s: %v", from, err)}
	}
	decls.From = from
	decls.Borrowed = ref != (request.Ref{}) && strings.HasSuffix(where, ", the default branch")
	return Learned{Decls: decls}
}

// latest is the project's newest pipeline on ref, else on its default branch, and the ref it
// ran on; or nil and why there is none.
func latest(ctx context.Context, api API, slug string, ref request.Ref) (*circleci.Pipeline, string, string) {
	switch {
	case ref.Branch != "":
		p, err := newest(ctx, api, slug, ref.Branch, "")
		if err != nil {
			return nil, "", err.Error()
		}
		if p != nil {
			return p, "branch " + show(ref.Branch), ""
		}
	case ref.Tag != "":
		p, err := newest(ctx, api, slug, "", ref.Tag)
		if err != nil {
			return nil, "", err.Error()
		}
		if p != nil {
			return p, "tag " + show(ref.Tag), ""
		}
	}
	var proj *circleci.Project
	var early *circleci.Pipeline // the default branch's newest, when read alongside the project
	var err error
	if ref == (request.Ref{}) {
		proj, early, err = projectAndNewest(ctx, api, slug)
	} else {
		proj, err = api.GetProject(ctx, slug)
	}
	if err != nil {
		return nil, "", fmt.Sprintf("reading the project failed: %v", err)
	}
	def := proj.VCSInfo.DefaultBranch
	none := "no earlier pipeline on " + named(ref)
	shown := show(def) // the server's text
	switch {
	case def == "":
		return nil, "", none + ", and the project names no default branch"
	case ref.Branch == def:
		return nil, "", none
	}
	if ref != (request.Ref{}) {
		none += " or on the default branch " + shown
	} else {
		none = "no earlier pipeline on the default branch " + shown
	}
	p := early
	if p == nil {
		p, err = newest(ctx, api, slug, def, "")
	}
	switch {
	case err != nil:
		return nil, "", err.Error()
	case p == nil:
		return nil, "", none
	}
	return p, "branch " + shown + ", the default branch", ""
}

// projectAndNewest reads the project and, at the same time, the newest pipelines of all its
// branches, and returns the project and the newest of those on its default branch: nil when the
// list could not be read or none of its first page is on the default branch, and the caller
// asks for that branch's list. For a trigger of the default branch this overlaps the two reads
// instead of making the list wait for the project to name its default branch: one round trip
// less. HTTP/1.1 carries one request at a time on a connection and Go does not pipeline them,
// so the two take two connections, which the config read and the trigger then reuse. Against
// CircleCI that saves a round trip for a second TLS handshake made at the same time; on
// loopback, where a round trip costs less than a connection, the trigger measured the same
// (interleaved, 400 runs each).
func projectAndNewest(ctx context.Context, api API, slug string) (*circleci.Project, *circleci.Pipeline, error) {
	type read struct {
		proj *circleci.Project
		err  error
	}
	projc := make(chan read, 1)
	go func() {
		proj, err := api.GetProject(ctx, slug)
		projc <- read{proj, err}
	}()
	var project read
	waited := false
	wait := func() read { // the list's items are matched once the project names its default branch
		if !waited {
			project, waited = <-projc, true
		}
		return project
	}
	p, listErr := api.NewestPipeline(ctx, slug, "", func(p *circleci.Pipeline) bool {
		def := ""
		if r := wait(); r.err == nil {
			def = r.proj.VCSInfo.DefaultBranch
		}
		return def != "" && p.VCS != nil && strings.TrimPrefix(p.VCS.Branch, "refs/heads/") == def
	})
	if r := wait(); r.err != nil {
		return nil, nil, r.err
	}
	if listErr != nil {
		p = nil // the default branch's own list is asked for, and says what is wrong
	}
	return project.proj, p, nil
}

// newest is the first pipeline of the project's list on branch (or with tag, from the list of
// all branches), or nil. Only the first page is read: the list is newest first.
func newest(ctx context.Context, api API, slug, branch, tag string) (*circleci.Pipeline, error) {
	p, err := api.NewestPipeline(ctx, slug, branch, func(p *circleci.Pipeline) bool {
		if tag != "" {
			return p.VCS != nil && p.VCS.Tag == tag
		}
		// the list was asked for this branch; a pipeline that shows none is on it too
		return p.VCS == nil || p.VCS.Branch == "" || strings.TrimPrefix(p.VCS.Branch, "refs/heads/") == branch
	})
	if err != nil {
		return nil, fmt.Errorf("listing its pipelines failed: %w", err)
	}
	return p, nil
}

func named(ref request.Ref) string {
	switch {
	case ref.Branch != "":
		return "branch " + show(ref.Branch)
	case ref.Tag != "":
		return "tag " + show(ref.Tag)
	}
	return "the default branch"
}

// declarations reads the trigger's declarations from a pipeline's config: the config itself, or
// for a setup workflow the setup config (setup: true), whose parameters are what a trigger
// passes; the continuation's own are kept apart.
func declarations(cfg *circleci.PipelineConfig) (*Declarations, error) {
	if strings.TrimSpace(cfg.Source) == "" && strings.TrimSpace(cfg.SetupConfig) == "" {
		return nil, fmt.Errorf("it has no config source")
	}
	var source, setup *Config
	var err error
	if strings.TrimSpace(cfg.Source) != "" {
		if source, err = Parse(cfg.Source); err != nil && cfg.SetupConfig == "" {
			return nil, err
		}
	}
	if cfg.SetupConfig != "" {
		if setup, err = Parse(cfg.SetupConfig); err != nil {
			return nil, fmt.Errorf("its setup config: %w", err)
		}
	}
	switch {
	case setup == nil:
		return &Declarations{Params: source.Params}, nil
	case source == nil:
		return &Declarations{Params: setup.Params}, nil
	case source.Setup && !setup.Setup: // the two the other way round
		source, setup = setup, source
	}
	d := &Declarations{Params: setup.Params, Continuation: map[string]Param{}}
	for name, p := range source.Params {
		if _, ok := setup.Params[name]; !ok {
			d.Continuation[name] = p
		}
	}
	return d, nil
}

// Result is what pre-flight learnt and decided for one trigger. A trigger without parameters
// is not checked: Checked is false and the rest empty.
type Result struct {
	Learned
	Decision
	Checked bool
}

// CheckAll learns the declarations for every trigger that has parameters, at most parallel at
// once (a project and config ref named twice is learnt once), and checks each trigger against
// its own project's.
func CheckAll(ctx context.Context, api API, triggers []*request.Trigger, parallel int) []Result {
	type key struct {
		project string // slug.Key
		ref     request.Ref
	}
	keyOf := func(t *request.Trigger) key { return key{t.Project.Key(), t.ConfigRef()} }
	type learning struct {
		slug    string
		ref     request.Ref
		learned Learned
	}
	todo := map[key]*learning{}
	var order []*learning
	for _, t := range triggers {
		if len(t.Params) > 0 && todo[keyOf(t)] == nil {
			l := &learning{slug: t.Project.String(), ref: t.ConfigRef()}
			todo[keyOf(t)] = l
			order = append(order, l)
		}
	}
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for _, l := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			l.learned = Learn(ctx, api, l.slug, l.ref)
		}()
	}
	wg.Wait()
	results := make([]Result, len(triggers))
	for i, t := range triggers {
		if len(t.Params) == 0 {
			continue
		}
		l := todo[keyOf(t)].learned
		results[i] = Result{Learned: l, Checked: true}
		if l.Decls == nil {
			results[i].Params = t.Params
			results[i].Unknown = []string{fmt.Sprintf("%s: cannot check the parameters: %s", t.Project, l.Why)}
			continue
		}
		results[i].Decision = Check(t.Project.String(), t.Params, t.Origins, l.Decls)
	}
	return results
}
