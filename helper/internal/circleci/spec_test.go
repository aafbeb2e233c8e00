package circleci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specPath is CircleCI's OpenAPI description, kept next to the repository (never copied into it);
// BATON_OPENAPI overrides it.
func specPath() string {
	if p := os.Getenv("BATON_OPENAPI"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "..", "..", "shared", "circleci-openapi", "openapi.json")
}

type spec map[string]any

func loadSpec(t *testing.T) spec {
	t.Helper()
	data, err := os.ReadFile(specPath())
	if os.IsNotExist(err) {
		t.Skipf("CircleCI's OpenAPI description is absent (%s)", specPath())
	}
	require.NoError(t, err)
	var s spec
	require.NoError(t, json.Unmarshal(data, &s))
	return s
}

// resolve follows a "$ref": "#/components/…".
func (s spec) resolve(node map[string]any) map[string]any {
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		var cur any = map[string]any(s)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		node = cur.(map[string]any)
	}
}

func (s spec) operation(t *testing.T, path, method string) map[string]any {
	t.Helper()
	p, ok := s["paths"].(map[string]any)[path].(map[string]any)
	require.True(t, ok, "the description has no path %s", path)
	op, ok := p[method].(map[string]any)
	require.True(t, ok, "the description has no %s %s", method, path)
	return op
}

func (s spec) responseSchema(t *testing.T, path, method, status string) map[string]any {
	t.Helper()
	resp, ok := s.operation(t, path, method)["responses"].(map[string]any)[status].(map[string]any)
	require.True(t, ok, "%s %s has no %s response", method, path, status)
	resp = s.resolve(resp)
	schema := resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	return s.resolve(schema)
}

var timeType = reflect.TypeOf(time.Time{})

// conform checks that every JSON field of typ is a property of schema with a matching type, and
// that every property the schema requires is a field of typ.
func (s spec) conform(t *testing.T, where string, typ reflect.Type, schema map[string]any) {
	t.Helper()
	schema = s.resolve(schema)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	kind, _ := schema["type"].(string)
	switch {
	case typ == timeType:
		assert.Equal(t, "string", kind, where)
		assert.Equal(t, "date-time", schema["format"], where)
	case typ.Kind() == reflect.Struct:
		props, _ := schema["properties"].(map[string]any)
		require.NotNil(t, props, "%s: the schema has no properties", where)
		fields := map[string]bool{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue // not part of the JSON
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				if f.Anonymous {
					continue
				}
				t.Errorf("%s.%s has no JSON name", where, f.Name)
				continue
			}
			fields[name] = true
			prop, ok := props[name].(map[string]any)
			if !assert.True(t, ok, "%s: %q (field %s) is not in the description", where, name, f.Name) {
				continue
			}
			s.conform(t, where+"."+name, f.Type, prop)
		}
		req, _ := schema["required"].([]any)
		for _, r := range req {
			assert.True(t, fields[r.(string)], "%s: the description requires %q, which the type lacks", where, r)
		}
	case typ.Kind() == reflect.Slice:
		assert.Equal(t, "array", kind, where)
		s.conform(t, where+"[]", typ.Elem(), schema["items"].(map[string]any))
	case typ.Kind() == reflect.Map:
		assert.Equal(t, "object", kind, where)
	case typ.Kind() == reflect.String:
		assert.Equal(t, "string", kind, where)
	case typ.Kind() == reflect.Int64:
		assert.Equal(t, "integer", kind, where)
	case typ.Kind() == reflect.Float64:
		assert.Equal(t, "number", kind, where)
	case typ.Kind() == reflect.Interface:
	default:
		t.Errorf("%s: no check for Go type %s", where, typ)
	}
}

func TestTypesFollowTheOpenAPIDescription(t *testing.T) {
	s := loadSpec(t)
	type message struct {
		Message string `json:"message"`
	}
	type workflowList struct {
		Items         []Workflow `json:"items"`
		NextPageToken string     `json:"next_page_token"`
	}
	type jobList struct {
		Items         []Job  `json:"items"`
		NextPageToken string `json:"next_page_token"`
	}
	tests := []struct {
		name                 string
		path, method, status string
		typ                  any
	}{
		{"PipelineCreation is the answer of the older trigger", "/project/{project-slug}/pipeline", "post", "201", PipelineCreation{}},
		{"PipelineCreation is the 201 answer of pipeline/run", "/project/{provider}/{organization}/{project}/pipeline/run", "post", "201", PipelineCreation{}},
		{"RunResult.Message is the 200 answer of pipeline/run", "/project/{provider}/{organization}/{project}/pipeline/run", "post", "200", message{}},
		{"Pipeline is the answer of GET pipeline", "/pipeline/{pipeline-id}", "get", "200", Pipeline{}},
		{"PipelinePage is the answer of GET project pipelines", "/project/{project-slug}/pipeline", "get", "200", PipelinePage{}},
		{"Workflow is the answer of GET workflow", "/workflow/{id}", "get", "200", Workflow{}},
		{"the workflow list holds Workflows", "/pipeline/{pipeline-id}/workflow", "get", "200", workflowList{}},
		{"the job list holds Jobs", "/workflow/{id}/job", "get", "200", jobList{}},
		{"the cancel answer is a message", "/workflow/{id}/cancel", "post", "202", message{}},
		{"User is the answer of GET me", "/me", "get", "200", User{}},
		{"PipelineConfig is the answer of GET pipeline config", "/pipeline/{pipeline-id}/config", "get", "200", PipelineConfig{}},
		{"an error answer is a message", "/pipeline/{pipeline-id}", "get", "default", message{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := reflect.TypeOf(tt.typ)
			s.conform(t, typ.Name(), typ, s.responseSchema(t, tt.path, tt.method, tt.status))
		})
	}
}

func TestQueryParametersFollowTheOpenAPIDescription(t *testing.T) {
	s := loadSpec(t)
	tests := []struct {
		name, path string
		query      []string
	}{
		{"project pipelines take branch and page-token", "/project/{project-slug}/pipeline", []string{"branch", "page-token"}},
		{"pipeline workflows take page-token", "/pipeline/{pipeline-id}/workflow", []string{"page-token"}},
		{"workflow jobs take page-token (named by the next-page link)", "/workflow/{id}/job", []string{"page-token"}},
		{"the insights summary takes branch and all-branches", "/insights/{project-slug}/workflows/{workflow-name}/summary", []string{"branch", "all-branches"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := s.operation(t, tt.path, "get")
			params := map[string]bool{}
			for _, p := range op["parameters"].([]any) {
				p := s.resolve(p.(map[string]any))
				if p["in"] == "query" {
					params[p["name"].(string)] = true
				}
			}
			// GET /workflow/{id}/job declares no page-token parameter, but the link to its next
			// page passes one; the description is taken at its word in either place.
			links, _ := op["responses"].(map[string]any)["200"].(map[string]any)["links"].(map[string]any)
			for _, l := range links {
				for name := range l.(map[string]any)["parameters"].(map[string]any) {
					params[name] = true
				}
			}
			for _, q := range tt.query {
				assert.True(t, params[q], "%s takes no query parameter %q", tt.path, q)
			}
		})
	}
}
