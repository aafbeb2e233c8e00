package cli_test

import (
	"encoding/json"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileToken has every character JSON, URL and HTML escape differently, around a fragment
// ("Zq9Xw7Vt") that any piece of it leaking would show.
const hostileToken = `CCIPAT_Zq9Xw7Vt<&>"'/+ %_0123456789abcdef`

// tokenForms are the spellings of tok that must never be seen, computed here with the standard
// library rather than by package redact, so that the test does not share its blind spots.
func tokenForms(t *testing.T, tok string) []string {
	t.Helper()
	forms := []string{tok, url.QueryEscape(tok), url.PathEscape(tok), html.EscapeString(tok), "Zq9Xw7Vt", "tok3n_e2e"}
	raw, err := json.Marshal(tok) // Go escapes <, > and & as \u003c…
	require.NoError(t, err)
	forms = append(forms, strings.Trim(string(raw), `"`))
	forms = append(forms, strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(strings.Trim(string(raw), `"`)))
	return forms
}

// assertNoToken fails when any form of tok shows in any of texts (output, files).
func assertNoToken(t *testing.T, tok string, texts map[string]string) {
	t.Helper()
	for where, text := range texts {
		for _, form := range tokenForms(t, tok) {
			assert.NotContains(t, strings.ToLower(text), strings.ToLower(form), "a form of the token is in %s", where)
		}
	}
}

// hostileWorld is a simulator that accepts hostileToken.
func hostileWorld(t *testing.T) *world {
	t.Helper()
	quoted, err := json.Marshal(hostileToken) // a YAML double-quoted scalar
	require.NoError(t, err)
	return newWorldWith(t, strings.Replace(simConfig, "token: "+token, "token: "+string(quoted), 1))
}

func TestTheTokenIsNeverEchoedNorSent(t *testing.T) {
	jsonTok, err := json.Marshal(hostileToken)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "params.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"t": `+string(jsonTok)+`}`), 0o600))
	uuid := "5034460f-c7c4-4c43-9457-de07e2029e7b"
	cases := []struct {
		name string
		args []string
		says string // the one line names this
	}{
		{"a parameter expanding the token", []string{"trigger", "--project", "gh/acme/deploy", "-p", "tok=$CIRCLE_TOKEN"}, `pipeline parameter "tok" holds the API token`},
		{"the same in a dry run", []string{"trigger", "--project", "gh/acme/deploy", "-p", "tok=$CIRCLE_TOKEN", "--dry-run"}, `pipeline parameter "tok" holds the API token`},
		{"a parameter holding it literally", []string{"trigger", "--project", "gh/acme/deploy", "-p", "tok=x" + hostileToken}, `pipeline parameter "tok" holds the API token`},
		{"a parameter holding it URL-escaped", []string{"trigger", "--project", "gh/acme/deploy", "-p", "u=https://x/?t=" + url.QueryEscape(hostileToken)}, `pipeline parameter "u" holds the API token`},
		{"a parameter holding it HTML-escaped", []string{"trigger", "--project", "gh/acme/deploy", "-p", "h=" + html.EscapeString(hostileToken)}, `pipeline parameter "h" holds the API token`},
		{"JSON parameters", []string{"trigger", "--project", "gh/acme/deploy", "--parameters-json", `{"t":` + string(jsonTok) + `}`}, `pipeline parameter "t" holds the API token`},
		{"a parameters file", []string{"trigger", "--project", "gh/acme/deploy", "--parameters-file", file}, `pipeline parameter "t" holds the API token`},
		{"a parameter's name", []string{"trigger", "--project", "gh/acme/deploy", "--parameters-json", `{` + string(jsonTok) + `: 1}`}, "a pipeline parameter's name holds the API token"},
		{"the branch", []string{"trigger", "--project", "gh/acme/deploy", "--branch", "$CIRCLE_TOKEN"}, "--branch"},
		{"the tag", []string{"trigger", "--project", "gh/acme/deploy", "--tag", "$CIRCLE_TOKEN", "--dry-run"}, "--tag"},
		{"the project", []string{"trigger", "--project", "gh/acme/$CIRCLE_TOKEN"}, "--project"},
		{"a stray argument", []string{"trigger", "--project", "gh/acme/deploy", hostileToken}, "unexpected argument"},
		{"--output", []string{"trigger", "--project", "gh/acme/deploy", "--output=" + hostileToken}, "--output"},
		{"--retries", []string{"trigger", "--project", "gh/acme/deploy", "--retries=" + hostileToken}, "--retries"},
		{"--timeout", []string{"trigger", "--project", "gh/acme/deploy", "--wait", "--timeout", hostileToken}, "--timeout"},
		{"--max-parallel", []string{"trigger", "--project", "gh/acme/deploy", "--max-parallel", hostileToken}, "--max-parallel"},
		{"the host", []string{"trigger", "--project", "gh/acme/deploy", "--host", "https://" + hostileToken}, "--host"},
		{"a file path", []string{"trigger", "--project", "gh/acme/deploy", "--parameters-file", hostileToken}, "--parameters-file"},
		{"baton wait's argument", []string{"wait", hostileToken}, "pipeline id"},
		{"baton wait's argument among others", []string{"wait", uuid, hostileToken}, "pipeline id"},
		{"the token as the variable's name", []string{"trigger", "--project", "gh/acme/deploy", "--token-env", hostileToken}, "--token-env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := hostileWorld(t)
			r := w.baton([]string{"CIRCLE_TOKEN=" + hostileToken}, tc.args...)
			assert.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stdout)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.Contains(t, r.stderr, tc.says)
			assert.Empty(t, w.sim.Requests(), "nothing may be sent")
			assertNoToken(t, hostileToken, map[string]string{"stdout": r.stdout, "stderr": r.stderr})
		})
	}
}

// With a token a git ref may hold, the refusal is the one that says why.
func TestARefHoldingTheTokenIsRefused(t *testing.T) {
	for _, tc := range []struct {
		flag string
		args []string
	}{
		{"--branch", []string{"--branch", "$CIRCLE_TOKEN"}},
		{"--branch", []string{"--branch", "feature/" + token}},
		{"--tag", []string{"--tag", "v1-$CIRCLE_TOKEN", "--dry-run"}},
		{"--checkout-branch", []string{"--definition-id", definitionID, "--config-branch", "main", "--checkout-branch", "$CIRCLE_TOKEN"}},
	} {
		w := newWorld(t)
		r := w.baton(nil, append([]string{"trigger", "--project", "gh/acme/deploy"}, tc.args...)...)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Equal(t, "baton: "+tc.flag+" holds the API token; CircleCI shows it to everyone who can see the project, so nothing was sent\n", r.stderr)
		assert.Empty(t, w.sim.Requests())
		assertNoToken(t, token, map[string]string{"stderr": r.stderr})
	}
}

func TestTheTokenNamedByTokenEnvIsKnownBeforeParsing(t *testing.T) {
	for _, how := range [][]string{
		{"--token-env", "DEPLOY_TOKEN"},
		{"--token-env=DEPLOY_TOKEN"},
	} {
		w := hostileWorld(t)
		args := append([]string{"trigger", "--project", "gh/acme/deploy", "--output=" + hostileToken}, how...)
		r := w.baton([]string{"CIRCLE_TOKEN=", "DEPLOY_TOKEN=" + hostileToken}, args...)
		assert.Equal(t, 2, r.code, r.stderr)
		assertNoToken(t, hostileToken, map[string]string{"stderr": r.stderr})
	}
	w := hostileWorld(t)
	r := w.baton([]string{"CIRCLE_TOKEN=", "BATON_TOKEN_ENV=DEPLOY_TOKEN", "DEPLOY_TOKEN=" + hostileToken}, "wait", hostileToken)
	assert.Equal(t, 2, r.code, r.stderr)
	assertNoToken(t, hostileToken, map[string]string{"stderr": r.stderr})
}

func TestAShortTokenIsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"trigger", "--project", "gh/acme/deploy"},
		{"trigger", "--project", "gh/acme/deploy", "--dry-run"},
		{"wait", "5034460f-c7c4-4c43-9457-de07e2029e7b"},
	} {
		w := newWorld(t)
		r := w.baton([]string{"CIRCLE_TOKEN=short-tok-1234"}, args...)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Equal(t, "baton: $CIRCLE_TOKEN holds 14 characters, too few for a CircleCI API token (they have 40 or more); put the token itself there\n", r.stderr)
		assert.Empty(t, w.sim.Requests())
	}
}

// A FIFO, a device or a directory given as a file is refused at once, before anything is sent:
// reading or writing one would block forever or never end.
func TestOnlyRegularFilesAreReadOrWritten(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, []byte(`{"a":"`+strings.Repeat("x", 1<<20)+`"}`), 0o600))
	cases := []struct {
		name, flag, path, says string
	}{
		{"a FIFO as parameters file", "--parameters-file", fifo, "not a regular file (a named pipe)"},
		{"a FIFO as projects file", "--projects-file", fifo, "not a regular file (a named pipe)"},
		{"a FIFO as env file", "--env-file", fifo, "not a regular file (a named pipe)"},
		{"a FIFO as result file", "--result-file", fifo, "not a regular file (a named pipe)"},
		{"a FIFO as JUnit file", "--junit", fifo, "not a regular file (a named pipe)"},
		{"a FIFO as summary", "--summary", fifo, "not a regular file (a named pipe)"},
		{"/dev/zero as parameters file", "--parameters-file", "/dev/zero", "not a regular file (a device)"},
		{"/dev/zero as projects file", "--projects-file", "/dev/zero", "not a regular file (a device)"},
		{"/dev/null as result file", "--result-file", "/dev/null", "not a regular file (a device)"},
		{"a directory as parameters file", "--parameters-file", dir, "a directory, not a file"},
		{"a directory as env file", "--env-file", dir, "a directory, not a file"},
		{"a parameters file over the cap", "--parameters-file", big, "larger than 1 MiB, the most baton reads"},
		{"a projects file over the cap", "--projects-file", big, "larger than 1 MiB, the most baton reads"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--wait", tc.flag, tc.path)
			assert.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, "baton: "+tc.flag+" "+tc.path+": "+tc.says+"\n", r.stderr)
			assert.Empty(t, w.sim.Requests(), "nothing may be sent")
		})
	}
	t.Run("baton wait refuses a FIFO as JUnit file", func(t *testing.T) {
		w := newWorld(t)
		r := w.baton(nil, "wait", "5034460f-c7c4-4c43-9457-de07e2029e7b", "--junit", fifo)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Equal(t, "baton: --junit "+fifo+": not a regular file (a named pipe)\n", r.stderr)
		assert.Empty(t, w.sim.Requests())
	})
}
