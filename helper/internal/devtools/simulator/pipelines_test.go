package simulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

const defID = "2338d0ae-5541-4bbf-88a2-55e9f7281f80"

const appSlug = "circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz"

var triggerConfig = `
tokens:
  - {token: tok, login: octocat, name: Octo Cat, avatar_url: "https://avatars.example.com/o"}
  - {token: narrow, login: intern, projects: [gh/acme/api]}
projects:
  - slug: gh/acme/api
    first_number: 7
    definition_ids: [` + defID + `]
    ci_skip_branches: [skip-me]
    parameters:
      - {name: mark, type: boolean, default: false}
      - {name: replicas, type: integer, default: 1}
      - {name: who, type: string, default: me}
      - {name: env, type: enum, enum: [dev, prod], default: dev}
    workflows:
      - {name: build, duration: 1m}
  - slug: gh/acme/secret
  - slug: bb/acme/web
  - slug: ` + appSlug + `
    definition_ids: [9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d]
`

func TestAuthentication(t *testing.T) {
	e := start(t, triggerConfig)
	tests := []struct {
		name   string
		header http.Header
		query  string
		status int
		msg    string
	}{
		{"a request without a token must log in first", nil, "", 401, "You must log in first."},
		{"an unknown token is invalid", http.Header{"Circle-Token": {"nope"}}, "", 401, "Invalid token provided."},
		{"a token in the query string is refused as deprecated", nil, "?circle-token=tok", 401, "Support for query parameter authentication has been deprecated"},
		{"a known Circle-Token is accepted", http.Header{"Circle-Token": {"tok"}}, "", 200, ""},
		{"basic auth with the token as user name is accepted", http.Header{"Authorization": {"Basic dG9rOg=="}}, "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/v2/me"+tt.query, "", tt.header)
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			if tt.msg != "" {
				assert.Contains(t, gjsonGet(r.body, "message"), tt.msg)
			}
		})
	}
	t.Run("the current user is described", func(t *testing.T) {
		r := e.api("GET", "/api/v2/me", "")
		assert.Equal(t, "octocat", gjsonGet(r.body, "login"))
		assert.Equal(t, "Octo Cat", gjsonGet(r.body, "name"))
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, gjsonGet(r.body, "id"))
		assert.Equal(t, "https://avatars.example.com/o", gjsonGet(r.body, "avatar_url"))
	})
	t.Run("a user without an avatar has avatar_url null", func(t *testing.T) {
		r := e.do("GET", "/api/v2/me", "", http.Header{"Circle-Token": {"narrow"}})
		assert.JSONEq(t, `{"id":"`+gjsonGet(r.body, "id")+`","login":"intern","name":"intern","avatar_url":null}`, r.body)
	})
}

func TestRouting(t *testing.T) {
	e := start(t, triggerConfig)
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"an unknown API path is not found", "GET", "/api/v2/nothing", 404},
		{"a path outside the API is not found", "GET", "/v1/me", 404},
		{"a wrong method on a known path is not allowed", "DELETE", "/api/v2/me", 405},
		{"an unknown pipeline is not found", "GET", "/api/v2/pipeline/00000000-0000-4000-8000-000000000000", 404},
		{"an unknown workflow is not found", "GET", "/api/v2/workflow/00000000-0000-4000-8000-000000000000", 404},
		{"the jobs of an unknown workflow are not found", "GET", "/api/v2/workflow/00000000-0000-4000-8000-000000000000/job", 404},
		{"canceling an unknown workflow is not found", "POST", "/api/v2/workflow/00000000-0000-4000-8000-000000000000/cancel", 404},
		{"the workflows of an unknown pipeline are not found", "GET", "/api/v2/pipeline/00000000-0000-4000-8000-000000000000/workflow", 404},
		{"the pipelines of an unknown project are not found", "GET", "/api/v2/project/gh/acme/nope/pipeline", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.api(tt.method, tt.path, "")
			assert.Equal(t, tt.status, r.status, r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.NotEmpty(t, gjsonGet(r.body, "message"))
		})
	}
}

func TestTriggerPipeline(t *testing.T) {
	tests := []struct {
		name, path string
	}{
		{"the slug as one escaped segment", "/api/v2/project/gh%2Facme%2Fapi/pipeline"},
		{"the slug as three plain segments", "/api/v2/project/gh/acme/api/pipeline"},
		{"the provider spelt github", "/api/v2/project/github/acme/api/pipeline"},
		{"a partly escaped slug", "/api/v2/project/gh/acme%2Fapi/pipeline"},
	}
	for _, tt := range tests {
		t.Run("creates a pipeline with "+tt.name+" and records the path as sent", func(t *testing.T) {
			e := start(t, triggerConfig)
			r := e.api("POST", tt.path, `{"branch":"feature/x","parameters":{"mark":true}}`)
			require.Equal(t, http.StatusCreated, r.status, r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, "pending", gjsonGet(r.body, "state"))
			assert.Equal(t, "7", gjsonGet(r.body, "number"))
			assert.Equal(t, "2025-03-04T05:06:07.000Z", gjsonGet(r.body, "created_at"))
			assert.Regexp(t, `^[0-9a-f-]{36}$`, gjsonGet(r.body, "id"))

			reqs := e.sim.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.path, reqs[0].Path)
			assert.Equal(t, "triggerPipeline", reqs[0].Operation)
			assert.Equal(t, 201, reqs[0].Status)
			assert.JSONEq(t, r.body, string(reqs[0].ResponseBody))

			ps := e.sim.Pipelines()
			require.Len(t, ps, 1)
			assert.Equal(t, "gh/acme/api", ps[0].ProjectSlug)
			assert.Equal(t, "feature/x", ps[0].Branch)
			assert.Equal(t, map[string]any{"mark": true}, ps[0].Parameters)
			assert.Equal(t, "created", ps[0].State)
			assert.Equal(t, "triggerPipeline", ps[0].Operation)
		})
	}

	t.Run("numbers pipelines per project", func(t *testing.T) {
		e := start(t, triggerConfig)
		for i, want := range []string{"7", "8", "9"} {
			r := e.api("POST", "/api/v2/project/gh/acme/api/pipeline", "")
			assert.Equal(t, want, gjsonGet(r.body, "number"), "pipeline %d", i)
		}
		r := e.api("POST", "/api/v2/project/bb/acme/web/pipeline", "")
		assert.Equal(t, "1", gjsonGet(r.body, "number"))
	})

	refusals := []struct {
		name, slug, body, ctype string
		token                   string
		status                  int
		msg                     string
	}{
		{"refuses branch and tag together", "gh/acme/api", `{"branch":"main","tag":"v1"}`, "application/json", "tok", 400, "Only one of branch or tag may be given, not both"},
		{"refuses an empty branch", "gh/acme/api", `{"branch":""}`, "application/json", "tok", 400, "Invalid input"},
		{"refuses a body that is not JSON", "gh/acme/api", `{"branch":`, "application/json", "tok", 400, "Invalid input"},
		{"refuses parameters that are not an object", "gh/acme/api", `{"parameters":[1]}`, "application/json", "tok", 400, "Unexpected request body provided."},
		{"does not find an unknown project", "gh/acme/nope", `{}`, "application/json", "tok", 404, "Project not found"},
		{"does not find a project the token cannot see", "gh/acme/secret", `{}`, "application/json", "narrow", 404, "Project not found"},
		{"does not find a slug with two parts", "gh/acme", `{}`, "application/json", "tok", 404, "Project not found"},
		{"refuses a GitHub App project on the legacy endpoint", appSlug, `{}`, "application/json", "tok", 400, "this endpoint does not trigger those. Use POST /api/v2/project/" + appSlug + "/pipeline/run"},
		{"refuses more than 100 parameters", "gh/acme/api", manyParams(101), "application/json", "tok", 400, "Too many pipeline parameters (101)"},
		{"refuses a parameter name longer than 128", "gh/acme/api", `{"parameters":{"` + strings.Repeat("k", 129) + `":1}}`, "application/json", "tok", 400, "is too long"},
		{"refuses a parameter value longer than 512", "gh/acme/api", `{"parameters":{"who":"` + strings.Repeat("v", 513) + `"}}`, "application/json", "tok", 400, "Pipeline parameter who has a value that is too long"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, triggerConfig)
			r := e.do("POST", "/api/v2/project/"+tt.slug+"/pipeline", tt.body, http.Header{"Circle-Token": {tt.token}, "Content-Type": {tt.ctype}})
			assert.Equal(t, tt.status, r.status, r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Contains(t, gjsonGet(r.body, "message"), tt.msg)
			assert.Empty(t, e.sim.Pipelines(), "nothing is created")
		})
	}

	t.Run("accepts exactly 100 parameters (they are then undeclared)", func(t *testing.T) {
		e := start(t, triggerConfig)
		e.trigger("gh/acme/api", manyParams(100))
		assert.Len(t, e.sim.Pipelines()[0].Parameters, 100)
	})

	t.Run("silently ignores the body without Content-Type: application/json", func(t *testing.T) {
		for _, ctype := range []string{"", "application/x-www-form-urlencoded", "text/plain"} {
			e := start(t, triggerConfig)
			h := http.Header{"Circle-Token": {"tok"}}
			if ctype != "" {
				h.Set("Content-Type", ctype)
			}
			r := e.do("POST", "/api/v2/project/gh/acme/api/pipeline", `{"branch":"feature/x","parameters":{"nope":1}}`, h)
			require.Equal(t, http.StatusCreated, r.status, "Content-Type %q", ctype)
			ps := e.sim.Pipelines()
			require.Len(t, ps, 1)
			assert.Nil(t, ps[0].Parameters, "Content-Type %q", ctype)
			assert.Equal(t, "main", ps[0].Branch, "the default branch, Content-Type %q", ctype)
			assert.Equal(t, "created", ps[0].State, "no parameter error either")
		}
	})

	t.Run("reads the body with a JSON Content-Type that has a charset", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.do("POST", "/api/v2/project/gh/acme/api/pipeline", `{"tag":"v1.2.3"}`, http.Header{"Circle-Token": {"tok"}, "Content-Type": {"application/json; charset=utf-8"}})
		require.Equal(t, http.StatusCreated, r.status)
		assert.Equal(t, "v1.2.3", e.sim.Pipelines()[0].Tag)
	})
}

func manyParams(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"p%d":%d`, i, i))
	}
	return `{"parameters":{` + strings.Join(parts, ",") + `}}`
}

func TestTriggerPipelineRun(t *testing.T) {
	const path = "/api/v2/project/gh/acme/api/pipeline/run"
	t.Run("creates a pipeline for a known definition", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.api("POST", path, `{"definition_id":"`+defID+`","config":{"branch":"main"},"checkout":{"tag":"v2"},"parameters":{"env":"prod"}}`)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "7", gjsonGet(r.body, "number"))
		assert.Equal(t, "pending", gjsonGet(r.body, "state"))
		ps := e.sim.Pipelines()
		require.Len(t, ps, 1)
		assert.Equal(t, defID, ps[0].DefinitionID)
		assert.Equal(t, "v2", ps[0].Tag, "checkout decides what runs")
		assert.Equal(t, "triggerPipelineRun", ps[0].Operation)
		assert.Equal(t, "created", ps[0].State)
		assert.Equal(t, "triggerPipelineRun", e.sim.Requests()[0].Operation)
	})

	t.Run("serves GitHub App projects", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.api("POST", "/api/v2/project/"+appSlug+"/pipeline/run", `{"definition_id":"9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d"}`)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "main", e.sim.Pipelines()[0].Branch)
	})

	t.Run("accepts the slug as one escaped segment too", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.api("POST", "/api/v2/project/gh%2Facme%2Fapi/pipeline/run", `{"definition_id":"`+defID+`"}`)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "/api/v2/project/gh%2Facme%2Fapi/pipeline/run", e.sim.Requests()[0].Path)
	})

	t.Run("ignores the body without Content-Type: application/json, so the definition is missing", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.do("POST", path, `{"definition_id":"`+defID+`"}`, http.Header{"Circle-Token": {"tok"}})
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.JSONEq(t, `{"message":"definition_id is required"}`, r.body)
	})

	t.Run("uses the config branch when there is no checkout", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.api("POST", path, `{"definition_id":"`+defID+`","config":{"branch":"release"}}`)
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "release", e.sim.Pipelines()[0].Branch)
	})

	t.Run("creates nothing and answers 200 for a CI-skipped branch", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.api("POST", path, `{"definition_id":"`+defID+`","config":{"branch":"skip-me"},"checkout":{"branch":"skip-me"}}`)
		assert.Equal(t, http.StatusOK, r.status)
		assert.JSONEq(t, `{"message":"Ignoring pipeline due to CI skip in the commit"}`, r.body)
		assert.Empty(t, e.sim.Pipelines())
		r = e.api("POST", path, `{"definition_id":"`+defID+`"}`)
		assert.Equal(t, "7", gjsonGet(r.body, "number"), "a skip uses no number")
	})

	refusals := []struct {
		name, path, body string
		status           int
		msg              string
	}{
		{"refuses an unknown top-level field", path, `{"definition_id":"` + defID + `","branch":"main"}`, 400, "Unexpected request body provided."},
		{"refuses an unknown field in config", path, `{"definition_id":"` + defID + `","config":{"ref":"main"}}`, 400, "Unexpected request body provided."},
		{"refuses an unknown field in checkout", path, `{"definition_id":"` + defID + `","checkout":{"sha":"abc"}}`, 400, "Unexpected request body provided."},
		{"refuses a definition id that is not a string", path, `{"definition_id":42}`, 400, "Unexpected request body provided."},
		{"refuses branch and tag together in checkout", path, `{"definition_id":"` + defID + `","checkout":{"branch":"a","tag":"b"}}`, 400, "Only one of branch or tag may be given, not both"},
		{"refuses a missing definition id", path, `{"config":{"branch":"main"}}`, 400, "definition_id is required"},
		{"does not find an unknown definition", path, `{"definition_id":"00000000-0000-4000-8000-000000000000"}`, 404, "Pipeline definition not found"},
		{"does not find another project's definition", "/api/v2/project/bb/acme/web/pipeline/run", `{"definition_id":"` + defID + `"}`, 404, "Pipeline definition not found"},
		{"does not find an unknown project", "/api/v2/project/gh/acme/nope/pipeline/run", `{"definition_id":"` + defID + `"}`, 404, "Project not found"},
		{"refuses an unsupported provider", "/api/v2/project/gitlab/acme/api/pipeline/run", `{"definition_id":"` + defID + `"}`, 400, `Unsupported provider "gitlab"`},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, triggerConfig)
			r := e.api("POST", tt.path, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.Contains(t, gjsonGet(r.body, "message"), tt.msg)
			assert.Empty(t, e.sim.Pipelines())
		})
	}
}

func TestDeclaredParameters(t *testing.T) {
	tests := []struct {
		name, params string
		errors       []string
	}{
		{"declared parameters of the right types compile", `{"mark":true,"replicas":3,"who":"you","env":"prod"}`, nil},
		{"undeclared parameters are listed in the order sent", `{"zeta":1,"mark":false,"alpha":"x"}`, []string{"Unexpected argument(s): zeta, alpha"}},
		{"a string for a boolean is a type error", `{"mark":"true"}`, []string{`Type error for argument mark: expected type: boolean, actual value: "true" (type string)`}},
		{"a string for an integer is a type error", `{"replicas":"3"}`, []string{`Type error for argument replicas: expected type: integer, actual value: "3" (type string)`}},
		{"a float for an integer is a type error", `{"replicas":1.5}`, []string{`Type error for argument replicas: expected type: integer, actual value: 1.5 (type float)`}},
		{"an integer for a string is a type error", `{"who":3}`, []string{`Type error for argument who: expected type: string, actual value: 3 (type integer)`}},
		{"a boolean for a string is a type error", `{"who":false}`, []string{`Type error for argument who: expected type: string, actual value: false (type boolean)`}},
		{"a value outside an enum names the allowed values", `{"env":"stage"}`, []string{`Type error for argument env: expected type: enum ("dev", "prod"), actual value: "stage" (type string)`}},
		{"an integer for an enum is a type error", `{"env":1}`, []string{`Type error for argument env: expected type: enum ("dev", "prod"), actual value: 1 (type integer)`}},
		{"null for a string is a type error", `{"who":null}`, []string{`Type error for argument who: expected type: string, actual value: null (type null)`}},
		{"an object for a string is a type error", `{"who":{"a": 1}}`, []string{`Type error for argument who: expected type: string, actual value: {"a":1} (type map)`}},
		{"a list for a string is a type error", `{"who":[1, 2]}`, []string{`Type error for argument who: expected type: string, actual value: [1,2] (type list)`}},
		{"undeclared names come before type errors", `{"mark":"yes","foo":1,"replicas":true,"bar":2}`, []string{
			"Unexpected argument(s): foo, bar",
			`Type error for argument mark: expected type: boolean, actual value: "yes" (type string)`,
			`Type error for argument replicas: expected type: integer, actual value: true (type boolean)`,
		}},
	}
	for _, tt := range tests {
		for _, endpoint := range []string{"legacy", "run"} {
			t.Run(tt.name+" ("+endpoint+" trigger)", func(t *testing.T) {
				e := start(t, triggerConfig)
				var r response
				if endpoint == "legacy" {
					r = e.api("POST", "/api/v2/project/gh/acme/api/pipeline", `{"parameters":`+tt.params+`}`)
				} else {
					r = e.api("POST", "/api/v2/project/gh/acme/api/pipeline/run", `{"definition_id":"`+defID+`","parameters":`+tt.params+`}`)
				}
				require.Equal(t, http.StatusCreated, r.status, "the HTTP call succeeds either way: %s", r.body)
				assert.Equal(t, "pending", gjsonGet(r.body, "state"))

				p := e.api("GET", "/api/v2/pipeline/"+gjsonGet(r.body, "id"), "")
				var got []string
				for _, er := range gjsonArray(p.body, "errors") {
					assert.Equal(t, "config", gjsonGet(er, "type"))
					got = append(got, gjsonGet(er, "message"))
				}
				assert.Equal(t, tt.errors, got)
				if tt.errors == nil {
					assert.Equal(t, "created", gjsonGet(p.body, "state"))
					assert.Equal(t, []string{"build=running"}, e.workflowStatuses(gjsonGet(r.body, "id")))
				} else {
					assert.Equal(t, "errored", gjsonGet(p.body, "state"))
					e.clock.Advance(time.Hour)
					assert.Empty(t, e.workflowStatuses(gjsonGet(r.body, "id")), "an errored pipeline runs no workflows")
					assert.Equal(t, tt.errors, e.sim.Pipelines()[0].Errors)
				}
			})
		}
	}
}

func TestGetPipeline(t *testing.T) {
	t.Run("answers the full pipeline object", func(t *testing.T) {
		e := start(t, triggerConfig)
		id := e.trigger("gh/acme/api", `{"branch":"feature/x","parameters":{"mark":true}}`)
		r := e.api("GET", "/api/v2/pipeline/"+id, "")
		require.Equal(t, http.StatusOK, r.status)
		user := gjsonGet(e.api("GET", "/api/v2/me", "").body, "id")
		assert.JSONEq(t, `{
			"id": "`+id+`",
			"errors": [],
			"project_slug": "gh/acme/api",
			"updated_at": "2025-03-04T05:06:07.000Z",
			"number": 7,
			"trigger_parameters": {
				"circleci": {"event_type": "api", "trigger_type": "api", "actor_id": "`+user+`"},
				"git": {"branch": "feature/x"}
			},
			"state": "created",
			"created_at": "2025-03-04T05:06:07.000Z",
			"trigger": {
				"type": "api",
				"received_at": "2025-03-04T05:06:07.000Z",
				"actor": {"login": "octocat", "avatar_url": "https://avatars.example.com/o"}
			},
			"vcs": {
				"provider_name": "GitHub",
				"origin_repository_url": "https://github.com/acme/api",
				"target_repository_url": "https://github.com/acme/api",
				"revision": "`+gjsonGet(r.body, "vcs.revision")+`",
				"branch": "feature/x"
			}
		}`, r.body)
		assert.Regexp(t, `^[0-9a-f]{40}$`, gjsonGet(r.body, "vcs.revision"))
	})

	t.Run("reports a tag and the Bitbucket URL", func(t *testing.T) {
		e := start(t, triggerConfig)
		id := e.trigger("bb/acme/web", `{"tag":"v1"}`)
		r := e.api("GET", "/api/v2/pipeline/"+id, "")
		assert.Equal(t, "v1", gjsonGet(r.body, "vcs.tag"))
		assert.Equal(t, "Bitbucket", gjsonGet(r.body, "vcs.provider_name"))
		assert.Equal(t, "https://bitbucket.org/acme/web", gjsonGet(r.body, "vcs.origin_repository_url"))
		assert.False(t, strings.Contains(r.body, `"branch"`))
	})

	t.Run("leaves vcs out for a GitHub App project without a repository URL", func(t *testing.T) {
		e := start(t, triggerConfig)
		r := e.api("POST", "/api/v2/project/"+appSlug+"/pipeline/run", `{"definition_id":"9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d"}`)
		p := e.api("GET", "/api/v2/pipeline/"+gjsonGet(r.body, "id"), "")
		assert.Equal(t, appSlug, gjsonGet(p.body, "project_slug"))
		assert.False(t, strings.Contains(p.body, `"vcs"`))
	})

	t.Run("hides a pipeline of a project the token cannot see", func(t *testing.T) {
		e := start(t, triggerConfig)
		id := e.trigger("gh/acme/secret", "")
		r := e.do("GET", "/api/v2/pipeline/"+id, "", http.Header{"Circle-Token": {"narrow"}})
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.JSONEq(t, `{"message":"Pipeline not found"}`, r.body)
	})
}

func TestListPipelinesForProject(t *testing.T) {
	cfg := strings.Replace(triggerConfig, "\nprojects:", "\npage_size: 2\nprojects:", 1)
	e := start(t, cfg)
	for _, b := range []string{"main", "dev", "main", "main", "dev"} {
		e.trigger("gh/acme/api", `{"branch":"`+b+`"}`)
		e.clock.Advance(time.Second)
	}
	e.trigger("bb/acme/web", "")

	pages := func(query string) [][]string {
		var out [][]string
		for tok := ""; ; {
			q := query
			if tok != "" {
				q += "&page-token=" + tok
			}
			r := e.api("GET", "/api/v2/project/gh%2Facme%2Fapi/pipeline?"+q, "")
			require.Equal(t, http.StatusOK, r.status, r.body)
			var page []string
			for _, it := range gjsonArray(r.body, "items") {
				page = append(page, gjsonGet(it, "number")+":"+gjsonGet(it, "vcs.branch"))
			}
			out = append(out, page)
			if gjsonGet(r.body, "next_page_token") == "" {
				assert.Contains(t, r.body, `"next_page_token":null`)
				return out
			}
			tok = gjsonGet(r.body, "next_page_token")
		}
	}
	t.Run("lists newest first over pages", func(t *testing.T) {
		assert.Equal(t, [][]string{{"11:dev", "10:main"}, {"9:main", "8:dev"}, {"7:main"}}, pages(""))
	})
	t.Run("filters by branch", func(t *testing.T) {
		assert.Equal(t, [][]string{{"10:main", "9:main"}, {"7:main"}}, pages("branch=main"))
	})
	t.Run("keeps pages stable while new pipelines arrive", func(t *testing.T) {
		r := e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "")
		tok := gjsonGet(r.body, "next_page_token")
		e.trigger("gh/acme/api", "")
		r = e.api("GET", "/api/v2/project/gh/acme/api/pipeline?page-token="+tok, "")
		assert.Equal(t, "9", gjsonGet(r.body, "items.0.number"))
	})
	t.Run("refuses a page token from another list", func(t *testing.T) {
		r := e.api("GET", "/api/v2/project/gh/acme/api/pipeline", "")
		tok := gjsonGet(r.body, "next_page_token")
		r = e.api("GET", "/api/v2/project/gh/acme/api/pipeline?branch=dev&page-token="+tok, "")
		assert.Equal(t, http.StatusBadRequest, r.status)
		r = e.api("GET", "/api/v2/project/gh/acme/api/pipeline?page-token=garbage!", "")
		assert.Equal(t, http.StatusBadRequest, r.status)
	})
	t.Run("answers an empty list for a project without pipelines", func(t *testing.T) {
		r := e.api("GET", "/api/v2/project/gh/acme/secret/pipeline", "")
		assert.JSONEq(t, `{"items":[],"next_page_token":null}`, r.body)
	})
	t.Run("hides a project the token cannot see", func(t *testing.T) {
		r := e.do("GET", "/api/v2/project/gh/acme/secret/pipeline", "", http.Header{"Circle-Token": {"narrow"}})
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.JSONEq(t, `{"message":"Project not found"}`, r.body)
	})
}

// FuzzTriggerBodies: whatever the body, a trigger answers JSON with 200, 201 or 400 and never
// panics.
func FuzzTriggerBodies(f *testing.F) {
	cfg, err := simulator.ParseConfig([]byte(triggerConfig))
	require.NoError(f, err)
	for _, seed := range []string{
		`{"branch":"main","parameters":{"mark":true,"replicas":3}}`,
		`{"definition_id":"` + defID + `","config":{"branch":"x"},"checkout":{"tag":"v1"},"parameters":{"env":"prod"}}`,
		`{"parameters":{"a":{"b":[1,2.5,null]}}}`, `[]`, `null`, `{"tag":""}`, `{"parameters":{"\u00e9":"\ud800"}}`,
	} {
		f.Add("legacy", seed)
		f.Add("run", seed)
	}
	f.Fuzz(func(t *testing.T, endpoint, body string) {
		sim := simulator.New(cfg)
		path := "/api/v2/project/gh/acme/api/pipeline"
		if endpoint == "run" {
			path += "/run"
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Circle-Token", "tok")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, req)
		switch w.Code {
		case 200, 201, 400, 404:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("answer is not JSON: %s", w.Body)
		}
		if w.Code == 201 {
			p := sim.Pipelines()
			if len(p) != 1 || (p[0].State != "created" && p[0].State != "errored") {
				t.Fatalf("pipelines after a 201: %+v", p)
			}
		}
	})
}
