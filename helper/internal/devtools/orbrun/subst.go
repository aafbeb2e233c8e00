package orbrun

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// scope is what << >> expressions can name while a component is expanded.
type scope struct {
	params   map[string]any // the component's bound parameters; nil outside a component
	pipeline map[string]any // pipeline values by name after "pipeline.": number, git.branch, …
}

// wholeRE matches a value that is a single expression, which keeps its type when substituted.
var wholeRE = regexp.MustCompile(`^<<\s*([^<>]*?)\s*>>$`)

// substitute returns a copy of v with every << expression >> replaced. A string that is one
// expression takes the value's type (a boolean stays a boolean, an executor a mapping); inside
// a longer string the value is written out. \<< is a literal <<.
func substitute(v any, sc scope) (any, error) {
	switch v := v.(type) {
	case string:
		return substituteString(v, sc)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			nk, err := substituteText(k, sc)
			if err != nil {
				return nil, err
			}
			nx, err := substitute(x, sc)
			if err != nil {
				return nil, err
			}
			out[nk] = nx
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			nx, err := substitute(x, sc)
			if err != nil {
				return nil, err
			}
			out[i] = nx
		}
		return out, nil
	}
	return v, nil
}

func substituteString(s string, sc scope) (any, error) {
	if m := wholeRE.FindStringSubmatch(s); m != nil {
		return sc.eval(m[1])
	}
	return substituteText(s, sc)
}

// substituteText writes every expression of s out as text.
func substituteText(s string, sc scope) (string, error) {
	if !strings.Contains(s, "<<") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], `\<<`):
			b.WriteString("<<")
			i += 3
		case strings.HasPrefix(s[i:], "<<"):
			end := strings.Index(s[i+2:], ">>")
			if end < 0 {
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			v, err := sc.eval(strings.TrimSpace(s[i+2 : i+2+end]))
			if err != nil {
				return "", err
			}
			text, err := asText(v)
			if err != nil {
				return "", fmt.Errorf("<< %s >> inside %q: %w", strings.TrimSpace(s[i+2:i+2+end]), s, err)
			}
			b.WriteString(text)
			i += 2 + end + 2
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// eval is the value of one expression.
func (sc scope) eval(expr string) (any, error) {
	switch {
	case strings.HasPrefix(expr, "parameters."):
		name := strings.TrimPrefix(expr, "parameters.")
		if sc.params == nil {
			return nil, fmt.Errorf("<< %s >> outside a job, command or executor", expr)
		}
		v, ok := sc.params[name]
		if !ok {
			return nil, fmt.Errorf("<< %s >>: no parameter %q is declared here", expr, name)
		}
		return v, nil
	case strings.HasPrefix(expr, "pipeline."):
		v, ok := sc.pipeline[strings.TrimPrefix(expr, "pipeline.")]
		if !ok {
			return nil, fmt.Errorf("<< %s >>: no such pipeline value", expr)
		}
		return v, nil
	case strings.HasPrefix(expr, "include("):
		return nil, fmt.Errorf("<<%s>> was not resolved: load the orb with LoadSource or pack it", expr)
	}
	return nil, fmt.Errorf("<< %s >>: not a parameter or pipeline value", expr)
}

// asText writes a scalar value out as CircleCI does inside a string.
func asText(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("%s cannot be written inside a string", kindOf(v))
}

// evalCondition decides a when/unless condition: a literal (false, null, 0, NaN and "" are
// false) or a logic statement of and, or, not, equal and matches.
func evalCondition(v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case int:
		return v != 0, nil
	case float64:
		return v != 0 && !math.IsNaN(v), nil
	case string:
		return v != "", nil
	case []any:
		return false, fmt.Errorf("a list is not a condition: use and, or or equal")
	case map[string]any:
		if len(v) != 1 {
			return false, fmt.Errorf("a logic statement has one key (and, or, not, equal, matches), not %d", len(v))
		}
		for op, arg := range v {
			return evalLogic(op, arg)
		}
	}
	return false, fmt.Errorf("%s is not a condition", kindOf(v))
}

func evalLogic(op string, arg any) (bool, error) {
	list := func() ([]any, error) {
		l, ok := arg.([]any)
		if !ok {
			return nil, fmt.Errorf("%s takes a list, not %s", op, kindOf(arg))
		}
		return l, nil
	}
	switch op {
	case "and", "or":
		l, err := list()
		if err != nil {
			return false, err
		}
		for _, x := range l {
			b, err := evalCondition(x)
			if err != nil {
				return false, err
			}
			if op == "and" && !b {
				return false, nil
			}
			if op == "or" && b {
				return true, nil
			}
		}
		return op == "and", nil
	case "not":
		b, err := evalCondition(arg)
		return !b, err
	case "equal":
		l, err := list()
		if err != nil {
			return false, err
		}
		for _, x := range l[min(1, len(l)):] {
			if fmt.Sprintf("%T %v", x, x) != fmt.Sprintf("%T %v", l[0], l[0]) {
				return false, nil
			}
		}
		return true, nil
	case "matches":
		m, ok := arg.(map[string]any)
		if !ok {
			return false, fmt.Errorf("matches takes {pattern, value}")
		}
		pattern, _ := m["pattern"].(string)
		value, _ := asText(m["value"])
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			return false, fmt.Errorf("matches: %w", err)
		}
		return re.MatchString(value), nil
	}
	return false, fmt.Errorf("unknown logic operator %q", op)
}
