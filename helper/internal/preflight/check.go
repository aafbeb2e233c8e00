package preflight

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/baton-ci/baton/helper/internal/params"
)

// Declarations are the parameters a project's config declares, as pre-flight learnt them.
type Declarations struct {
	// Params are what a trigger's parameters are checked against: the config's, or the setup
	// config's for a project with a setup workflow.
	Params map[string]Param
	// Continuation are parameters declared only in the continuation config of a setup
	// workflow, which the trigger does not reach: pre-flight cannot say whether CircleCI takes
	// them.
	Continuation map[string]Param
	// From says where they were learnt: "pipeline #41 on branch main".
	From string
	// Borrowed: learnt from the default branch for a trigger of another branch or tag, whose
	// own config may declare more (a new branch often adds the parameter it is triggered with).
	Borrowed bool
}

// Decision is what pre-flight decided about one trigger's parameters.
type Decision struct {
	Params   []params.Param // the parameters, typed as declared where that was known
	Problems []string       // what CircleCI would reject, one line each: the trigger is refused
	Unknown  []string       // what could not be checked and why, one line each
	Typed    []string       // for --dry-run: how each parameter is sent and why
}

// Check checks the parameters of a trigger of project against decl and types them. origins
// says how each was typed (request.Trigger.Origins); only inferred values are retyped, forced
// and JSON ones are checked as they are.
func Check(project string, ps []params.Param, origins map[string]params.Origin, decl *Declarations) Decision {
	var d Decision
	for _, p := range ps {
		o := origins[p.Key]
		dp, declared := decl.Params[p.Key]
		if !declared {
			if _, ok := decl.Continuation[p.Key]; ok {
				d.Unknown = append(d.Unknown, fmt.Sprintf("%s: %s declares it only in its continuation config, which a trigger does not reach; cannot tell whether CircleCI takes it", show(p.Key), project))
				d.Params = append(d.Params, p)
				continue
			}
			if decl.Borrowed {
				d.Unknown = append(d.Unknown, fmt.Sprintf("%s: %s does not declare it on its default branch, and this ref's own config is not known; cannot tell whether CircleCI takes it", show(p.Key), project))
				d.Params = append(d.Params, p)
				continue
			}
			d.Problems = append(d.Problems, undeclared(project, p.Key, decl.Params))
			continue
		}
		v, problem, unknown := typeAs(project, dp, p, o)
		switch {
		case problem != "":
			d.Problems = append(d.Problems, problem)
			continue
		case unknown != "":
			d.Unknown = append(d.Unknown, unknown)
		default:
			d.Typed = append(d.Typed, fmt.Sprintf("%s: sent as %s (declared %s)", show(p.Key), describe(v), declaredType(dp)))
		}
		d.Params = append(d.Params, params.Param{Key: p.Key, Value: v})
	}
	return d
}

// typeAs decides how p is sent to a parameter declared as dp: the value, or a problem (the
// trigger is refused), or an unknown (sent as it is, with a note).
func typeAs(project string, dp Param, p params.Param, o params.Origin) (value any, problem, unknown string) {
	key := show(p.Key)
	if o.Typing != params.Inferred {
		// A forced type or a JSON value is sent as it is; it only has to fit.
		if !fits(dp, p.Value) {
			how := "gives"
			if o.Typing == params.Forced {
				how = "forces"
			}
			return nil, fmt.Sprintf("%s: %s declares %s, but %s %s %s", key, project, article(dp), sourceName(o), how, describe(p.Value)), ""
		}
		return p.Value, "", ""
	}
	text := textOf(p.Value)
	switch dp.Type {
	case TypeString, TypeEnvVarName:
		return text, "", ""
	case TypeInteger:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil && strconv.FormatInt(n, 10) == text {
			return n, "", ""
		}
		return nil, fmt.Sprintf("%s: %s declares an integer; %s is not one", key, project, quote(text)), ""
	case TypeBoolean:
		if b, err := strconv.ParseBool(text); err == nil && (text == "true" || text == "false") {
			return b, "", ""
		}
		return nil, fmt.Sprintf("%s: %s declares a boolean; %s is not one (write true or false)", key, project, quote(text)), ""
	case TypeEnum:
		if dp.Allows(text) {
			return text, "", ""
		}
		return nil, fmt.Sprintf("%s: %s allows only %s; %s is not one of them", key, project, enumList(dp.Enum), quote(text)), ""
	}
	return p.Value, "", fmt.Sprintf("%s: %s declares it of type %s, which pre-flight does not know; sent as given", key, project, show(dp.Type))
}

// fits reports whether a value of a fixed Go type is one CircleCI takes for dp.
func fits(dp Param, v any) bool {
	switch dp.Type {
	case TypeString, TypeEnvVarName:
		_, ok := v.(string)
		return ok
	case TypeInteger:
		_, ok := v.(int64)
		return ok
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeEnum:
		s, ok := v.(string)
		return ok && dp.Allows(s)
	}
	return true // a type pre-flight does not know: CircleCI decides
}

// undeclared is the refusal of a key the project does not declare, with the nearest declared
// name when one is close.
func undeclared(project, key string, declared map[string]Param) string {
	if len(declared) == 0 {
		return fmt.Sprintf("%s: %s declares no such parameter; it declares no parameters at all", show(key), project)
	}
	if near := nearest(key, declared); near != "" {
		return fmt.Sprintf("%s: %s declares no such parameter; did you mean %s?", show(key), project, show(near))
	}
	names := (&Config{Params: declared}).Names()
	const most = 8
	list := make([]string, 0, most)
	for _, n := range names[:min(len(names), most)] {
		list = append(list, show(n))
	}
	more := ""
	if len(names) > most {
		more = fmt.Sprintf(" and %d more", len(names)-most)
	}
	return fmt.Sprintf("%s: %s declares no such parameter; it declares %s%s", show(key), project, strings.Join(list, ", "), more)
}

// nearest is the declared name closest to key when it is close enough to be a likely typo:
// the same but for case, '-' and '_', or within a third of its length in edits.
func nearest(key string, declared map[string]Param) string {
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	best, bestDist := "", -1
	for _, name := range (&Config{Params: declared}).Names() {
		d := distance(fold(key), fold(name))
		if d < bestDist || bestDist < 0 {
			best, bestDist = name, d
		}
	}
	if bestDist <= max(1, len([]rune(key))/3) {
		return best
	}
	return ""
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// textOf is an inferred value's text: inference turned exactly this text into it.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// describe names a value with its JSON type: the string "3", the integer 3, the boolean true.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "the string " + quote(x)
	case int64:
		return "the integer " + strconv.FormatInt(x, 10)
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func article(dp Param) string {
	switch dp.Type {
	case TypeInteger:
		return "an integer"
	case TypeBoolean:
		return "a boolean"
	case TypeEnum:
		return "an enum of " + enumList(dp.Enum)
	case TypeEnvVarName:
		return "an environment variable name (a string)"
	}
	return "a " + show(dp.Type)
}

func declaredType(dp Param) string {
	if dp.Type == TypeEnum {
		return "enum of " + enumList(dp.Enum)
	}
	return show(dp.Type)
}

func enumList(values []EnumValue) string {
	shown := make([]string, len(values))
	for i, v := range values {
		shown[i] = v.Text // (null), (a mapping), (a list): what no value can be
		if v.Scalar {
			shown[i] = show(v.Text)
		}
	}
	return strings.Join(shown, ", ")
}

// sourceName names where a parameter came from, without a line's text.
func sourceName(o params.Origin) string {
	if o.Source == "" {
		return "its source"
	}
	return o.Source
}

// show prints a name or value as written when it is a plain word, else quoted with Go escapes;
// server-supplied names pass here too, so nothing reaches a terminal raw.
func show(s string) string {
	if s != "" && len(s) <= 80 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '@' || r == '+' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		return s
	}
	return quote(s)
}

// quote quotes a value with Go escapes, cut to 60 characters.
func quote(s string) string {
	if r := []rune(s); len(r) > 60 {
		return strconv.Quote(string(r[:60])) + "..."
	}
	return strconv.Quote(s)
}

// Summary lists the declarations for --dry-run: "env (enum of dev, prod; default "dev"),
// replicas (integer; default 1)", sorted by name.
func (d *Declarations) Summary() string {
	if len(d.Params) == 0 {
		return "no parameters"
	}
	var parts []string
	for _, name := range (&Config{Params: d.Params}).Names() {
		p := d.Params[name]
		s := show(name) + " (" + declaredType(p)
		if p.HasDefault {
			s += "; default " + defaultText(p.Default)
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, ", ")
}

func defaultText(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case int64, bool, float64:
		return fmt.Sprint(x)
	}
	return "(not a scalar)"
}
