package params_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
)

// knowsAll is a lookup for which every variable is set; its values hold "$" to catch a second
// expansion.
func knowsAll(name string) (string, bool) { return "<$" + name + ">", true }

// checkResult holds the invariants of every Add*: on error, exit code 2, one line and nothing
// added; on success, typed values and keys within the API's limits.
func checkResult(t *testing.T, input any, s *params.Set, err error) []params.Param {
	t.Helper()
	ps := s.Params()
	if err != nil {
		if code := exitcode.Of(err); code != exitcode.Usage {
			t.Fatalf("%q: exit code %d, want %d: %v", input, code, exitcode.Usage, err)
		}
		if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("%q: error is not one line: %q", input, msg)
		}
		if len(ps) != 0 {
			t.Fatalf("%q: failed but added %v", input, ps)
		}
		return nil
	}
	if len(ps) > params.MaxParams {
		t.Fatalf("%q: %d parameters", input, len(ps))
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if p.Key == "" || !utf8.ValidString(p.Key) || utf8.RuneCountInString(p.Key) > params.MaxKeyLen {
			t.Fatalf("%q: bad key %q", input, p.Key)
		}
		if seen[p.Key] {
			t.Fatalf("%q: key %q twice", input, p.Key)
		}
		seen[p.Key] = true
		text, ok := valueText(p.Value)
		if !ok {
			t.Fatalf("%q: value %#v of type %T", input, p.Value, p.Value)
		}
		if !utf8.ValidString(text) || utf8.RuneCountInString(text) > params.MaxValueLen {
			t.Fatalf("%q: bad value %q", input, text)
		}
	}
	return ps
}

func valueText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func isCanonicalInt(s string) bool {
	if s == "0" {
		return true
	}
	d := strings.TrimPrefix(s, "-")
	if d == "" || d[0] == '0' {
		return false
	}
	return strings.Trim(d, "0123456789") == ""
}

func FuzzAddAssignment(f *testing.F) {
	for _, s := range []string{
		"env=prod", "n=3", "n=-12", "n=007", "n=-0", "n=+4", "n=1e3", "n= 3", "b=true", "b=True",
		"big=99999999999999999999", "n=9223372036854775807", "n=-9223372036854775808",
		"k:int=3x", "k:string=1", "k:bool=yes", "k:boolean=false", "k:integer=0", "a:b=c",
		"a:b:string=c", ":int=1", "=x", "noeq", "", "k=", "k=a=b", "image=$DOCKER_LOGIN/$X:1",
		"x=${A", "x=${}", "x=$$", "x=$(rm -rf /)", "k=\xff", "\xff=1", "k=line1\nline2",
		"k=" + strings.Repeat("v", 513), strings.Repeat("k", 129) + "=1", "k=🚀\u200f<< x >>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		for _, opts := range []params.Options{{Expand: false}, {Expand: true, Lookup: knowsAll}} {
			s := params.NewSet(opts)
			err := s.AddAssignment(arg)
			ps := checkResult(t, arg, s, err)
			if err == nil && len(ps) != 1 {
				t.Fatalf("%q: %d parameters, want 1", arg, len(ps))
			}

			key, value, ok := strings.Cut(arg, "=")
			plainKey := ok && key != "" && !strings.Contains(key, ":") && utf8.ValidString(key) && utf8.RuneCountInString(key) <= params.MaxKeyLen
			literal := !opts.Expand || !strings.Contains(value, "$")
			fits := utf8.ValidString(value) && utf8.RuneCountInString(value) <= params.MaxValueLen
			if !plainKey || !literal || !fits {
				continue
			}
			if err != nil {
				if isCanonicalInt(value) && strings.Contains(err.Error(), "does not fit in a 64-bit integer") {
					continue
				}
				t.Fatalf("%q (expand %v): %v", arg, opts.Expand, err)
			}
			p := ps[0]
			text, _ := valueText(p.Value)
			if p.Key != key || text != value {
				t.Fatalf("%q: got %q=%q (%T), want %q=%q", arg, p.Key, text, p.Value, key, value)
			}
			_, isBool := p.Value.(bool)
			_, isInt := p.Value.(int64)
			if isBool != (value == "true" || value == "false") || isInt != isCanonicalInt(value) {
				t.Fatalf("%q: value typed %T", arg, p.Value)
			}
		}
	})
}

func FuzzAddJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, ``, `[]`, `null`, `"x"`, `3`, `{"env":"prod","n":3,"b":true}`, `{"a":1.5}`, `{"a":1e3}`,
		`{"a":-0}`, `{"a":9223372036854775808}`, `{"a":null}`, `{"a":[1]}`, `{"a":{"b":1}}`,
		`{"a":1,"a":2}`, `{"é":1,"\u00e9":2}`, `{"a":1}{}`, `{"a":1} x`, `{"a":1`, `{"":1}`,
		`{"k":"\u0000\ud83d\ude80"}`, `{"k":"\ud800"}`, `{"k":"\\ud800"}`, `{"\udc00":1}`,
		"\xef\xbb\xbf{\"a\":1}", "{\"a\":\"\xff\"}", `{"k":"$HOME ${X} $$ ${"}`,
		`{"k":"<< pipeline.x >> $(rm -rf /) ` + "`x`" + ` \"q\" \\ \n"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := params.NewSet(params.Options{Expand: true, Lookup: knowsAll})
		checkResult(t, data, s, s.AddJSON("--parameters-json", data))

		s = params.NewSet(params.Options{})
		err := s.AddJSON("--parameters-json", data)
		ps := checkResult(t, data, s, err)
		if err != nil {
			return
		}

		// encoding/json reads the same object the same way.
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%q: accepted, but encoding/json says %v", data, err)
		}
		if len(m) != len(ps) {
			t.Fatalf("%q: %d parameters, encoding/json found %d", data, len(ps), len(m))
		}
		for _, p := range ps {
			want, ok := m[p.Key]
			if n, isNum := want.(json.Number); isNum {
				i, err := n.Int64()
				want, ok = i, ok && err == nil
			}
			if !ok || want != p.Value {
				t.Fatalf("%q: %q is %#v, encoding/json says %#v", data, p.Key, p.Value, m[p.Key])
			}
		}

		// Written back as JSON, the parameters read the same again.
		var b bytes.Buffer
		b.WriteByte('{')
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(p.Key)
			v, _ := json.Marshal(p.Value)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		again := params.NewSet(params.Options{})
		if err := again.AddJSON("--parameters-json", b.Bytes()); err != nil {
			t.Fatalf("%q: written back as %q: %v", data, b.Bytes(), err)
		}
		if got := again.Params(); len(got) != len(ps) {
			t.Fatalf("%q: written back, %d parameters, want %d", data, len(got), len(ps))
		} else {
			for i := range ps {
				if got[i] != ps[i] {
					t.Fatalf("%q: written back, %#v, want %#v", data, got[i], ps[i])
				}
			}
		}
	})
}

func FuzzAddLines(f *testing.F) {
	for _, s := range []string{
		"", "a=1\nb=true\r\nc=x\n", "# c\n\n  \t\na=1", "a=1\na=2", "noeq", "a:int=x", "\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := params.NewSet(params.Options{Expand: true, Lookup: knowsAll})
		err := s.AddLines(text)
		ps := checkResult(t, text, s, err)
		if err == nil && len(ps) > strings.Count(text, "\n")+1 {
			t.Fatalf("%q: %d parameters from %d lines", text, len(ps), strings.Count(text, "\n")+1)
		}
	})
}

// FuzzJSONRoundTrip writes one parameter of each type with encoding/json and expects exactly
// those values back whenever the key and value are within the API's rules.
func FuzzJSONRoundTrip(f *testing.F) {
	f.Add("env", "prod", int64(3), true)
	f.Add("k\x00", "\x00\u200f🚀 << x >> $(rm -rf /) `x` \"q\" \\", int64(-9223372036854775808), false)
	f.Add(strings.Repeat("k", 126), strings.Repeat("é", 512), int64(0), true)
	f.Fuzz(func(t *testing.T, key, value string, n int64, b bool) {
		obj := map[string]any{key + "s": value, key + "n": n, key + "b": b}
		data, err := json.Marshal(obj)
		if err != nil {
			t.Skip()
		}
		s := params.NewSet(params.Options{})
		err = s.AddJSON("--parameters-json", data)
		checkResult(t, data, s, err)
		valid := utf8.ValidString(key) && utf8.RuneCountInString(key)+1 <= params.MaxKeyLen &&
			utf8.ValidString(value) && utf8.RuneCountInString(value) <= params.MaxValueLen
		if !valid {
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		got := map[string]any{}
		for _, p := range s.Params() {
			got[p.Key] = p.Value
		}
		if len(got) != 3 || got[key+"s"] != value || got[key+"n"] != n || got[key+"b"] != b {
			t.Fatalf("%q: got %#v, want %#v", data, got, obj)
		}
	})
}
