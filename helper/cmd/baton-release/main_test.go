package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	_, err := writeArchives("1.2.3", build, first, testInputs, platforms)
	require.NoError(t, err)
	// Another time of day, other file times and modes: the same bytes.
	for _, p := range platforms {
		f := filepath.Join(build, p, binaryName(p))
		require.NoError(t, os.Chtimes(f, time.Now(), time.Now().Add(-time.Hour)))
		require.NoError(t, os.Chmod(f, 0o755))
	}
	time.Sleep(1100 * time.Millisecond) // a gzip or zip header with the wall clock would now differ
	_, err = writeArchives("1.2.3", build, second, testInputs, platforms)
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

// testInputs stand for LICENSE and THIRD_PARTY_NOTICES in archives of fake binaries, which
// have no build information to take notices from.
var testInputs = archiveInputs{
	License: []byte("MIT License (test)\n"),
	Notices: func(bin []byte) ([]byte, error) { return []byte(fmt.Sprintf("notices for %d bytes\n", len(bin))), nil },
	MTime:   defaultDate,
}

func TestArchivesHoldTheBinaryAndItsNoticesRootOwned(t *testing.T) {
	dist := t.TempDir()
	_, err := writeArchives("1.2.3", fakeBuild(t), dist, testInputs, platforms)
	require.NoError(t, err)

	raw, err := os.ReadFile(filepath.Join(dist, "baton_1.2.3_linux_arm64.tar.gz"))
	require.NoError(t, err)
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Empty(t, gz.Name, "no file name in the gzip header")
	assert.True(t, gz.ModTime.IsZero() || gz.ModTime.Unix() == 0, "no time in the gzip header")
	tr := tar.NewReader(gz)
	want := []struct {
		name string
		mode int64
		body string
	}{
		{"baton", 0o755, "binary for linux_arm64"},
		{"LICENSE", 0o644, "MIT License (test)\n"},
		{"THIRD_PARTY_NOTICES", 0o644, "notices for 22 bytes\n"},
	}
	for _, w := range want {
		hdr, err := tr.Next()
		require.NoError(t, err)
		assert.Equal(t, w.name, hdr.Name)
		assert.Equal(t, w.mode, hdr.Mode, w.name)
		assert.Equal(t, 0, hdr.Uid)
		assert.Equal(t, 0, hdr.Gid)
		assert.Equal(t, "root", hdr.Uname)
		assert.Equal(t, defaultDate, hdr.ModTime.UTC())
		body, _ := io.ReadAll(tr)
		assert.Equal(t, w.body, string(body))
	}
	_, err = tr.Next()
	assert.Equal(t, io.EOF, err, "nothing else")

	zr, err := zip.OpenReader(filepath.Join(dist, "baton_1.2.3_windows_amd64.zip"))
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 3)
	for i, name := range []string{"baton.exe", "LICENSE", "THIRD_PARTY_NOTICES"} {
		assert.Equal(t, name, zr.File[i].Name)
		assert.Equal(t, defaultDate, zr.File[i].Modified.UTC())
	}
	assert.Equal(t, os.FileMode(0o755), zr.File[0].Mode().Perm())
	assert.Equal(t, os.FileMode(0o644), zr.File[1].Mode().Perm())
}

func TestSHA256SUMSListsOnlyTheArchivesBesideIt(t *testing.T) {
	dist := t.TempDir()
	_, err := writeArchives("1.2.3", fakeBuild(t), dist, testInputs, platforms)
	require.NoError(t, err)
	sums, err := os.ReadFile(filepath.Join(dist, sumsFile))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n")
	require.Len(t, lines, len(platforms), "one line per archive, nothing else")
	for i, p := range platforms {
		assert.Regexp(t, `^[0-9a-f]{64}  `+regexp.QuoteMeta(archiveName("1.2.3", p))+`$`, lines[i])
	}

	// The check everyone runs on a download, with coreutils' own sha256sum.
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum is not installed")
	}
	check := exec.Command("sha256sum", "--strict", "-c", sumsFile)
	check.Dir = dist
	out, err := check.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, len(platforms), strings.Count(string(out), ": OK\n"), "%s", out)
}

func TestOnePlatformCanBeReleasedForTheDemo(t *testing.T) {
	build, dist := fakeBuild(t), t.TempDir()
	only, err := parsePlatforms("linux_amd64")
	require.NoError(t, err)
	names, err := writeArchives("1.2.3", build, dist, testInputs, only)
	require.NoError(t, err)
	assert.Equal(t, []string{"baton_1.2.3_linux_amd64.tar.gz"}, names)
	rel, err := verifyDist(dist, "1.2.3", only)
	require.NoError(t, err)
	assert.Equal(t, []string{"baton_1.2.3_linux_amd64.tar.gz", "baton_1.2.3_linux_amd64/baton"},
		[]string{rel.archives[0].Name, rel.binaries[0].Name})
	assert.Len(t, strings.Split(strings.TrimSpace(rel.pinned()), "\n"), 2)
	_, err = verifyDist(dist, "1.2.3", platforms)
	assert.ErrorContains(t, err, "has no line for baton_1.2.3_darwin_amd64.tar.gz", "a release still needs every platform")
	_, err = parsePlatforms("linux_amd64,plan9_386")
	assert.ErrorContains(t, err, `--platforms: "plan9_386" is not one of darwin_amd64`)
}

func TestArchivedWantsExactlyTheBinaryAndItsNotices(t *testing.T) {
	bin, license, notices := entry{"baton", 0o755, []byte("x")}, entry{"LICENSE", 0o644, []byte("l")}, entry{"THIRD_PARTY_NOTICES", 0o644, []byte("n")}
	exe := entry{"baton.exe", 0o755, []byte("y")}
	tarOf := func(entries ...entry) []byte {
		data, err := tarGzOf(entries, defaultDate)
		require.NoError(t, err)
		return data
	}
	var link bytes.Buffer
	gz := gzip.NewWriter(&link)
	tw := tar.NewWriter(gz)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "baton", Linkname: "/bin/sh"}))
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	zipped, err := zipOf([]entry{exe, license, notices}, defaultDate)
	require.NoError(t, err)
	cases := []struct {
		name, platform string
		archive        []byte
		want           string
	}{
		{"the binary, LICENSE and THIRD_PARTY_NOTICES in a tar pass", "linux_amd64", tarOf(bin, license, notices), ""},
		{"the same in a zip pass", "windows_amd64", zipped, ""},
		{"another first entry is refused", "linux_amd64", tarOf(entry{"sh", 0o755, nil}, license, notices), `holds ["sh" "LICENSE" "THIRD_PARTY_NOTICES"], want ["baton" "LICENSE" "THIRD_PARTY_NOTICES"]`},
		{"an archive without its notices is refused", "linux_amd64", tarOf(bin), `holds ["baton"], want`},
		{"an entry more is refused", "linux_amd64", tarOf(bin, license, notices, entry{"install.sh", 0o755, nil}), `holds ["baton" "LICENSE" "THIRD_PARTY_NOTICES" "install.sh"]`},
		{"entries in another order are refused", "linux_amd64", tarOf(license, bin, notices), `holds ["LICENSE" "baton" "THIRD_PARTY_NOTICES"]`},
		{"a symbolic link is refused", "linux_amd64", link.Bytes(), "baton in the tar is not a regular file"},
		{"a zip is not a tar", "linux_amd64", zipped, "gzip: invalid header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := archivedBinary(tc.archive, tc.platform)
			if tc.want != "" {
				assert.ErrorContains(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, got)
		})
	}
}

func TestAMissingPlatformIsRefused(t *testing.T) {
	build := fakeBuild(t)
	require.NoError(t, os.RemoveAll(filepath.Join(build, "darwin_arm64")))
	_, err := writeArchives("1.2.3", build, t.TempDir(), testInputs, platforms)
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
	_, err := writeArchives("1.4.0", fakeBuild(t), dist, testInputs, platforms)
	require.NoError(t, err)
	rel, err := verifyDist(dist, "1.4.0", platforms)
	require.NoError(t, err)
	out, err := fillOrb([]byte(packed), "1.4.0", rel.pinned())
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
	sums, err := os.ReadFile(filepath.Join(dist, sumsFile))
	require.NoError(t, err)
	pinned := env["BATON_INSTALL_PINNED_SHA256SUMS"]
	require.True(t, strings.HasPrefix(pinned, string(sums)), "SHA256SUMS first:\n%s", pinned)
	binaries := strings.Split(strings.TrimSuffix(strings.TrimPrefix(pinned, string(sums)), "\n"), "\n")
	require.Len(t, binaries, len(platforms), "then one line per binary")
	assert.Equal(t, sha256Hex([]byte("binary for darwin_amd64"))+"  baton_1.4.0_darwin_amd64/baton", binaries[0])
	assert.Equal(t, sha256Hex([]byte("binary for windows_amd64"))+"  baton_1.4.0_windows_amd64/baton.exe", binaries[len(binaries)-1])
	assert.Contains(t, string(out), "BATON_INSTALL_PINNED_SHA256SUMS: |\n", "the sums stay readable as lines")
	assert.NoError(t, checkOrbPins(out, "1.4.0", rel.pinned()))
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
	_, err := writeArchives("1.4.0", fakeBuild(t), dist, testInputs, platforms)
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
	dist := t.TempDir()
	_, err := writeArchives("1.2.3", fakeBuild(t), dist, testInputs, platforms)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dist, "baton_1.2.3_linux_amd64.tar.gz"), []byte("changed"), 0o644))
	errOut.Reset()
	assert.Equal(t, 1, run([]string{"verify", "--version", "1.2.3", "--dist", dist}, &out, &errOut), "a release that fails a check")
	assert.Contains(t, errOut.String(), "baton_1.2.3_linux_amd64.tar.gz: SHA-256 is")
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

func TestParseSumsReadsWhatSha256sumStrictAccepts(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("B", 64)
	cases := []struct {
		name, text string
		want       []sumLine
		err        string
	}{
		{"text-mode lines are read in order", a + "  x.tar.gz\n" + b + "  y.zip\n", []sumLine{{a, "x.tar.gz"}, {strings.ToLower(b), "y.zip"}}, ""},
		{"a binary-mode line is read too", a + " *x.tar.gz\n", []sumLine{{a, "x.tar.gz"}}, ""},
		{"an empty file is refused", "", nil, "SHA256SUMS is empty"},
		{"a last line without a newline is refused", a + "  x\n" + a + "  y", nil, "does not end with a newline"},
		{"a blank line is refused", a + "  x\n\n", nil, `line 2: want "SHA256  NAME", got ""`},
		{"one space before the name is refused", a + " x\n", nil, "line 1: want"},
		{"a short sum is refused", "abc  x\n", nil, "line 1: want"},
		{"a sum that is not hex is refused", strings.Repeat("g", 64) + "  x\n", nil, "line 1: want"},
		{"a line without a name is refused", a + "  \n", nil, "line 1: want"},
		{"a name listed twice is refused", a + "  x\n" + a + "  x\n", nil, "line 2: x is listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSums(tc.text)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestVerifyDistRefusesADirectoryThatIsNotExactlyTheRelease(t *testing.T) {
	edit := func(f func(lines []string) []string) func(t *testing.T, dist string) {
		return func(t *testing.T, dist string) {
			raw, err := os.ReadFile(filepath.Join(dist, sumsFile))
			require.NoError(t, err)
			lines := f(strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n"))
			require.NoError(t, os.WriteFile(filepath.Join(dist, sumsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
		}
	}
	write := func(name, data string) func(t *testing.T, dist string) {
		return func(t *testing.T, dist string) {
			require.NoError(t, os.WriteFile(filepath.Join(dist, name), []byte(data), 0o644))
		}
	}
	leftOver, err := tarGzOf([]entry{{"baton", 0o755, []byte("x")}}, defaultDate)
	require.NoError(t, err)
	cases := []struct {
		name  string
		spoil func(t *testing.T, dist string)
		want  string
	}{
		{"a release as built passes", func(*testing.T, string) {}, ""},
		{"the packed orb beside it is allowed", write(orbFile, "version: 2.1\n"), ""},
		{"a line for a binary inside an archive is refused: sha256sum -c would not find it", edit(func(l []string) []string {
			return append(l, strings.Repeat("0", 64)+"  baton_1.2.3_linux_amd64/baton")
		}), "line 6 lists baton_1.2.3_linux_amd64/baton, which is not an archive of baton 1.2.3"},
		{"a line for SHA256SUMS itself is refused", edit(func(l []string) []string {
			return append(l, strings.Repeat("0", 64)+"  SHA256SUMS")
		}), "lists SHA256SUMS, which is not an archive"},
		{"a missing line is refused", edit(func(l []string) []string { return l[1:] }),
			"has no line for baton_1.2.3_darwin_amd64.tar.gz"},
		{"lines out of order are refused", edit(func(l []string) []string {
			l[0], l[1] = l[1], l[0]
			return l
		}), "line 1 is baton_1.2.3_darwin_arm64.tar.gz, want baton_1.2.3_darwin_amd64.tar.gz"},
		{"a changed archive is refused", write("baton_1.2.3_linux_amd64.tar.gz", "changed"),
			"baton_1.2.3_linux_amd64.tar.gz: SHA-256 is"},
		{"an archive that holds something else is refused", func(t *testing.T, dist string) {
			other, err := tarGzOf([]entry{{"sh", 0o755, []byte("x")}}, defaultDate)
			require.NoError(t, err)
			write("baton_1.2.3_linux_amd64.tar.gz", string(other))(t, dist)
			edit(func(l []string) []string {
				l[2] = sha256Hex(other) + "  baton_1.2.3_linux_amd64.tar.gz"
				return l
			})(t, dist)
		}, `holds ["sh"], want ["baton" "LICENSE" "THIRD_PARTY_NOTICES"]`},
		{"another version's archive left in the directory is refused", write("baton_1.2.2_linux_amd64.tar.gz", string(leftOver)),
			"baton_1.2.2_linux_amd64.tar.gz is not part of baton 1.2.3 (SHA256SUMS does not list it)"},
		{"a directory inside is refused", func(t *testing.T, dist string) {
			require.NoError(t, os.Mkdir(filepath.Join(dist, "again"), 0o755))
		}, "again is not part of baton 1.2.3"},
		{"an unreadable SHA256SUMS is refused", write(sumsFile, "not sums\n"), `SHA256SUMS line 1: want "SHA256  NAME"`},
		{"no SHA256SUMS is refused", func(t *testing.T, dist string) {
			require.NoError(t, os.Remove(filepath.Join(dist, sumsFile)))
		}, "build the release first: scripts/build-release.sh 1.2.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dist := t.TempDir()
			_, err := writeArchives("1.2.3", fakeBuild(t), dist, testInputs, platforms)
			require.NoError(t, err)
			tc.spoil(t, dist)
			rel, err := verifyDist(dist, "1.2.3", platforms)
			if tc.want != "" {
				assert.ErrorContains(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Len(t, rel.archives, len(platforms))
			assert.Len(t, rel.binaries, len(platforms))
		})
	}
}

func TestCheckOrbPinsWantsExactlyTheReleaseInDist(t *testing.T) {
	dist := t.TempDir()
	_, err := writeArchives("1.4.0", fakeBuild(t), dist, testInputs, platforms)
	require.NoError(t, err)
	rel, err := verifyDist(dist, "1.4.0", platforms)
	require.NoError(t, err)
	orb, err := fillOrb([]byte(packed), "1.4.0", rel.pinned())
	require.NoError(t, err)
	withoutLastBinary := formatSums(rel.archives) + formatSums(rel.binaries[:len(rel.binaries)-1])
	withAnExtraLine := rel.pinned() + strings.Repeat("0", 64) + "  baton_1.4.0_plan9_386.tar.gz\n"
	cases := []struct {
		name, orb, version, sums, want string
	}{
		{"the orb filled from dist passes", string(orb), "1.4.0", rel.pinned(), ""},
		{"another version is refused", string(orb), "1.4.1", rel.pinned(), `BATON_INSTALL_PINNED_VERSION (line 18) pins baton "1.4.0", not 1.4.1`},
		{"a binary's line missing from the orb is refused", regexp.MustCompile(`(?m)^ *`+rel.binaries[4].String()+`\n`).ReplaceAllString(string(orb), ""), "1.4.0", rel.pinned(),
			`BATON_INSTALL_PINNED_SHA256SUMS (line 7) is not dist's sums: line 10 is "", want "` + rel.binaries[4].String() + `"`},
		{"sums the orb lacks are refused", string(orb), "1.4.0", withAnExtraLine, "is not dist's sums: line 11"},
		{"an orb missing a line dist has is refused", string(orb), "1.4.0", withoutLastBinary, "is not dist's sums: line 10"},
		{"an orb without the pins is refused", "version: 2.1\nexamples: {}\n", "1.4.0", rel.pinned(), "no BATON_INSTALL_PINNED_VERSION"},
		{"an example of another major is refused", string(orb), "2.0.0", rel.pinned(), "example x uses baton-ci/baton@1.0 but this release is 2.0.0"},
		{"a pin that is not a string is refused", strings.Replace(string(orb), "BATON_INSTALL_PINNED_VERSION: \"1.4.0\"", "BATON_INSTALL_PINNED_VERSION: [1]", 1), "1.4.0", rel.pinned(), "is not a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOrbPins([]byte(tc.orb), tc.version, tc.sums)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
