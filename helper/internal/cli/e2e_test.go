package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/apispec"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// token is distinctive so that any leak of it into output is found by a plain substring search.
const token = "CCIPAT_SeCrEt_tok3n_e2e_0123456789abcdef"

const (
	definitionID = "2338d0ae-5541-4bbf-88a2-55e9f7281f80"
	appOrg       = "9f5b7b04-1a5e-4a3f-9c58-2c1e7d6b5a10"
	appProject   = "3c0e9a9e-84a4-4a25-b1b8-f1c2f0e9c6a1"
)

var simConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: gh/acme/deploy
    parameters:
      - {name: image-name, type: string, default: ""}
      - {name: replicas, type: integer, default: 1}
      - {name: deploy, type: boolean, default: false}
  - slug: circleci/` + appOrg + `/` + appProject + `
    definition_ids: [` + definitionID + `]
    ci_skip_branches: [skip-me]
`

var batonBin string

// TestMain builds baton once, stamped with a known version, for every end-to-end test.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "baton-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	batonBin = filepath.Join(dir, "baton")
	build := exec.Command("go", "build", "-tags=nethttpomithttp2", "-ldflags", "-X main.version=1.2.3-test", "-o", batonBin, "../../cmd/baton")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building baton: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type world struct {
	t   *testing.T
	sim *simulator.Simulator
	url string
	// preflight leaves pre-flight at its default (on). Tests of everything else turn it off:
	// against a simulator with no earlier pipeline it would only add its reads and a line.
	preflight bool
}

func newWorld(t *testing.T) *world { t.Helper(); return newWorldWith(t, simConfig) }

func newWorldWith(t *testing.T, config string) *world {
	t.Helper()
	w := newUncheckedWorld(t, config)
	t.Cleanup(w.checkConformance)
	return w
}

// newUncheckedWorld is a world whose exchanges are not held to the OpenAPI description: for
// answers that break it on purpose.
func newUncheckedWorld(t *testing.T, config string) *world {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(config))
	require.NoError(t, err)
	sim := simulator.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &world{t: t, sim: sim, url: srv.URL}
}

type result struct {
	code           int
	stdout, stderr string
}

// baton runs the binary with a clean environment: PATH, the token, and what the test adds.
func (w *world) baton(env []string, args ...string) result {
	w.t.Helper()
	cmd := exec.Command(batonBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CIRCLE_TOKEN=" + token, "CIRCLECI_HOST=" + w.url}
	if !w.preflight {
		cmd.Env = append(cmd.Env, "BATON_PREFLIGHT=off")
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else {
		require.NoError(w.t, err)
	}
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	assert.NotContains(w.t, r.stdout+r.stderr, token, "the token leaked into baton's output")
	assert.NotContains(w.t, r.stdout+r.stderr, "goroutine ", "baton printed a stack trace")
	return r
}

// checkConformance holds everything baton sent and the simulator answered to the OpenAPI
// description of the operation.
func (w *world) checkConformance() {
	spec, err := apispec.Load()
	if errors.Is(err, apispec.ErrAbsent) {
		w.t.Logf("OpenAPI conformance not checked: %v", err)
		return
	}
	require.NoError(w.t, err)
	for _, r := range w.sim.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v2/") {
			continue // v1.1's job details and the step output they link to: the description has neither
		}
		ex := apispec.Exchange{
			Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, RequestHeader: r.Header, RequestBody: r.Body,
			Status: r.Status, ResponseHeader: r.ResponseHeader, ResponseBody: r.ResponseBody,
		}
		if r.Status == 0 { // the connection was dropped: there is no answer to hold
			assert.NoError(w.t, spec.CheckRequest(ex))
			continue
		}
		assert.NoError(w.t, spec.Check(ex))
	}
}

func (w *world) onlyRequest() simulator.Request {
	w.t.Helper()
	reqs := w.sim.Requests()
	require.Len(w.t, reqs, 1)
	return reqs[0]
}

func parameters(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var doc struct {
		Parameters map[string]any `json:"parameters"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&doc))
	return doc.Parameters
}

var linkRE = regexp.MustCompile(`^triggered gh/acme/deploy pipeline #1 \(branch main\): http://127\.0\.0\.1:\d+/pipelines/github/acme/deploy/1\n$`)

func TestTriggerSendsTypedParametersToTheLegacyEndpoint(t *testing.T) {
	w := newWorld(t)
	r := w.baton([]string{"DOCKER_LOGIN=acme", "CIRCLE_PROJECT_REPONAME=api"},
		"trigger", "--project", "gh/acme/deploy", "--branch", "main",
		"--param", "image-name=$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123",
		"--param", "replicas=3", "--param", "deploy=true")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, linkRE, r.stdout)
	assert.Empty(t, r.stderr)

	req := w.onlyRequest()
	assert.Equal(t, "POST", req.Method)
	assert.Equal(t, "/api/v2/project/gh%2Facme%2Fdeploy/pipeline", req.Path, "the slug travels as one escaped segment")
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
	assert.Equal(t, "baton/1.2.3-test", req.Header.Get("User-Agent"))
	assert.Equal(t, token, req.Header.Get("Circle-Token"))
	assert.JSONEq(t, `{"branch":"main","parameters":{"image-name":"acme/api:0.1.123","replicas":3,"deploy":true}}`, string(req.Body))

	pipelines := w.sim.Pipelines()
	require.Len(t, pipelines, 1)
	assert.Equal(t, "created", pipelines[0].State, "every parameter matched its declared type")
}

// hostile are values that break the curl one-liner; each must arrive byte for byte.
var hostile = map[string]string{
	"quotes":    `say "hi" it's fine`,
	"backslash": `C:\path\to\n not a newline`,
	"orb":       "<< pipeline.parameters.x >>",
	"subshell":  "$(rm -rf /) `id` ; echo pwned",
	"emoji":     "🚀 déploiement ‮ rtl",
	"json":      `{"nested": [1, "two"], "x": null}`,
	"spaces":    "  leading and trailing  ",
	"dollar":    "costs $5, $$ stays, a$",
	"empty":     "",
	"equals":    "a=b=c",
	"numberish": "007",
	"boolish":   "True",
}

func TestHostileBytesArriveExactlyAsStrings(t *testing.T) {
	w := newWorld(t)
	args := []string{"trigger", "--project", "gh/acme/deploy", "--no-expand"}
	for k, v := range hostile {
		args = append(args, "--param", k+"="+v)
	}
	multiline := "line one\nline \"two\"\n\ttabbed\r\n"
	raw, err := json.Marshal(map[string]string{"multiline": multiline, "nul": "a\x00b"})
	require.NoError(t, err)
	args = append(args, "--parameters-json", string(raw))

	r := w.baton(nil, args...)
	require.Equal(t, 0, r.code, r.stderr)
	got := parameters(t, w.onlyRequest().Body)
	want := map[string]any{"multiline": multiline, "nul": "a\x00b"}
	for k, v := range hostile {
		want[k] = v
	}
	assert.Equal(t, want, got)
}

func TestEveryParameterFormIsTypedAsDocumented(t *testing.T) {
	w := newWorld(t)
	file := filepath.Join(t.TempDir(), "params.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"from-file": 7, "file-bool": false}`), 0o644))
	r := w.baton([]string{"N=42", "BATON_PARAMETERS=lines-int=5\n# a comment\n\nlines-str=hello world\r\n"},
		"trigger", "--project", "gh/acme/deploy",
		"-p", "inferred-int=-12", "-p", "inferred-bool=false", "-p", "inferred-str=1e3",
		"-p", "forced:string=3", "-p", "forced-int:int=300", "-p", "forced-bool:bool=true",
		"-p", "expanded=$N", "-p", "braced=${N}x",
		"--parameters-json", `{"json-str": "3", "json-int": 3, "json-bool": true}`,
		"--parameters-file", file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, map[string]any{
		"inferred-int": json.Number("-12"), "inferred-bool": false, "inferred-str": "1e3",
		"forced": "3", "forced-int": json.Number("300"), "forced-bool": true,
		"expanded": json.Number("42"), "braced": "42x",
		"lines-int": json.Number("5"), "lines-str": "hello world",
		"json-str": "3", "json-int": json.Number("3"), "json-bool": true,
		"from-file": json.Number("7"), "file-bool": false,
	}, parameters(t, w.onlyRequest().Body))
}

func TestRefusedInputSendsNothingAndExitsTwo(t *testing.T) {
	long := strings.Repeat("k", 129)
	many := make([]string, 0, 202)
	for i := range 101 {
		many = append(many, "-p", fmt.Sprintf("p%d=1", i))
	}
	cases := []struct {
		name  string
		env   []string
		args  []string
		field string // the error names it
	}{
		{"a missing project", nil, []string{"trigger"}, "--project"},
		{"a slug with two segments", nil, []string{"trigger", "--project", "gh/acme"}, "--project"},
		{"an unknown provider", nil, []string{"trigger", "--project", "gl/acme/api"}, "--project"},
		{"an escaped slug", nil, []string{"trigger", "--project", "gh%2Facme%2Fapi"}, "--project"},
		{"both branch and tag", nil, []string{"trigger", "--project", "gh/acme/deploy", "--branch", "main", "--tag", "v1"}, "--branch"},
		{"a branch with a space", nil, []string{"trigger", "--project", "gh/acme/deploy", "--branch", "my branch"}, "--branch"},
		{"an untyped overflowing integer", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "n=99999999999999999999"}, "n"},
		{"a forced int that is not one", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "replicas:int=3x"}, "replicas"},
		{"a forced bool that is not one", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "deploy:bool=yes"}, "deploy"},
		{"an unknown forced type", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "x:float=1"}, "float"},
		{"a parameter without =", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "replicas"}, "replicas"},
		{"an empty key", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "=1"}, "key"},
		{"the same key twice", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "env=a", "--parameters-json", `{"env":"b"}`}, "env"},
		{"the same project twice, spelled two ways", nil, []string{"trigger", "--project", "gh/acme/deploy", "--project", "github/acme/deploy"}, "--project github/acme/deploy: gh/acme/deploy is already named by --project gh/acme/deploy"},
		{"the same GitHub project twice, in two cases", nil, []string{"trigger", "--project", "gh/acme/api", "--project", "gh/ACME/API"}, "--project gh/ACME/API: gh/ACME/API is already named by --project gh/acme/api"},
		{"the same Bitbucket project and branch twice in lines, in two cases", []string{"BATON_PROJECTS=bb/Acme/Web main\nbitbucket/acme/web main"}, []string{"trigger"}, "--projects line 2: bb/acme/web is already named by --projects line 1"},
		{"the same project and branch twice in lines", []string{"BATON_PROJECTS=gh/acme/deploy main\ngithub/acme/deploy main"}, []string{"trigger"}, "line 2: gh/acme/deploy is already named by"},
		{"a key over 128 characters", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", long + "=1"}, "128"},
		{"a value over 512 characters", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "v=" + strings.Repeat("x", 513)}, "512"},
		{"more than 100 parameters", nil, append([]string{"trigger", "--project", "gh/acme/deploy"}, many...), "100"},
		{"a JSON array", nil, []string{"trigger", "--project", "gh/acme/deploy", "--parameters-json", `[1]`}, "--parameters-json"},
		{"a nested JSON value", nil, []string{"trigger", "--project", "gh/acme/deploy", "--parameters-json", `{"a":{"b":1}}`}, "a"},
		{"a JSON float", nil, []string{"trigger", "--project", "gh/acme/deploy", "--parameters-json", `{"ratio":1.5}`}, "ratio"},
		{"a missing parameters file", nil, []string{"trigger", "--project", "gh/acme/deploy", "--parameters-file", "/nonexistent/p.json"}, "--parameters-file"},
		{"an unset variable", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "image=$NOPE_NOT_SET"}, "NOPE_NOT_SET"},
		{"an unset variable in the branch", nil, []string{"trigger", "--project", "gh/acme/deploy", "--branch", "$NOPE_BRANCH"}, "--branch"},
		{"invalid UTF-8 in a parameter", nil, []string{"trigger", "--project", "gh/acme/deploy", "-p", "x=\xff\xfe"}, "-p"},
		{"invalid UTF-8 in JSON parameters", nil, []string{"trigger", "--project", "gh/acme/deploy", "--parameters-json={\"x\":\"\xff\"}"}, "--parameters-json"},
		{"invalid UTF-8 in the parameters variable", []string{"BATON_PARAMETERS=x=\xff"}, []string{"trigger", "--project", "gh/acme/deploy"}, "BATON_PARAMETERS"},
		{"a GitHub App project without a definition id", nil, []string{"trigger", "--project", "circleci/" + appOrg + "/" + appProject}, "--definition-id"},
		{"a definition id that is no UUID", nil, []string{"trigger", "--project", "gh/acme/deploy", "--definition-id", "abc"}, "--definition-id"},
		{"config refs without a definition id", nil, []string{"trigger", "--project", "gh/acme/deploy", "--config-branch", "main"}, "--definition-id"},
		{"no token", []string{"CIRCLE_TOKEN="}, []string{"trigger", "--project", "gh/acme/deploy"}, "CIRCLE_TOKEN"},
		{"a token variable that is not set", nil, []string{"trigger", "--project", "gh/acme/deploy", "--token-env", "DEPLOY_TOKEN"}, "DEPLOY_TOKEN"},
		{"the token pasted as the variable name", nil, []string{"trigger", "--project", "gh/acme/deploy", "--token-env", token}, "--token-env"},
		{"plain http to a remote host", nil, []string{"trigger", "--project", "gh/acme/deploy", "--host", "http://circleci.example.com"}, "--host"},
		{"an unknown flag", nil, []string{"trigger", "--project", "gh/acme/deploy", "--tokn", "x"}, "--tokn"},
		{"an unknown output", nil, []string{"trigger", "--project", "gh/acme/deploy", "--output", "yaml"}, "--output"},
		{"a request budget of zero", nil, []string{"trigger", "--project", "gh/acme/deploy", "--max-requests-per-minute", "0"}, "--max-requests-per-minute"},
		{"a negative request budget from the environment", []string{"BATON_MAX_REQUESTS_PER_MINUTE=-5"}, []string{"trigger", "--project", "gh/acme/deploy"}, "--max-requests-per-minute"},
		// Under a regular file: no directory can be made there, even by root.
		{"an unwritable env file", nil, []string{"trigger", "--project", "gh/acme/deploy", "--env-file", filepath.Join(batonBin, "env")}, "--env-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.baton(tc.env, tc.args...)
			assert.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stdout)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "baton: "), r.stderr)
			assert.Contains(t, r.stderr, tc.field)
			assert.Empty(t, w.sim.Requests(), "nothing may be sent")
		})
	}
}

func TestRunEndpointServesGitHubAppProjects(t *testing.T) {
	w := newWorld(t)
	slug := "circleci/" + appOrg + "/" + appProject
	r := w.baton(nil, "trigger", "--project", slug, "--definition-id", definitionID,
		"--config-branch", "main", "--checkout-tag", "v1.4.0", "-p", "env=prod")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "/pipelines/circleci/"+appOrg+"/"+appProject+"/1\n")
	req := w.onlyRequest()
	assert.Equal(t, "/api/v2/project/circleci/"+appOrg+"/"+appProject+"/pipeline/run", req.Path)
	assert.JSONEq(t, `{"definition_id":"`+definitionID+`","config":{"branch":"main"},"checkout":{"tag":"v1.4.0"},"parameters":{"env":"prod"}}`, string(req.Body))
}

func TestRunEndpointDefaultsBothRefsToTheBranch(t *testing.T) {
	w := newWorld(t)
	r := w.baton(nil, "trigger", "--project", "circleci/"+appOrg+"/"+appProject, "--definition-id", definitionID, "--branch", "pull/123/head")
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `{"definition_id":"`+definitionID+`","config":{"branch":"pull/123/head"},"checkout":{"branch":"pull/123/head"}}`, string(w.onlyRequest().Body))
}

func TestRunEndpointWithoutAPipelineExitsThree(t *testing.T) {
	w := newWorld(t)
	r := w.baton(nil, "trigger", "--project", "circleci/"+appOrg+"/"+appProject, "--definition-id", definitionID, "--branch", "skip-me")
	assert.Equal(t, 3, r.code)
	assert.Empty(t, r.stdout)
	assert.Regexp(t, `^baton: trigger circleci/\S+: no pipeline was created: Ignoring pipeline due to CI skip.*\n$`, r.stderr)
	assert.Empty(t, w.sim.Pipelines())
}

func TestAPIRefusalsExitThreeWithAHint(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"an unknown project", nil, []string{"--project", "gh/acme/nope"},
			`^baton: trigger gh/acme/nope: POST /api/v2/project/gh%2Facme%2Fnope/pipeline: 404 Project not found: check the project slug and that the token's user can see the project\n$`},
		{"a token the API does not accept", []string{"OTHER_TOKEN=not-the-right-one"}, []string{"--project", "gh/acme/deploy", "--token-env", "OTHER_TOKEN"},
			`^baton: trigger gh/acme/deploy: POST /api/v2/project/gh%2Facme%2Fdeploy/pipeline: 401 .*\(the token came from \$OTHER_TOKEN\)\n$`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.baton(tc.env, append([]string{"trigger"}, tc.args...)...)
			assert.Equal(t, 3, r.code)
			assert.Regexp(t, tc.want, r.stderr)
			assert.Empty(t, w.sim.Pipelines())
		})
	}
}

func TestAnUnreachableAPIExitsFiveAfterRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	w := newWorld(t)
	r := w.baton([]string{"CIRCLECI_HOST=" + closed}, "trigger", "--project", "gh/acme/deploy", "--retries", "1")
	assert.Equal(t, 5, r.code)
	assert.Regexp(t, `^baton: trigger gh/acme/deploy: giving up after 2 attempts: .*connection refused.*\n$`, r.stderr)
}

func TestDryRunPrintsTheExactRequestAndSendsNothing(t *testing.T) {
	w := newWorld(t)
	r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--tag", "v1.2.3", "-p", `note=it's "quoted"`, "-p", "n=1", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "POST "+w.url+"/api/v2/project/gh%2Facme%2Fdeploy/pipeline\n"+
		"Accept: application/json\n"+
		"Circle-Token: [redacted]\n"+
		"Content-Type: application/json\n"+
		"User-Agent: baton/1.2.3-test\n"+
		"\n"+
		`{"tag":"v1.2.3","parameters":{"note":"it's \"quoted\"","n":1}}`+"\n", r.stdout)
	assert.Equal(t, "dry run: nothing was sent\n", r.stderr)
	assert.Empty(t, w.sim.Requests())
}

func TestDryRunWorksWithoutAToken(t *testing.T) {
	w := newWorld(t)
	r := w.baton([]string{"CIRCLE_TOKEN="}, "trigger", "--project", "gh/acme/deploy", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Circle-Token: [missing: $CIRCLE_TOKEN is not set]\n")
	assert.Empty(t, w.sim.Requests())
}

func TestResultsReachJSONAndFiles(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	envFile, resultFile := filepath.Join(dir, "bash_env"), filepath.Join(dir, "result.json")
	require.NoError(t, os.WriteFile(envFile, []byte("export EARLIER=1\n"), 0o644))
	r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "--output", "json", "--result-file", resultFile, "--env-file", envFile)
	require.Equal(t, 0, r.code, r.stderr)

	var out struct {
		Pipelines []struct {
			Project, ID, State, URL string
			Number                  int64
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Len(t, out.Pipelines, 1)
	p := out.Pipelines[0]
	assert.Equal(t, "gh/acme/deploy", p.Project)
	assert.Equal(t, int64(1), p.Number)
	assert.Equal(t, w.url+"/pipelines/github/acme/deploy/1", p.URL)
	assert.Equal(t, w.sim.Pipelines()[0].ID, p.ID)

	written, err := os.ReadFile(resultFile)
	require.NoError(t, err)
	assert.JSONEq(t, r.stdout, string(written))

	env, err := os.ReadFile(envFile)
	require.NoError(t, err)
	assert.Equal(t, "export EARLIER=1\n"+
		"export BATON_PIPELINE_ID='"+p.ID+"'\n"+
		"export BATON_PIPELINE_NUMBER='1'\n"+
		"export BATON_PIPELINE_URL='"+p.URL+"'\n"+
		"export BATON_PIPELINE_IDS='"+p.ID+"'\n"+
		"export BATON_OUTCOME='triggered'\n", string(env))
	sourced, err := exec.Command("bash", "-c", `source "$1" && echo "$BATON_PIPELINE_NUMBER $BATON_PIPELINE_URL"`, "_", envFile).Output()
	require.NoError(t, err)
	assert.Equal(t, "1 "+p.URL+"\n", string(sourced))
}

func TestDebugTracesRequestsWithoutTheToken(t *testing.T) {
	w := newWorld(t)
	r := w.baton(nil, "trigger", "--project", "gh/acme/deploy", "-p", "n=1", "--debug")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "> POST "+w.url+"/api/v2/project/gh%2Facme%2Fdeploy/pipeline")
	assert.Contains(t, r.stderr, "Circle-Token: [redacted]")
	assert.Contains(t, r.stderr, `{"parameters":{"n":1}}`)
	assert.Contains(t, r.stderr, "< 201")
}

func TestVersionIsStampedAtBuildTime(t *testing.T) {
	w := newWorld(t)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := w.baton(nil, args...)
		assert.Equal(t, 0, r.code)
		assert.Equal(t, "baton 1.2.3-test\n", r.stdout)
	}
}

func TestHelpIsTheManual(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"help-root.golden", []string{"--help"}},
		{"help-trigger.golden", []string{"trigger", "--help"}},
		{"help-wait.golden", []string{"wait", "--help"}},
		{"help-version.golden", []string{"version", "--help"}},
		{"help-callback.golden", []string{"callback", "--help"}},
		{"help-result.golden", []string{"result", "--help"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := w.baton([]string{"COLUMNS=100"}, tc.args...)
			require.Equal(t, 0, r.code, r.stderr)
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(r.stdout), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create it")
			assert.Equal(t, string(want), r.stdout)
		})
	}
}

// baton runs on one P from its first package init on (package startup): every package that
// starts work, the TLS stack, net/http, kong and the YAML parser, is initialised after it.
func TestOnePFromTheFirstPackageInit(t *testing.T) {
	cmd := exec.Command(batonBin, "version")
	cmd.Env = []string{"GODEBUG=inittrace=1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run())
	order := map[string]int{}
	for i, line := range strings.Split(stderr.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order[f[1]] = i
		}
	}
	first, ok := order["github.com/baton-ci/baton/helper/internal/startup"]
	require.True(t, ok, "package startup is initialised:\n%s", stderr.String())
	for _, pkg := range []string{"crypto/tls", "net/http", "github.com/alecthomas/kong", "go.yaml.in/yaml/v3"} {
		if i, ok := order[pkg]; assert.True(t, ok, pkg) {
			assert.Less(t, first, i, "startup is initialised before %s", pkg)
		}
	}
}
