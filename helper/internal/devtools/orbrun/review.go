package orbrun

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Finding is one review rule an orb source breaks.
type Finding struct {
	Rule    string // RC001…RC012 are orb-tools' review rules; BT… are this project's
	File    string // relative to the source directory
	Message string
}

func (f Finding) String() string { return f.Rule + " " + f.File + ": " + f.Message }

// MaxCommandLength is orb-tools' default for RC009: longer run commands belong in a script.
const MaxCommandLength = 64

// Review checks an orb source directory against orb-tools' review rules (RC001–RC005,
// RC008–RC010 for parameter keys, RC012; RC006 and RC007 need the network, RC011 a release
// version: scripts/pack-orb.sh checks it) and this project's own (BT…).
func Review(dir string) ([]Finding, error) {
	src, err := readSource(dir)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, rule := range []func(*source) []Finding{
		reviewOrbYML, reviewDescriptions, reviewExamples, reviewRunSteps, reviewParameters,
		reviewScripts, reviewFileNames,
	} {
		out = append(out, rule(src)...)
	}
	return out, nil
}

// source is an orb source directory, file by file.
type source struct {
	dir        string
	orb        map[string]any            // @orb.yml
	components map[string]map[string]any // by path relative to dir: commands/x.yml, …
	scripts    map[string]string         // scripts/x.sh → contents
}

func readSource(dir string) (*source, error) {
	s := &source{dir: dir, components: map[string]map[string]any{}, scripts: map[string]string{}}
	data, err := os.ReadFile(filepath.Join(dir, "@orb.yml"))
	if err != nil {
		return nil, err
	}
	v, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("@orb.yml: %w", err)
	}
	if s.orb, err = mapping(v, "@orb.yml"); err != nil {
		return nil, err
	}
	for _, kind := range componentDirs {
		files, _ := filepath.Glob(filepath.Join(dir, kind, "*"))
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			v, err := decodeYAML(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			m, err := mapping(v, rel)
			if err != nil {
				return nil, err
			}
			s.components[rel] = m
		}
	}
	scripts, _ := filepath.Glob(filepath.Join(dir, "scripts", "*"))
	for _, f := range scripts {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s.scripts["scripts/"+filepath.Base(f)] = string(data)
	}
	return s, nil
}

// of lists the components of some kinds, in path order.
func (s *source) of(kinds ...string) []string {
	var out []string
	for _, p := range sortedKeys(s.components) {
		if slices.Contains(kinds, filepath.Dir(p)) {
			out = append(out, p)
		}
	}
	return out
}

// RC001 and RC005: @orb.yml has a source_url and a detailed description. BT001: and a
// home_url, and nothing but version, description and display.
func reviewOrbYML(s *source) []Finding {
	var out []Finding
	display, _ := s.orb["display"].(map[string]any)
	if u, _ := display["source_url"].(string); u == "" {
		out = append(out, Finding{"RC001", "@orb.yml", "set display.source_url"})
	}
	if u, _ := display["home_url"].(string); u == "" {
		out = append(out, Finding{"BT001", "@orb.yml", "set display.home_url"})
	}
	if d, _ := s.orb["description"].(string); len(d) < 64 {
		out = append(out, Finding{"RC005", "@orb.yml", fmt.Sprintf("the description has %d characters; write at least 64 saying what the orb is for", len(d))})
	}
	for k := range s.orb {
		if !slices.Contains([]string{"version", "description", "display"}, k) {
			out = append(out, Finding{"BT001", "@orb.yml", fmt.Sprintf("%s belongs in its own directory, not in @orb.yml", k)})
		}
	}
	if v := fmt.Sprint(s.orb["version"]); v != "2.1" {
		out = append(out, Finding{"BT001", "@orb.yml", "version must be 2.1, not " + v})
	}
	return out
}

// RC002: every component has a description.
func reviewDescriptions(s *source) []Finding {
	var out []Finding
	for _, p := range s.of(componentDirs...) {
		if d, _ := s.components[p]["description"].(string); strings.TrimSpace(d) == "" {
			out = append(out, Finding{"RC002", p, "the component has no description"})
		}
	}
	return out
}

// RC003 and RC004: usage examples exist and are named for what they show. BT002: each is a
// complete config (version 2.1, orbs, workflows) that `circleci orb pack` keeps whole.
func reviewExamples(s *source) []Finding {
	var out []Finding
	examples := s.of("examples")
	if len(examples) == 0 {
		out = append(out, Finding{"RC003", "examples/", "add at least one usage example"})
	}
	refs := map[string]bool{}
	for _, p := range examples {
		if strings.Contains(filepath.Base(p), "example") {
			out = append(out, Finding{"RC004", p, "name the example for its use case, without the word example"})
		}
		e := s.components[p]
		for k := range e {
			if k != "description" && k != "usage" {
				out = append(out, Finding{"BT002", p, fmt.Sprintf("an example has description and usage only, not %s", k)})
			}
		}
		usage, _ := e["usage"].(map[string]any)
		if fmt.Sprint(usage["version"]) != "2.1" {
			out = append(out, Finding{"BT002", p, "usage must be a complete config with version: 2.1"})
		}
		for k := range usage {
			// The keys circleci orb pack keeps (cmd/orb.go ExampleUsageSchema); others vanish.
			if !slices.Contains([]string{"version", "setup", "orbs", "jobs", "workflows"}, k) {
				out = append(out, Finding{"BT002", p, fmt.Sprintf("circleci orb pack drops usage.%s: define it in jobs instead", k)})
			}
		}
		if _, ok := usage["workflows"].(map[string]any); !ok {
			out = append(out, Finding{"BT002", p, "usage has no workflows"})
		}
		orbs, _ := usage["orbs"].(map[string]any)
		ref, _ := orbs["baton"].(string)
		if !regexp.MustCompile(`^baton-ci/baton@\d+\.\d+$`).MatchString(ref) {
			out = append(out, Finding{"BT002", p, fmt.Sprintf("import the orb as baton: baton-ci/baton@MAJOR.MINOR, not %q", ref)})
		}
		refs[ref] = true
	}
	if len(refs) > 1 {
		out = append(out, Finding{"RC011", "examples/", fmt.Sprintf("the examples show different versions of the orb: %s", strings.Join(sortedKeys(refs), ", "))})
	}
	return out
}

// RC008 and RC009: every run step is a mapping with a name, and a long command is an
// include. BT003: every run command is exactly one include of a script in scripts/.
func reviewRunSteps(s *source) []Finding {
	var out []Finding
	for _, p := range s.of("commands", "jobs") {
		walkRuns(s.components[p]["steps"], func(run any) {
			m, ok := run.(map[string]any)
			if !ok {
				out = append(out, Finding{"RC008", p, fmt.Sprintf("run step %q: write it as a mapping with name and command", run)})
				return
			}
			if n, _ := m["name"].(string); strings.TrimSpace(n) == "" {
				out = append(out, Finding{"RC008", p, fmt.Sprintf("run step %q has no name", m["command"])})
			}
			cmd, _ := m["command"].(string)
			if len(cmd) > MaxCommandLength && !strings.HasPrefix(cmd, "<<include(") {
				out = append(out, Finding{"RC009", p, fmt.Sprintf("a %d-character command: move it to scripts/ and <<include(…)>> it", len(cmd))})
			}
			m2 := regexp.MustCompile(`^<<include\((scripts/[a-z0-9-]+\.sh)\)>>$`).FindStringSubmatch(cmd)
			switch {
			case m2 == nil:
				out = append(out, Finding{"BT003", p, fmt.Sprintf("run command %q: make it exactly <<include(scripts/NAME.sh)>>", cmd)})
			case s.scripts[m2[1]] == "":
				out = append(out, Finding{"BT003", p, fmt.Sprintf("%s includes %s, which does not exist", m["name"], m2[1])})
			}
		})
	}
	return out
}

// walkRuns calls f with the argument of every run step, however deeply nested in when/unless.
func walkRuns(v any, f func(any)) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			walkRuns(x, f)
		}
	case map[string]any:
		for k, x := range v {
			if k == "run" {
				f(x)
				continue
			}
			walkRuns(x, f)
		}
	}
}

var (
	paramRefRE  = regexp.MustCompile(`<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>`)
	snakeCaseRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

// RC010 (parameter keys; component names are kebab-case by design): parameter keys are
// snake_case. RC012: a default naming an environment variable is not used in a key. BT004:
// every parameter has a description and a real type, and is used; every reference is
// declared. BT005: a job or command wrapping a command passes every parameter of it through
// unchanged, and parameters of the same name mean the same everywhere.
func reviewParameters(s *source) []Finding {
	var out []Finding
	type decl struct {
		file string
		p    Param
	}
	byName := map[string][]decl{}
	for _, p := range s.of("commands", "jobs", "executors") {
		c := s.components[p]
		params, err := parseParams(c["parameters"], p)
		if err != nil {
			out = append(out, Finding{"BT004", p, err.Error()})
			continue
		}
		body := map[string]any{}
		for k, v := range c {
			if k != "parameters" && k != "description" {
				body[k] = v
			}
		}
		used := map[string]bool{}
		walkStrings(body, func(str string, isKey bool) {
			for _, m := range paramRefRE.FindAllStringSubmatch(str, -1) {
				used[m[1]] = true
				if _, ok := params[m[1]]; !ok {
					out = append(out, Finding{"BT004", p, fmt.Sprintf("<< parameters.%s >> is not declared", m[1])})
				}
				if d, ok := params[m[1]].Default.(string); ok && isKey && strings.Contains(strings.TrimSuffix(d, "$"), "$") {
					out = append(out, Finding{"RC012", p, fmt.Sprintf("parameter %s defaults to an environment variable (%s) and is used in a key", m[1], d)})
				}
			}
		})
		for _, name := range sortedKeys(params) {
			q := params[name]
			if !snakeCaseRE.MatchString(name) {
				out = append(out, Finding{"RC010", p, fmt.Sprintf("parameter key %s: use snake_case", name)})
			}
			if strings.TrimSpace(q.Description) == "" {
				out = append(out, Finding{"BT004", p, fmt.Sprintf("parameter %s has no description", name)})
			}
			if !q.HasDefault && q.Type != "executor" && q.Type != "steps" {
				// Allowed, but every parameter of this orb has a default the CLI accepts.
				out = append(out, Finding{"BT004", p, fmt.Sprintf("parameter %s has no default", name)})
			}
			if !used[name] {
				out = append(out, Finding{"BT004", p, fmt.Sprintf("parameter %s is declared but never used", name)})
			}
			if filepath.Dir(p) != "executors" { // an executor's tag is its image's
				byName[name] = append(byName[name], decl{p, q})
			}
		}
		out = append(out, reviewPassThrough(s, p, params)...)
	}
	for _, name := range sortedKeys(byName) {
		ds := byName[name]
		for _, d := range ds[1:] {
			a, b := ds[0], d
			// step_name is each command's own step's name, so only its default differs.
			sameDefault := fmt.Sprint(a.p.Default) == fmt.Sprint(b.p.Default) || name == "step_name"
			if a.p.Type != b.p.Type || !sameDefault || !slices.Equal(a.p.Enum, b.p.Enum) {
				out = append(out, Finding{"BT005", b.file, fmt.Sprintf("parameter %s is %s %v here but %s %v in %s", name, b.p.Type, b.p.Default, a.p.Type, a.p.Default, a.file)})
			}
		}
	}
	return out
}

// reviewPassThrough checks that a component's calls of this orb's commands pass each of the
// command's parameters that the caller also declares as << parameters.same_name >>.
func reviewPassThrough(s *source, file string, params map[string]Param) []Finding {
	var out []Finding
	var visit func(v any)
	visit = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				visit(x)
			}
		case map[string]any:
			for k, x := range v {
				cmd, ok := s.components["commands/"+k+".yml"]
				if !ok {
					visit(x)
					continue
				}
				args, _ := x.(map[string]any)
				cparams, _ := parseParams(cmd["parameters"], k)
				for name := range cparams {
					if _, mine := params[name]; !mine {
						continue
					}
					if want := "<< parameters." + name + " >>"; args[name] != want {
						out = append(out, Finding{"BT005", file, fmt.Sprintf("calls %s without passing %s: write %s: %s", k, name, name, want)})
					}
				}
			}
		}
	}
	visit(s.components[file]["steps"])
	return out
}

// walkStrings calls f on every string in v, keys included.
func walkStrings(v any, f func(s string, isKey bool)) {
	switch v := v.(type) {
	case string:
		f(v, false)
	case []any:
		for _, x := range v {
			walkStrings(x, f)
		}
	case map[string]any:
		for k, x := range v {
			f(k, true)
			walkStrings(x, f)
		}
	}
}

// BT006: scripts are bash that lints and runs on its own: a bash shebang, no << (CircleCI
// would read it as its own syntax), no eval, and a guard so that sourcing only defines the
// functions. Each script is included by some component.
func reviewScripts(s *source) []Finding {
	var out []Finding
	included := map[string]bool{}
	for _, p := range s.of("commands", "jobs", "executors") {
		walkStrings(s.components[p], func(str string, _ bool) {
			for _, m := range includeRE.FindAllStringSubmatch(str, -1) {
				included[m[1]] = true
			}
		})
	}
	evalRE := regexp.MustCompile(`(^|[\s;&|(])eval\s`)
	for _, p := range sortedKeys(s.scripts) {
		body := s.scripts[p]
		if !strings.HasSuffix(p, ".sh") {
			out = append(out, Finding{"BT006", p, "scripts/ holds .sh scripts only"})
			continue
		}
		if !strings.HasPrefix(body, "#!/usr/bin/env bash\n") {
			out = append(out, Finding{"BT006", p, "start it with #!/usr/bin/env bash"})
		}
		if strings.Contains(body, "<<") {
			out = append(out, Finding{"BT006", p, "it contains <<, which CircleCI reads as its own syntax: no heredocs or here-strings"})
		}
		if evalRE.MatchString(body) {
			out = append(out, Finding{"BT006", p, "it uses eval"})
		}
		if !strings.Contains(body, `"${BASH_SOURCE[0]}" = "$0"`) {
			out = append(out, Finding{"BT006", p, `guard the call of its main function with if [ -z "${BASH_SOURCE[0]:-}" ] || [ "${BASH_SOURCE[0]}" = "$0" ], so that tests can source it`})
		}
		if !included[p] {
			out = append(out, Finding{"BT006", p, "no component includes it"})
		}
	}
	return out
}

// BT007: components are named in kebab-case, one per file.
func reviewFileNames(s *source) []Finding {
	var out []Finding
	kebab := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*\.yml$`)
	for _, p := range s.of(componentDirs...) {
		if !kebab.MatchString(filepath.Base(p)) {
			out = append(out, Finding{"BT007", p, "name components in kebab-case, with .yml"})
		}
	}
	return out
}

// ReviewOptions are orb-tools/review's parameters that change what it checks.
type ReviewOptions struct {
	Exclude []string // RC codes not to check
	OrbName string   // the orb's name in its examples' orbs: (RC011 needs it)
	Tag     string   // $CIRCLE_TAG (RC011 runs on release tags only)
}

var releaseTagRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// ReviewRC is what orb-tools/review (v12) reports about an orb source: its RC rules only (the
// BT rules are this project's, checked by make test), with the same scope as its review.bats:
//   - RC010 covers component file names too: orb-tools wants them snake_case;
//   - RC011 compares the examples' major version of the orb with a release tag's, only when
//     OrbName is set and Tag is a release tag;
//   - RC006 and RC007 fetch source_url and home_url and want 200; with no network here, they
//     only check that the URLs are http(s) URLs with a host.
//
// One difference: orb-tools' RC004 searches a path that never matches and so never fails;
// here it checks the example names as it means to.
func ReviewRC(dir string, o ReviewOptions) ([]Finding, error) {
	all, err := Review(dir)
	if err != nil {
		return nil, err
	}
	src, err := readSource(dir)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, f := range all {
		if strings.HasPrefix(f.Rule, "RC") && f.Rule != "RC011" {
			out = append(out, f)
		}
	}
	for _, p := range src.of("commands", "jobs", "executors") {
		if strings.Contains(filepath.Base(p), "-") {
			out = append(out, Finding{"RC010", p, "component names should be snake_cased: rename the file"})
		}
	}
	display, _ := src.orb["display"].(map[string]any)
	for rule, key := range map[string]string{"RC006": "source_url", "RC007": "home_url"} {
		u, _ := display[key].(string)
		if u == "" && rule == "RC007" {
			continue // orb-tools skips RC007 without a home_url
		}
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			out = append(out, Finding{rule, "@orb.yml", fmt.Sprintf("display.%s %q is not reachable", key, u)})
		}
	}
	if o.OrbName != "" && releaseTagRE.MatchString(o.Tag) {
		major := strings.SplitN(strings.TrimPrefix(o.Tag, "v"), ".", 2)[0]
		for _, p := range src.of("examples") {
			usage, _ := src.components[p]["usage"].(map[string]any)
			orbs, _ := usage["orbs"].(map[string]any)
			ref, _ := orbs[o.OrbName].(string)
			_, version, _ := strings.Cut(ref, "@")
			if strings.SplitN(version, ".", 2)[0] != major {
				out = append(out, Finding{"RC011", p, fmt.Sprintf("the example shows version %q of the orb; the release is major version %s", version, major)})
			}
		}
	}
	out = slices.DeleteFunc(out, func(f Finding) bool { return slices.Contains(o.Exclude, f.Rule) })
	slices.SortStableFunc(out, func(a, b Finding) int { return strings.Compare(a.Rule+a.File, b.Rule+b.File) })
	return out, nil
}
