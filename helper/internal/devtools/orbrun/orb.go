package orbrun

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Orb is an orb as CircleCI reads it: components by name, as plain YAML values.
type Orb struct {
	Version     string
	Description string
	Display     map[string]any
	Commands    map[string]map[string]any
	Jobs        map[string]map[string]any
	Executors   map[string]map[string]any
	Examples    map[string]Example
	// Doc is the whole orb document.
	Doc map[string]any
}

// Example is one of the orb's usage examples.
type Example struct {
	Description string
	Usage       map[string]any
}

// ParseOrb reads a packed orb (what `circleci orb pack` prints).
func ParseOrb(data []byte) (*Orb, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an orb is a mapping, not %s", kindOf(doc))
	}
	return orbFromDoc(m)
}

// LoadPacked reads a packed orb from a file.
func LoadPacked(path string) (*Orb, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	o, err := ParseOrb(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// componentDirs are the orb development kit's directories of components, one file each.
var componentDirs = []string{"commands", "jobs", "executors", "examples"}

// LoadSource assembles an orb from its development-kit source directory (@orb.yml and one
// file per component) the way `circleci orb pack` does, <<include(…)>> resolved in commands,
// jobs and executors.
func LoadSource(dir string) (*Orb, error) {
	data, err := os.ReadFile(filepath.Join(dir, "@orb.yml"))
	if err != nil {
		return nil, fmt.Errorf("%s is not an orb source directory: %w", dir, err)
	}
	top, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("@orb.yml: %w", err)
	}
	doc, ok := top.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("@orb.yml is a mapping, not %s", kindOf(top))
	}
	for _, kind := range componentDirs {
		files, err := filepath.Glob(filepath.Join(dir, kind, "*.yml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			continue
		}
		components := map[string]any{}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			v, err := decodeYAML(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if kind != "examples" {
				if v, err = resolveIncludes(v, dir); err != nil {
					return nil, fmt.Errorf("%s: %w", f, err)
				}
			}
			components[strings.TrimSuffix(filepath.Base(f), ".yml")] = v
		}
		doc[kind] = components
	}
	return orbFromDoc(doc)
}

func orbFromDoc(doc map[string]any) (*Orb, error) {
	o := &Orb{
		Doc:       doc,
		Commands:  map[string]map[string]any{},
		Jobs:      map[string]map[string]any{},
		Executors: map[string]map[string]any{},
		Examples:  map[string]Example{},
	}
	if v, ok := doc["version"]; ok {
		o.Version = fmt.Sprint(v)
	}
	o.Description, _ = doc["description"].(string)
	o.Display, _ = doc["display"].(map[string]any)
	for kind, dst := range map[string]map[string]map[string]any{"commands": o.Commands, "jobs": o.Jobs, "executors": o.Executors} {
		all, err := mapping(doc[kind], kind)
		if err != nil {
			return nil, err
		}
		for name, v := range all {
			c, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s %s: a mapping, not %s", kind, name, kindOf(v))
			}
			dst[name] = c
		}
	}
	examples, err := mapping(doc["examples"], "examples")
	if err != nil {
		return nil, err
	}
	for name, v := range examples {
		e, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("example %s: a mapping, not %s", name, kindOf(v))
		}
		usage, ok := e["usage"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("example %s: usage must be a mapping (a complete config)", name)
		}
		desc, _ := e["description"].(string)
		o.Examples[name] = Example{Description: desc, Usage: usage}
	}
	return o, nil
}

// ExampleNames lists the examples in name order.
func (o *Orb) ExampleNames() []string {
	return sortedKeys(o.Examples)
}

// includeRE is the circleci CLI's include syntax (process.MaybeIncludeFile).
var includeRE = regexp.MustCompile(`<<[\s]*include\(([-\w\/\.]+)\)?[\s]*>>`)

// resolveIncludes replaces every string that is an <<include(FILE)>> with FILE's contents,
// as includeFile does.
func resolveIncludes(v any, dir string) (any, error) {
	switch v := v.(type) {
	case string:
		return includeFile(v, dir)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := resolveIncludes(x, dir)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := resolveIncludes(x, dir)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// includeFile is s, or FILE's contents if s is an <<include(FILE)>>, with "<<" escaped as
// `circleci orb pack` does. An include must be the whole string.
func includeFile(s, dir string) (string, error) {
	m := includeRE.FindAllStringSubmatch(s, 2)
	switch {
	case len(m) == 0:
		return s, nil
	case len(m) > 1:
		return "", fmt.Errorf("multiple include statements in %q", s)
	case m[0][0] != s:
		return "", fmt.Errorf("an include must be the entire value: %q", s)
	}
	data, err := os.ReadFile(filepath.Join(dir, m[0][1]))
	if err != nil {
		return "", fmt.Errorf("could not open %s for inclusion", m[0][1])
	}
	return strings.ReplaceAll(string(data), "<<", `\<<`), nil
}

// decodeYAML decodes one YAML document into plain values: map[string]any, []any, string,
// int, float64, bool and nil.
func decodeYAML(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return normalize(v)
}

func normalize(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			n, err := normalize(x)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("mapping key %v is not a string", k)
			}
			n, err := normalize(x)
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	case []any:
		for i, x := range v {
			n, err := normalize(x)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	}
	return v, nil
}

// mapping returns v as a mapping; nil is an empty one.
func mapping(v any, what string) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a mapping, not %s", what, kindOf(v))
	}
	return m, nil
}

// kindOf names v's YAML kind for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int:
		return "an integer"
	case float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
