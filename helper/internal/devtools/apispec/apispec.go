// Package apispec holds requests and answers to CircleCI's own OpenAPI description of API v2.
//
// It is test support: the simulator's answers and the client's requests are both checked against
// the published description, so a field name that is wrong in both cannot pass unnoticed. The
// description is data owned by the workplace, read from ../shared next to the repository and never
// copied into it.
package apispec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// EnvPath names an environment variable that overrides where the description is read from.
const EnvPath = "BATON_OPENAPI"

// prefix is the server path of API v2; the description's paths are relative to it.
const prefix = "/api/v2"

// ErrAbsent reports that the description file is not there to check against.
var ErrAbsent = errors.New("CircleCI's OpenAPI description is absent")

// Exchange is one request and the answer it got, as seen on the wire.
type Exchange struct {
	Method         string
	Path           string // escaped, as received: /api/v2/project/gh%2Facme%2Fapi/pipeline
	RawQuery       string
	RequestHeader  http.Header
	RequestBody    []byte
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
}

// Spec is a loaded description with its operations indexed for matching escaped paths.
type Spec struct {
	doc    *openapi3.T
	routes []route
}

type route struct {
	template string   // as in the description: /project/{project-slug}/pipeline
	segments []string // template segments; "{project-slug}" may stand for 1 or 3 wire segments
	slugSegs int      // how many wire segments {project-slug} takes in this variant (0: none)
	literals int      // literal segments, so the most specific variant wins
	item     *openapi3.PathItem
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// DefaultPath is where the description is expected: $BATON_OPENAPI, else
// ../shared/circleci-openapi/openapi.json beside the repository holding go.mod.
func DefaultPath() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "circleci-openapi", "openapi.json")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Load reads the description once per process. It returns an error wrapping ErrAbsent when the
// file is not there.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = LoadFile(DefaultPath()) })
	return loaded, loadErr
}

// Require loads the description for a test, or skips the test saying clearly why.
func Require(t testing.TB) *Spec {
	t.Helper()
	s, err := Load()
	if errors.Is(err, ErrAbsent) {
		t.Skipf("skipped: %v (looked at %s; set %s to point elsewhere)", err, DefaultPath(), EnvPath)
	}
	if err != nil {
		t.Fatalf("loading CircleCI's OpenAPI description: %v", err)
	}
	return s
}

// LoadFile reads and indexes the description at path.
func LoadFile(path string) (*Spec, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no go.mod found above the working directory", ErrAbsent)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAbsent, err)
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	honourXNullable(doc)
	typeUntypedPathParams(doc)
	// The description declares ids as format uuid; kin-openapi checks that only when asked.
	doc.SetStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern))
	s := &Spec{doc: doc}
	for template, item := range doc.Paths.Map() {
		s.routes = append(s.routes, variants(template, item)...)
	}
	sort.Slice(s.routes, func(i, j int) bool { return s.routes[i].literals > s.routes[j].literals })
	return s, nil
}

// typeUntypedPathParams gives path parameters the description leaves without a schema (job-number
// of getTests and getJobArtifacts: "schema": {}) the type string, which every path segment is;
// kin-openapi decodes a parameter without a type as empty and refuses it.
func typeUntypedPathParams(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if v := p.Value; v != nil && v.In == "path" && v.Schema != nil && v.Schema.Value != nil && v.Schema.Value.Type == nil {
					v.Schema.Value.Type = &openapi3.Types{openapi3.TypeString}
				}
			}
		}
	}
}

// honourXNullable turns the description's Swagger-2 style `x-nullable: true` into OpenAPI 3's
// `nullable`, which is what kin-openapi reads: the real API sends null there (stopped_at of a
// running workflow, next_page_token on the last page, avatar_url …).
func honourXNullable(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if v, ok := s.Extensions["x-nullable"].(bool); ok && v {
			s.Nullable = true
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		walk(s.Not)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, sub := range group {
				walk(sub)
			}
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, media := range resp.Value.Content {
					walk(media.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, media := range op.RequestBody.Value.Content {
					walk(media.Schema)
				}
			}
		}
	}
}

const uuidPattern = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// variants expands a template into the wire shapes it matches: a {project-slug} travels either
// as one escaped segment (gh%2Facme%2Fapi) or as three plain ones (gh/acme/api).
func variants(template string, item *openapi3.PathItem) []route {
	segs := strings.Split(strings.TrimPrefix(template, "/"), "/")
	literals := 0
	hasSlug := false
	for _, s := range segs {
		if s == "{project-slug}" {
			hasSlug = true
		} else if !isParam(s) {
			literals++
		}
	}
	if !hasSlug {
		return []route{{template: template, segments: segs, literals: literals, item: item}}
	}
	return []route{
		{template: template, segments: segs, slugSegs: 1, literals: literals, item: item},
		{template: template, segments: segs, slugSegs: 3, literals: literals, item: item},
	}
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// match finds the operation for an escaped path and returns its path parameters, unescaped.
func (s *Spec) match(method, escapedPath string) (*route, map[string]string, error) {
	if !strings.HasPrefix(escapedPath, prefix+"/") {
		return nil, nil, fmt.Errorf("%s %s: not under %s", method, escapedPath, prefix)
	}
	wire := strings.Split(strings.TrimPrefix(escapedPath, prefix+"/"), "/")
	for i := range s.routes {
		r := &s.routes[i]
		if r.item.GetOperation(method) == nil {
			continue
		}
		if params, ok := r.bind(wire); ok {
			return r, params, nil
		}
	}
	return nil, nil, fmt.Errorf("%s %s: no operation in the description matches", method, escapedPath)
}

func (r *route) bind(wire []string) (map[string]string, bool) {
	params := map[string]string{}
	w := 0
	for _, seg := range r.segments {
		take := 1
		if seg == "{project-slug}" {
			take = r.slugSegs
		}
		if w+take > len(wire) {
			return nil, false
		}
		parts := make([]string, take)
		for k := range take {
			v, err := url.PathUnescape(wire[w+k])
			if err != nil || v == "" {
				return nil, false
			}
			parts[k] = v
		}
		w += take
		switch {
		case isParam(seg):
			params[strings.Trim(seg, "{}")] = strings.Join(parts, "/")
		case parts[0] != seg:
			return nil, false
		}
	}
	return params, w == len(wire)
}

// Operation names the operationId that an escaped path and method reach, for messages and tests.
func (s *Spec) Operation(method, escapedPath string) (string, error) {
	r, _, err := s.match(method, escapedPath)
	if err != nil {
		return "", err
	}
	return r.item.GetOperation(method).OperationID, nil
}

// CheckRequest holds the request half of an exchange to its operation's parameters and body.
func (s *Spec) CheckRequest(ex Exchange) error {
	in, err := s.input(ex)
	if err != nil {
		return err
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s: request does not fit %s: %w", ex.Method, ex.Path, in.Route.Operation.OperationID, err)
	}
	return nil
}

// CheckResponse holds the answer half of an exchange to the operation's documented responses.
func (s *Spec) CheckResponse(ex Exchange) error {
	in, err := s.input(ex)
	if err != nil {
		return err
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 ex.Status,
		Header:                 ex.ResponseHeader,
		Options:                in.Options,
	}
	out.SetBodyBytes(ex.ResponseBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s: %d answer does not fit %s: %w", ex.Method, ex.Path, ex.Status, in.Route.Operation.OperationID, err)
	}
	return nil
}

// Check holds both halves of an exchange to the description.
func (s *Spec) Check(ex Exchange) error {
	return errors.Join(s.CheckRequest(ex), s.CheckResponse(ex))
}

func (s *Spec) input(ex Exchange) (*openapi3filter.RequestValidationInput, error) {
	r, params, err := s.match(ex.Method, ex.Path)
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: "http", Host: "sim.invalid", Path: ex.Path, RawQuery: ex.RawQuery}
	req, err := http.NewRequest(ex.Method, u.String(), io.NopCloser(bytes.NewReader(ex.RequestBody)))
	if err != nil {
		return nil, err
	}
	req.Header = ex.RequestHeader.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	return &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route: &routers.Route{
			Spec:      s.doc,
			Path:      r.template,
			PathItem:  r.item,
			Method:    ex.Method,
			Operation: r.item.GetOperation(ex.Method),
		},
		Options: &openapi3filter.Options{
			AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus:   true,
			SchemaValidationOptions: s.doc.GetSchemaValidationOptions(),
		},
	}, nil
}
