package params

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AddJSON adds the parameters in data, one JSON object whose values are strings, integers or
// booleans. source names where data came from ("--parameters-json", "--parameters-file
// params.json") in errors. Nothing is added unless the whole object is good.
//
// The object is read token by token, so a key given twice, a number that is not an integer, and
// anything after the object are errors rather than silently dropped or rounded. A leading UTF-8
// byte order mark is ignored.
func (s *Set) AddJSON(source string, data []byte) error {
	return s.transaction(func() error { return s.addJSON(source, data) })
}

func (s *Set) addJSON(source string, data []byte) error {
	fail := func(format string, args ...any) error { return usage(source, fmt.Errorf(format, args...)) }
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if off := invalidUTF8(data); off >= 0 {
		return fail("not valid UTF-8 (at byte %d); save the file as UTF-8", off)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	notJSON := func(err error) error {
		var syn *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fail("not valid JSON: it ends before the object does")
		case errors.As(err, &syn):
			return fail("not valid JSON (near byte %d): %v", syn.Offset, err)
		default:
			return fail("not valid JSON: %v", err)
		}
	}

	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return fail("want a JSON object of parameters, got nothing")
	}
	if err != nil {
		return notJSON(err)
	}
	if tok != json.Delim('{') {
		return fail("want a JSON object of parameters, got %s", describe(tok))
	}

	seen := make(map[string]bool)
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return notJSON(err)
		}
		key, ok := tok.(string)
		if !ok {
			return fail("not valid JSON: want a key, got %s", describe(tok))
		}
		if esc := loneSurrogate(data[start:dec.InputOffset()]); esc != "" {
			return fail("a key holds %s, half of a UTF-16 surrogate pair, which is not a character", esc)
		}
		if seen[key] {
			return fail("parameter %s is given twice in the object; give it once", quoteKey(key))
		}
		seen[key] = true
		if err := checkKey(key); err != nil {
			if key == "" {
				return fail("a key is empty; every parameter needs a name")
			}
			return usage(source, err)
		}

		start = dec.InputOffset()
		tok, err = dec.Token()
		if err != nil {
			return notJSON(err)
		}
		var value any
		expanded := false
		switch v := tok.(type) {
		case string:
			if esc := loneSurrogate(data[start:dec.InputOffset()]); esc != "" {
				return fail("parameter %s: the value holds %s, half of a UTF-16 surrogate pair, which is not a character", quoteKey(key), esc)
			}
			x, err := s.expandValue(key, v)
			if err != nil {
				return usage(source, err)
			}
			value, expanded = x, x != v
		case bool:
			value = v
		case json.Number:
			n, err := jsonInt(key, v)
			if err != nil {
				return usage(source, err)
			}
			value = n
		case nil:
			return fail("parameter %s is null; want a string, an integer or a boolean (leave the key out to use the parameter's default)", quoteKey(key))
		default:
			return fail("parameter %s is %s; want a string, an integer or a boolean (to send JSON text, write it as a string)", quoteKey(key), describe(tok))
		}
		if err := checkValue(key, value, expanded); err != nil {
			return usage(source, err)
		}
		if err := s.add(Param{Key: key, Value: value}, source, AsWritten); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return notJSON(err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		for end < int64(len(data)) && strings.IndexByte(" \t\r\n", data[end]) >= 0 {
			end++
		}
		return fail("unexpected data after the JSON object (at byte %d); give exactly one object", end)
	}
	return nil
}

// jsonInt reads a JSON number as an int64; the API takes no fractions or exponents.
func jsonInt(key string, num json.Number) (int64, error) {
	text := string(num)
	if strings.ContainsAny(text, ".eE") {
		return 0, fmt.Errorf("parameter %s is %s, but the API takes integers only; write %s to send it as a string", quoteKey(key), shorten(text), quote(text))
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s: %s does not fit in a 64-bit integer; write %s to send it as a string", quoteKey(key), shorten(text), quote(text))
	}
	return n, nil
}

// describe names the JSON value tok starts, for "got ..." messages.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return strconv.Quote(v.String())
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// invalidUTF8 returns the offset of the first byte of data that is not UTF-8, or -1.
func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogate returns the first \u escape in raw, the text of one JSON string token, that is
// half of a UTF-16 surrogate pair; encoding/json would silently turn it into U+FFFD.
func loneSurrogate(raw []byte) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, ok := hex4(raw, i+2)
		if !ok {
			return ""
		}
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if i+11 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if low, ok := hex4(raw, i+8); ok && 0xDC00 <= low && low < 0xE000 {
					i += 11
					continue
				}
			}
			return string(raw[i : i+6])
		case 0xDC00 <= r && r < 0xE000:
			return string(raw[i : i+6])
		}
		i += 5
	}
	return ""
}

// hex4 reads the four hex digits at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
	return rune(n), err == nil
}
