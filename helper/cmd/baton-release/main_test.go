package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// fakeBuild writes a build directory with a "binary" per platform.
func fakeBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range platforms {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, p), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p, binaryName(p)), []byte("binary for "+p), 0o700))
	}
	return dir
}

func TestArchivesAreReproducible(t *testing.T) {
	build := fakeBuild(t)
	first, second := t.TempDir(), t.TempDir()
	_, err := writeArchives("1.2.3", build, first, defaultDate, platforms)
	require.NoError(t, err)
	// Another time of day, other file times and modes: the same bytes.
	for _, p := range platforms {
		f := filepath.Join(build, p, binaryName(p))
		require.NoError(t, os.Chtimes(f, time.Now(), time.Now().Add(-time.Hour)))
		require.NoError(t, os.Chmod(f, 0o755))
	}
	time.Sleep(1100 * time.Millisecond) // a gzip or zip header with the wall clock would now differ
	_, err = writeArchives("1.2.3", build, second, defaultDate, platforms)
	require.NoError(t, err)
	for _, name := range append(archiveNames("1.2.3"), sumsFile) {
		a, err := os.ReadFile(filepath.Join(first, name))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(second, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "%s differs between two runs", name)
	}
}

func archiveNames(version string) []string {
	var out []string
	for _, p := range platforms {
		out = append(out, archiveName(version, p))
	}
	return out
}

func TestArchivesHoldOneRootOwnedExecutable(t *testing.T) {
	dist := t.TempDir()
	_, err := writeArchives("1.2.3", fakeBuild(t), dist, defaultDate, platforms)
	require.NoError(t, err)

	raw, err := os.ReadFile(filepath.Join(dist, "baton_1.2.3_linux_arm64.tar.gz"))
	require.NoError(t, err)
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Empty(t, gz.Name, "no file name in the gzip header")
	assert.True(t, gz.ModTime.IsZero() || gz.ModTime.Unix() == 0, "no time in the gzip header")
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, "baton", hdr.Name)
	assert.Equal(t, int64(0o755), hdr.Mode)
	assert.Equal(t, 0, hdr.Uid)
	assert.Equal(t, defaultDate, hdr.ModTime.UTC())
	body, _ := io.ReadAll(tr)
	assert.Equal(t, "binary for linux_arm64", string(body))
	_, err = tr.Next()
	assert.Equal(t, io.EOF, err, "one file only")

	zr, err := zip.OpenReader(filepath.Join(dist, "baton_1.2.3_windows_amd64.zip"))
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	assert.Equal(t, "baton.exe", zr.File[0].Name)

	sums, err := os.ReadFile(filepath.Join(dist, sumsFile))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	require.Len(t, lines, 2*len(platforms), "the archives, then the binaries in them")
	assert.Regexp(t, `^[0-9a-f]{64}  baton_1\.2\.3_darwin_amd64\.tar\.gz$`, lines[0])
	assert.Equal(t, sha256Hex([]byte("binary for darwin_amd64"))+"  baton_1.2.3_darwin_amd64/baton", lines[len(platforms)])
	assert.Equal(t, sha256Hex([]byte("binary for windows_amd64"))+"  baton_1.2.3_windows_amd64/baton.exe", lines[len(lines)-1])
}

func TestOnePlatformCanBeReleasedForTheDemo(t *testing.T) {
	build, dist := fakeBuild(t), t.TempDir()
	only, err := parsePlatforms("linux_amd64")
	require.NoError(t, err)
	names, err := writeArchives("1.2.3", build, dist, defaultDate, only)
	require.NoError(t, err)
	assert.Equal(t, []string{"baton_1.2.3_linux_amd64.tar.gz"}, names)
	sums, err := verifyDist(dist, "1.2.3", only)
	require.NoError(t, err)
	assert.Len(t, strings.Split(strings.TrimSpace(sums), "\n"), 2)
	_, err = verifyDist(dist, "1.2.3", platforms)
	assert.ErrorContains(t, err, "has no line for baton_1.2.3_darwin_amd64.tar.gz", "a release still needs every platform")
	_, err = parsePlatforms("linux_amd64,plan9_386")
	assert.ErrorContains(t, err, `--platforms: "plan9_386" is not one of darwin_amd64`)
}

func TestArchivedBinaryIsTheOneRegularFile(t *testing.T) {
	one, err := tarGzOne("baton", []byte("x"), defaultDate)
	require.NoError(t, err)
	bin, err := archivedBinary(one, "linux_amd64")
	require.NoError(t, err)
	assert.Equal(t, "x", string(bin))
	other, err := tarGzOne("sh", []byte("x"), defaultDate)
	require.NoError(t, err)
	_, err = archivedBinary(other, "linux_amd64")
	assert.ErrorContains(t, err, `want one regular file baton in the tar, found "sh"`)
	z, err := zipOne("baton.exe", []byte("y"), defaultDate)
	require.NoError(t, err)
	bin, err = archivedBinary(z, "windows_amd64")
	require.NoError(t, err)
	assert.Equal(t, "y", string(bin))
}

func TestAMissingPlatformIsRefused(t *testing.T) {
	build := fakeBuild(t)
	require.NoError(t, os.RemoveAll(filepath.Join(build, "darwin_arm64")))
	_, err := writeArchives("1.2.3", build, t.TempDir(), defaultDate, platforms)
	assert.ErrorContains(t, err, "no darwin_arm64 build")
}

const packed = `version: 2.1
commands:
    install:
        steps:
            - run:
                environment:
                    BATON_INSTALL_PINNED_SHA256SUMS: '@BATON_PINNED_SHA256SUMS@'
                    BATON_INSTALL_PINNED_VERSION: '@BATON_PINNED_VERSION@'
                name: Install baton
                command: echo
examples:
    x:
        usage:
            version: "2.1"
            orbs:
                baton: baton-ci/baton@1.0
`

func TestFillOrbPinsVersionAndSums(t *testing.T) {
	dist := t.TempDir()
	_, err := writeArchives("1.4.0", fakeBuild(t), dist, defaultDate, platforms)
	require.NoError(t, err)
	sums, err := verifyDist(dist, "1.4.0", platforms)
	require.NoError(t, err)
	out, err := fillOrb([]byte(packed), "1.4.0", sums)
	require.NoError(t, err)

	var doc struct {
		Commands map[string]struct {
			Steps []struct {
				Run struct{ Environment map[string]string }
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(out, &doc))
	env := doc.Commands["install"].Steps[0].Run.Environment
	assert.Equal(t, "1.4.0", env["BATON_INSTALL_PINNED_VERSION"])
	want, err := os.ReadFile(filepath.Join(dist, sumsFile))
	require.NoError(t, err)
	assert.Equal(t, string(want), env["BATON_INSTALL_PINNED_SHA256SUMS"])
	assert.Contains(t, string(out), "BATON_INSTALL_PINNED_SHA256SUMS: |\n", "the sums stay readable as lines")
}

func TestFillOrbRefuses(t *testing.T) {
	sums := strings.Repeat("a", 64) + "  x\n"
	for name, tc := range map[string]struct{ orb, version, want string }{
		"examples of another major version": {packed, "2.0.0", "example x uses baton-ci/baton@1.0 but this release is 2.0.0"},
		"an orb without placeholders":       {strings.ReplaceAll(packed, "@BATON_PINNED_", "@X_"), "1.0.0", "no @BATON_PINNED_VERSION@ and @BATON_PINNED_SHA256SUMS@ placeholders"},
		"an orb that is not YAML":           {"a: [", "1.0.0", "not YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := fillOrb([]byte(tc.orb), tc.version, sums)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestVerifyDistRefusesAnArchiveThatChanged(t *testing.T) {
	dist := t.TempDir()
	_, err := writeArchives("1.4.0", fakeBuild(t), dist, defaultDate, platforms)
	require.NoError(t, err)
	_, err = verifyDist(dist, "1.5.0", platforms)
	assert.ErrorContains(t, err, "has no line for baton_1.5.0_darwin_amd64.tar.gz")
	require.NoError(t, os.WriteFile(filepath.Join(dist, "baton_1.4.0_linux_amd64.tar.gz"), []byte("changed"), 0o644))
	_, err = verifyDist(dist, "1.4.0", platforms)
	assert.ErrorContains(t, err, "baton_1.4.0_linux_amd64.tar.gz: SHA-256 is")
}

func TestRunExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &errOut))
	assert.Equal(t, 2, run([]string{"archive"}, &out, &errOut))
	assert.Equal(t, 2, run([]string{"publish"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "publish"`)
	assert.Equal(t, 0, run([]string{"--help"}, &out, &errOut))
}

func TestSourceDate(t *testing.T) {
	d, err := sourceDate("")
	require.NoError(t, err)
	assert.Equal(t, defaultDate, d)
	d, err = sourceDate("1700000000")
	require.NoError(t, err)
	assert.Equal(t, int64(1700000000), d.Unix())
	_, err = sourceDate("yesterday")
	assert.Error(t, err)
}
