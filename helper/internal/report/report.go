// Package report renders what baton did for people (one line per pipeline), for programs (JSON),
// and for later CircleCI steps (shell lines appended to $BASH_ENV).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

// Pipeline is one triggered pipeline as the report shows it.
type Pipeline struct {
	Project   string    `json:"project"`
	ID        string    `json:"id"`
	Number    int64     `json:"number"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	URL       string    `json:"url"`
}

// Result is everything one baton invocation triggered.
type Result struct {
	Pipelines []Pipeline `json:"pipelines"`
}

// AppURL is the web page of pipeline number in the project whose app path is appPath
// (github/acme/api). CircleCI cloud serves it from app.circleci.com; a server install, or the
// simulator, from its own host.
func AppURL(host *url.URL, appPath string, number int64) string {
	base := host.Scheme + "://" + host.Host
	if strings.EqualFold(host.Hostname(), "circleci.com") {
		base = "https://app.circleci.com"
	}
	return fmt.Sprintf("%s/pipelines/%s/%d", base, appPath, number)
}

// Text writes one line per pipeline: what was triggered and where to look.
func Text(w io.Writer, r Result) error {
	for _, p := range r.Pipelines {
		if _, err := fmt.Fprintf(w, "triggered %s pipeline #%d (id %s, %s): %s\n", p.Project, p.Number, p.ID, p.State, p.URL); err != nil {
			return err
		}
	}
	return nil
}

// JSON writes r as one indented JSON document.
func JSON(w io.Writer, r Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJSONFile writes r as JSON to path, replacing what was there.
func WriteJSONFile(path string, r Result) error {
	var sb strings.Builder
	if err := JSON(&sb, r); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

// EnvLines are `export NAME='value'` lines for a shell to source. The first pipeline is also
// exported without an index, which is what a job triggering one project wants.
func EnvLines(r Result) string {
	var sb strings.Builder
	export := func(name, value string) { fmt.Fprintf(&sb, "export %s=%s\n", name, shellQuote(value)) }
	for i, p := range r.Pipelines {
		if i == 0 {
			export("BATON_PIPELINE_ID", p.ID)
			export("BATON_PIPELINE_NUMBER", fmt.Sprint(p.Number))
			export("BATON_PIPELINE_URL", p.URL)
		}
		if len(r.Pipelines) > 1 {
			export(fmt.Sprintf("BATON_PIPELINE_ID_%d", i), p.ID)
			export(fmt.Sprintf("BATON_PIPELINE_NUMBER_%d", i), fmt.Sprint(p.Number))
			export(fmt.Sprintf("BATON_PIPELINE_URL_%d", i), p.URL)
		}
	}
	if len(r.Pipelines) > 0 {
		ids := make([]string, len(r.Pipelines))
		for i, p := range r.Pipelines {
			ids[i] = p.ID
		}
		export("BATON_PIPELINE_IDS", strings.Join(ids, " "))
	}
	return sb.String()
}

// AppendEnvFile appends EnvLines to path (CircleCI's $BASH_ENV is sourced before every step).
func AppendEnvFile(path string, r Result) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(EnvLines(r)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shellQuote single-quotes s for POSIX shells: the only byte needing care inside is the quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
