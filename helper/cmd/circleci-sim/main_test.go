package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// TestMain lets the test binary stand in for circleci-sim: with CIRCLECI_SIM_MAIN=1 it runs main.
func TestMain(m *testing.M) {
	if os.Getenv("CIRCLECI_SIM_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

const config = `
tokens: [{token: tok, login: octocat}]
projects: [{slug: gh/acme/api}]
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sim.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--config is required", nil, "circleci-sim: --config is required: give the simulator config file (see --help)\n"},
		{"a missing config file is named", []string{"--config", "/nonexistent/sim.yaml"}, "circleci-sim: open /nonexistent/sim.yaml: no such file or directory\n"},
		{"a bad config names the field in one line", []string{"--config", "BAD"}, `projects[0].workflows[0].status: "sucess" is not a workflow status`},
		{"an unknown flag is refused", []string{"--port", "80"}, "flag provided but not defined: -port"},
		{"a stray argument is refused", []string{"--config", "x.yaml", "extra"}, `circleci-sim: unexpected argument "extra"`},
		{"an address that cannot be bound is named", []string{"--config", "GOOD", "--addr", "256.0.0.1:0"}, "circleci-sim: --addr 256.0.0.1:0:"},
		{"a rate limit that is not N/WINDOW is named", []string{"--config", "GOOD", "--rate-limit", "300"}, `circleci-sim: --rate-limit "300": write REQUESTS/WINDOW, e.g. 300/1m (or 300/1m,quiet)`},
	}
	bad := writeConfig(t, "tokens: [{token: t}]\nprojects:\n  - slug: gh/a/b\n    workflows: [{name: w, status: sucess}]\n")
	good := writeConfig(t, config)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.NewReplacer("BAD", bad, "GOOD", good).Replace(a)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout.String())
			assert.Contains(t, stderr.String(), tt.want)
			if strings.HasPrefix(tt.name, "a bad config") {
				assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %q", stderr.String())
			}
		})
	}
	t.Run("--help prints the usage and exits 0", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 0, run([]string{"--help"}, &stdout, &stderr))
		assert.Contains(t, stderr.String(), "Usage: circleci-sim --config FILE")
		assert.Contains(t, stderr.String(), "-url-file FILE")
	})
}

func TestServe(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		name := "serves on a free port, prints its URL first, logs requests and stops when asked"
		if quiet {
			name = "--quiet serves without logging requests"
		}
		t.Run(name, func(t *testing.T) {
			urlFile := filepath.Join(t.TempDir(), "url")
			args := []string{"--config", writeConfig(t, config), "--url-file", urlFile}
			if quiet {
				args = append(args, "--quiet")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			outR, outW := io.Pipe()
			var stderr testkit.SyncBuffer
			done := make(chan int, 1)
			go func() {
				done <- serve(ctx, args, outW, &stderr)
				outW.Close()
			}()
			line, err := bufio.NewReader(outR).ReadString('\n')
			require.NoError(t, err)
			require.Regexp(t, `^circleci-sim listening on http://127\.0\.0\.1:\d+\n$`, line)
			url := strings.TrimSpace(strings.TrimPrefix(line, "circleci-sim listening on "))

			written, err := os.ReadFile(urlFile)
			require.NoError(t, err)
			assert.Equal(t, url+"\n", string(written))

			req, _ := http.NewRequest("GET", url+"/api/v2/me", nil)
			req.Header.Set("Circle-Token", "tok")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, string(body), `"login":"octocat"`)

			cancel()
			select {
			case code := <-done:
				assert.Equal(t, 0, code)
			case <-time.After(5 * time.Second):
				t.Fatal("serve did not stop")
			}
			if quiet {
				assert.Empty(t, stderr.String())
			} else {
				assert.Equal(t, "GET /api/v2/me -> 200 getCurrentUser\n", stderr.String())
			}
		})
	}
}

func TestRateLimitFlagOverridesTheConfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--config", writeConfig(t, config+"rate_limit: {requests: 100, window: 1s}\n"), "--rate-limit", "1/1m", "--quiet"}, outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err)
	url := strings.TrimSpace(strings.TrimPrefix(line, "circleci-sim listening on "))
	var statuses []int
	var retryAfter string
	for range 2 {
		req, _ := http.NewRequest("GET", url+"/api/v2/me", nil)
		req.Header.Set("Circle-Token", "tok")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		statuses, retryAfter = append(statuses, res.StatusCode), res.Header.Get("Retry-After")
	}
	assert.Equal(t, []int{200, 429}, statuses)
	assert.NotEmpty(t, retryAfter)
	cancel()
	assert.Equal(t, 0, <-done)
}

func TestSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run("the process shuts down cleanly on "+sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "--config", writeConfig(t, config), "--quiet")
			// GORACE: a -race binary otherwise sleeps a second before exiting.
			cmd.Env = append(os.Environ(), "CIRCLECI_SIM_MAIN=1", "GORACE=atexit_sleep_ms=0")
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			var stderr testkit.SyncBuffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err, stderr.String())
			url := strings.TrimSpace(strings.TrimPrefix(line, "circleci-sim listening on "))
			res, err := http.Get(url + "/_sim/requests")
			require.NoError(t, err)
			res.Body.Close()
			require.NoError(t, cmd.Process.Signal(sig))
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				assert.NoError(t, err, "exit status 0; stderr: %s", stderr.String())
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("circleci-sim did not stop")
			}
		})
	}
}
