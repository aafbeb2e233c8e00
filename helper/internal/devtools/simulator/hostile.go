package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Hostile makes answers carry what a hostile or broken server could send: text with escape
// codes, bidi controls or the caller's own token in it, nulls where strings belong, endless or
// huge pages. Unlike a Fault it does not replace the answer but rewrites the one the simulator
// gave, so everything else (pipelines, workflows, their progress) behaves as usual.
//
//	{"operation": "listWorkflowsByPipelineId", "fields": ["name"], "append": " \u001b]0;pwned\u0007 {token}"}
//	{"operation": "*", "fields": ["message"], "append": " {token:json} {token:url} {token:html}"}
//	{"operation": "listWorkflowsByPipelineId", "null": ["id", "status"]}
//	{"operation": "listWorkflowJobs", "page_items": 25000, "pages": -1}
type Hostile struct {
	// Operation is the operationId whose answers are rewritten, or "*" for every answer.
	Operation string `json:"operation" yaml:"operation"`
	// Fields are the JSON keys, at any depth, whose string values get Append added at their end.
	Fields []string `json:"fields,omitempty" yaml:"fields,omitempty"`
	// Append is the text added. {token}, {token:json}, {token:url}, {token:path} and
	// {token:html} become the request's own token: as it is, as the body of a JSON string,
	// query-escaped, path-escaped and HTML-escaped (an echo the client must still redact).
	Append string `json:"append,omitempty" yaml:"append,omitempty"`
	// Null are the JSON keys, at any depth, whose values become null.
	Null []string `json:"null,omitempty" yaml:"null,omitempty"`
	// Set are JSON keys, at any depth, whose values (where they are not null) become the value
	// given: a "stopped_at" of "yesterday" or of 9999-12-31, as a broken server might send.
	Set map[string]any `json:"set,omitempty" yaml:"set,omitempty"`
	// PageItems pads every page of a list answer to this many items, repeating its items.
	PageItems int `json:"page_items,omitempty" yaml:"page_items,omitempty"`
	// Pages makes a list answer claim this many pages (-1: endless): each gets a
	// next_page_token until the last, and each serves the first page's items again.
	Pages int `json:"pages,omitempty" yaml:"pages,omitempty"`
}

// hostilePageToken marks the page tokens of Hostile.Pages; the number is the page.
const hostilePageToken = "hostile-page-"

func (h Hostile) normalized() (Hostile, error) {
	if h.Operation != "*" && !slices.Contains(operations, h.Operation) {
		return h, fmt.Errorf("operation: %q is not an operation the simulator serves; use one of %s or \"*\"", h.Operation, strings.Join(operations, ", "))
	}
	if h.PageItems < 0 {
		return h, fmt.Errorf("page_items: %d is negative", h.PageItems)
	}
	if h.Pages < -1 {
		return h, fmt.Errorf("pages: %d; use a count, or -1 for endless", h.Pages)
	}
	if len(h.Fields) == 0 && len(h.Null) == 0 && len(h.Set) == 0 && h.PageItems == 0 && h.Pages == 0 {
		return h, fmt.Errorf("nothing to do: give fields and append, null, set, page_items or pages")
	}
	return h, nil
}

// AddHostile makes every later answer to h.Operation hostile as h says. It returns an error naming
// the bad field when h is invalid.
func (s *Simulator) AddHostile(h Hostile) error {
	nh, err := h.normalized()
	if err != nil {
		return fmt.Errorf("hostile %s", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostile = append(s.hostile, nh)
	return nil
}

// hostileFor returns the rewrites that apply to op.
func (s *Simulator) hostileFor(op string) []Hostile {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Hostile
	for _, h := range s.hostile {
		if h.Operation == "*" || h.Operation == op {
			out = append(out, h)
		}
	}
	return out
}

// hostileRequest strips a page token of Hostile.Pages, so the simulator serves its first page
// again; it returns the page asked for (0 for the first).
func hostileRequest(r *http.Request, hs []Hostile) (*http.Request, int) {
	tok := r.URL.Query().Get("page-token")
	n, ok := strings.CutPrefix(tok, hostilePageToken)
	if len(hs) == 0 || !ok {
		return r, 0
	}
	page, _ := strconv.Atoi(n)
	r2 := r.Clone(r.Context())
	q := r2.URL.Query()
	q.Del("page-token")
	r2.URL.RawQuery = q.Encode()
	return r2, page
}

// rewrite applies hs to the answer a to the request r (page is what hostileRequest returned).
func rewrite(a *answer, r *http.Request, hs []Hostile, page int) {
	if len(hs) == 0 || a.body.Len() == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(a.body.Bytes()))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return // not JSON (an app page): nothing to rewrite
	}
	tok := r.Header.Get("Circle-Token")
	for _, h := range hs {
		doc = h.apply(doc, tok, page)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(doc) != nil {
		return
	}
	a.body = b
}

func (h Hostile) apply(doc any, tok string, page int) any {
	text := strings.NewReplacer(
		"{token}", tok,
		"{token:json}", strings.Trim(jsonString(tok), `"`),
		"{token:url}", url.QueryEscape(tok),
		"{token:path}", url.PathEscape(tok),
		"{token:html}", html.EscapeString(tok),
	).Replace(h.Append)
	doc = h.walk(doc, text) // before padding, which repeats the same items
	if obj, ok := doc.(map[string]any); ok && (h.PageItems > 0 || h.Pages != 0) {
		if items, ok := obj["items"].([]any); ok {
			if h.PageItems > 0 && len(items) > 0 {
				padded := make([]any, h.PageItems)
				for i := range padded {
					padded[i] = items[i%len(items)]
				}
				obj["items"] = padded
			}
			if h.Pages == -1 || page+1 < h.Pages {
				obj["next_page_token"] = hostilePageToken + strconv.Itoa(page+1)
			}
		}
	}
	return doc
}

// walk rewrites the fields of doc at every depth.
func (h Hostile) walk(doc any, text string) any {
	switch v := doc.(type) {
	case map[string]any:
		for k, val := range v {
			switch {
			case slices.Contains(h.Null, k):
				v[k] = nil
			case h.Set[k] != nil && val != nil:
				v[k] = h.Set[k]
			case slices.Contains(h.Fields, k):
				if s, ok := val.(string); ok {
					v[k] = s + text
				} else {
					v[k] = h.walk(val, text)
				}
			default:
				v[k] = h.walk(val, text)
			}
		}
	case []any:
		for i := range v {
			v[i] = h.walk(v[i], text)
		}
	}
	return doc
}
