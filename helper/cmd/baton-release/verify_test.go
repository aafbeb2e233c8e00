package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRelease writes a dist whose archive for this machine holds a `baton` script printing
// printed, its SHA256SUMS, and an orb carrying version and the sums.
func fakeRelease(t *testing.T, version, printed string) string {
	t.Helper()
	dist := t.TempDir()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	script := []byte("#!/bin/sh\necho '" + printed + "'\n")
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "baton", Mode: 0o755, Size: int64(len(script))}))
	_, err := tw.Write(script)
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
	cases := []struct {
		name    string
		spoil   func(t *testing.T, dist string)
		printed string
		want    string
	}{
		{"a sound release passes", func(*testing.T, string) {}, "baton 9.9.9", ""},
		{"a changed archive is caught", func(t *testing.T, dist string) {
			matches, _ := filepath.Glob(filepath.Join(dist, "*.tar.gz"))
			require.NoError(t, os.WriteFile(matches[0], []byte("tampered"), 0o644))
		}, "baton 9.9.9", "SHA256SUMS says"},
		{"a missing platform is caught", func(t *testing.T, dist string) {
			matches, _ := filepath.Glob(filepath.Join(dist, "*windows*"))
			require.NoError(t, os.Remove(matches[0]))
		}, "baton 9.9.9", "windows"},
		{"an orb without the sum is caught", func(t *testing.T, dist string) {
			require.NoError(t, os.WriteFile(filepath.Join(dist, "orb.yml"), []byte("description: pins 9.9.9\n"), 0o644))
		}, "baton 9.9.9", "does not carry the SHA-256"},
		{"a binary stamped with another version is caught", func(*testing.T, string) {}, "baton 0.0.1", `want "baton 9.9.9"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dist := fakeRelease(t, "9.9.9", tc.printed)
			tc.spoil(t, dist)
			var out, errOut bytes.Buffer
			err := verifyCmd([]string{"--version", "9.9.9", "--dist", dist}, &out, &errOut)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Contains(t, out.String(), "runs: baton 9.9.9")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
