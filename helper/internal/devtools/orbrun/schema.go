package orbrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// EnvSchema overrides where CircleCI's config schema is read from.
const EnvSchema = "BATON_CIRCLECI_SCHEMA"

// ErrSchemaAbsent reports that CircleCI's config schema is not there to check against.
var ErrSchemaAbsent = errors.New("CircleCI's config schema is absent")

// SchemaPath is where CircleCI's JSON schema for configs and orbs is expected: $BATON_CIRCLECI_SCHEMA,
// else ../shared/circleci-schema/schema.json beside the repository.
func SchemaPath() string {
	if p := os.Getenv(EnvSchema); p != "" {
		return p
	}
	root, err := RepoRoot()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "..", "shared", "circleci-schema", "schema.json")
}

// Schema is CircleCI's JSON schema for configs and packed orbs.
type Schema struct{ s *jsonschema.Schema }

// LoadSchema compiles the schema at path; the error wraps ErrSchemaAbsent when it is not there.
func LoadSchema(path string) (*Schema, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrSchemaAbsent, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///circleci-schema.json", doc); err != nil {
		return nil, err
	}
	s, err := c.Compile("file:///circleci-schema.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Schema{s}, nil
}

// Validate checks a decoded YAML document (an orb or a config). The schema cannot know the
// value of a << parameters.x >> in a field that must be a boolean, an integer, one of a list
// (resource_class) or match a pattern (no_output_timeout), so those are given their
// parameter's default first, as CircleCI would compile the component with its defaults.
func (s *Schema) Validate(doc map[string]any) error {
	doc = withTypedDefaults(doc)
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.s.Validate(inst)
}

// withTypedDefaults replaces, in every job, command and executor of doc, each value that is
// exactly << parameters.x >> of a boolean, integer or enum parameter, or of a string parameter
// with a non-empty default, with x's default; in the orbs a config inlines too.
func withTypedDefaults(doc map[string]any) map[string]any {
	out := deepClone(doc).(map[string]any)
	fillDefaults(out)
	orbs, _ := out["orbs"].(map[string]any)
	for _, o := range orbs {
		if inline, ok := o.(map[string]any); ok {
			fillDefaults(inline)
		}
	}
	return out
}

func fillDefaults(out map[string]any) {
	for _, kind := range []string{"jobs", "commands", "executors"} {
		components, _ := out[kind].(map[string]any)
		for name, c := range components {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			params, err := parseParams(cm["parameters"], name)
			if err != nil {
				continue // the schema reports malformed parameters itself
			}
			typed := map[string]any{}
			for n, p := range params {
				if p.HasDefault && (p.Type == "boolean" || p.Type == "integer" || p.Type == "enum" || p.Type == "string" && p.Default != "") {
					typed[n] = p.Default
				}
			}
			for k, v := range cm {
				if k != "parameters" {
					cm[k] = replaceWhole(v, typed)
				}
			}
		}
	}
}

func replaceWhole(v any, typed map[string]any) any {
	switch v := v.(type) {
	case string:
		if m := wholeRE.FindStringSubmatch(v); m != nil {
			if x, ok := typed[trimPrefix(m[1], "parameters.")]; ok {
				return x
			}
		}
	case map[string]any:
		for k, x := range v {
			v[k] = replaceWhole(x, typed)
		}
	case []any:
		for i, x := range v {
			v[i] = replaceWhole(x, typed)
		}
	}
	return v
}

func trimPrefix(s, prefix string) string {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return "\x00" // not a parameter reference
}

func deepClone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepClone(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = deepClone(x)
		}
		return l
	}
	return v
}
