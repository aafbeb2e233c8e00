package payload_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/params"
	"github.com/baton-ci/baton/helper/internal/payload"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/slug"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mustSlug(t *testing.T, s string) slug.Slug {
	t.Helper()
	p, err := slug.Parse(s)
	require.NoError(t, err)
	return p
}

func TestBodyMatchesGoldenFiles(t *testing.T) {
	hostile := []params.Param{
		{Key: "image-name", Value: "acme/api:0.1.123"},
		{Key: "replicas", Value: int64(3)},
		{Key: "deploy", Value: true},
		{Key: "quote", Value: `say "hi" <&> it's \ fine`},
		{Key: "multi", Value: "line one\nline two\ttabbed"},
		{Key: "orb-syntax", Value: "<< pipeline.number >> $(rm -rf /) `id`"},
		{Key: "json", Value: `{"nested": [1, 2]}`},
		{Key: "emoji 🚀", Value: "🚀 ünïcödé ‮rtl"},
		{Key: "a.b", Value: "dot in key"},
		{Key: "0", Value: "numeric key"},
		{Key: ":colon", Value: "colon key"},
		{Key: `#|@*?\`, Value: "gjson syntax"},
	}
	cases := []struct {
		name    string
		trigger request.Trigger
	}{
		{"legacy-branch", request.Trigger{Project: mustSlug(t, "gh/acme/api"), Ref: request.Ref{Branch: "main"}, Params: hostile}},
		{"legacy-tag-no-params", request.Trigger{Project: mustSlug(t, "gh/acme/api"), Ref: request.Ref{Tag: "v1.2.3"}}},
		{"legacy-default-branch", request.Trigger{Project: mustSlug(t, "bb/acme/api")}},
		{"run-split-refs", request.Trigger{
			Project:      mustSlug(t, "circleci/9f5b7b04-1a5e-4a3f-9c58-2c1e7d6b5a10/3c0e9a9e-84a4-4a25-b1b8-f1c2f0e9c6a1"),
			DefinitionID: "2338d0ae-5541-4bbf-88a2-55e9f7281f80",
			Config:       request.Ref{Branch: "main"}, Checkout: request.Ref{Tag: "v2"},
			Params: []params.Param{{Key: "env", Value: "prod"}, {Key: "n", Value: int64(-12)}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := payload.Body(&tc.trigger)
			require.NoError(t, err)
			require.True(t, json.Valid(got), "body is not JSON: %s", got)
			golden := filepath.Join("testdata", tc.name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got)+"\n")
			assertParamsExact(t, got, tc.trigger.Params)
		})
	}
}

// assertParamsExact decodes the body independently of sjson and compares every parameter,
// in order, with its type.
func assertParamsExact(t *testing.T, body []byte, want []params.Param) {
	t.Helper()
	var doc struct {
		Parameters json.RawMessage `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	if len(want) == 0 {
		assert.Nil(t, doc.Parameters, "no parameters given, none sent")
		return
	}
	got := decodeOrdered(t, doc.Parameters)
	require.Len(t, got, len(want))
	for i, p := range want {
		assert.Equal(t, p.Key, got[i].Key)
		assert.Equal(t, p.Value, got[i].Value, "parameter %q", p.Key)
	}
}

func decodeOrdered(t *testing.T, raw []byte) []params.Param {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []params.Param
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		v, err := dec.Token()
		require.NoError(t, err)
		if n, ok := v.(json.Number); ok {
			i, err := n.Int64()
			require.NoError(t, err)
			v = i
		}
		out = append(out, params.Param{Key: k.(string), Value: v})
	}
	return out
}

func FuzzEscapeKeyKeepsEveryKeyLiteral(f *testing.F) {
	for _, k := range []string{"a", "a.b", "0", "-1", ":x", `\`, "#", "a|b", "@this", "*", "?", "..", "a\\.b", "é", "{}", "[]", `"`} {
		f.Add(k, "v")
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		if key == "" || !utf8.ValidString(key) || !utf8.ValidString(value) {
			t.Skip()
		}
		tr := request.Trigger{Params: []params.Param{{Key: "other", Value: int64(1)}, {Key: key, Value: value}}}
		if key == "other" {
			t.Skip()
		}
		body, err := payload.Body(&tr)
		require.NoError(t, err)
		var doc struct {
			Parameters map[string]any `json:"parameters"`
		}
		require.NoError(t, json.Unmarshal(body, &doc), "body %s", body)
		assert.Equal(t, map[string]any{"other": float64(1), key: value}, doc.Parameters)
	})
}
