// Package params collects pipeline parameters from the command line (--param KEY[:TYPE]=VALUE),
// from the orb's multi-line BATON_PARAMETERS and from JSON (--parameters-json,
// --parameters-file), and types them the way a CircleCI config reads them: string, integer
// (int64) or boolean.
//
// Keys and values are kept byte for byte: no trimming, no unquoting, no shell. $VAR references
// in values are expanded (package expand) before typing when Options.Expand is set. Every error
// is one line that names the parameter and the fix, and carries exit code 2.
package params

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/expand"
)

// Limits on pipeline parameters from the CircleCI API description. Lengths are in characters
// (Unicode code points); an integer or boolean counts the length of its text.
const (
	MaxParams   = 100
	MaxKeyLen   = 128
	MaxValueLen = 512
)

// Param is one pipeline parameter. Value is a string, an int64 or a bool, nothing else.
type Param struct {
	Key   string
	Value any
}

// Options decide how values are read.
type Options struct {
	// Expand replaces $NAME and ${NAME} in values ($$ is a literal $) before they are typed. In
	// JSON sources only string values are expanded. Keys are never expanded.
	Expand bool
	// Lookup finds a variable for Expand; nil means os.LookupEnv.
	Lookup func(name string) (string, bool)
}

// Set is an ordered set of parameters gathered from several sources. A key may be given only
// once across all of them.
type Set struct {
	opts   Options
	params []Param
	from   map[string]string // key -> the source that gave it
	typing map[string]Typing // key -> how its type was decided
}

// Typing says how a parameter's type was decided.
type Typing int

const (
	// Inferred from the text: true/false, a canonical integer, else a string. Pre-flight may
	// retype such a value from the downstream's declaration.
	Inferred Typing = iota
	// Forced by KEY:TYPE=.
	Forced
	// AsWritten by a JSON source, or a quoted value.
	AsWritten
)

// Origin is where a parameter came from and how its type was decided.
type Origin struct {
	Source string // "--param", "BATON_PARAMETERS line 3", "--parameters-file p.json", …
	Typing Typing
}

// Origin returns where key came from and how it was typed.
func (s *Set) Origin(key string) Origin {
	return Origin{Source: s.from[key], Typing: s.typing[key]}
}

// NewSet returns an empty Set that reads values as opts says.
func NewSet(opts Options) *Set {
	return &Set{opts: opts, from: make(map[string]string)}
}

// Params returns the parameters in the order they were added.
func (s *Set) Params() []Param {
	return append([]Param(nil), s.params...)
}

// kind is the type of a value, forced by KEY:TYPE or inferred.
type kind int

const (
	inferred kind = iota
	stringKind
	intKind
	boolKind
)

// add records one parameter from source, typed as typing says, refusing a key already given
// and a 101st parameter.
func (s *Set) add(p Param, source string, typing Typing) error {
	if first, ok := s.from[p.Key]; ok {
		if first == source {
			return exitcode.Usagef("parameter %s is given twice by %s; give it once", quoteKey(p.Key), source)
		}
		return exitcode.Usagef("parameter %s is given twice (%s and %s); give it once", quoteKey(p.Key), first, source)
	}
	if len(s.params) >= MaxParams {
		return exitcode.Usagef("%s: parameter %s is one too many; the API takes at most %d parameters", source, quoteKey(p.Key), MaxParams)
	}
	if s.from == nil { // a zero Set works too
		s.from = make(map[string]string)
	}
	if s.typing == nil {
		s.typing = make(map[string]Typing)
	}
	s.from[p.Key] = source
	s.typing[p.Key] = typing
	s.params = append(s.params, p)
	return nil
}

// transaction runs fn and, if it fails, forgets every parameter it added, so that a source is
// taken whole or not at all.
func (s *Set) transaction(fn func() error) error {
	n := len(s.params)
	err := fn()
	if err != nil {
		for _, p := range s.params[n:] {
			delete(s.from, p.Key)
			delete(s.typing, p.Key)
		}
		s.params = s.params[:n]
	}
	return err
}

// checkKey applies the rules every key follows, whatever its source.
func checkKey(key string) error {
	if key == "" {
		return errors.New("the key is empty")
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("the key %s is not valid UTF-8", quoteKey(key))
	}
	if n := utf8.RuneCountInString(key); n > MaxKeyLen {
		return fmt.Errorf("parameter %s: the key is %d characters long; the API takes keys of at most %d", quoteKey(key), n, MaxKeyLen)
	}
	return nil
}

// expandValue expands raw for key when the options ask for it.
func (s *Set) expandValue(key, raw string) (string, error) {
	if !s.opts.Expand {
		return raw, nil
	}
	v, err := expand.Expand(raw, s.opts.Lookup)
	if err == nil {
		return v, nil
	}
	var unset *expand.UnsetError
	if errors.As(err, &unset) {
		return "", fmt.Errorf("%w (used by parameter %s); set it, write $$ for a literal $, or pass --no-expand", err, quoteKey(key))
	}
	return "", fmt.Errorf("parameter %s: %w; write $$ for a literal $, or pass --no-expand", quoteKey(key), err)
}

// checkValue applies the rules every value follows once expanded and typed.
func checkValue(key string, value any, expanded bool) error {
	var text string
	switch v := value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return fmt.Errorf("parameter %s: the value is not valid UTF-8%s", quoteKey(key), afterExpansion(expanded))
		}
		text = v
	case int64:
		text = strconv.FormatInt(v, 10)
	case bool:
		text = strconv.FormatBool(v)
	}
	if n := utf8.RuneCountInString(text); n > MaxValueLen {
		return fmt.Errorf("parameter %s: the value is %d characters long%s; the API takes values of at most %d", quoteKey(key), n, afterExpansion(expanded), MaxValueLen)
	}
	return nil
}

func afterExpansion(expanded bool) string {
	if expanded {
		return " after $VAR expansion"
	}
	return ""
}

// usage gives err exit code 2 and the origin (where the parameter came from) as a prefix.
func usage(origin string, err error) error {
	return exitcode.Wrap(exitcode.Usage, fmt.Errorf("%s: %w", origin, err))
}
