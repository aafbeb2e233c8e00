package preflight

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The parameter types a pipeline parameter may have. CircleCI's other parameter types (steps,
// executor) cannot be given to a pipeline.
const (
	TypeString     = "string"
	TypeInteger    = "integer"
	TypeBoolean    = "boolean"
	TypeEnum       = "enum"
	TypeEnvVarName = "env_var_name"
)

// Param is one declared pipeline parameter.
type Param struct {
	Name    string
	Type    string      // one of the Type constants, or what the config says when it is none of them
	Default any         // string, int64, bool or nil; only meaningful when HasDefault
	Enum    []EnumValue // the entries of an enum's list
	// HasDefault: the declaration gives a default.
	HasDefault bool
}

// EnumValue is one entry of an enum's list, as YAML wrote it. Enums list strings; a list may
// also hold 1 or true, which count as the text written, and null, a mapping or a list, which no
// value can equal (CircleCI compares a parameter's value with the entries; a null is not "").
type EnumValue struct {
	Text   string // a scalar's text as written; for anything else how messages name it: (null), (a mapping), (a list)
	Scalar bool   // a YAML scalar other than null: the only kind of entry a value can equal
}

// EnumOf is the enum of these strings.
func EnumOf(values ...string) []EnumValue {
	out := make([]EnumValue, len(values))
	for i, v := range values {
		out[i] = EnumValue{Text: v, Scalar: true}
	}
	return out
}

// Allows reports whether the enum p declares has an entry equal to the text s.
func (p Param) Allows(s string) bool {
	return slices.ContainsFunc(p.Enum, func(e EnumValue) bool { return e.Scalar && e.Text == s })
}

// Config is what pre-flight reads from one config file: whether it is a setup config (setup:
// true, dynamic config) and its top-level pipeline parameters by name.
type Config struct {
	Setup  bool
	Params map[string]Param
}

// maxConfig bounds the text Parse reads; the API client already caps answers at 4 MiB.
const maxConfig = 4 << 20

// Parse reads the top-level `parameters:` of a CircleCI config with a YAML 1.2 parser, anchors,
// aliases and merge keys (<<) included. A config without parameters declares none. Errors are
// one line: a config that is not YAML, not a mapping, or whose parameters are not declarations.
func Parse(source string) (*Config, error) {
	if len(source) > maxConfig {
		return nil, fmt.Errorf("the config is larger than %d MiB", maxConfig>>20)
	}
	if strings.TrimSpace(source) == "" {
		return nil, errors.New("the config is empty")
	}
	var top struct {
		Setup      any                  `yaml:"setup"`
		Parameters map[string]yaml.Node `yaml:"parameters"`
	}
	// Decoding resolves aliases and merge keys, and refuses duplicate keys and excessive
	// aliasing (a "billion laughs" document), so a hostile config costs bounded work.
	if err := yaml.Unmarshal([]byte(source), &top); err != nil {
		return nil, fmt.Errorf("the config is not readable YAML: %s", oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	cfg := &Config{Setup: top.Setup == true, Params: map[string]Param{}}
	for name, node := range top.Parameters {
		p, err := declaration(name, &node)
		if err != nil {
			return nil, err
		}
		cfg.Params[name] = p
	}
	return cfg, nil
}

// declaration reads one parameter's declaration: type, default and enum.
func declaration(name string, node *yaml.Node) (Param, error) {
	if name == "" {
		return Param{}, errors.New("a parameter has an empty name")
	}
	var d map[string]any
	if err := node.Decode(&d); err != nil {
		return Param{}, fmt.Errorf("parameter %s: its declaration is not a mapping of type, default and enum: %s", strconv.Quote(name), oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	typ, ok := d["type"].(string)
	if !ok || typ == "" {
		return Param{}, fmt.Errorf("parameter %s declares no type", strconv.Quote(name))
	}
	p := Param{Name: name, Type: typ}
	var nodes map[string]yaml.Node // the same mapping, to read the enum's entries as written
	if node.Decode(&nodes) == nil {
		if n, ok := nodes["enum"]; ok {
			p.Enum = enumValues(&n)
		}
	}
	if v, ok := d["default"]; ok {
		p.Default, p.HasDefault = normalize(v), true
	}
	return p, nil
}

// normalize gives a default the Go type of a parameter value: int64 for integers.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return v
}

// enumValues reads an enum's list; nil when it is not a list.
func enumValues(n *yaml.Node) []EnumValue {
	n = resolved(n)
	if n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]EnumValue, 0, len(n.Content))
	for _, item := range n.Content {
		item = resolved(item)
		switch {
		case item.Kind == yaml.ScalarNode && item.ShortTag() == "!!null":
			out = append(out, EnumValue{Text: "(null)"})
		case item.Kind == yaml.ScalarNode:
			out = append(out, EnumValue{Text: item.Value, Scalar: true})
		case item.Kind == yaml.MappingNode:
			out = append(out, EnumValue{Text: "(a mapping)"})
		default:
			out = append(out, EnumValue{Text: "(a list)"})
		}
	}
	return out
}

// resolved follows aliases to the node they name (the decoder has already refused cycles and
// excessive aliasing).
func resolved(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Names returns the declared names, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Params))
	for n := range c.Params {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// oneLine keeps a parser message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
