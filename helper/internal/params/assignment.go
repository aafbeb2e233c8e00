package params

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SourceParam and SourceLines name the text sources in errors.
const (
	SourceParam = "--param"
	SourceLines = "BATON_PARAMETERS"
)

// AddAssignment adds one KEY=VALUE or KEY:TYPE=VALUE, as given to --param.
//
// The key is the text before the first "="; a ":string", ":int" (":integer") or ":bool"
// (":boolean") suffix forces the type. The value is everything after the first "=", byte for
// byte. Without a type, exactly true or false is a boolean, a canonical integer (0, -12, 300;
// not 007, -0, +4, 1e3) is an int64, and anything else is a string.
func (s *Set) AddAssignment(arg string) error {
	origin := SourceParam + " " + display(arg)
	p, typing, err := s.assignment(arg)
	if err != nil {
		return usage(origin, err)
	}
	return s.add(p, SourceParam, typing)
}

// AddLines adds the assignments in text, one KEY[:TYPE]=VALUE per line, as the orb passes them
// in BATON_PARAMETERS. Blank lines and lines whose first non-space character is '#' are
// skipped; a "\r" before the "\n" is dropped. Nothing is added unless every line is good.
func (s *Set) AddLines(text string) error {
	return s.transaction(func() error {
		for _, l := range assignmentLines(text) {
			source := fmt.Sprintf("%s line %d", SourceLines, l.number)
			p, typing, err := s.assignment(l.text)
			if err != nil {
				return usage(source+" ("+display(l.text)+")", err)
			}
			if err := s.add(p, source, typing); err != nil {
				return err
			}
		}
		return nil
	})
}

// assignment reads, expands, types and checks one KEY[:TYPE]=VALUE, and says whether its type
// was forced or inferred.
func (s *Set) assignment(arg string) (Param, Typing, error) {
	keyText, raw, ok := strings.Cut(arg, "=")
	if !ok {
		return Param{}, 0, errors.New(`it has no "="; want KEY=VALUE or KEY:TYPE=VALUE`)
	}
	key, k := keyText, inferred
	if i := strings.LastIndexByte(keyText, ':'); i >= 0 {
		key = keyText[:i]
		typ := keyText[i+1:]
		switch strings.ToLower(typ) {
		case "string":
			k = stringKind
		case "int", "integer":
			k = intKind
		case "bool", "boolean":
			k = boolKind
		default:
			return Param{}, 0, fmt.Errorf("unknown type %s; want KEY:string, KEY:int or KEY:bool (a key that contains ':' needs a type after it, as in %s:string=VALUE, or can be given through --parameters-json)", quoteValue(typ), displayPlain(keyText, "KEY"))
		}
	}
	if err := checkKey(key); err != nil {
		if key == "" {
			if k == inferred {
				return Param{}, 0, fmt.Errorf("%w; want KEY=VALUE", err)
			}
			return Param{}, 0, fmt.Errorf("%w; want KEY:%s=VALUE", err, keyText[1:])
		}
		return Param{}, 0, err
	}
	p, err := s.typed(key, raw, k)
	if k == inferred {
		return p, Inferred, err
	}
	return p, Forced, err
}

// typed expands, types and checks the value raw of key.
func (s *Set) typed(key, raw string, k kind) (Param, error) {
	value, err := s.expandValue(key, raw)
	if err != nil {
		return Param{}, err
	}
	typed, err := typeValue(key, raw, value, k)
	if err != nil {
		return Param{}, err
	}
	if err := checkValue(key, typed, value != raw); err != nil {
		return Param{}, err
	}
	return Param{Key: key, Value: typed}, nil
}

// typeValue turns the expanded text value into a string, int64 or bool as k says. raw is the
// value as written, for the fix an error suggests.
func typeValue(key, raw, value string, k kind) (any, error) {
	asString := func() string {
		if fix := key + ":string=" + raw; plain(fix) {
			return "write " + fix + " to send it as a string"
		}
		return `add ":string" to the key to send it as a string`
	}
	switch k {
	case stringKind:
		return value, nil
	case boolKind:
		switch value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%s is not a boolean (want true or false); %s", quoteValue(value), asString())
	case intKind:
		if !canonicalInt(value) {
			return nil, fmt.Errorf("%s is not an integer; %s", quoteValue(value), asString())
		}
	default:
		switch value {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		if !canonicalInt(value) {
			return value, nil
		}
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s does not fit in a 64-bit integer; %s", shorten(value), asString())
	}
	return n, nil
}

// canonicalInt reports whether s is an integer written the one plain way: 0, or digits without
// a leading zero, optionally after a '-'.
func canonicalInt(s string) bool {
	if s == "0" {
		return true
	}
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
