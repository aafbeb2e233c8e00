package report

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/baton-ci/baton/helper/internal/safetext"
)

// Table writes the end-of-run summary for a terminal: one aligned row per pipeline (project,
// pipeline, status, duration, link), then one indented line with the reason of each pipeline
// that did not succeed.
//
//	PROJECT         PIPELINE  STATUS   DURATION  LINK
//	gh/acme/api     #42       success  2m30s     https://app.circleci.com/pipelines/github/acme/api/42
//	gh/acme/deploy  #7        failed   5m        https://app.circleci.com/pipelines/github/acme/deploy/7
//
//	gh/acme/deploy #7: workflow deploy failed (job rollout failed)
func Table(w io.Writer, ds []Downstream) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT\tPIPELINE\tSTATUS\tDURATION\tLINK")
	for _, d := range ds {
		link := d.URL
		if link == "" {
			link = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n",
			plain(d.Project), plain(pipelineLabel(d)), plain(OutcomeText(d.Outcome)), duration(d.Duration), plain(link))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	first := true
	for _, d := range ds {
		if succeeded(d.Outcome) || d.Reason == "" {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		fmt.Fprintf(&b, "%s: %s\n", plain(displayName(d)), plain(d.Reason))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// plain keeps a cell (server text included) on one line and free of tabs and terminal control
// characters, which would break the alignment or the terminal (see safetext.Terminal); "-" when
// empty.
func plain(s string) string {
	if s == "" {
		return "-"
	}
	return safetext.Terminal(s)
}
