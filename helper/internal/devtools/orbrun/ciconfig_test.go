package orbrun_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// projectConfigs are the project's own CircleCI configs, each as CircleCI will run it:
// continue.yml with this run's packed orb inlined by the same script the pipeline uses.
func projectConfigs(t *testing.T) map[string]map[string]any {
	t.Helper()
	dir := t.TempDir()
	configs := map[string]map[string]any{}
	for _, name := range []string{"config.yml", "continue.yml", "integration.yml"} {
		out := filepath.Join(dir, name)
		cmd := exec.Command("scripts/continuation-config.sh", filepath.Join(".circleci", name), release.Orb, out, filepath.Join(dir, name+".json"))
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("continuation-config.sh %s: %v\n%s", name, err, msg)
		}
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal(data, &doc), name)
		configs[name] = doc

		var params map[string]any
		raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &params))
		want := map[string]any{} // the trigger's parameters carry over; giving them again is refused
		if name == "continue.yml" {
			orb, err := os.ReadFile(release.Orb)
			require.NoError(t, err)
			want["packed-orb-sha256"] = sha256Hex(orb)
		}
		assert.Equal(t, want, params, "%s: the parameters the setup stage continues with", name)
	}
	return configs
}

func TestProjectPipelineFitsCircleCISchema(t *testing.T) {
	s, err := orbrun.LoadSchema(orbrun.SchemaPath())
	if errors.Is(err, orbrun.ErrSchemaAbsent) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	configs := projectConfigs(t)
	for name, doc := range configs {
		assert.NoError(t, s.Validate(doc), name)
	}
	inlined, ok := configs["continue.yml"]["orbs"].(map[string]any)["baton"].(map[string]any)
	require.True(t, ok, "continue.yml uses the orb packed in the pipeline, inline")
	assert.Contains(t, inlined, "commands")
}

var pinnedOrb = regexp.MustCompile(`^[a-z0-9-]+/[a-z0-9-]+@\d+\.\d+\.\d+$`)

func TestProjectPipelinePinsEveryOrb(t *testing.T) {
	for name, doc := range projectConfigs(t) {
		orbs, _ := doc["orbs"].(map[string]any)
		for alias, ref := range orbs {
			if s, ok := ref.(string); ok {
				assert.Regexp(t, pinnedOrb, s, "%s: orb %s must be pinned to a full version", name, alias)
			}
		}
	}
}
