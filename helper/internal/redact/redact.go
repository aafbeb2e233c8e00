// Package redact keeps secrets (the API token) out of everything baton writes.
//
// A Redactor replaces each secret, and each form a server or a tool may give it back in (JSON-,
// URL- and HTML-escaped), with "[redacted]". Matching is one pass, leftmost then longest, each
// occurrence replaced once: the marker is never searched again, so a short secret cannot mangle
// it ("[redac[redacted]ed]").
package redact

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Marker replaces every form of every secret.
const Marker = "[redacted]"

// Redactor replaces registered secrets. It is safe for concurrent use; a secret added later
// applies to every Writer made earlier, from their next Write on.
type Redactor struct {
	mu      sync.Mutex // serialises Add
	secrets []string
	m       atomic.Pointer[matcher]
}

// New returns a Redactor for secrets; empty ones are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.m.Store(&matcher{})
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add registers one more secret. An empty string is ignored. Callers refuse secrets too short to
// be told apart from ordinary text (baton refuses tokens under 16 characters) before adding them.
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets, secret) {
		return
	}
	r.secrets = append(r.secrets, secret)
	var forms []string
	for _, s := range r.secrets {
		forms = append(forms, Forms(s)...)
	}
	r.m.Store(newMatcher(forms))
}

// String returns s with every form of every secret replaced by Marker; s itself, without a copy,
// when it holds none (most text).
func (r *Redactor) String(s string) string {
	m := r.m.Load()
	if !m.contains(s) {
		return s
	}
	out, _ := m.scan(nil, []byte(s), true)
	return string(out)
}

// Contains reports whether s holds any form of any secret.
func (r *Redactor) Contains(s string) bool { return r.m.Load().contains(s) }

// Forms lists the spellings of secret that are redacted: itself, and how JSON encoders, URL
// query and path escaping and HTML escaping write it (the named and the numeric HTML entities,
// JSON with and without "/", HTML characters and non-ASCII escaped), and each of those inside a
// JSON string again (a raw answer echoing an escaped form). Duplicates are removed.
// They are matched ignoring ASCII letter case, so hex escapes match in either case (\u003C,
// %2f); text that differs from a secret only in letter case is redacted too, which costs nothing
// real for a 16-character token.
func Forms(secret string) []string {
	if secret == "" {
		return nil
	}
	forms := []string{secret, htmlNumeric.Replace(secret), htmlNamed.Replace(secret)}
	for _, opt := range []jsonOpt{0, jsonHTML, jsonSlash | jsonHTML, jsonASCII | jsonHTML, jsonASCII | jsonSlash | jsonHTML, jsonASCII | jsonSlash} {
		forms = append(forms, jsonEscape(secret, opt))
	}
	forms = append(forms, url.QueryEscape(secret), url.PathEscape(secret), strings.ReplaceAll(url.QueryEscape(secret), "+", "%20"))
	// Each of those once more inside a JSON string, as a raw answer (the --debug trace) holds
	// an escaped echo: "name":"…\\u003c…".
	for _, f := range slices.Clone(forms) {
		forms = append(forms, jsonEscape(f, jsonHTML), jsonEscape(f, 0))
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// HTML escapes, written out rather than taken from package html, whose entity table would add
// a quarter of a megabyte to baton for two replacers.
var (
	// htmlNumeric escapes as Go's html.EscapeString and html/template do.
	htmlNumeric = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	// htmlNamed escapes as Python's html.escape and many template engines do.
	htmlNamed = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;")
)

type jsonOpt int

const (
	jsonHTML  jsonOpt = 1 << iota // <, > and & as \u003c… (Go's default)
	jsonSlash                     // / as \/ (PHP, some Java encoders)
	jsonASCII                     // everything past ASCII as \uXXXX (Python's default)
)

// jsonEscape is s as the body of a JSON string (without its quotes).
func jsonEscape(s string, opt jsonOpt) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '/' && opt&jsonSlash != 0:
			b.WriteString(`\/`)
		case r < 0x20, r == 0x2028, r == 0x2029,
			opt&jsonHTML != 0 && (r == '<' || r == '>' || r == '&'):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r > 0x7e && opt&jsonASCII != 0:
			if r > 0xffff { // a surrogate pair
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matcher is an immutable set of forms, scanned leftmost-longest.
type matcher struct {
	forms  []string  // longest first
	first  [256]bool // bytes some form starts with
	maxLen int
}

func newMatcher(forms []string) *matcher {
	m := &matcher{forms: slices.Clone(forms)}
	slices.SortStableFunc(m.forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range m.forms {
		m.first[lower(f[0])] = true
		m.first[upper(f[0])] = true
		m.maxLen = max(m.maxLen, len(f))
	}
	return m
}

// scan appends src to dst with every form replaced. Unless final, it stops where the rest of src
// could still grow into a form (a secret split across two writes) and returns that rest.
func (m *matcher) scan(dst, src []byte, final bool) (out, rest []byte) {
	for i := 0; i < len(src); {
		if !m.first[src[i]] {
			j := i + 1
			for j < len(src) && !m.first[src[j]] {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		tail := src[i:]
		if !final && m.mayGrow(tail) {
			return dst, tail
		}
		if n := m.longest(tail); n > 0 {
			dst = append(dst, Marker...)
			i += n
			continue
		}
		dst = append(dst, src[i])
		i++
	}
	return dst, nil
}

// contains reports whether s holds any form, reading s where it is.
func (m *matcher) contains(s string) bool {
	for i := 0; i < len(s); i++ {
		if m.first[s[i]] && longest(m, s[i:]) > 0 {
			return true
		}
	}
	return false
}

// longest is the length of the longest form src starts with, or 0.
func (m *matcher) longest(src []byte) int { return longest(m, src) }

func longest[T string | []byte](m *matcher, src T) int {
	for _, f := range m.forms {
		if len(f) <= len(src) && foldEqual(src[:len(f)], f) {
			return len(f)
		}
	}
	return 0
}

// mayGrow: src is shorter than some form and is its beginning, so more bytes may complete it.
func (m *matcher) mayGrow(src []byte) bool {
	if len(src) >= m.maxLen {
		return false
	}
	for _, f := range m.forms {
		if len(src) < len(f) && foldEqual(src, f[:len(src)]) {
			return true
		}
	}
	return false
}

// foldEqual compares a and b ignoring ASCII letter case.
func foldEqual[T string | []byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Writer returns a writer that redacts everything written through it to w.
//
// A secret split across two Writes is still found: the end of a Write that could be the beginning
// of a secret is held back until the next Write, or Flush. Text ending in a newline is never held
// back (no form contains one), so callers writing whole lines or records see them at once; callers
// that may end on a partial line call Flush (the returned writer has Flush() error) before they
// finish.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &Writer{r: r, w: w}
}

// Writer is what Redactor.Writer returns.
type Writer struct {
	r    *Redactor
	mu   sync.Mutex
	w    io.Writer
	held []byte
	buf  []byte
}

// Write redacts p and writes it on, except a tail that may be the start of a secret. It reports
// len(p) written when everything it could write was written.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(p), w.write(p, false)
}

// Flush writes what Write held back.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.write(nil, true)
}

func (w *Writer) write(p []byte, final bool) error {
	m := w.r.m.Load()
	src := p
	if len(w.held) > 0 {
		src = append(w.held, p...)
	}
	if len(m.forms) == 0 {
		w.held = w.held[:0]
		if len(src) == 0 {
			return nil
		}
		_, err := w.w.Write(src)
		return err
	}
	out, rest := m.scan(w.buf[:0], src, final)
	w.buf = out
	// rest aliases src (the caller's p, or held itself): copy it; append's copy allows overlap.
	w.held = append(w.held[:0], rest...)
	if len(out) == 0 {
		return nil
	}
	_, err := w.w.Write(out)
	return err
}

// Flush flushes w when it is (or wraps) a redacting Writer; for any other writer it does nothing.
func Flush(w io.Writer) error {
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
