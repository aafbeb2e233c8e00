package circleci

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/baton-ci/baton/helper/internal/safetext"
)

// maxTraceBody is how much of a body the trace shows.
const maxTraceBody = 4 << 10

// tracer writes the Config.Debug trace, curl -v style:
//
//	> POST https://circleci.com/api/v2/project/gh%2Facme%2Fapi/pipeline
//	> Accept: application/json
//	> Circle-Token: [redacted]
//	> Content-Type: application/json
//	> User-Agent: baton/1.2.3
//	{"branch":"main"}
//	< 201 Created (12ms)
//	< Content-Type: application/json
//	{"id":"…","state":"created","number":25,"created_at":"…"}
//
// "*" lines say what the client does next (waiting to retry), "!" lines report failures. Each
// block is written with one Write call under a lock, after every occurrence of the token was
// replaced, so concurrent requests do not interleave and the token cannot leak. A nil *tracer is
// silent.
type tracer struct {
	mu     sync.Mutex
	w      io.Writer
	secret string
}

func (t *tracer) write(s string) {
	s = redactString(s, t.secret)
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, s)
}

// redact replaces the token in a body before it is cut short, so no piece of it survives a cut.
func (t *tracer) redact(data []byte) []byte {
	if t.secret == "" {
		return data
	}
	return []byte(redactString(string(data), t.secret))
}

func (t *tracer) note(format string, args ...any) {
	if t == nil {
		return
	}
	t.write(fmt.Sprintf(format, args...) + "\n")
}

// Debugf writes one line of --debug output into the trace, made safe for a terminal (it may
// quote what the server sent); nothing without Config.Debug.
func (c *Client) Debugf(format string, args ...any) {
	if c.trace == nil {
		return
	}
	c.trace.note("%s", safetext.Terminal(fmt.Sprintf(format, args...)))
}

// request traces r, the attempt's clone of orig (whose GetBody gives the body again).
func (t *tracer) request(r, orig *http.Request, n, max int) {
	if t == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s", r.Method, r.URL.String())
	if n > 1 {
		fmt.Fprintf(&b, " (attempt %d of %d)", n, max)
	}
	b.WriteByte('\n')
	WriteHeader(&b, "> ", Redact(r.Header))
	if orig.GetBody != nil {
		if body, err := orig.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(body, maxTraceBody+1))
			_ = body.Close()
			writeTraceBody(&b, t.redact(data), r.ContentLength)
		}
	}
	t.write(b.String())
}

func (t *tracer) response(resp *http.Response, body []byte, took time.Duration) {
	if t == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "< %s (%s)\n", safetext.Terminal(resp.Status), elapsed(took))
	WriteHeader(&b, "< ", Redact(resp.Header))
	writeTraceBody(&b, t.redact(body), int64(len(body)))
	t.write(b.String())
}

func (t *tracer) failure(err error, took time.Duration) {
	if t == nil {
		return
	}
	t.write(fmt.Sprintf("! no answer after %s: %s\n", elapsed(took), transportDetail(err)))
}

// elapsed is "12ms" under a second, else "1.234s".
func elapsed(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(time.Millisecond).String()
}

// WriteHeader writes h one field per line, sorted by name, each line starting with prefix: the
// form of the --debug trace and of --dry-run. Redact h first; names and values are made safe for
// a terminal here.
func WriteHeader(w io.Writer, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, safetext.Terminal(name), safetext.Terminal(v))
		}
	}
}

// writeTraceBody writes up to maxTraceBody bytes of data, cut at a character boundary, saying
// how long the whole body was when it is cut.
func writeTraceBody(b *strings.Builder, data []byte, total int64) {
	if len(data) == 0 {
		return
	}
	cut := len(data) > maxTraceBody
	if cut {
		data = data[:maxTraceBody]
		for i := 1; i <= utf8.UTFMax && i <= len(data); i++ { // drop a last character cut in two
			if utf8.RuneStart(data[len(data)-i]) {
				if !utf8.FullRune(data[len(data)-i:]) {
					data = data[:len(data)-i]
				}
				break
			}
		}
	}
	// Line by line, so a pretty-printed body keeps its lines; anything a terminal would obey
	// becomes a visible escape.
	for i, line := range strings.Split(string(data), "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(safetext.Terminal(line))
	}
	if cut {
		if total > 0 {
			fmt.Fprintf(b, "\n… (cut; %d bytes in all)", total)
		} else {
			b.WriteString("\n… (cut)")
		}
	}
	b.WriteByte('\n')
}
