package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/payload"
	"github.com/baton-ci/baton/helper/internal/report"
	"github.com/baton-ci/baton/helper/internal/request"
)

// APIFlags are the flags of every command that talks to CircleCI.
type APIFlags struct {
	Host           string        `help:"CircleCI host; set it for CircleCI server. Plain http:// only for loopback (default: ${default})." env:"CIRCLECI_HOST" default:"https://circleci.com" placeholder:"URL"`
	TokenEnv       string        `help:"Name of the environment variable holding the API token (the token itself is never a flag; default: ${default})." env:"BATON_TOKEN_ENV" default:"CIRCLE_TOKEN" placeholder:"NAME"`
	Retries        int           `help:"Retries for requests that certainly did not take effect (connection refused, 429, 503; default: ${default})." env:"BATON_RETRIES" default:"3" placeholder:"N"`
	RequestTimeout time.Duration `help:"Time limit for each HTTP request (default: ${default})." env:"BATON_REQUEST_TIMEOUT" default:"30s" placeholder:"DURATION"`
	Debug          bool          `help:"Trace every request and answer on stderr (the token shows as [redacted])." env:"BATON_DEBUG"`
}

// TriggerCmd is `baton trigger`.
type TriggerCmd struct {
	Project string `help:"Project to trigger: gh/ORG/REPO, bb/ORG/REPO (or github/…, bitbucket/…) or circleci/ORG_ID/PROJECT_ID." env:"BATON_PROJECT" placeholder:"SLUG"`
	Branch  string `help:"Branch to run; pull/N/head and pull/N/merge work on GitHub. Neither --branch nor --tag: the project's default branch." env:"BATON_BRANCH" placeholder:"NAME"`
	Tag     string `help:"Tag to run (instead of --branch)." env:"BATON_TAG" placeholder:"NAME"`

	Param          []string `help:"Pipeline parameter KEY=VALUE (repeatable). true/false become booleans, canonical integers integers, the rest strings; KEY:string=, KEY:int=, KEY:bool= force a type." short:"p" sep:"none" placeholder:"KEY=VALUE"`
	Parameters     string   `help:"Pipeline parameters as KEY=VALUE lines, one per line, typed like --param; blank lines and # comments are skipped." env:"BATON_PARAMETERS" placeholder:"LINES"`
	ParametersJSON string   `help:"Pipeline parameters as a JSON object of strings, integers and booleans, typed as written." env:"BATON_PARAMETERS_JSON" placeholder:"JSON"`
	ParametersFile string   `help:"Pipeline parameters from a file holding a JSON object, typed as written." env:"BATON_PARAMETERS_FILE" placeholder:"FILE"`
	NoExpand       bool     `help:"Send $VAR and $${VAR} as written instead of expanding them from the environment." env:"BATON_NO_EXPAND"`

	DefinitionID   string `help:"Pipeline definition ID (Project Settings > Pipelines): use the pipeline/run endpoint, required for GitHub App and GitLab projects." env:"BATON_DEFINITION_ID" placeholder:"UUID"`
	ConfigBranch   string `help:"With --definition-id: branch to read the config from (default: --branch)." env:"BATON_CONFIG_BRANCH" placeholder:"NAME"`
	ConfigTag      string `help:"With --definition-id: tag to read the config from (default: --tag)." env:"BATON_CONFIG_TAG" placeholder:"NAME"`
	CheckoutBranch string `help:"With --definition-id: branch for checkout steps (default: --branch)." env:"BATON_CHECKOUT_BRANCH" placeholder:"NAME"`
	CheckoutTag    string `help:"With --definition-id: tag for checkout steps (default: --tag)." env:"BATON_CHECKOUT_TAG" placeholder:"NAME"`

	DryRun     bool   `help:"Print the method, URL, headers and exact JSON body that would be sent, and send nothing." env:"BATON_DRY_RUN"`
	Output     string `help:"How to print the result: text or json (default: ${default})." enum:"text,json" default:"text"`
	ResultFile string `help:"Also write the result as JSON to FILE." env:"BATON_RESULT_FILE" placeholder:"FILE"`
	EnvFile    string `help:"Append export BATON_PIPELINE_ID=…, BATON_PIPELINE_NUMBER=…, BATON_PIPELINE_URL=… to FILE (point it at $BASH_ENV)." env:"BATON_ENV_FILE" placeholder:"FILE"`

	APIFlags `embed:""`
}

// Help is the long help shown by `baton trigger --help`.
func (c *TriggerCmd) Help() string {
	return `Triggers one pipeline through CircleCI API v2 and prints its number and link. The JSON body is
built from typed values, never by pasting text, so quotes, spaces, newlines and $(…) in values
arrive exactly as given. $VAR and ${VAR} in values, branch, tag and project are expanded from the
environment (no shell involved; $$ is a literal $); an unset variable is an error.

Examples:
  # Deploy the image just built, from a CircleCI job with CIRCLE_TOKEN in a context:
  baton trigger --project gh/acme/deploy --branch main \
    --param 'image-name=$DOCKER_LOGIN/$CIRCLE_PROJECT_REPONAME:0.1.123' --param replicas=3

  # Typed parameters: "3" as a string, a boolean, JSON for anything else:
  baton trigger --project gh/acme/api -p version:string=3 -p run-e2e=true \
    --parameters-json '{"note": "multi\nline", "retries": 2}'

  # A GitHub App project, config from main, code from a tag:
  baton trigger --project circleci/ORG_ID/PROJECT_ID --definition-id UUID \
    --config-branch main --checkout-tag v1.4.0

  # See exactly what would be sent:
  baton trigger --project gh/acme/api --param x=1 --dry-run

` + exitCodes
}

// Run triggers the pipeline.
func (c *TriggerCmd) Run(d *Deps) error {
	token, err := c.token(d)
	if err != nil {
		return err
	}
	if token == "" && !c.DryRun {
		return exitcode.Usagef("no API token: environment variable %s is not set or empty; put a personal API token there (e.g. from a context) or name another variable with --token-env", c.tokenEnv())
	}
	if err := c.checkOutputFiles(); err != nil {
		return err
	}
	host, err := circleci.ParseHost(c.Host)
	if err != nil {
		return exitcode.Usagef("--host: %v", err)
	}
	trigger, err := request.New(request.Input{
		Project: c.Project, Branch: c.Branch, Tag: c.Tag,
		DefinitionID: c.DefinitionID,
		ConfigBranch: c.ConfigBranch, ConfigTag: c.ConfigTag,
		CheckoutBranch: c.CheckoutBranch, CheckoutTag: c.CheckoutTag,
		Params: c.Param, ParamLines: c.Parameters, ParamsJSON: c.ParametersJSON, ParamsFile: c.ParametersFile,
		NoExpand:  c.NoExpand,
		LookupEnv: d.LookupEnv,
		ReadFile:  d.ReadFile,
	})
	if err != nil {
		return err
	}
	body, err := payload.Body(trigger)
	if err != nil {
		return err
	}
	client, err := c.client(d, host, token)
	if err != nil {
		return err
	}
	if c.DryRun {
		return c.dryRun(d, client, trigger, body, token)
	}
	created, err := c.send(d, client, trigger, body)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", trigger.Project, c.explain(err))
	}
	result := report.Result{Pipelines: []report.Pipeline{{
		Project:   trigger.Project.String(),
		ID:        created.ID,
		Number:    created.Number,
		State:     created.State,
		CreatedAt: created.CreatedAt,
		URL:       report.AppURL(host, trigger.Project.AppPath(), created.Number),
	}}}
	return c.emit(d, result)
}

// isEnvName reports whether s can name an environment variable: letters, digits and _, not
// starting with a digit.
func isEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

func (c *TriggerCmd) tokenEnv() string {
	if c.TokenEnv == "" { // the orb passes an empty value for "not set"
		return "CIRCLE_TOKEN"
	}
	return c.TokenEnv
}

// token reads the API token from the environment variable the user named; "" when it is not
// set. Its value is registered as a secret at once, so that no later message can carry it.
func (c *TriggerCmd) token(d *Deps) (string, error) {
	name := c.tokenEnv()
	if looksLikeToken(name) {
		d.addSecret(name)
		return "", exitcode.Usagef("--token-env takes the NAME of the environment variable that holds the token, not the token itself")
	}
	if !isEnvName(name) {
		return "", exitcode.Usagef("--token-env %q: not an environment variable name (letters, digits and _, not starting with a digit)", name)
	}
	token, _ := d.LookupEnv(name)
	d.addSecret(token)
	return strings.TrimSpace(token), nil
}

// checkOutputFiles refuses unwritable result and env files before anything is sent: a pipeline
// triggered but not recorded would be worse than one not triggered.
func (c *TriggerCmd) checkOutputFiles() error {
	for _, f := range []struct{ flag, path string }{{"--result-file", c.ResultFile}, {"--env-file", c.EnvFile}} {
		if f.path == "" || c.DryRun {
			continue
		}
		file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return exitcode.Usagef("%s: %v", f.flag, err)
		}
		file.Close()
	}
	return nil
}

// looksLikeToken catches a token pasted where its variable's name belongs, so it is not echoed.
func looksLikeToken(s string) bool {
	return strings.HasPrefix(s, "CCIPAT_") || strings.HasPrefix(s, "CCIPRJ_") || len(s) >= 40
}

func (c *TriggerCmd) client(d *Deps, host *url.URL, token string) (*circleci.Client, error) {
	if c.Retries < 0 {
		return nil, exitcode.Usagef("--retries %d: must be 0 or more", c.Retries)
	}
	if c.RequestTimeout <= 0 {
		return nil, exitcode.Usagef("--request-timeout %s: must be positive", c.RequestTimeout)
	}
	cfg := circleci.Config{
		Host:           host.String(),
		Token:          token,
		HTTPClient:     d.HTTPClient,
		UserAgent:      "baton/" + d.Version,
		Retry:          circleci.RetryPolicy{MaxAttempts: c.Retries + 1},
		Sleep:          d.Sleep,
		RequestTimeout: c.RequestTimeout,
	}
	if c.Debug {
		cfg.Debug = d.Stderr
	}
	return circleci.New(cfg)
}

func (c *TriggerCmd) send(d *Deps, client *circleci.Client, t *request.Trigger, body []byte) (*circleci.PipelineCreation, error) {
	if !t.UsesRun() {
		return client.TriggerPipeline(d.Context, t.Project.String(), body)
	}
	res, err := client.RunPipeline(d.Context, t.Project.Provider, t.Project.Org, t.Project.Project, body)
	if err != nil {
		return nil, err
	}
	if res.Created == nil {
		return nil, exitcode.Wrap(exitcode.Refused, fmt.Errorf("no pipeline was created: %s", res.Message))
	}
	return res.Created, nil
}

// explain adds what only the CLI knows to API errors: where the token came from.
func (c *TriggerCmd) explain(err error) error {
	if apiErr, ok := errorsAs[*circleci.APIError](err); ok && apiErr.Status == 401 {
		return fmt.Errorf("%w (the token came from $%s)", err, c.tokenEnv())
	}
	return err
}

// dryRun prints exactly the request that would be sent, built by the same code that sends it.
func (c *TriggerCmd) dryRun(d *Deps, client *circleci.Client, t *request.Trigger, body []byte, token string) error {
	var req *http.Request
	var err error
	if t.UsesRun() {
		req, err = client.RunPipelineRequest(d.Context, t.Project.Provider, t.Project.Org, t.Project.Project, body)
	} else {
		req, err = client.TriggerPipelineRequest(d.Context, t.Project.String(), body)
	}
	if err != nil {
		return err
	}
	header := circleci.Redact(req.Header)
	if token == "" {
		header.Set("Circle-Token", "[missing: $"+c.tokenEnv()+" is not set]")
	}
	fmt.Fprintf(d.Stdout, "%s %s\n", req.Method, req.URL.String())
	writeHeader(d.Stdout, header)
	fmt.Fprintf(d.Stdout, "\n%s\n", body)
	fmt.Fprintln(d.Stderr, "dry run: nothing was sent")
	return nil
}

func writeHeader(w io.Writer, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(w, "%s: %s\n", name, v)
		}
	}
}

// emit prints the result and writes the files asked for.
func (c *TriggerCmd) emit(d *Deps, r report.Result) error {
	var err error
	if c.Output == "json" {
		err = report.JSON(d.Stdout, r)
	} else {
		err = report.Text(d.Stdout, r)
	}
	if err != nil {
		return err
	}
	if c.ResultFile != "" {
		if err := report.WriteJSONFile(c.ResultFile, r); err != nil {
			return fmt.Errorf("--result-file: %w (the pipeline was triggered)", err)
		}
	}
	if c.EnvFile != "" {
		if err := report.AppendEnvFile(c.EnvFile, r); err != nil {
			return fmt.Errorf("--env-file: %w (the pipeline was triggered)", err)
		}
	}
	return nil
}
