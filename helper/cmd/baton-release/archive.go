package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/exitcode"
)

// platforms are the OS_ARCH pairs baton is released for, which the orb's install script
// knows how to pick. The linux builds are static, so they serve glibc and musl (Alpine) alike.
var platforms = []string{"darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64", "windows_amd64"}

const sumsFile = "SHA256SUMS"

// archiveName is the release file of version for platform, as the install script computes it.
func archiveName(version, platform string) string {
	if strings.HasPrefix(platform, "windows_") {
		return fmt.Sprintf("baton_%s_%s.zip", version, platform)
	}
	return fmt.Sprintf("baton_%s_%s.tar.gz", version, platform)
}

// binaryName is the executable inside platform's archive.
func binaryName(platform string) string {
	if strings.HasPrefix(platform, "windows_") {
		return "baton.exe"
	}
	return "baton"
}

// binaryEntry names the binary in platform's archive among the sums the orb pins, as the orb's
// installer looks it up to recognise a binary already installed. It is not a file of the
// release, so it is never a line of SHA256SUMS: that file lists only what can be downloaded.
func binaryEntry(version, platform string) string {
	return fmt.Sprintf("baton_%s_%s/%s", version, platform, binaryName(platform))
}

// sumLine is one line of a SHA256SUMS file as sha256sum writes it: "HEX  NAME".
type sumLine struct{ Sum, Name string }

func (l sumLine) String() string { return l.Sum + "  " + l.Name }

// formatSums is lines as a SHA256SUMS file.
func formatSums(lines []sumLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String() + "\n")
	}
	return b.String()
}

// Besides the binary, every archive holds the notices that baton's license and those of the
// code linked into it ask to travel with every copy.
const (
	licenseFile = "LICENSE"             // baton's own license
	noticesFile = "THIRD_PARTY_NOTICES" // the Go runtime's and every linked module's licenses
)

// archiveEntries are the names of platform's archive's entries, in their order.
func archiveEntries(platform string) []string {
	return []string{binaryName(platform), licenseFile, noticesFile}
}

// archiveInputs are what the archives hold besides the binaries, and their entries' time.
type archiveInputs struct {
	License []byte
	Notices func(bin []byte) ([]byte, error) // THIRD_PARTY_NOTICES for this binary
	MTime   time.Time
}

// entry is one file of an archive.
type entry struct {
	Name string
	Mode int64
	Data []byte
}

// writeArchives archives buildDir/PLATFORM/baton[.exe] for each of platforms, with the
// license and the binary's notices, writes them and SHA256SUMS (one line per archive, in
// platforms' order) into dist and returns the archive names in that order. SHA256SUMS names
// only files written beside it, so that `sha256sum --strict -c SHA256SUMS` in dist checks
// every one of them.
func writeArchives(version, buildDir, dist string, in archiveInputs, platforms []string) ([]string, error) {
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	var names []string
	var sums []sumLine
	for _, platform := range platforms {
		bin := filepath.Join(buildDir, platform, binaryName(platform))
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, exitcode.Usagef("no %s build: %v", platform, err)
		}
		notices, err := in.Notices(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", bin, noticesFile, err)
		}
		entries := []entry{{binaryName(platform), 0o755, data}, {licenseFile, 0o644, in.License}, {noticesFile, 0o644, notices}}
		var archive []byte
		if strings.HasPrefix(platform, "windows_") {
			archive, err = zipOf(entries, in.MTime)
		} else {
			archive, err = tarGzOf(entries, in.MTime)
		}
		if err != nil {
			return nil, fmt.Errorf("archiving %s: %w", bin, err)
		}
		name := archiveName(version, platform)
		if err := os.WriteFile(filepath.Join(dist, name), archive, 0o644); err != nil {
			return nil, err
		}
		sums = append(sums, sumLine{sha256Hex(archive), name})
		names = append(names, name)
	}
	return names, os.WriteFile(filepath.Join(dist, sumsFile), []byte(formatSums(sums)), 0o644)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// archived reads platform's archive and checks that it holds exactly archiveEntries(platform),
// in that order, each a regular file; it returns their contents in that order.
func archived(archive []byte, platform string) ([][]byte, error) {
	want := archiveEntries(platform)
	var names []string
	var files [][]byte
	if strings.HasPrefix(platform, "windows_") {
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			return nil, err
		}
		for _, f := range zr.File {
			if !f.Mode().IsRegular() {
				return nil, fmt.Errorf("%s in the zip is not a regular file", f.Name)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s in the zip: %w", f.Name, err)
			}
			names, files = append(names, f.Name), append(files, data)
		}
	} else {
		gz, err := gzip.NewReader(bytes.NewReader(archive))
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading the tar: %w", err)
			}
			if h.Typeflag != tar.TypeReg {
				return nil, fmt.Errorf("%s in the tar is not a regular file (type %q)", h.Name, h.Typeflag)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("%s in the tar: %w", h.Name, err)
			}
			names, files = append(names, h.Name), append(files, data)
		}
	}
	if !slices.Equal(names, want) {
		return nil, fmt.Errorf("holds %q, want %q", names, want)
	}
	return files, nil
}

// archivedBinary is the executable in platform's archive.
func archivedBinary(archive []byte, platform string) ([]byte, error) {
	files, err := archived(archive, platform)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

// tarGzOf is a gzip'd tar of entries in their order: root-owned, time mtime, and a gzip header
// without name or time, so the same input always gives the same bytes.
func tarGzOf(entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.Name,
			Mode:     e.Mode,
			Size:     int64(len(e.Data)),
			ModTime:  mtime,
			Uname:    "root",
			Gname:    "root",
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipOf is a zip of entries in their order, with a fixed time and modes.
func zipOf(entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(os.FileMode(e.Mode))
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseSums reads a SHA256SUMS file as `sha256sum --strict -c` does: every line is
// "HEX  NAME" (or "HEX *NAME", binary mode), with a 64-digit hex sum and a name given once.
func parseSums(text string) ([]sumLine, error) {
	if text == "" {
		return nil, fmt.Errorf("%s is empty", sumsFile)
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("%s does not end with a newline", sumsFile)
	}
	var lines []sumLine
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		sum, name, ok := strings.Cut(line, " ")
		if ok && len(name) > 0 && (name[0] == ' ' || name[0] == '*') {
			name = name[1:]
		} else {
			ok = false
		}
		if _, err := hex.DecodeString(sum); !ok || len(sum) != 64 || err != nil || name == "" {
			return nil, fmt.Errorf("%s line %d: want \"SHA256  NAME\", got %q", sumsFile, i+1, line)
		}
		if seen[name] {
			return nil, fmt.Errorf("%s line %d: %s is listed twice", sumsFile, i+1, name)
		}
		seen[name] = true
		lines = append(lines, sumLine{strings.ToLower(sum), name})
	}
	return lines, nil
}

// orbFile is where scripts/pack-orb.sh writes the packed orb by default: it sits beside the
// archives but is not downloaded from the release (the orb registry serves it), and it pins
// SHA256SUMS's content, so SHA256SUMS cannot list it.
const orbFile = "orb.yml"

// release is a verified release directory: its archives' lines of SHA256SUMS and the sums of
// the binaries in them, both in platforms' order.
type release struct {
	archives, binaries []sumLine
}

// pinned is what the orb carries: SHA256SUMS's lines, then the binaries'.
func (r release) pinned() string { return formatSums(r.archives) + formatSums(r.binaries) }

// verifyDist checks dist against version and platforms: SHA256SUMS lists exactly one archive of
// version per platform, in platforms' order, and nothing else; each archive matches its line
// and holds just the binary; dist holds nothing else but the packed orb. It returns the sums.
func verifyDist(dist, version string, platforms []string) (release, error) {
	raw, err := os.ReadFile(filepath.Join(dist, sumsFile))
	if err != nil {
		return release{}, exitcode.Usagef("%v (build the release first: scripts/build-release.sh %s %s)", err, version, dist)
	}
	lines, err := parseSums(string(raw))
	if err != nil {
		return release{}, fmt.Errorf("%s/%w", dist, err)
	}
	want := map[string]bool{sumsFile: true, orbFile: true}
	listed := map[string]sumLine{}
	for _, l := range lines {
		listed[l.Name] = l
	}
	var rel release
	for _, platform := range platforms {
		name := archiveName(version, platform)
		want[name] = true
		line, ok := listed[name]
		if !ok {
			return release{}, exitcode.Usagef("%s/%s has no line for %s: was the release built as version %s?", dist, sumsFile, name, version)
		}
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			return release{}, exitcode.Usagef("%v", err)
		}
		if got := sha256Hex(data); got != line.Sum {
			return release{}, fmt.Errorf("%s/%s: SHA-256 is %s but %s says %s", dist, name, got, sumsFile, line.Sum)
		}
		bin, err := archivedBinary(data, platform)
		if err != nil {
			return release{}, fmt.Errorf("%s/%s: %w", dist, name, err)
		}
		rel.archives = append(rel.archives, line)
		rel.binaries = append(rel.binaries, sumLine{sha256Hex(bin), binaryEntry(version, platform)})
	}
	for i, l := range lines {
		if !want[l.Name] || l.Name == sumsFile || l.Name == orbFile {
			return release{}, fmt.Errorf("%s/%s line %d lists %s, which is not an archive of baton %s: `sha256sum -c` must find every file it names; rebuild with scripts/build-release.sh", dist, sumsFile, i+1, l.Name, version)
		}
		if l != rel.archives[i] {
			return release{}, fmt.Errorf("%s/%s line %d is %s, want %s: the archives in the platforms' order", dist, sumsFile, i+1, l.Name, rel.archives[i].Name)
		}
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		return release{}, err
	}
	for _, e := range entries {
		if !want[e.Name()] {
			return release{}, fmt.Errorf("%s/%s is not part of baton %s (%s does not list it): build the release into an empty directory", dist, e.Name(), version, sumsFile)
		}
	}
	return rel, nil
}
