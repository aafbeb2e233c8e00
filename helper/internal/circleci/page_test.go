package circleci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodePage(t *testing.T) {
	type item struct {
		ID string `json:"id"`
	}
	tests := []struct {
		name, body string
		limit      int
		want       []item
		next       string
		err        string
	}{
		{name: "items and a token", body: `{"items":[{"id":"a"},{"id":"b"}],"next_page_token":"t"}`, limit: 10, want: []item{{"a"}, {"b"}}, next: "t"},
		{name: "the token first, unknown fields skipped", body: `{"next_page_token":null,"x":{"y":[1,2]},"items":[{"id":"a"}]}`, limit: 10, want: []item{{"a"}}},
		{name: "null items", body: `{"items":null}`, limit: 10},
		{name: "no fields", body: `{}`, limit: 10},
		{name: "exactly the limit", body: `{"items":[{},{}]}`, limit: 2, want: []item{{}, {}}},
		{name: "over the limit stops at it", body: `{"items":[{},{},{}]}`, limit: 2, want: []item{{}, {}}, err: "the list has more than 2 items, more than baton reads"},
		{name: "not an object", body: `[]`, limit: 10, err: "the page is not a JSON object"},
		{name: "items not a list", body: `{"items":{}}`, limit: 10, err: "items is not a list"},
		{name: "a token that is not a string", body: `{"next_page_token":5}`, limit: 10, err: "next_page_token: json: cannot unmarshal number into Go value of type string"},
		{name: "data after the object", body: `{} {}`, limit: 10, err: "data after the page's JSON object"},
		{name: "cut off", body: `{"items":[{"id":"a"}`, limit: 10, want: []item{{"a"}}, err: "the page is cut off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := decodePage(([]byte)(tt.body), []item(nil), tt.limit)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.next, next)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestListsAreBounded(t *testing.T) {
	ctx := context.Background()
	wf := `{"id":"` + workflowID + `","name":"w","status":"running","created_at":"2025-10-17T09:41:08Z"}`
	t.Run("items across pages past the cap are an error, and no more pages are asked for", func(t *testing.T) {
		page := `{"items":[` + strings.TrimSuffix(strings.Repeat(wf+",", 4000), ",") + `],"next_page_token":"%d"}`
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, fmt.Sprintf(page, n)) })
		c, _ := newTestClient(t, srv.URL)
		_, err := c.ListPipelineWorkflows(ctx, pipelineID)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "GET /api/v2/pipeline/"+pipelineID+"/workflow: the 200 response could not be read: the list has more than 10000 items")
		assert.Len(t, srv.requests(), 3, "the third page passes the cap")
	})
	t.Run("endless pages of nothing end after maxPages", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, fmt.Sprintf(`{"items":[],"next_page_token":"p%d"}`, n))
		})
		c, _ := newTestClient(t, srv.URL)
		_, err := c.ListWorkflowJobs(ctx, workflowID)
		assert.EqualError(t, err, fmt.Sprintf("GET /api/v2/workflow/%s/job: more than %d pages", workflowID, maxPages))
	})
	t.Run("an answer over the byte cap is an error", func(t *testing.T) {
		huge := `{"items":[],"x":"` + strings.Repeat("x", maxResponseBytes) + `"}`
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, huge) })
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
		_, err := c.ListPipelineWorkflows(ctx, pipelineID)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the 200 response is larger than 4 MiB")
	})
	t.Run("one page of a project's pipelines is bounded too", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, `{"items":[`+strings.TrimSuffix(strings.Repeat("{},", maxListItems+1), ",")+`]}`)
		})
		c, _ := newTestClient(t, srv.URL)
		_, err := c.ListProjectPipelines(ctx, "gh/acme/api", "", "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "more than 10000 items")
	})
}

// Real answers hold nulls where the types have strings (a workflow "id": null was seen in the
// wild); they decode to "" and never fail.
func TestNullsInAnswersDecode(t *testing.T) {
	var ws []Workflow
	ws, next, err := decodePage([]byte(`{"items":[{"id":null,"name":null,"status":null,"stopped_at":null,"tag":null,"created_at":"2025-10-17T09:41:08Z"}],"next_page_token":null}`), ws, 10)
	require.NoError(t, err)
	assert.Equal(t, "", next)
	require.Len(t, ws, 1)
	assert.Equal(t, Workflow{CreatedAt: ts("2025-10-17T09:41:08Z")}, ws[0])

	var p Pipeline
	require.NoError(t, json.Unmarshal([]byte(`{"id":"x","state":null,"errors":null,"vcs":{"provider_name":null},"trigger":{"actor":{"login":null,"avatar_url":null}}}`), &p))
	assert.Equal(t, "", p.State)
}

// realAnswers are the captured answers in ../shared/circleci-real-api, by name; nil when absent.
func realAnswers(t testing.TB, prefix string) map[string][]byte {
	dir := filepath.Join("..", "..", "..", "..", "shared", "circleci-real-api")
	files, _ := filepath.Glob(filepath.Join(dir, prefix+"*.json"))
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		out[filepath.Base(f)] = data
	}
	return out
}

func TestRealListsDecode(t *testing.T) {
	for _, prefix := range []string{"workflows-", "jobs-", "pipeline-list-"} {
		answers := realAnswers(t, prefix)
		if len(answers) == 0 {
			t.Skipf("../shared/circleci-real-api is absent: no real %s answers to decode", prefix)
		}
		for name, body := range answers {
			t.Run(name, func(t *testing.T) {
				var err error
				var n int
				switch prefix {
				case "workflows-":
					var ws []Workflow
					ws, _, err = decodePage(body, ws, maxListItems)
					n = len(ws)
				case "jobs-":
					var js []Job
					js, _, err = decodePage(body, js, maxListItems)
					n = len(js)
				default:
					var ps []Pipeline
					ps, _, err = decodePage(body, ps, maxListItems)
					n = len(ps)
				}
				require.NoError(t, err)
				if !strings.Contains(name, "empty") {
					assert.Positive(t, n)
				}
			})
		}
	}
}

// FuzzDecodePage: any body either decodes or is an error; never a panic, never more than limit.
func FuzzDecodePage(f *testing.F) {
	for _, answers := range []map[string][]byte{realAnswers(f, "workflows-"), realAnswers(f, "jobs-")} {
		for _, body := range answers {
			f.Add(body)
		}
	}
	f.Add([]byte(`{"items":[{"id":null,"status":null}],"next_page_token":null}`))
	f.Add([]byte(`{"items":[{},{},{}],"next_page_token":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ws, _, err := decodePage(body, []Workflow(nil), 2)
		if len(ws) > 2 {
			t.Fatalf("%d items past the limit of 2 (err %v)", len(ws), err)
		}
		js, _, _ := decodePage(body, []Job(nil), 2)
		if len(js) > 2 {
			t.Fatalf("%d jobs past the limit of 2", len(js))
		}
		if err == nil && !json.Valid(body) {
			t.Fatalf("decoded invalid JSON %q", body)
		}
	})
}

// NewestPipeline decodes a page's items only up to the first one asked for, and refuses what is
// not a page before it.
func TestNewestPipelineReadsUpToTheOneAskedFor(t *testing.T) {
	ctx := context.Background()
	onMain := func(p *Pipeline) bool { return p.VCS != nil && p.VCS.Branch == "main" }
	for _, tc := range []struct {
		name   string
		body   string
		number int64  // of the pipeline found; 0 for none
		err    string // "" for none
	}{
		{"the first item that matches", `{"next_page_token":"x","items":[{"number":3,"vcs":{"branch":"dev"}},{"number":2,"vcs":{"branch":"main"}},{"number":1,"vcs":{"branch":"main"}}]}`, 2, ""},
		{"what follows it is not read", `{"items":[{"number":2,"vcs":{"branch":"main"}},{"number":"not a number"},oops`, 2, ""},
		{"none on the page", `{"items":[{"number":3,"vcs":{"branch":"dev"}}],"next_page_token":"x"}`, 0, ""},
		{"an empty page", `{"items":[],"next_page_token":null}`, 0, ""},
		{"null items", `{"items":null}`, 0, ""},
		{"a page without items", `{"next_page_token":null}`, 0, ""},
		{"not a page", `[]`, 0, "the page is not a JSON object"},
		{"items that are not a list", `{"items":{}}`, 0, "items is not a list"},
		{"a broken item before the match", `{"items":[{"number":"3"},{"number":2,"vcs":{"branch":"main"}}]}`, 0, "json: cannot unmarshal string"},
		{"a page cut off before the match", `{"items":[{"number":3,"vcs":{"branch":"dev"}},`, 0, "the page is cut off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, tc.body) })
			c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
			p, err := c.NewestPipeline(ctx, "gh/acme/api", "", onMain)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "GET /api/v2/project/gh%2Facme%2Fapi/pipeline: the 200 response could not be read: "+tc.err)
				return
			}
			require.NoError(t, err)
			if tc.number == 0 {
				assert.Nil(t, p)
				return
			}
			require.NotNil(t, p)
			assert.Equal(t, tc.number, p.Number)
		})
	}
}
