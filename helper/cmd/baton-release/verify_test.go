package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// fakeRelease writes a dist whose archive for this machine holds bin as `baton`, its
// SHA256SUMS, and an orb carrying version and the sums.
func fakeRelease(t *testing.T, version string, bin []byte) string {
	t.Helper()
	dist := t.TempDir()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "baton", Mode: 0o755, Size: int64(len(bin))}))
	_, err := tw.Write(bin)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	own := fmt.Sprintf("%s_%s", runtime.GOOS, runtime.GOARCH)
	var sums, orb strings.Builder
	orb.WriteString("version: \"2.1\"\ndescription: pins " + version + "\n")
	for _, platform := range platforms {
		data := []byte("the " + platform + " archive")
		if platform == own {
			data = buf.Bytes()
		}
		name := archiveName(version, platform)
		require.NoError(t, os.WriteFile(filepath.Join(dist, name), data, 0o644))
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%x  %s\n", sum, name)
		fmt.Fprintf(&orb, "# %x  %s\n", sum, name)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(sums.String()), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dist, "orb.yml"), []byte(orb.String()), 0o644))
	return dist
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
		{"an orb without the sum is caught", func(t *testing.T, dist string) {
			require.NoError(t, os.WriteFile(filepath.Join(dist, "orb.yml"), []byte("description: pins 9.9.9\n"), 0o644))
		}, sound, "does not carry the SHA-256"},
		{"a binary stamped with another version is caught", func(*testing.T, string) {}, releaseBaton(t, "baton 0.0.1"), `want "baton 9.9.9"`},
		{"a binary built with HTTP/2 is caught", func(*testing.T, string) {}, fakeBaton(t, "baton 9.9.9", nil, "-trimpath"),
			`not built as a release: -tags="", want "nethttpomithttp2"`},
		{"a script is not a Go binary", func(*testing.T, string) {}, []byte("#!/bin/sh\necho 'baton 9.9.9'\n"), "reading baton's build information"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dist := fakeRelease(t, "9.9.9", tc.bin)
			tc.spoil(t, dist)
			var out, errOut bytes.Buffer
			err := verifyCmd([]string{"--version", "9.9.9", "--dist", dist}, &out, &errOut)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Contains(t, out.String(), "is static, trimmed and built without HTTP/2")
				assert.Contains(t, out.String(), "runs: baton 9.9.9")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
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
