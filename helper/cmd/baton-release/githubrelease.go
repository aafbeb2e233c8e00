package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// tagPattern is the tag a release is made from: vMAJOR.MINOR.PATCH without leading zeros or a
// pre-release part, the tags the pipeline's publishing jobs run on.
var tagPattern = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// repoPattern is OWNER/NAME as GitHub allows them.
var repoPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// releaseDeps are what github-release takes from outside: tests give an httptest server's
// client and an instant sleep.
type releaseDeps struct {
	client *http.Client
	sleep  func(context.Context, time.Duration) error
	getenv func(string) string
}

var defaultReleaseDeps = releaseDeps{client: &http.Client{}, sleep: circleci.Sleep, getenv: os.Getenv}

// githubReleaseCmd publishes dist as the GitHub release of --tag. Every check that needs no
// network comes first (the tag, the token, dist against SHA256SUMS and the orb's pins, the
// release notes), so bad input stops with one line before anything is sent.
func githubReleaseCmd(ctx context.Context, args []string, stdout, stderr io.Writer, deps releaseDeps) error {
	fs := flag.NewFlagSet("baton-release github-release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := deps.getenv(name); v != "" {
			return v
		}
		return def
	}
	tag := fs.String("tag", "", "the release's `TAG`, vMAJOR.MINOR.PATCH (required)")
	dist := fs.String("dist", "dist", "`DIR` holding the archives, SHA256SUMS and orb.yml")
	orbPath := fs.String("orb", "", "the packed orb `FILE` that pins the release (default DIR/orb.yml)")
	changelog := fs.String("changelog", "CHANGELOG.md", "`FILE` whose section for the version is the release notes")
	repo := fs.String("repo", env("GITHUB_REPOSITORY", "baton-ci/baton"), "`OWNER/NAME` of the repository (env GITHUB_REPOSITORY)")
	apiURL := fs.String("api-url", env("GITHUB_API_URL", "https://api.github.com"), "GitHub's REST API `URL` (env GITHUB_API_URL)")
	uploadsURL := fs.String("uploads-url", env("GITHUB_UPLOADS_URL", "https://uploads.github.com"), "where release files are uploaded, `URL` (env GITHUB_UPLOADS_URL)")
	dryRun := fs.Bool("dry-run", false, "check everything and say what would be sent; send nothing (no token needed)")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if fs.NArg() != 0 {
		return exitcode.Usagef("github-release takes no arguments, got %q\n%s", fs.Arg(0), usage)
	}
	if !tagPattern.MatchString(*tag) {
		return exitcode.Usagef("--tag %q: a release is tagged vMAJOR.MINOR.PATCH, e.g. v1.4.0", *tag)
	}
	version := strings.TrimPrefix(*tag, "v")
	if !repoPattern.MatchString(*repo) {
		return exitcode.Usagef("--repo %q: want OWNER/NAME, e.g. baton-ci/baton", *repo)
	}
	api, err := baseURL("--api-url", *apiURL)
	if err != nil {
		return err
	}
	uploads, err := baseURL("--uploads-url", *uploadsURL)
	if err != nil {
		return err
	}
	token := deps.getenv("GITHUB_TOKEN")
	if !*dryRun {
		if token == "" {
			return exitcode.Usagef("GITHUB_TOKEN is not set: the github-release context provides it (a token that can write %s's contents)", *repo)
		}
		if strings.ContainsAny(token, " \t\r\n") {
			return exitcode.Usagef("GITHUB_TOKEN holds white space or a line break: set it to the token alone")
		}
	}
	if *orbPath == "" {
		*orbPath = filepath.Join(*dist, orbFile)
	}

	p, err := preparePublication(*tag, version, *dist, *orbPath, *changelog)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok  %s verifies: SHA256SUMS matches its %d archives; %s pins baton %s and their sums\n", *dist, len(p.Assets)-1, *orbPath, version)
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: would create a draft release %s of %s at %s with these notes:\n%s\n", *tag, *repo, api, indent(p.Notes))
		for _, a := range p.Assets {
			fmt.Fprintf(stdout, "dry run: would upload %s (%d bytes, %s) to %s\n", a.Name, len(a.Data), a.ContentType, uploads)
		}
		fmt.Fprintf(stdout, "dry run: would check the draft's files and publish it; nothing was sent\n")
		return nil
	}
	g := &github{api: api, uploads: uploads, repo: *repo, token: token, client: deps.client, sleep: deps.sleep}
	return g.publish(ctx, p, stdout)
}

// preparePublication checks dist as the release of version (SHA256SUMS and the archives, and
// the orb's pinned version and sums) and reads the notes: what publish needs, all local.
func preparePublication(tag, version, dist, orbPath, changelog string) (publication, error) {
	rel, err := verifyDist(dist, version, platforms)
	if err != nil {
		return publication{}, exitcode.Wrap(exitcode.Usage, fmt.Errorf("%s is not the release of %s: %w", dist, tag, err))
	}
	orb, err := os.ReadFile(orbPath)
	if err != nil {
		return publication{}, exitcode.Usagef("the packed orb: %v (scripts/pack-orb.sh %s %s writes it)", err, version, dist)
	}
	if err := checkOrbPins(orb, version, rel.pinned()); err != nil {
		return publication{}, exitcode.Usagef("%s does not pin the release in %s: %v", orbPath, dist, err)
	}
	text, err := os.ReadFile(changelog)
	if err != nil {
		return publication{}, exitcode.Usagef("release notes: %v", err)
	}
	notes, err := releaseNotes(string(text), version)
	if err != nil {
		return publication{}, exitcode.Usagef("%s: %v", changelog, err)
	}
	notes += "\n\n---\nEach archive's SHA-256 is in SHA256SUMS: check a download with " +
		"`sha256sum --ignore-missing --strict -c SHA256SUMS` in the directory holding both. " +
		"The orb `baton-ci/baton@" + version + "` installs these archives after checking them against the sums it carries.\n"

	var p publication
	p.Tag, p.Notes = tag, notes
	for _, l := range rel.archives {
		data, err := os.ReadFile(filepath.Join(dist, l.Name))
		if err != nil {
			return publication{}, err
		}
		if sha256Hex(data) != l.Sum {
			return publication{}, exitcode.Usagef("%s/%s changed while it was being read", dist, l.Name)
		}
		ct := "application/gzip"
		if strings.HasSuffix(l.Name, ".zip") {
			ct = "application/zip"
		}
		p.Assets = append(p.Assets, asset{Name: l.Name, ContentType: ct, Data: data})
	}
	sums, err := os.ReadFile(filepath.Join(dist, sumsFile))
	if err != nil {
		return publication{}, err
	}
	if string(sums) != formatSums(rel.archives) {
		return publication{}, exitcode.Usagef("%s/%s changed while it was being read", dist, sumsFile)
	}
	p.Assets = append(p.Assets, asset{Name: sumsFile, ContentType: "text/plain; charset=utf-8", Data: sums})
	return p, nil
}

// baseURL checks a base URL the token is sent to: https, or http on this machine only (tests,
// a local proxy), so the token never crosses a network in clear.
func baseURL(flagName, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", exitcode.Usagef("%s %q: want a URL like https://api.github.com", flagName, raw)
	}
	host := u.Hostname()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return "", exitcode.Usagef("%s %q: the token would travel in clear; use https", flagName, raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// changelogHeading is a released version's heading in Keep a Changelog: "## [1.4.0] - 2026-03-02".
var changelogHeading = regexp.MustCompile(`^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$`)

// releaseNotes is version's section of a Keep a Changelog file: the lines under its heading up
// to the next "## " heading or the link definitions at the end. The heading must carry the
// release date, so a tag is never released from notes still marked Unreleased.
func releaseNotes(changelog, version string) (string, error) {
	lines := strings.Split(strings.ReplaceAll(changelog, "\r\n", "\n"), "\n")
	start := -1
	for i, line := range lines {
		m := changelogHeading.FindStringSubmatch(line)
		if m == nil || m[1] != version {
			continue
		}
		if _, err := time.Parse(time.DateOnly, m[2]); err != nil {
			return "", fmt.Errorf("line %d: %q has no release date: write \"## [%s] - YYYY-MM-DD\"", i+1, line, version)
		}
		start = i + 1
		break
	}
	if start < 0 {
		return "", fmt.Errorf("no \"## [%s] - YYYY-MM-DD\" section: move the Unreleased notes under it before tagging (RELEASING.md)", version)
	}
	end := len(lines)
	for i := start; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") || linkDefinition.MatchString(lines[i]) {
			end = i
			break
		}
	}
	notes := strings.TrimSpace(strings.Join(lines[start:end], "\n"))
	if notes == "" {
		return "", fmt.Errorf("the section for %s is empty: say what changed", version)
	}
	return notes, nil
}

// linkDefinition is a Markdown link reference definition, as the end of a changelog has them.
var linkDefinition = regexp.MustCompile(`^\[[^\]]+\]: \S+`)

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// interrupted is the cause of a context ended by a signal: exit 143 for SIGTERM (a canceled
// CircleCI job), 130 for SIGINT.
type interrupted struct{ sig syscall.Signal }

func (e interrupted) Error() string { return "interrupted by " + e.sig.String() }

func (e interrupted) ExitCode() int {
	if e.sig == syscall.SIGTERM {
		return exitcode.Terminated
	}
	return exitcode.Interrupted
}

// signalContext ends when SIGINT or SIGTERM arrives, with interrupted as its cause.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			cancel(interrupted{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}
