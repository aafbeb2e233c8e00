package orbrun_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

func TestOrbToolsReviewRunsItsRCRules(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts orbrun.ReviewOptions
		want []string
	}{
		{"kebab-case component names break RC010", orbrun.ReviewOptions{}, []string{"RC010"}},
		{"excluded, RC010 is not reported", orbrun.ReviewOptions{Exclude: []string{"RC010"}}, nil},
		{"a release tag of the examples' major passes RC011", orbrun.ReviewOptions{Exclude: []string{"RC010"}, OrbName: "baton", Tag: "v1.4.0"}, nil},
		{"a release tag of another major fails RC011", orbrun.ReviewOptions{Exclude: []string{"RC010"}, OrbName: "baton", Tag: "v2.0.0"}, []string{"RC011"}},
		{"RC011 checks release tags only", orbrun.ReviewOptions{Exclude: []string{"RC010"}, OrbName: "baton", Tag: "v2.0.0-rc1"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := orbrun.ReviewRC(srcDir(), tt.opts)
			require.NoError(t, err)
			var rules []string
			for _, f := range findings {
				if len(rules) == 0 || rules[len(rules)-1] != f.Rule {
					rules = append(rules, f.Rule)
				}
			}
			assert.Equal(t, tt.want, rules, "%v", findings)
		})
	}
	t.Run("BT rules are the project's, not orb-tools'", func(t *testing.T) {
		dir := copyDir(t, srcDir())
		appendTo("scripts/install.sh", "eval \"$x\"\n")(t, dir)
		findings, err := orbrun.ReviewRC(dir, orbrun.ReviewOptions{Exclude: []string{"RC010"}})
		require.NoError(t, err)
		assert.Empty(t, findings)
	})
}

// standIn runs one stand-in step with env in a fresh working directory.
func standIn(t *testing.T, s *orbrun.StandIns, name string, env map[string]string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	dir := t.TempDir()
	err := s.Steps()[name](context.Background(), orbrun.StandInStep{Env: env, Home: dir, WorkDir: dir, Out: &out})
	return out.String(), err
}

func TestOrbToolsPublishStandIn(t *testing.T) {
	orb, err := os.ReadFile(release.Orb)
	require.NoError(t, err)
	publish := func(t *testing.T, reg *orbrun.OrbRegistry, env map[string]string) error {
		t.Helper()
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "dist"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dist", "orb.yml"), orb, 0o644))
		full := map[string]string{
			"ORB_VAL_ORB_PUB_TOKEN": "CIRCLE_TOKEN", "CIRCLE_TOKEN": "pub", "ORB_VAL_ORB_NAME": "baton-ci/baton",
			"ORB_VAL_ORB_DIR": "dist", "ORB_VAL_ORB_FILE_NAME": "orb.yml", "ORB_VAL_TAG_PATTERN": `^v[0-9]+\.[0-9]+\.[0-9]+$`,
			"ORB_VAL_DEV_TAGS": "dev:${CIRCLE_SHA1},dev:alpha", "CIRCLE_SHA1": "abc",
		}
		for k, v := range env {
			full[k] = v
		}
		var out bytes.Buffer
		return (&orbrun.StandIns{Registry: reg}).Steps()["orb-tools-publish"](context.Background(),
			orbrun.StandInStep{Env: full, Home: dir, WorkDir: dir, Out: &out})
	}
	for _, tt := range []struct {
		name    string
		env     map[string]string
		wantErr string
		want    []string
	}{
		{"dev versions under every dev tag", map[string]string{"ORB_VAL_PUB_TYPE": "dev"}, "", []string{"dev:abc", "dev:alpha"}},
		{"production from a release tag", map[string]string{"ORB_VAL_PUB_TYPE": "production", "CIRCLE_TAG": "v1.2.3"}, "", []string{"1.2.3"}},
		{"production without a tag", map[string]string{"ORB_VAL_PUB_TYPE": "production"}, "No tag detected", nil},
		{"production from a tag the pattern refuses", map[string]string{"ORB_VAL_PUB_TYPE": "production", "CIRCLE_TAG": "v1.2"}, "Malformed tag detected", nil},
		{"no token", map[string]string{"ORB_VAL_PUB_TYPE": "dev", "CIRCLE_TOKEN": ""}, "No Orb Publishing Token detected", nil},
		{"a token the registry does not know", map[string]string{"ORB_VAL_PUB_TYPE": "dev", "CIRCLE_TOKEN": "other"}, "not allowed to publish", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := &orbrun.OrbRegistry{Tokens: []string{"pub"}}
			err := publish(t, reg, tt.env)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			var versions []string
			for _, p := range reg.Published() {
				versions = append(versions, p.Version)
			}
			assert.Equal(t, tt.want, versions)
		})
	}
	t.Run("a production version is published once", func(t *testing.T) {
		reg := &orbrun.OrbRegistry{Tokens: []string{"pub"}}
		env := map[string]string{"ORB_VAL_PUB_TYPE": "production", "CIRCLE_TAG": "v1.2.3"}
		require.NoError(t, publish(t, reg, env))
		assert.ErrorContains(t, publish(t, reg, env), "already exists")
	})
}

func TestContinuationStandIn(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusConflict)
	}))
	t.Cleanup(srv.Close)
	s := &orbrun.StandIns{APIURL: srv.URL}
	_, err := standIn(t, s, "continuation-continue", map[string]string{"CONFIG_PATH": "c.yml"})
	assert.ErrorContains(t, err, "CIRCLE_CONTINUATION_KEY is required")
	_, err = standIn(t, s, "continuation-continue", map[string]string{"CIRCLE_CONTINUATION_KEY": "k", "CONFIG_PATH": "c.yml", "PARAMETERS": "{nope"})
	assert.ErrorContains(t, err, "PARAMETERS aren't valid json")
	assert.Nil(t, got, "nothing was sent")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.yml"), []byte("version: 2.1\n"), 0o644))
	var out bytes.Buffer
	err = s.Steps()["continuation-continue"](context.Background(), orbrun.StandInStep{
		Env:  map[string]string{"CIRCLE_CONTINUATION_KEY": "k", "CONFIG_PATH": "c.yml", "PARAMETERS": `{"a": 1}`},
		Home: dir, WorkDir: dir, Out: &out,
	})
	assert.ErrorContains(t, err, "answered 409", "anything but 200 fails the step")
	assert.JSONEq(t, `{"continuation-key": "k", "configuration": "version: 2.1\n", "parameters": {"a": 1}}`, string(got))
}
