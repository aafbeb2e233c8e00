// Package payload builds the JSON body of a trigger request with sjson: every key and value is
// set through sjson's encoder, never pasted into a string, so no byte of user input can change
// the shape of the document.
package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/sjson"

	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/request"
)

// Body is the request body for t's endpoint.
func Body(t *request.Trigger) ([]byte, error) {
	if t.UsesRun() {
		return run(t)
	}
	return legacy(t)
}

// legacy: POST /project/{slug}/pipeline takes {branch | tag, parameters}.
func legacy(t *request.Trigger) ([]byte, error) {
	b := builder{doc: []byte("{}")}
	b.ref("", t.Ref)
	b.params(t.Params)
	return b.doc, b.err
}

// run: POST /project/{p}/{o}/{r}/pipeline/run takes {definition_id, config, checkout, parameters}.
func run(t *request.Trigger) ([]byte, error) {
	b := builder{doc: []byte("{}")}
	b.set("definition_id", t.DefinitionID)
	b.ref("config.", t.Config)
	b.ref("checkout.", t.Checkout)
	b.params(t.Params)
	return b.doc, b.err
}

// builder keeps the first sjson error so the body reads as a list of fields.
type builder struct {
	doc []byte
	err error
}

func (b *builder) set(path string, value any) {
	if b.err != nil {
		return
	}
	if s, ok := value.(string); ok {
		// sjson escapes <, > and & as \u003c…; the same string without that reads as written
		// in --dry-run and in CircleCI's UI, and decodes identically.
		b.doc, b.err = sjson.SetRawBytes(b.doc, path, jsonString(s))
	} else {
		b.doc, b.err = sjson.SetBytes(b.doc, path, value)
	}
	if b.err != nil {
		b.err = fmt.Errorf("building the request body at %s: %w", path, b.err)
	}
}

// jsonString encodes s as a JSON string literal without HTML escaping.
func jsonString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (b *builder) ref(prefix string, r request.Ref) {
	switch {
	case r.Branch != "":
		b.set(prefix+"branch", r.Branch)
	case r.Tag != "":
		b.set(prefix+"tag", r.Tag)
	}
}

func (b *builder) params(ps []params.Param) {
	if len(ps) == 0 {
		return
	}
	if b.err == nil {
		// An object first, so a key that looks like an index ("0") is never read as one.
		b.doc, b.err = sjson.SetRawBytes(b.doc, "parameters", []byte("{}"))
	}
	for _, p := range ps {
		b.set("parameters."+EscapeKey(p.Key), p.Value)
	}
}

// pathSpecial are the bytes sjson's path syntax gives a meaning: separator, escape, gjson's
// query and modifier characters, and ':' (which forces a numeric key to be an object key only
// at the start of a component, but escaping it everywhere is simpler and just as correct).
const pathSpecial = `\.|#@*?:`

// EscapeKey makes key one literal sjson path component.
func EscapeKey(key string) string {
	if !strings.ContainsAny(key, pathSpecial) {
		return key
	}
	var sb strings.Builder
	for i := 0; i < len(key); i++ {
		if strings.IndexByte(pathSpecial, key[i]) >= 0 {
			sb.WriteByte('\\')
		}
		sb.WriteByte(key[i])
	}
	return sb.String()
}
