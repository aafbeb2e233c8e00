package circleci

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const created201 = `{"id":"` + pipelineID + `","state":"created","number":25,"created_at":"2025-10-17T09:41:07.512Z"}`

// A body with odd spacing, escapes and non-ASCII text, to show it is passed through untouched.
const triggerBody = "{\"branch\":\"feature/design-new-api\",  \"parameters\":{\"deploy_prod\":true,\"note\":\"caf\u00e9 \\u00e9\",\"n\":3}}\n"

func TestTriggersOnTheWire(t *testing.T) {
	tests := []struct {
		name    string
		call    func(c *Client) error
		wantURI string
	}{
		{
			name: "TriggerPipeline sends the slug as one escaped segment",
			call: func(c *Client) error {
				_, err := c.TriggerPipeline(context.Background(), "gh/acme/api", []byte(triggerBody))
				return err
			},
			wantURI: "/api/v2/project/gh%2Facme%2Fapi/pipeline",
		},
		{
			name: "TriggerPipeline escapes odd characters in the slug",
			call: func(c *Client) error {
				_, err := c.TriggerPipeline(context.Background(), "bb/acme co/api?x#y", []byte(triggerBody))
				return err
			},
			wantURI: "/api/v2/project/bb%2Facme%20co%2Fapi%3Fx%23y/pipeline",
		},
		{
			name: "RunPipeline sends provider, organization and project as three segments",
			call: func(c *Client) error {
				_, err := c.RunPipeline(context.Background(), "gh", "acme", "api", []byte(triggerBody))
				return err
			},
			wantURI: "/api/v2/project/gh/acme/api/pipeline/run",
		},
		{
			name: "RunPipeline takes the opaque IDs of a GitHub App project",
			call: func(c *Client) error {
				_, err := c.RunPipeline(context.Background(), "circleci", "43G3lM5RtfFE7v5sa4nWAU", "44n9wujWcTnVZ2b5S8Fnat", []byte(triggerBody))
				return err
			},
			wantURI: "/api/v2/project/circleci/43G3lM5RtfFE7v5sa4nWAU/44n9wujWcTnVZ2b5S8Fnat/pipeline/run",
		},
		{
			name: "RunPipeline escapes a slash inside one segment",
			call: func(c *Client) error {
				_, err := c.RunPipeline(context.Background(), "gh", "acme/evil", "api", []byte(triggerBody))
				return err
			},
			wantURI: "/api/v2/project/gh/acme%2Fevil/api/pipeline/run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 201, created201) })
			c, _ := newTestClient(t, srv.URL)
			require.NoError(t, tt.call(c))
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			got := reqs[0]
			assert.Equal(t, http.MethodPost, got.Method)
			assert.Equal(t, tt.wantURI, got.RequestURI)
			assert.Equal(t, tt.wantURI, got.EscapedPath)
			assert.Equal(t, testToken, got.Header.Get("Circle-Token"))
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			assert.Equal(t, "application/json", got.Header.Get("Accept"))
			assert.Equal(t, "baton/1.2.3", got.Header.Get("User-Agent"))
			assert.Equal(t, []byte(triggerBody), got.Body, "the body is passed through byte for byte")
			assert.Equal(t, strconv.Itoa(len(triggerBody)), got.Header.Get("Content-Length"))
		})
	}
}

// TestTriggerWireBytes reads the request off a plain TCP connection, so nothing between the
// client and the test can unescape the path.
func TestTriggerWireBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	wire := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var raw bytes.Buffer
		req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(conn, &raw)))
		if err != nil {
			wire <- nil
			return
		}
		_, _ = io.ReadAll(req.Body)
		wire <- raw.Bytes()
		_, _ = io.WriteString(conn, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "+
			strconv.Itoa(len(created201))+"\r\n\r\n"+created201)
	}()
	c, _ := newTestClient(t, "http://"+ln.Addr().String())
	_, err = c.TriggerPipeline(context.Background(), "gh/acme/api", []byte(triggerBody))
	require.NoError(t, err)
	got := string(<-wire)
	assert.Regexp(t, `^POST /api/v2/project/gh%2Facme%2Fapi/pipeline HTTP/1\.1\r\n`, got)
	assert.Contains(t, got, "\r\nCircle-Token: "+testToken+"\r\n")
	assert.Contains(t, got, "\r\nContent-Type: application/json\r\n")
	assert.Contains(t, got, "\r\nAccept: application/json\r\n")
	assert.Contains(t, got, "\r\nUser-Agent: baton/1.2.3\r\n")
	assert.Contains(t, got, "\r\n\r\n"+triggerBody)
	assert.True(t, len(got) > 0 && got[len(got)-len(triggerBody):] == triggerBody, "the body ends the request, unchanged")
}

func TestRequestBuildersShowWhatIsSent(t *testing.T) {
	c, _ := newTestClient(t, "https://circleci.com")
	ctx := context.Background()
	tests := []struct {
		name    string
		build   func() (*http.Request, error)
		wantURL string
	}{
		{
			name: "the trigger request's URL keeps the escaped slug",
			build: func() (*http.Request, error) {
				return c.TriggerPipelineRequest(ctx, "gh/acme/api", []byte(triggerBody))
			},
			wantURL: "https://circleci.com/api/v2/project/gh%2Facme%2Fapi/pipeline",
		},
		{
			name: "the run request's URL has one segment each",
			build: func() (*http.Request, error) {
				return c.RunPipelineRequest(ctx, "gh", "acme", "api", []byte(triggerBody))
			},
			wantURL: "https://circleci.com/api/v2/project/gh/acme/api/pipeline/run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := tt.build()
			require.NoError(t, err)
			assert.Equal(t, http.MethodPost, req.Method)
			assert.Equal(t, tt.wantURL, req.URL.String())
			assert.Equal(t, http.Header{
				"Circle-Token": {testToken},
				"Accept":       {"application/json"},
				"Content-Type": {"application/json"},
				"User-Agent":   {"baton/1.2.3"},
			}, req.Header)
			body, err := req.GetBody()
			require.NoError(t, err)
			got, _ := io.ReadAll(body)
			assert.Equal(t, triggerBody, string(got))
			assert.Equal(t, "[redacted]", Redact(req.Header).Get("Circle-Token"))
			assert.Equal(t, testToken, req.Header.Get("Circle-Token"), "Redact copies")
		})
	}
	t.Run("a trigger without a body sends no Content-Type", func(t *testing.T) {
		req, err := c.TriggerPipelineRequest(ctx, "gh/acme/api", nil)
		require.NoError(t, err)
		assert.Empty(t, req.Header.Get("Content-Type"))
		assert.Zero(t, req.ContentLength)
	})
	t.Run("a client without a token sends no Circle-Token", func(t *testing.T) {
		anon, err := New(Config{})
		require.NoError(t, err)
		req, err := anon.TriggerPipelineRequest(ctx, "gh/acme/api", []byte("{}"))
		require.NoError(t, err)
		assert.NotContains(t, req.Header, "Circle-Token")
	})
}

func TestBadPathValuesAreRefusedBeforeSending(t *testing.T) {
	c, _ := newTestClient(t, "http://127.0.0.1:1")
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"an empty slug", func() error { _, err := c.TriggerPipelineRequest(ctx, "", nil); return err }, "the project slug is empty"},
		{"an empty organization", func() error { _, err := c.RunPipelineRequest(ctx, "gh", "", "api", nil); return err }, "the organization is empty"},
		{"a dot-dot project", func() error { _, err := c.RunPipelineRequest(ctx, "gh", "acme", "..", nil); return err }, `the project ".." is not allowed`},
		{"an empty pipeline ID", func() error { _, err := c.GetPipeline(ctx, ""); return err }, "the pipeline ID is empty"},
		{"an empty workflow ID", func() error { return c.CancelWorkflow(ctx, "") }, "the workflow ID is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a usage error", func(t *testing.T) {
			err := tt.call()
			require.EqualError(t, err, tt.want)
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		})
	}
}

func TestReadsOnTheWire(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		call       func(c *Client) error
		wantMethod string
		wantURI    string
	}{
		{"GetPipeline asks for the pipeline by ID", func(c *Client) error { _, err := c.GetPipeline(ctx, pipelineID); return err },
			"GET", "/api/v2/pipeline/" + pipelineID},
		{"ListPipelineWorkflows asks for the pipeline's workflows", func(c *Client) error { _, err := c.ListPipelineWorkflows(ctx, pipelineID); return err },
			"GET", "/api/v2/pipeline/" + pipelineID + "/workflow"},
		{"GetWorkflow asks for the workflow by ID", func(c *Client) error { _, err := c.GetWorkflow(ctx, workflowID); return err },
			"GET", "/api/v2/workflow/" + workflowID},
		{"ListWorkflowJobs asks for the workflow's jobs", func(c *Client) error { _, err := c.ListWorkflowJobs(ctx, workflowID); return err },
			"GET", "/api/v2/workflow/" + workflowID + "/job"},
		{"CancelWorkflow posts without a body", func(c *Client) error { return c.CancelWorkflow(ctx, workflowID) },
			"POST", "/api/v2/workflow/" + workflowID + "/cancel"},
		{"Me asks for the token's user", func(c *Client) error { _, err := c.Me(ctx); return err },
			"GET", "/api/v2/me"},
		{"ListProjectPipelines escapes the slug and sends branch and page token", func(c *Client) error {
			_, err := c.ListProjectPipelines(ctx, "gh/acme/api", "feature/x y", "tok+/=")
			return err
		}, "GET", "/api/v2/project/gh%2Facme%2Fapi/pipeline?branch=feature%2Fx+y&page-token=tok%2B%2F%3D"},
		{"ListProjectPipelines leaves out empty query values", func(c *Client) error {
			_, err := c.ListProjectPipelines(ctx, "gh/acme/api", "", "")
			return err
		}, "GET", "/api/v2/project/gh%2Facme%2Fapi/pipeline"},
		{"NewestPipeline escapes the slug and sends the branch", func(c *Client) error {
			_, err := c.NewestPipeline(ctx, "gh/acme/api", "feature/x y", func(*Pipeline) bool { return true })
			return err
		}, "GET", "/api/v2/project/gh%2Facme%2Fapi/pipeline?branch=feature%2Fx+y"},
		{"an ID is escaped like any segment", func(c *Client) error { _, err := c.GetWorkflow(ctx, "a/b?c"); return err },
			"GET", "/api/v2/workflow/a%2Fb%3Fc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.Method == http.MethodPost {
					reply(w, 202, `{"message":"Accepted."}`)
					return
				}
				reply(w, 200, `{"items":[],"next_page_token":null}`)
			})
			c, _ := newTestClient(t, srv.URL)
			require.NoError(t, tt.call(c))
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.wantMethod, reqs[0].Method)
			assert.Equal(t, tt.wantURI, reqs[0].RequestURI)
			h := reqs[0].Header
			assert.Equal(t, testToken, h.Get("Circle-Token"))
			assert.Equal(t, "application/json", h.Get("Accept"))
			assert.Equal(t, "baton/1.2.3", h.Get("User-Agent"))
			assert.Empty(t, h.Get("Content-Type"), "no body, no Content-Type")
			assert.Empty(t, reqs[0].Body)
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	other := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, other.URL+"/api/v2/me", http.StatusFound)
	})
	for _, hc := range []*http.Client{nil, {}} {
		c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.HTTPClient = hc })
		_, err := c.Me(context.Background())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 302, apiErr.Status)
		assert.Equal(t, "GET /api/v2/me: 302 redirected to "+other.URL+"/api/v2/me: the API does not redirect; check the host (https:// and the API's own address)", err.Error())
	}
	assert.Empty(t, other.requests(), "the token never went to the other host")
}
