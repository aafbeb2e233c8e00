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

// Pack is `circleci orb pack DIR` without the circleci CLI, byte for byte: the same steps in
// the same order, so that `make demo` need not build the CLI (scripts/test-orb.sh compares the
// two on orb/src). The CLI reads @orb.yml and one file per component into plain values,
// marshals them, decodes that into its orb schema (which fixes the top-level key order and
// keeps only known keys of examples), inlines <<include(…)>> in commands, executors and jobs,
// and prints the result with a newline.
func Pack(dir string) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(dir, "@orb.yml")); err != nil {
		return nil, fmt.Errorf("@orb.yml file not found, are you sure this is the Orb root?")
	}
	tree, err := readTree(dir)
	if err != nil {
		return nil, err
	}
	y, err := yaml.Marshal(tree)
	if err != nil {
		return nil, err
	}
	var orb packSchema
	if err := yaml.Unmarshal(y, &orb); err != nil {
		return nil, err
	}
	for _, n := range []*yaml.Node{&orb.Jobs, &orb.Commands, &orb.Executors} {
		if err := inlineIncludes(n, dir); err != nil {
			return nil, err
		}
	}
	out, err := yaml.Marshal(&orb)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// packSchema is the shape the circleci CLI gives a packed orb (cmd/orb.go's OrbSchema).
type packSchema struct {
	Version     float32                  `yaml:"version,omitempty"`
	Description string                   `yaml:"description,omitempty"`
	Display     yaml.Node                `yaml:"display,omitempty"`
	Orbs        yaml.Node                `yaml:"orbs,omitempty"`
	Commands    yaml.Node                `yaml:"commands,omitempty"`
	Executors   yaml.Node                `yaml:"executors,omitempty"`
	Jobs        yaml.Node                `yaml:"jobs,omitempty"`
	Examples    map[string]packedExample `yaml:"examples,omitempty"`
}

type packedExample struct {
	Description string      `yaml:"description,omitempty"`
	Usage       packedUsage `yaml:"usage,omitempty"`
	Result      packedUsage `yaml:"result,omitempty"`
}

type packedUsage struct {
	Version   string `yaml:"version,omitempty"`
	Setup     bool   `yaml:"setup,omitempty"`
	Orbs      any    `yaml:"orbs,omitempty"`
	Jobs      any    `yaml:"jobs,omitempty"`
	Workflows any    `yaml:"workflows"`
}

// readTree is the CLI's file tree: @orb.yml's keys at the top, and for each component
// directory a mapping of file name (without extension) to the file's YAML.
func readTree(dir string) (map[string]any, error) {
	tree := map[string]any{}
	if err := readYAML(filepath.Join(dir, "@orb.yml"), &tree); err != nil {
		return nil, err
	}
	for _, kind := range []string{"commands", "examples", "executors", "jobs"} {
		entries, err := os.ReadDir(filepath.Join(dir, kind))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		components := map[string]any{}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, name := range names {
			if strings.HasPrefix(name, ".") || !yamlFile.MatchString(name) {
				continue
			}
			var v any
			if err := readYAML(filepath.Join(dir, kind, name), &v); err != nil {
				return nil, err
			}
			components[strings.TrimSuffix(name, filepath.Ext(name))] = v
		}
		tree[kind] = components
	}
	return tree, nil
}

var yamlFile = regexp.MustCompile(`.+\.(yml|yaml)$`)

func readYAML(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// inlineIncludes replaces every scalar that is an <<include(FILE)>> by FILE, as the CLI does.
func inlineIncludes(n *yaml.Node, dir string) error {
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		v, err := includeFile(n.Value, dir)
		if err != nil {
			return err
		}
		n.Value = v
		return nil
	}
	for _, c := range n.Content {
		if err := inlineIncludes(c, dir); err != nil {
			return err
		}
	}
	return nil
}
