package params

// AddScalar adds the parameter key with the text value a structured projects file gives it
// (package dispatch): a plain scalar is typed like a --param value (true/false, a canonical
// integer, else a string) and may be retyped by pre-flight; a quoted one is a string as written.
// $VAR expansion and every limit apply as to --param. source names the entry in errors.
func (s *Set) AddScalar(source, key, text string, quoted bool) error {
	if err := checkKey(key); err != nil {
		return usage(source, err)
	}
	k, typing := inferred, Inferred
	if quoted {
		k, typing = stringKind, AsWritten
	}
	p, err := s.typed(key, text, k)
	if err != nil {
		return usage(source, err)
	}
	return s.add(p, source, typing)
}
