package main

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// verifyCmd checks a release before anything is published: SHA256SUMS lists exactly the
// archives and each matches, the packed orb pins the version, those sums and the sums of the
// binaries in the archives and nothing else, the orb fits CircleCI's schema,
// and the archive for this machine's platform was built as releases must be and runs
// `baton version` as that version.
func verifyCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("baton-release verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "the release's version")
	dist := fs.String("dist", "dist", "the directory holding the archives, SHA256SUMS and orb.yml")
	orbPath := fs.String("orb", "", "the packed orb (default DIST/orb.yml)")
	only := platformsFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" {
		return exitcode.Usagef("verify: --version is required")
	}
	ps, err := parsePlatforms(*only)
	if err != nil {
		return err
	}
	*version = strings.TrimPrefix(*version, "v")
	if *orbPath == "" {
		*orbPath = filepath.Join(*dist, "orb.yml")
	}
	rel, err := verifyDist(*dist, *version, ps)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok  %s/%s lists exactly the %d archives in %s, one per platform, and each matches it\n", *dist, sumsFile, len(ps), *dist)

	orb, err := os.ReadFile(*orbPath)
	if err != nil {
		return err
	}
	if err := checkOrbPins(orb, *version, rel.pinned()); err != nil {
		return fmt.Errorf("%s: %w", *orbPath, err)
	}
	fmt.Fprintf(stdout, "ok  %s pins baton %s, every archive's SHA-256 and that of the binary in each\n", *orbPath, *version)

	if err := validateOrb(stdout, orb); err != nil {
		return fmt.Errorf("%s: %w", *orbPath, err)
	}
	return runOwnArchive(stdout, *dist, *version)
}

func validateOrb(stdout io.Writer, orb []byte) error {
	schema, err := orbrun.LoadSchema(orbrun.SchemaPath())
	if errors.Is(err, orbrun.ErrSchemaAbsent) {
		fmt.Fprintf(stdout, "SKIPPED  schema check: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(orb, &doc); err != nil {
		return err
	}
	if err := schema.Validate(doc); err != nil {
		return fmt.Errorf("does not fit CircleCI's schema: %w", err)
	}
	fmt.Fprintln(stdout, "ok  the packed orb fits CircleCI's schema")
	return nil
}

// runOwnArchive unpacks the archive built for this machine and runs its `baton version`.
func runOwnArchive(stdout io.Writer, dist, version string) error {
	platform := runtime.GOOS + "_" + runtime.GOARCH
	name := archiveName(version, platform)
	archive, err := os.ReadFile(filepath.Join(dist, name))
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "SKIPPED  running baton: no %s archive for this machine\n", name)
		return nil
	}
	if err != nil {
		return err
	}
	files, err := archived(archive, platform)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data := files[0]
	dir, err := os.MkdirTemp("", "baton-verify")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "baton")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		return err
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("%s: reading baton's build information: %w", name, err)
	}
	if err := checkBuild(info.Settings); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stdout, "ok  %s is static, trimmed and built without HTTP/2 (%s)\n", name, info.GoVersion)
	if err := checkNotices(files[1], files[2], info); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stdout, "ok  %s holds the MIT LICENSE and THIRD_PARTY_NOTICES for Go and the %d modules in the binary\n", name, len(info.Deps))
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return fmt.Errorf("%s: baton version: %w", name, err)
	}
	if got, want := strings.TrimSpace(string(out)), "baton "+version; got != want {
		return fmt.Errorf("%s: baton version printed %q, want %q", name, got, want)
	}
	fmt.Fprintf(stdout, "ok  %s runs: %s\n", name, strings.TrimSpace(string(out)))
	return nil
}

// checkNotices checks that an archive's LICENSE is the MIT license and its THIRD_PARTY_NOTICES
// name the Go toolchain and every module the binary's build information lists.
func checkNotices(license, notices []byte, info *buildinfo.BuildInfo) error {
	if !bytes.HasPrefix(license, []byte("MIT License\n")) {
		return fmt.Errorf("%s is not the MIT license", licenseFile)
	}
	text := string(notices)
	if !strings.Contains(text, "\nGo "+info.GoVersion+":") {
		return fmt.Errorf("%s does not name %s, which built the binary", noticesFile, info.GoVersion)
	}
	for _, dep := range info.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		if !strings.Contains(text, "\n"+dep.Path+" "+dep.Version+"\n") {
			return fmt.Errorf("%s does not name %s %s, which the binary holds", noticesFile, dep.Path, dep.Version)
		}
	}
	return nil
}

// releaseBuild is how scripts/build-release.sh builds baton: static, with no local paths, and
// with net/http's bundled HTTP/2 left out, which the binary's size goal depends on.
var releaseBuild = map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "-tags": "nethttpomithttp2"}

// checkBuild says which of releaseBuild's settings a binary's build information lacks.
func checkBuild(settings []debug.BuildSetting) error {
	got := map[string]string{}
	for _, s := range settings {
		got[s.Key] = s.Value
	}
	var wrong []string
	for _, key := range slices.Sorted(maps.Keys(releaseBuild)) {
		if want := releaseBuild[key]; got[key] != want {
			wrong = append(wrong, fmt.Sprintf("%s=%q, want %q", key, got[key], want))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("not built as a release: %s", strings.Join(wrong, ", "))
	}
	return nil
}
