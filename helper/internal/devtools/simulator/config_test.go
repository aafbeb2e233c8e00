package simulator_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

func TestParseConfig(t *testing.T) {
	t.Run("the complete example parses with its defaults filled in", func(t *testing.T) {
		cfg, err := simulator.LoadConfig("testdata/example.yaml")
		require.NoError(t, err)
		require.Len(t, cfg.Projects, 3)
		api := cfg.Projects[0]
		assert.Equal(t, "gh/acme/api", api.Slug)
		assert.Equal(t, time.Minute, api.Workflows[0].Duration.D())
		assert.Equal(t, "build", api.Workflows[0].Jobs[0].Type)
		assert.Equal(t, "approval", api.Workflows[2].Jobs[1].Type)
		assert.Equal(t, []string{"failed", "failed", "success"}, api.Workflows[1].Outcomes)
		assert.Equal(t, []simulator.Duration{simulator.Duration(50 * time.Second), simulator.Duration(time.Minute), simulator.Duration(70 * time.Second)}, api.Workflows[3].Durations)
		assert.Equal(t, "main", cfg.Projects[1].DefaultBranch)
		assert.Equal(t, int64(1), cfg.Projects[1].FirstNumber)
		assert.Equal(t, "intern", cfg.Tokens[1].Name)
		assert.Len(t, cfg.Faults, 6)
		assert.Equal(t, -3*time.Second, cfg.ClockSkew.D())
		assert.Equal(t, 3*time.Second, api.ListLag.D())
		assert.Equal(t, "api", cfg.Projects[1].TriggerType, "the default")
		assert.Equal(t, simulator.FaultStatus, cfg.Faults[0].Kind)
		assert.Equal(t, 1500*time.Millisecond, cfg.Faults[2].Delay.D())
		assert.Equal(t, 1, cfg.Faults[1].Times)
		assert.Equal(t, 20, cfg.PageSize)
		require.NoError(t, cfg.Validate())
	})

	t.Run("a config written back as YAML parses to the same config", func(t *testing.T) {
		cfg, err := simulator.LoadConfig("testdata/example.yaml")
		require.NoError(t, err)
		out, err := yaml.Marshal(cfg)
		require.NoError(t, err)
		again, err := simulator.ParseConfig(out)
		require.NoError(t, err, string(out))
		assert.Equal(t, cfg, again)
	})

	t.Run("JSON is accepted as YAML, with github spelled out and durations in seconds", func(t *testing.T) {
		cfg, err := simulator.ParseConfig([]byte(`{"tokens":[{"token":"t"}],"projects":[{"slug":"github/acme/api","workflows":[{"name":"w","duration":90}]}]}`))
		require.NoError(t, err)
		assert.Equal(t, "gh/acme/api", cfg.Projects[0].Slug)
		assert.Equal(t, 90*time.Second, cfg.Projects[0].Workflows[0].Duration.D())
		assert.Equal(t, "sim-user", cfg.Tokens[0].Login)
	})

	const base = "tokens: [{token: t}]\n"
	tests := []struct {
		name, config, want string
	}{
		{"an empty file says what is needed", "", "config is empty; it needs at least tokens and projects"},
		{"an unknown top-level key is named", base + "projetcs: []\n", "projetcs: unknown field (check the spelling, or remove it) (line 2)"},
		{"an unknown nested key is named with its path", base + "projects:\n  - slug: gh/a/b\n    workflows:\n      - name: w\n        statuss: failed\n", "projects[0].workflows[0].statuss: unknown field (check the spelling, or remove it) (line 6)"},
		{"a bad duration names its field", base + "projects:\n  - slug: gh/a/b\n    workflows:\n      - name: w\n        duration: soon\n", `projects[0].workflows[0].duration: "soon" is not a duration; write e.g. 30s or 1m30s (line 6)`},
		{"a wrongly typed value names its field", base + "page_size: many\n", "page_size: cannot unmarshal !!str `many` into int (line 2)"},
		{"a YAML syntax error gives its line", "tokens: [\n", "config line 1: did not find expected node content"},
		{"no tokens at all", "projects: []\n", "tokens: at least one token is needed"},
		{"an empty token", "tokens: [{login: x}]\n", "tokens[0].token: must not be empty"},
		{"a duplicate token", "tokens: [{token: a}, {token: a}]\n", "tokens[1].token: listed twice"},
		{"a user id that is not a UUID", "tokens: [{token: a, id: 42}]\n", `tokens[0].id: "42" is not a UUID`},
		{"a token seeing an unknown project", "tokens: [{token: a, projects: [gh/x/y]}]\n", `tokens[0].projects[0]: "gh/x/y" is not one of the configured projects`},
		{"a slug with two parts", base + "projects: [{slug: gh/acme}]\n", `projects[0].slug: "gh/acme" is not provider/organization/project`},
		{"a slug with an unknown provider", base + "projects: [{slug: gitlab/a/b}]\n", `projects[0].slug: "gitlab/a/b" is not provider/organization/project`},
		{"the same project under two spellings", base + "projects: [{slug: gh/a/b}, {slug: github/a/b}]\n", `projects[1].slug: "github/a/b" is listed twice`},
		{"a definition id that is not a UUID", base + "projects: [{slug: gh/a/b, definition_ids: [nope]}]\n", `projects[0].definition_ids[0]: "nope" is not a UUID`},
		{"a definition id shared by two projects", base + "projects: [{slug: gh/a/b, definition_ids: [2338d0ae-5541-4bbf-88a2-55e9f7281f80]}, {slug: gh/a/c, definition_ids: [2338d0ae-5541-4bbf-88a2-55e9f7281f80]}]\n", "projects[1].definition_ids[0]: 2338d0ae-5541-4bbf-88a2-55e9f7281f80 is already a definition of gh/a/b"},
		{"a parameter of an unknown type", base + "projects: [{slug: gh/a/b, parameters: [{name: p, type: float}]}]\n", `projects[0].parameters[0].type: "float" is not a parameter type`},
		{"an enum parameter without values", base + "projects: [{slug: gh/a/b, parameters: [{name: p, type: enum}]}]\n", "projects[0].parameters[0].enum: an enum parameter needs its list of allowed values"},
		{"a default of the wrong type", base + "projects: [{slug: gh/a/b, parameters: [{name: p, type: boolean, default: yes please}]}]\n", `projects[0].parameters[0].default: "yes please" does not fit type boolean`},
		{"a default outside the enum", base + "projects: [{slug: gh/a/b, parameters: [{name: p, type: enum, enum: [a], default: b}]}]\n", `projects[0].parameters[0].default: "b" does not fit type enum`},
		{"a parameter declared twice", base + "projects: [{slug: gh/a/b, parameters: [{name: p, type: string}, {name: p, type: string}]}]\n", `projects[0].parameters[1].name: "p" is declared twice`},
		{"a misspelt workflow status", base + "projects: [{slug: gh/a/b, workflows: [{name: w, status: sucess}]}]\n", `projects[0].workflows[0].status: "sucess" is not a workflow status; use one of success, failed`},
		{"a transient workflow status as outcome", base + "projects: [{slug: gh/a/b, workflows: [{name: w, outcomes: [running]}]}]\n", `projects[0].workflows[0].outcomes[0]: "running" is not a workflow status`},
		{"more outcomes than attempts", base + "projects: [{slug: gh/a/b, workflows: [{name: w, outcomes: [failed, success]}]}]\n", "projects[0].workflows[0].outcomes: 2 outcomes but at most 1 attempts (max_auto_reruns 0)"},
		{"an unknown workflow tag", base + "projects: [{slug: gh/a/b, workflows: [{name: w, tag: approval}]}]\n", `projects[0].workflows[0].tag: "approval"; the only workflow tag is setup`},
		{"two setup workflows", base + "projects: [{slug: gh/a/b, workflows: [{name: s, tag: setup}, {name: t, tag: setup}]}]\n", "projects[0].workflows[1].tag: only one setup workflow per project"},
		{"a job longer than its workflow", base + "projects: [{slug: gh/a/b, workflows: [{name: w, duration: 10s, jobs: [{name: j, duration: 11s}]}]}]\n", "projects[0].workflows[0].jobs[0].duration: 11s is longer than the workflow's 10s"},
		{"a job longer than the workflow's shortest turn", base + "projects: [{slug: gh/a/b, workflows: [{name: w, durations: [20s, 8s], jobs: [{name: j, duration: 9s}]}]}]\n", "projects[0].workflows[0].jobs[0].duration: 9s is longer than the workflow's 8s"},
		{"a negative turn", base + "projects: [{slug: gh/a/b, workflows: [{name: w, durations: [1s, -1s]}]}]\n", "projects[0].workflows[0].durations[1]: -1s is negative"},
		{"a job of an unknown type", base + "projects: [{slug: gh/a/b, workflows: [{name: w, jobs: [{name: j, type: manual}]}]}]\n", `projects[0].workflows[0].jobs[0].type: "manual"; use build or approval`},
		{"a misspelt job status", base + "projects: [{slug: gh/a/b, workflows: [{name: w, jobs: [{name: j, status: fail}]}]}]\n", `projects[0].workflows[0].jobs[0].status: "fail" is not a job status`},
		{"a job requiring a later job", base + "projects: [{slug: gh/a/b, workflows: [{name: w, jobs: [{name: a, requires: [b]}, {name: b}]}]}]\n", `projects[0].workflows[0].jobs[0].requires[0]: "b" is not an earlier job of this workflow`},
		{"a rate limit of zero requests", base + "rate_limit: {requests: 0, window: 1s}\n", "rate_limit.requests: 0; allow at least 1 request per window"},
		{"a rate limit without a window", base + "rate_limit: {requests: 3}\n", "rate_limit.window: must be a positive duration"},
		{"a fault for an unknown operation", base + "faults: [{operation: getPipeline, status: 500}]\n", `faults[0].operation: "getPipeline" is not an operation the simulator serves`},
		{"a fault without a kind", base + "faults: [{operation: '*'}]\n", "faults[0].kind: missing; use status (with status: 503), slow (with delay: 2s), drop, lost or processed (with status: 502)"},
		{"a status fault with a success status", base + "faults: [{operation: '*', status: 200}]\n", "faults[0].status: 200; a status fault answers an error status between 400 and 599"},
		{"a slow fault without a delay", base + "faults: [{operation: '*', kind: slow}]\n", "faults[0].delay: a slow fault needs a positive delay such as 2s"},
		{"a drop fault with a status", base + "faults: [{operation: '*', kind: drop, status: 500}]\n", "faults[0].status: only a status fault answers a status (kind is drop)"},
		{"a fault of an unknown kind", base + "faults: [{operation: '*', kind: explode}]\n", `faults[0].kind: "explode"; use status, slow, drop, lost or processed`},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			_, err := simulator.ParseConfig([]byte(tt.config))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestLoadConfig(t *testing.T) {
	t.Run("a missing file is reported with its path", func(t *testing.T) {
		_, err := simulator.LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("an invalid file is reported with its path and the field", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sim.yaml")
		require.NoError(t, os.WriteFile(path, []byte("tokens: [{token: t}]\npage_size: -1\n"), 0o600))
		_, err := simulator.LoadConfig(path)
		assert.EqualError(t, err, path+": page_size: -1 is negative; use a positive number of items per page")
	})
}

func TestNew(t *testing.T) {
	t.Run("panics on a Go-built config that does not validate", func(t *testing.T) {
		assert.PanicsWithValue(t, "simulator.New: invalid config: tokens: at least one token is needed (e.g. tokens: [{token: test-token, login: octocat}])", func() {
			simulator.New(simulator.Config{})
		})
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		err      bool
	}{
		{"a Go duration string", `"1m30s"`, 90 * time.Second, false},
		{"a number of seconds", `2.5`, 2500 * time.Millisecond, false},
		{"a word", `"soon"`, 0, true},
	}
	for _, tt := range tests {
		t.Run("reads "+tt.name+" from JSON", func(t *testing.T) {
			var d simulator.Duration
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.D())
		})
	}
	t.Run("writes the duration string to JSON", func(t *testing.T) {
		b, err := json.Marshal(simulator.Duration(1500 * time.Millisecond))
		require.NoError(t, err)
		assert.Equal(t, `"1.5s"`, string(b))
	})
}

// FuzzParseConfig: any input either fails with a one-line error or gives a config New accepts.
func FuzzParseConfig(f *testing.F) {
	example, err := os.ReadFile("testdata/example.yaml")
	require.NoError(f, err)
	f.Add(example)
	f.Add([]byte(`{"tokens":[{"token":"t"}],"projects":[{"slug":"gh/a/b","workflows":[{"name":"w","duration":"1s"}]}]}`))
	f.Add([]byte("tokens: [{token: t}]\nprojects: [{slug: gh/a/b, workflows: [{name: w, jobs: [{name: j, requires: [j]}]}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := simulator.ParseConfig(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		simulator.New(cfg)
	})
}

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in   string
		want *simulator.RateLimit
		err  string
	}{
		{"300/1m", &simulator.RateLimit{Requests: 300, Window: simulator.Duration(time.Minute)}, ""},
		{" 5 / 10s ", &simulator.RateLimit{Requests: 5, Window: simulator.Duration(10 * time.Second)}, ""},
		{"300", nil, `"300": write REQUESTS/WINDOW, e.g. 300/1m (or 300/1m,quiet)`},
		{"300/1m,quiet", &simulator.RateLimit{Requests: 300, Window: simulator.Duration(time.Minute), OnlyWhenThrottled: true}, ""},
		{"0/1m", nil, `"0/1m": "0" is not a number of requests of at least 1`},
		{"x/1m", nil, `"x/1m": "x" is not a number of requests of at least 1`},
		{"3/60", nil, `"3/60": "60" is not a positive duration such as 1m`},
		{"3/-1s", nil, `"3/-1s": "-1s" is not a positive duration such as 1m`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := simulator.ParseRateLimit(tt.in)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzParseRateLimit: any input is refused with one line, or is a limit New accepts.
func FuzzParseRateLimit(f *testing.F) {
	for _, s := range []string{"300/1m", "5/10s,quiet", "0/1m", "1/0s", "x", "9999999999999999999/1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rl, err := simulator.ParseRateLimit(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		simulator.New(simulator.Config{Tokens: []simulator.Token{{Token: "t"}}, RateLimit: rl})
	})
}
