package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeBaton is a Go program that prints printed, built for this machine with the go build
// arguments given (and cgo off unless env says otherwise).
func fakeBaton(t *testing.T, printed string, env []string, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module fake\n\ngo 1.22\n"), 0o644))
	main := fmt.Sprintf("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(%q) }\n", printed)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644))
	build := exec.Command("go", append(append([]string{"build", "-o", "baton"}, args...), ".")...)
	build.Dir = dir
	build.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off"), env...)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	bin, err := os.ReadFile(filepath.Join(dir, "baton"))
	require.NoError(t, err)
	return bin
}

// releaseBaton is fakeBaton built the way scripts/build-release.sh builds baton.
func releaseBaton(t *testing.T, printed string) []byte {
	return fakeBaton(t, printed, nil, "-trimpath", "-tags=nethttpomithttp2")
}

// fakeRelease writes a dist whose archive for this machine holds bin as `baton` (the others
// hold a few bytes), its SHA256SUMS made by writeArchives, and an orb pinning version and the
// sums, filled by fillOrb.
func fakeRelease(t *testing.T, version string, bin []byte, in archiveInputs) string {
	t.Helper()
	build := t.TempDir()
	own := fmt.Sprintf("%s_%s", runtime.GOOS, runtime.GOARCH)
	for _, platform := range platforms {
		data := []byte("the " + platform + " binary")
		if platform == own {
			data = bin
		}
		require.NoError(t, os.MkdirAll(filepath.Join(build, platform), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(build, platform, binaryName(platform)), data, 0o755))
	}
	return pinnedRelease(t, version, build, in)
}

// releaseInputs are what scripts/build-release.sh archives with each binary: the repository's
// LICENSE and the binary's THIRD_PARTY_NOTICES (a fixed text for the fake binaries that are not
// Go programs), with notices changed by edit when it is not nil.
func releaseInputs(t *testing.T, edit func(notices []byte) []byte) archiveInputs {
	t.Helper()
	license, err := os.ReadFile("../../../LICENSE")
	require.NoError(t, err)
	goroot, modcache := goEnv(t, "GOROOT"), goEnv(t, "GOMODCACHE")
	return archiveInputs{License: license, MTime: defaultDate, Notices: func(bin []byte) ([]byte, error) {
		notices, err := thirdPartyNotices(bin, goroot, modcache)
		if err != nil {
			return testInputs.Notices(bin)
		}
		if edit != nil {
			notices = edit(notices)
		}
		return notices, nil
	}}
}

// goEnv is `go env name`.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// pinnedRelease archives build as version into a new dist, with its SHA256SUMS and the orb
// pinning them (filled by fillOrb, its examples showing version's major), as
// scripts/build-release.sh and scripts/pack-orb.sh leave a release.
func pinnedRelease(t *testing.T, version, build string, in archiveInputs) string {
	t.Helper()
	dist := t.TempDir()
	_, err := writeArchives(version, build, dist, in, platforms)
	require.NoError(t, err)
	rel, err := verifyDist(dist, version, platforms)
	require.NoError(t, err)
	major, _, _ := strings.Cut(version, ".")
	orb, err := fillOrb([]byte(strings.ReplaceAll(packed, "baton-ci/baton@1.0", "baton-ci/baton@"+major+".0")), version, rel.pinned())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dist, orbFile), orb, 0o644))
	return dist
}

// rewriteSums applies f to every SHA256SUMS line of dist.
func rewriteSums(t *testing.T, dist string, f func(line string) string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line = f(line); line != "" {
			out = append(out, line)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(strings.Join(out, "\n")+"\n"), 0o644))
}

func TestVerifyRefusesAReleaseThatIsNotWhatItSays(t *testing.T) {
	t.Setenv("BATON_CIRCLECI_SCHEMA", filepath.Join(t.TempDir(), "absent.json")) // the fake orb is not a real one
	sound := releaseBaton(t, "baton 9.9.9")
	cases := []struct {
		name  string
		spoil func(t *testing.T, dist string)
		bin   []byte
		want  string
	}{
		{"a sound release passes", func(*testing.T, string) {}, sound, ""},
		{"a changed archive is caught", func(t *testing.T, dist string) {
			matches, _ := filepath.Glob(filepath.Join(dist, "*.tar.gz"))
			require.NoError(t, os.WriteFile(matches[0], []byte("tampered"), 0o644))
		}, sound, "SHA256SUMS says"},
		{"a missing platform is caught", func(t *testing.T, dist string) {
			matches, _ := filepath.Glob(filepath.Join(dist, "*windows*"))
			require.NoError(t, os.Remove(matches[0]))
		}, sound, "windows"},
		{"a SHA256SUMS that also lists the binaries inside the archives is caught", func(t *testing.T, dist string) {
			rewriteSums(t, dist, func(line string) string {
				if strings.HasSuffix(line, "linux_arm64.tar.gz") {
					return line + "\n" + strings.Repeat("0", 64) + "  baton_9.9.9_linux_arm64/baton"
				}
				return line
			})
		}, sound, "lists baton_9.9.9_linux_arm64/baton, which is not an archive of baton 9.9.9"},
		{"an orb pinning an archive's sum but not its binary's is caught", func(t *testing.T, dist string) {
			orb, err := os.ReadFile(filepath.Join(dist, orbFile))
			require.NoError(t, err)
			kept := regexp.MustCompile(`(?m)^ *[0-9a-f]{64}  baton_9\.9\.9_linux_arm64/baton\n`).ReplaceAll(orb, nil)
			require.NotEqual(t, orb, kept)
			require.NoError(t, os.WriteFile(filepath.Join(dist, orbFile), kept, 0o644))
		}, sound, "BATON_INSTALL_PINNED_SHA256SUMS (line 7) is not dist's sums: line 9 is"},
		{"an orb pinning another version is caught", func(t *testing.T, dist string) {
			orb, err := os.ReadFile(filepath.Join(dist, orbFile))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dist, orbFile), bytes.Replace(orb, []byte(`"9.9.9"`), []byte(`"9.9.8"`), 1), 0o644))
		}, sound, `pins baton "9.9.8", not 9.9.9`},
		{"an orb without the pins is caught", func(t *testing.T, dist string) {
			require.NoError(t, os.WriteFile(filepath.Join(dist, orbFile), []byte("description: pins 9.9.9\nexamples: {}\n"), 0o644))
		}, sound, "no BATON_INSTALL_PINNED_VERSION"},
		{"a binary stamped with another version is caught", func(*testing.T, string) {}, releaseBaton(t, "baton 0.0.1"), `want "baton 9.9.9"`},
		{"a binary built with HTTP/2 is caught", func(*testing.T, string) {}, fakeBaton(t, "baton 9.9.9", nil, "-trimpath"),
			`not built as a release: -tags="", want "nethttpomithttp2"`},
		{"a script is not a Go binary", func(*testing.T, string) {}, []byte("#!/bin/sh\necho 'baton 9.9.9'\n"), "reading baton's build information"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dist := fakeRelease(t, "9.9.9", tc.bin, releaseInputs(t, nil))
			tc.spoil(t, dist)
			var out, errOut bytes.Buffer
			err := verifyCmd([]string{"--version", "9.9.9", "--dist", dist}, &out, &errOut)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Contains(t, out.String(), "is static, trimmed and built without HTTP/2")
				assert.Contains(t, out.String(), "runs: baton 9.9.9")
				assert.Contains(t, out.String(), "holds the MIT LICENSE and THIRD_PARTY_NOTICES for Go and the 0 modules in the binary")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestVerifyChecksTheNoticesThatTravelWithTheBinary(t *testing.T) {
	t.Setenv("BATON_CIRCLECI_SCHEMA", filepath.Join(t.TempDir(), "absent.json"))
	sound := releaseBaton(t, "baton 9.9.9")
	withADependency := binaryWithADependency(t, "-tags=nethttpomithttp2")
	fixed := func(license string) archiveInputs {
		return archiveInputs{License: []byte(license), Notices: testInputs.Notices, MTime: defaultDate}
	}
	cases := []struct {
		name string
		bin  []byte
		in   archiveInputs
		want string
	}{
		{"an archive whose LICENSE is not the MIT license is caught", sound, fixed("All rights reserved.\n"), "LICENSE is not the MIT license"},
		{"notices that do not name the Go that built the binary are caught", sound, fixed("MIT License\n"), "THIRD_PARTY_NOTICES does not name go1."},
		{"notices that miss a module the binary holds are caught", withADependency, releaseInputs(t, func(n []byte) []byte {
			return bytes.ReplaceAll(n, []byte("github.com/tidwall/match v1.1.1"), []byte("github.com/tidwall/match v1.1.0"))
		}), "THIRD_PARTY_NOTICES does not name github.com/tidwall/match v1.1.1, which the binary holds"},
		{"notices naming every module pass that check", withADependency, releaseInputs(t, nil), "baton version printed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dist := fakeRelease(t, "9.9.9", tc.bin, tc.in)
			var out, errOut bytes.Buffer
			err := verifyCmd([]string{"--version", "9.9.9", "--dist", dist}, &out, &errOut)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCheckBuildNamesWhatAReleaseBuildLacks(t *testing.T) {
	release := []debug.BuildSetting{{Key: "-buildmode", Value: "exe"}, {Key: "-trimpath", Value: "true"},
		{Key: "-tags", Value: "nethttpomithttp2"}, {Key: "CGO_ENABLED", Value: "0"}, {Key: "GOOS", Value: "linux"}}
	without := func(key string) []debug.BuildSetting {
		return slices.DeleteFunc(slices.Clone(release), func(s debug.BuildSetting) bool { return s.Key == key })
	}
	cases := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"as scripts/build-release.sh builds", release, ""},
		{"cgo on", append(without("CGO_ENABLED"), debug.BuildSetting{Key: "CGO_ENABLED", Value: "1"}), `CGO_ENABLED="1", want "0"`},
		{"local paths kept", without("-trimpath"), `-trimpath="", want "true"`},
		{"other tags", append(without("-tags"), debug.BuildSetting{Key: "-tags", Value: "netgo"}), `-tags="netgo", want "nethttpomithttp2"`},
		{"nothing known", nil, `not built as a release: -tags="", want "nethttpomithttp2", -trimpath="", want "true", CGO_ENABLED="", want "0"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBuild(tc.settings)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
