// Command baton-release makes baton's release artifacts reproducible, fills them into the
// packed orb, checks them and publishes them on GitHub. scripts/build-release.sh,
// scripts/pack-orb.sh and scripts/github-release.sh drive it:
//
//	baton-release archive --version V --dist DIR --goroot DIR --modcache DIR [--license FILE] [--platforms P,…] BUILD_DIR
//	    BUILD_DIR/OS_ARCH/baton[.exe] → DIR/baton_V_OS_ARCH.tar.gz (.zip for Windows), each
//	    holding the binary, LICENSE and THIRD_PARTY_NOTICES (the licenses of the Go runtime
//	    and of every module the binary's build information lists), and DIR/SHA256SUMS, byte
//	    for byte the same on every run: fixed order, owners and times ($SOURCE_DATE_EPOCH,
//	    else 2020-01-01), gzip without a name or time. SHA256SUMS lists the archives and
//	    nothing else, so `sha256sum --strict -c SHA256SUMS` in DIR checks them.
//	baton-release fill-orb --version V --dist DIR [--platforms P,…] --in PACKED --out ORB
//	    checks DIR against its SHA256SUMS, then writes PACKED (circleci orb pack's output) with
//	    the version and sums pinned in place of the placeholders: SHA256SUMS's lines, then the
//	    sums of the binaries in the archives as baton_V_OS_ARCH/baton[.exe], which the orb's
//	    installer checks a binary it finds installed against. Anyone can recompute those from
//	    the archives; they are published only inside the orb.
//	baton-release verify --version V --dist DIR [--platforms P,…] [--orb ORB]
//	    checks a release before it is published (see verifyCmd).
//	baton-release github-release --tag vX.Y.Z --dist DIR [--orb ORB] [--changelog FILE] [--repo OWNER/NAME] [--dry-run]
//	    publishes DIR as the GitHub release vX.Y.Z (scripts/github-release.sh drives it): checks
//	    the tag, $GITHUB_TOKEN, DIR as for verify and the orb's pins, and takes the notes from
//	    CHANGELOG.md's "## [X.Y.Z] - DATE" section, all before sending anything; then creates a
//	    draft, uploads the archives and SHA256SUMS, checks what GitHub holds and publishes the
//	    draft. A failure deletes the draft, or says exactly what is left. Exit codes: 2 bad
//	    input, nothing sent; 3 GitHub refused (the token, the tag missing, the release already
//	    there); 5 GitHub failed or could not be reached; 130/143 interrupted.
//	baton-release pack DIR
//	    prints what `circleci orb pack DIR` prints, packed by orbrun.Pack (make demo uses it).
//
// --platforms (default: every platform) is for make demo, which releases this machine's only.
// Exit codes: 0 done, 1 a check failed, 2 bad usage or input, and github-release's own.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `Usage:
  baton-release archive --version V --dist DIR --goroot DIR --modcache DIR [--license FILE] [--platforms P,…] BUILD_DIR
  baton-release fill-orb --version V --dist DIR [--platforms P,…] --in PACKED --out ORB
  baton-release verify --version V --dist DIR [--platforms P,…] [--orb ORB]
  baton-release github-release --tag vX.Y.Z --dist DIR [--orb ORB] [--changelog FILE] [--repo OWNER/NAME] [--dry-run]
  baton-release pack DIR`

// run dispatches to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitcode.Usage
	}
	var err error
	switch args[0] {
	case "archive":
		err = archiveCmd(args[1:], stdout, stderr)
	case "fill-orb":
		err = fillOrbCmd(args[1:], stdout, stderr)
	case "verify":
		err = verifyCmd(args[1:], stdout, stderr)
	case "pack":
		err = packCmd(args[1:], stdout)
	case "github-release":
		ctx, stop := signalContext()
		defer stop()
		err = githubReleaseCmd(ctx, args[1:], stdout, stderr, defaultReleaseDeps)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitcode.OK
	default:
		err = exitcode.Usagef("unknown command %q\n%s", args[0], usage)
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitcode.OK
	}
	if err != nil {
		fmt.Fprintf(stderr, "baton-release: %v\n", err)
		if !exitcode.Coded(err) {
			return 1 // a check failed: a release that is not what it should be, not a bug here
		}
		return exitcode.Of(err)
	}
	return exitcode.OK
}

func archiveCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("baton-release archive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "release `VERSION`, e.g. 1.4.0 (required)")
	dist := fs.String("dist", "dist", "`DIR` to write the archives and SHA256SUMS to")
	license := fs.String("license", "LICENSE", "baton's license `FILE`, archived as LICENSE")
	goroot := fs.String("goroot", "", "`DIR` of the Go toolchain that built the binaries, `go env GOROOT` (required)")
	modcache := fs.String("modcache", "", "the module cache `DIR`, `go env GOMODCACHE` (required)")
	only := platformsFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if *version == "" || *goroot == "" || *modcache == "" || fs.NArg() != 1 {
		return exitcode.Usagef("archive needs --version, --goroot, --modcache and one BUILD_DIR\n%s", usage)
	}
	ps, err := parsePlatforms(*only)
	if err != nil {
		return err
	}
	in := archiveInputs{Notices: func(bin []byte) ([]byte, error) { return thirdPartyNotices(bin, *goroot, *modcache) }}
	if in.MTime, err = sourceDate(os.Getenv("SOURCE_DATE_EPOCH")); err != nil {
		return err
	}
	if in.License, err = os.ReadFile(*license); err != nil {
		return exitcode.Usagef("%v", err)
	}
	names, err := writeArchives(*version, fs.Arg(0), *dist, in, ps)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintf(stdout, "wrote %s/%s\n", *dist, n)
	}
	fmt.Fprintf(stdout, "wrote %s/%s\n", *dist, sumsFile)
	return nil
}

func fillOrbCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("baton-release fill-orb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "release `VERSION` the orb pins (required)")
	dist := fs.String("dist", "dist", "`DIR` holding the archives and SHA256SUMS")
	in := fs.String("in", "", "the packed orb `FILE` with placeholders (required)")
	out := fs.String("out", "", "`FILE` to write the filled orb to (required)")
	only := platformsFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if *version == "" || *in == "" || *out == "" || fs.NArg() != 0 {
		return exitcode.Usagef("fill-orb needs --version, --in and --out\n%s", usage)
	}
	ps, err := parsePlatforms(*only)
	if err != nil {
		return err
	}
	rel, err := verifyDist(*dist, *version, ps)
	if err != nil {
		return err
	}
	packed, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	filled, err := fillOrb(packed, *version, rel.pinned())
	if err == nil {
		err = checkOrbPins(filled, *version, rel.pinned())
	}
	if err != nil {
		return fmt.Errorf("the packed orb: %w", err)
	}
	if err := os.WriteFile(*out, filled, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: pins baton %s and the SHA-256 of its %d archives and their binaries\n", *out, *version, len(ps))
	return nil
}

func packCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return exitcode.Usagef("pack needs the orb's source DIR\n%s", usage)
	}
	packed, err := orbrun.Pack(args[0])
	if err != nil {
		return err
	}
	_, err = stdout.Write(packed)
	return err
}

// platformsFlag is --platforms: a comma-separated subset of platforms.
func platformsFlag(fs *flag.FlagSet) *string {
	return fs.String("platforms", "", "only these `OS_ARCH,…` (default: every platform baton is released for)")
}

// parsePlatforms reads --platforms; empty means every platform.
func parsePlatforms(s string) ([]string, error) {
	if s == "" {
		return platforms, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if !slices.Contains(platforms, p) {
			return nil, exitcode.Usagef("--platforms: %q is not one of %s", p, strings.Join(platforms, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// usageErr keeps flag.ErrHelp as it is and marks every other parse error as bad usage.
func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return exitcode.Wrap(exitcode.Usage, err)
}

// defaultDate is the archives' timestamp when SOURCE_DATE_EPOCH is not set.
var defaultDate = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// sourceDate reads SOURCE_DATE_EPOCH (reproducible-builds.org) when it is set.
func sourceDate(s string) (time.Time, error) {
	if s == "" {
		return defaultDate, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 315532800 { // zip cannot hold times before 1980
		return time.Time{}, exitcode.Usagef("SOURCE_DATE_EPOCH=%q: want seconds since 1970, from 1980 on", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}
