package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/userfile"
)

// APIFlags are the flags of every command that talks to CircleCI.
type APIFlags struct {
	Host           string
	TokenEnv       string
	Retries        int
	RequestTimeout time.Duration
	Debug          bool
	// MaxRequestsPerMinute is the process's one request budget (circleci/budget.go).
	MaxRequestsPerMinute int
}

// flagDocs is everything about APIFlags's flags but their Go fields (see help.go).
func (APIFlags) flagDocs() []flagDoc { return apiFlagDocs }

// apiFlagDocs is APIFlags's flag table, laid out by the linker rather than built on each run.
var apiFlagDocs = []flagDoc{
	{name: "host", env: "CIRCLECI_HOST", def: "https://circleci.com", placeholder: "URL", help: "CircleCI host (default: ${default}).", group: groupConnection},
	{name: "token-env", env: "BATON_TOKEN_ENV", def: "CIRCLE_TOKEN", placeholder: "NAME", help: "Environment variable holding the API token (default: ${default}).", group: groupConnection},
	{name: "retries", env: "BATON_RETRIES", def: "3", placeholder: "N", help: "Retries of a request that failed with a connection error, 429 or 5xx (default: ${default}).", group: groupConnection},
	{name: "request-timeout", env: "BATON_REQUEST_TIMEOUT", def: "30s", placeholder: "DURATION", help: "Time limit of each HTTP request (default: ${default}).", group: groupConnection},
	{name: "debug", env: "BATON_DEBUG", help: "Trace every request and answer on stderr (the token shows as [redacted]).", group: groupDebug},
	{name: "max-requests-per-minute", env: "BATON_MAX_REQUESTS_PER_MINUTE", def: "300", placeholder: "N", help: "Requests a minute (default: ${default}).", group: groupConnection},
}

const (
	defaultTokenEnv = "CIRCLE_TOKEN"
	// minTokenLen: CircleCI's API tokens are 40 characters or more; anything under 16 is a
	// mistake (a placeholder, a truncated value), and too short to redact without mangling text.
	minTokenLen = 16
)

func (a *APIFlags) tokenEnv() string {
	if a.TokenEnv == "" { // the orb passes an empty value for "not set"
		return defaultTokenEnv
	}
	return a.TokenEnv
}

// token reads the API token from the environment variable the user named; "" when it is not
// set. Its value is registered as a secret at once, so that no later message can carry it.
func (a *APIFlags) token(d *Deps) (string, error) {
	name := a.tokenEnv()
	if looksLikeToken(name) {
		d.addSecret(name)
		return "", exitcode.Usagef("--token-env takes the NAME of the environment variable that holds the token, not the token itself")
	}
	if !isEnvName(name) {
		return "", exitcode.Usagef("--token-env %q: not an environment variable name (letters, digits and _, not starting with a digit)", name)
	}
	token, _ := d.LookupEnv(name)
	d.addSecret(token)
	token = strings.TrimSpace(token)
	d.addSecret(token)
	if token != "" && len(token) < minTokenLen {
		return "", exitcode.Usagef("$%s holds %d characters, too few for a CircleCI API token (they have 40 or more); put the token itself there", name, len(token))
	}
	return token, nil
}

// requireToken is token for commands that cannot do without one.
func (a *APIFlags) requireToken(d *Deps) (string, error) {
	token, err := a.token(d)
	if err == nil && token == "" {
		err = exitcode.Usagef("no API token: environment variable %s is not set or empty; put a personal API token there (e.g. from a context) or name another variable with --token-env", a.tokenEnv())
	}
	return token, err
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

// looksLikeToken catches a token pasted where its variable's name belongs, so it is not echoed.
func looksLikeToken(s string) bool {
	return strings.HasPrefix(s, "CCIPAT_") || strings.HasPrefix(s, "CCIPRJ_") || len(s) >= 40
}

func (a *APIFlags) host() (*url.URL, error) {
	host, err := circleci.ParseHost(a.Host)
	if err != nil {
		return nil, exitcode.Usagef("--host: %v", err)
	}
	return host, nil
}

func (a *APIFlags) client(d *Deps, host *url.URL, token string) (*circleci.Client, error) {
	if a.Retries < 0 {
		return nil, exitcode.Usagef("--retries %d: must be 0 or more", a.Retries)
	}
	if a.RequestTimeout <= 0 {
		return nil, exitcode.Usagef("--request-timeout %s: must be positive", a.RequestTimeout)
	}
	if a.MaxRequestsPerMinute <= 0 {
		return nil, exitcode.Usagef("--max-requests-per-minute %d: must be 1 or more", a.MaxRequestsPerMinute)
	}
	cfg := circleci.Config{
		Host:              host.String(),
		Token:             token,
		HTTPClient:        d.HTTPClient,
		UserAgent:         "baton/" + d.Version,
		Retry:             circleci.RetryPolicy{MaxAttempts: a.Retries + 1},
		Sleep:             d.Sleep,
		Now:               d.Now,
		RequestTimeout:    a.RequestTimeout,
		RequestsPerMinute: a.MaxRequestsPerMinute,
	}
	if a.Debug {
		cfg.Debug = d.Stderr
	}
	return circleci.New(cfg)
}

// explain adds what only the CLI knows to API errors: where the token came from.
func (a *APIFlags) explain(err error) error {
	if apiErr, ok := errorsAs[*circleci.APIError](err); ok && apiErr.Status == 401 {
		return fmt.Errorf("%w (the token came from $%s)", err, a.tokenEnv())
	}
	return err
}

// checkOutputs refuses, before anything is sent, output files that could not be written: a
// pipeline triggered but not recorded would be worse than one not triggered. Each is a flag name
// and a path; "" paths are skipped.
func checkOutputs(files ...[2]string) error {
	for _, f := range files {
		flag, path := f[0], f[1]
		if path == "" {
			continue
		}
		if err := userfile.CheckOutput(path); err != nil {
			return exitcode.Usagef("%s %s: %v", flag, path, err)
		}
	}
	return nil
}
