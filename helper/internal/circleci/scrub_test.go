package circleci

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server echoing the token cannot get it into a decoded answer, in any form or place.
func TestAnswersAreScrubbedOfTheToken(t *testing.T) {
	ctx := context.Background()
	echo := func(s string) string { // s as a JSON string's body, after a prefix
		b, _ := json.Marshal("x " + s)
		return strings.Trim(string(b), `"`)
	}
	// The test token is letters, digits and _, so its escaped forms are itself; package redact's
	// and the CLI's tests cover tokens whose forms differ.
	forms := []string{testToken, strings.ToLower(testToken)}
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/workflow"):
			var items []string
			for _, f := range forms {
				items = append(items, `{"id":"`+workflowID+`","name":"`+echo(f)+`","status":"`+echo(f)+`"}`)
			}
			reply(w, 200, `{"items":[`+strings.Join(items, ",")+`],"next_page_token":null}`)
		default:
			reply(w, 200, `{"id":"`+pipelineID+`","state":"`+echo(testToken)+`","trigger_parameters":{"a":"`+echo(testToken)+`","n":{"b":["`+echo(testToken)+`"]}},`+
				`"errors":[{"type":"config","message":"`+echo(testToken)+`"}],"vcs":{"commit":{"subject":"`+echo(testToken)+`"}}}`)
		}
	})
	c, _ := newTestClient(t, srv.URL)

	ws, err := c.ListPipelineWorkflows(ctx, pipelineID)
	require.NoError(t, err)
	require.Len(t, ws, len(forms))
	for _, w := range ws {
		assert.Equal(t, "x [redacted]", w.Name)
		assert.Equal(t, "x [redacted]", w.Status)
	}
	p, err := c.GetPipeline(ctx, pipelineID)
	require.NoError(t, err)
	assert.Equal(t, "x [redacted]", p.State)
	assert.Equal(t, "x [redacted]", p.Errors[0].Message)
	assert.Equal(t, "x [redacted]", p.VCS.Commit.Subject)
	assert.Equal(t, map[string]any{"a": "x [redacted]", "n": map[string]any{"b": []any{"x [redacted]"}}}, p.TriggerParameters)
	assert.Equal(t, pipelineID, p.ID, "the rest is untouched")
}
