package circleci

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJobDetailTypesFitTheDescription(t *testing.T) {
	s := loadSpec(t)
	s.conform(t, "TestResult", reflect.TypeOf(TestResult{}), s.responseSchema(t, "/project/{project-slug}/{job-number}/tests", "get", "200")["properties"].(map[string]any)["items"].(map[string]any)["items"].(map[string]any))
	s.conform(t, "Artifact", reflect.TypeOf(Artifact{}), s.responseSchema(t, "/project/{project-slug}/{job-number}/artifacts", "get", "200")["properties"].(map[string]any)["items"].(map[string]any)["items"].(map[string]any))
}

func TestListJobTestsReadsEveryPageUpToItsLimit(t *testing.T) {
	page := func(from, n int, next string) string {
		var items []string
		for i := from; i < from+n; i++ {
			items = append(items, fmt.Sprintf(`{"message":null,"source":"","run_time":0.1,"file":"f","result":"success","name":"t%d","classname":"c"}`, i))
		}
		tok := "null"
		if next != "" {
			tok = `"` + next + `"`
		}
		return `{"items":[` + strings.Join(items, ",") + `],"next_page_token":` + tok + `}`
	}
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Query().Get("page-token") {
		case "":
			reply(w, 200, page(0, 3, "p2"))
		case "p2":
			reply(w, 200, page(3, 3, "p3"))
		default:
			reply(w, 200, page(6, 2, ""))
		}
	})
	c, _ := newTestClient(t, srv.URL)

	all, err := c.ListJobTests(context.Background(), "gh/acme/e2e", 12, 0)
	require.NoError(t, err)
	assert.Len(t, all.Tests, 8)
	assert.False(t, all.Truncated)
	assert.Equal(t, "/api/v2/project/gh%2Facme%2Fe2e/12/tests", srv.requests()[0].EscapedPath)

	some, err := c.ListJobTests(context.Background(), "gh/acme/e2e", 12, 4)
	require.NoError(t, err)
	assert.Len(t, some.Tests, 4)
	assert.True(t, some.Truncated, "a job with more tests than the limit says so")
	assert.Len(t, srv.requests(), 3+2, "no page past the limit is asked for")
}

func TestGetJobStepsUsesAPIv11(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"steps":[{"name":"Run tests","actions":[{"name":"Run tests","status":"failed","failed":true,"index":0,"exit_code":1,"output_url":"https://example.com/o","has_output":true}]}]}`)
	})
	c, _ := newTestClient(t, srv.URL)
	steps, err := c.GetJobSteps(context.Background(), "gh/acme/e2e", 12)
	require.NoError(t, err)
	require.Len(t, steps.Steps, 1)
	assert.Equal(t, "https://example.com/o", steps.Steps[0].Actions[0].OutputURL)
	assert.Equal(t, "/api/v1.1/project/github/acme/e2e/12", srv.requests()[0].EscapedPath)
	assert.Equal(t, testToken, srv.requests()[0].Header.Get("Circle-Token"), "v1.1 is the API host: it takes the token")

	_, err = c.GetJobSteps(context.Background(), "circleci/9a3b0c1d/2e4f4a5b", 12)
	assert.ErrorIs(t, err, ErrNotServed)
	assert.Len(t, srv.requests(), 1, "nothing is asked of v1.1 for a project it does not know")
}

func TestStepOutputIsFetchedWithoutTheToken(t *testing.T) {
	storage := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `[{"type":"out","message":"line 1\n"},{"type":"err","message":"boom `+testToken+`\n"}]`)
	})
	api := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 500, `{}`) })
	c, _ := newTestClient(t, api.URL)
	out, err := c.GetStepOutput(context.Background(), storage.URL+"/output/1?X-Amz-Signature=abc")
	require.NoError(t, err)
	require.Len(t, out, 2)
	assert.NotContains(t, out[1].Message, testToken, "a token echoed in the output is scrubbed")
	require.Len(t, storage.requests(), 1)
	assert.Empty(t, storage.requests()[0].Header.Get("Circle-Token"), "a presigned URL on another host gets no token")

	for _, bad := range []string{"http://example.com/o", "ftp://x/y", "https://user:pw@example.com/o", "/relative", "::"} {
		_, err := c.GetStepOutput(context.Background(), bad)
		assert.Error(t, err, bad)
	}
	assert.Len(t, storage.requests(), 1)
}

func TestDownloadCarriesTheTokenOnlyToCircleCIHosts(t *testing.T) {
	elsewhere := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		_, _ = w.Write([]byte("from storage"))
	})
	api := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/artifact/redirect":
			http.Redirect(w, r, elsewhere.URL+"/blob", http.StatusFound)
		case "/artifact/big":
			_, _ = w.Write(bytes.Repeat([]byte("x"), 100))
		default:
			_, _ = w.Write([]byte("direct"))
		}
	})
	c, _ := newTestClient(t, api.URL)
	ctx := context.Background()

	var b bytes.Buffer
	n, err := c.Download(ctx, api.URL+"/artifact/direct", &b, 1000)
	require.NoError(t, err)
	assert.Equal(t, int64(6), n)
	assert.Equal(t, testToken, api.requests()[0].Header.Get("Circle-Token"), "the API host gets the token")

	b.Reset()
	_, err = c.Download(ctx, api.URL+"/artifact/redirect", &b, 1000)
	require.NoError(t, err)
	assert.Equal(t, "from storage", b.String())
	require.Len(t, elsewhere.requests(), 1)
	assert.Empty(t, elsewhere.requests()[0].Header.Get("Circle-Token"), "a redirect to another host never carries the token")

	_, err = c.Download(ctx, elsewhere.URL+"/blob", &b, 1000)
	require.NoError(t, err)
	assert.Empty(t, elsewhere.requests()[1].Header.Get("Circle-Token"), "an artifact URL on another host gets no token")

	b.Reset()
	n, err = c.Download(ctx, api.URL+"/artifact/big", &b, 10)
	assert.ErrorIs(t, err, ErrDownloadTooLarge)
	assert.Equal(t, int64(10), n)
	assert.Equal(t, 10, b.Len(), "no byte past the cap is written")
}

func TestTokenHost(t *testing.T) {
	c, err := New(Config{Host: "https://circleci.com", Token: testToken})
	require.NoError(t, err)
	for raw, want := range map[string]bool{
		"https://circleci.com/api/v2/x":                              true,
		"https://output.circle-artifacts.com/output/job/1/x.txt":     true,
		"https://12-345-gh.circle-artifacts.com/0/report.html":       true,
		"http://output.circle-artifacts.com/x":                       false,
		"https://circle-artifacts.com.evil.example/x":                false,
		"https://evilcircle-artifacts.com/x":                         false,
		"https://.circle-artifacts.com/x":                            false,
		"https://circle-production-action-output.s3.amazonaws.com/x": false,
		"https://circleci.com:8443/x":                                false,
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, want, c.tokenHost(u), raw)
	}
}
