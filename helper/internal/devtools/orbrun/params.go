package orbrun

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Param is a declared parameter of a job, command or executor.
type Param struct {
	Name        string
	Type        string // string, boolean, integer, enum, env_var_name, executor or steps
	Description string
	Default     any
	HasDefault  bool
	Enum        []string
}

// paramTypes are the parameter types CircleCI knows.
var paramTypes = []string{"string", "boolean", "integer", "enum", "env_var_name", "executor", "steps"}

// parseParams reads a component's parameters: block.
func parseParams(raw any, where string) (map[string]Param, error) {
	m, err := mapping(raw, where+": parameters")
	if err != nil {
		return nil, err
	}
	out := make(map[string]Param, len(m))
	for name, v := range m {
		def, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: parameter %s: a mapping, not %s", where, name, kindOf(v))
		}
		p := Param{Name: name}
		p.Type, _ = def["type"].(string)
		if !slices.Contains(paramTypes, p.Type) {
			return nil, fmt.Errorf("%s: parameter %s: type %v is not one of %s", where, name, def["type"], strings.Join(paramTypes, ", "))
		}
		p.Description, _ = def["description"].(string)
		p.Default, p.HasDefault = def["default"]
		if p.Type == "enum" {
			list, ok := def["enum"].([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("%s: enum parameter %s has no enum list", where, name)
			}
			for _, e := range list {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%s: enum parameter %s: value %v is not a string", where, name, e)
				}
				p.Enum = append(p.Enum, s)
			}
		}
		for key := range def {
			if !slices.Contains([]string{"type", "description", "default", "enum"}, key) {
				return nil, fmt.Errorf("%s: parameter %s: unknown key %q", where, name, key)
			}
		}
		if p.HasDefault {
			if err := checkValue(p, p.Default); err != nil {
				return nil, fmt.Errorf("%s: default of %w", where, err)
			}
		}
		out[name] = p
	}
	return out, nil
}

var envVarNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// checkValue reports whether v may be the value of p, with CircleCI's wording.
func checkValue(p Param, v any) error {
	typeErr := func(want string) error {
		return fmt.Errorf("argument %s: expected type %s, actual value %s", p.Name, want, show(v))
	}
	switch p.Type {
	case "string":
		if _, ok := v.(string); !ok {
			return typeErr("string")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return typeErr("boolean")
		}
	case "integer":
		if _, ok := v.(int); !ok {
			return typeErr("integer")
		}
	case "enum":
		s, ok := v.(string)
		if !ok || !slices.Contains(p.Enum, s) {
			return fmt.Errorf("argument %s: %s is not one of the enum values %s", p.Name, show(v), strings.Join(p.Enum, ", "))
		}
	case "env_var_name":
		s, ok := v.(string)
		if !ok || !envVarNameRE.MatchString(s) {
			return fmt.Errorf("argument %s: %s is not an environment variable name", p.Name, show(v))
		}
	case "executor":
		switch e := v.(type) {
		case string:
		case map[string]any:
			if _, ok := e["name"].(string); !ok {
				return fmt.Errorf("argument %s: an executor given as a mapping needs a name", p.Name)
			}
		default:
			return typeErr("executor")
		}
	case "steps":
		if _, ok := v.([]any); !ok && v != nil {
			return typeErr("steps")
		}
	}
	return nil
}

// bind checks args against decls and returns every parameter's value: the argument if given,
// else the default. Unknown and missing arguments are errors, as in CircleCI.
func bind(decls map[string]Param, args map[string]any, where string) (map[string]any, error) {
	var unexpected, missing []string
	for name := range args {
		if _, ok := decls[name]; !ok {
			unexpected = append(unexpected, name)
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		return nil, fmt.Errorf("%s: unexpected argument(s): %s", where, strings.Join(unexpected, ", "))
	}
	values := make(map[string]any, len(decls))
	for _, name := range sortedKeys(decls) {
		p := decls[name]
		v, given := args[name]
		if !given {
			if !p.HasDefault {
				missing = append(missing, name)
				continue
			}
			v = p.Default
		}
		if err := checkValue(p, v); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		values[name] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing required argument(s): %s", where, strings.Join(missing, ", "))
	}
	return values, nil
}

// show quotes a value for messages.
func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q (a string)", s)
	}
	return fmt.Sprintf("%v (%s)", v, kindOf(v))
}
