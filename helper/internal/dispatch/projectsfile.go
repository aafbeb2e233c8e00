package dispatch

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/request"
)

// Structured reports whether a projects list is YAML or JSON entries rather than lines: its
// first entry starts with '-', '[' or '{' (no slug does), or it opens with "projects:".
func Structured(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return strings.HasPrefix(line, "-") || strings.HasPrefix(line, "[") || strings.HasPrefix(line, "{") ||
			strings.HasPrefix(line, "projects:")
	}
	return false
}

// parseStructured reads a structured projects list (YAML, of which JSON is a part):
//
//   - slug: gh/acme/api          # required
//     branch: main               # or tag: v1.2.3; neither: the default branch
//     parameters:                # this project's own, merged over the shared ones
//     replicas: 3              # plain values are typed like --param (and by pre-flight)
//     version: "3"             # quoted values are strings as written
//   - gh/acme/web main           # an entry may also be a line of the plain format
//
// optionally under a top-level "projects:" key. Anchors and aliases work; errors name the line.
func parseStructured(source, text string) ([]ProjectLine, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, exitcode.Usagef("%s: not a readable YAML or JSON projects list: %s", source, strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " "))
	}
	list := resolve(&doc)
	if list.Kind == yaml.DocumentNode && len(list.Content) == 1 {
		list = resolve(list.Content[0])
	}
	if list.Kind == yaml.MappingNode {
		var inner *yaml.Node
		for i := 0; i+1 < len(list.Content); i += 2 {
			if list.Content[i].Value != "projects" {
				return nil, exitcode.Usagef("%s line %d: unknown key %q; the list goes under \"projects:\", or is the whole document", source, list.Content[i].Line, list.Content[i].Value)
			}
			inner = resolve(list.Content[i+1])
		}
		if inner == nil {
			return nil, exitcode.Usagef("%s: lists no project", source)
		}
		list = inner
	}
	if list.Kind != yaml.SequenceNode {
		return nil, exitcode.Usagef("%s line %d: want a list of projects (- slug: …)", source, list.Line)
	}
	var out []ProjectLine
	seen := map[lineRef]int{}
	for _, item := range list.Content {
		p, err := entry(source, resolve(item))
		if err != nil {
			return nil, err
		}
		if first, dup := seen[p.ref()]; dup {
			return nil, exitcode.Usagef("%s line %d: repeats the project and ref of line %d; each may be listed once", source, p.Line, first)
		}
		seen[p.ref()] = p.Line
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, exitcode.Usagef("%s: lists no project", source)
	}
	return out, nil
}

// entry reads one project of a structured list.
func entry(source string, n *yaml.Node) (ProjectLine, error) {
	bad := func(line int, format string, args ...any) error {
		return exitcode.Usagef("%s line %d: %s", source, line, fmt.Sprintf(format, args...))
	}
	if n.Kind == yaml.ScalarNode { // "SLUG", "SLUG BRANCH" or "SLUG tag=TAG"
		lines, err := ParseProjects(fmt.Sprintf("%s line %d", source, n.Line), n.Value)
		if err != nil {
			return ProjectLine{}, err
		}
		if len(lines) != 1 || strings.Contains(n.Value, "\n") {
			return ProjectLine{}, bad(n.Line, "an entry names one project")
		}
		p := lines[0]
		p.Line = n.Line
		return p, nil
	}
	if n.Kind != yaml.MappingNode {
		return ProjectLine{}, bad(n.Line, "want a project: slug, branch or tag, parameters")
	}
	p := ProjectLine{Line: n.Line}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		switch k.Value {
		case "slug", "branch", "tag":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" || strings.ContainsFunc(v.Value, isSpace) || strings.HasPrefix(v.Value, "#") {
				return ProjectLine{}, bad(v.Line, "%s: want a name, without spaces", k.Value)
			}
			switch k.Value {
			case "slug":
				p.Slug = v.Value
			case "branch":
				p.Branch = v.Value
			case "tag":
				p.Tag = v.Value
			}
		case "parameters":
			params, err := projectParams(source, v)
			if err != nil {
				return ProjectLine{}, err
			}
			p.Params = params
		default:
			return ProjectLine{}, bad(k.Line, "unknown key %q; an entry takes slug, branch, tag and parameters", k.Value)
		}
	}
	switch {
	case p.Slug == "":
		return ProjectLine{}, bad(n.Line, "the entry has no slug")
	case p.Branch != "" && p.Tag != "":
		return ProjectLine{}, bad(n.Line, "branch and tag: give one or neither (neither runs the project's default branch)")
	}
	return p, nil
}

// projectParams reads an entry's parameters: a mapping of names to strings, integers and
// booleans. A "<<" merge key brings in the entries of another mapping (an anchor), below the
// ones written here.
func projectParams(source string, n *yaml.Node) ([]request.ProjectParam, error) {
	if n.Kind != yaml.MappingNode {
		return nil, exitcode.Usagef("%s line %d: parameters: want a mapping of names to values", source, n.Line)
	}
	var out []request.ProjectParam
	given := map[string]bool{}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Value == "<<" && k.Tag == "!!merge" {
			merged = append(merged, v)
			continue
		}
		if given[k.Value] {
			return nil, exitcode.Usagef("%s line %d: parameter %q is given twice", source, k.Line, k.Value)
		}
		given[k.Value] = true
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return nil, exitcode.Usagef("%s line %d: parameter %q: want a string, an integer or a boolean (leave the key out to use the parameter's default)", source, v.Line, k.Value)
		}
		out = append(out, request.ProjectParam{Key: k.Value, Text: v.Value, Quoted: v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0})
	}
	for _, m := range merged {
		more, err := projectParams(source, m)
		if err != nil {
			return nil, err
		}
		for _, p := range more {
			if !given[p.Key] {
				given[p.Key] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
