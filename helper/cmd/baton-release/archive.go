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

// binaryEntry names the binary in platform's archive in SHA256SUMS, as the orb's installer
// looks it up.
func binaryEntry(version, platform string) string {
	return fmt.Sprintf("baton_%s_%s/%s", version, platform, binaryName(platform))
}

// writeArchives archives buildDir/PLATFORM/baton[.exe] for each of platforms, writes them and
// SHA256SUMS (the archives' sums, then their binaries') into dist and returns the archive names
// in SHA256SUMS order.
func writeArchives(version, buildDir, dist string, mtime time.Time, platforms []string) ([]string, error) {
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	var names []string
	var sums, binarySums strings.Builder
	for _, platform := range platforms {
		bin := filepath.Join(buildDir, platform, binaryName(platform))
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, exitcode.Usagef("no %s build: %v", platform, err)
		}
		var archive []byte
		if strings.HasPrefix(platform, "windows_") {
			archive, err = zipOne(binaryName(platform), data, mtime)
		} else {
			archive, err = tarGzOne(binaryName(platform), data, mtime)
		}
		if err != nil {
			return nil, fmt.Errorf("archiving %s: %w", bin, err)
		}
		name := archiveName(version, platform)
		if err := os.WriteFile(filepath.Join(dist, name), archive, 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&sums, "%s  %s\n", sha256Hex(archive), name)
		fmt.Fprintf(&binarySums, "%s  %s\n", sha256Hex(data), binaryEntry(version, platform))
		names = append(names, name)
	}
	return names, os.WriteFile(filepath.Join(dist, sumsFile), []byte(sums.String()+binarySums.String()), 0o644)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// archivedBinary is the executable in platform's archive: its only entry, a regular file named
// baton (baton.exe in the Windows zip).
func archivedBinary(archive []byte, platform string) ([]byte, error) {
	name := binaryName(platform)
	if strings.HasPrefix(platform, "windows_") {
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			return nil, err
		}
		if len(zr.File) != 1 || zr.File[0].Name != name || !zr.File[0].Mode().IsRegular() {
			return nil, fmt.Errorf("want one regular file %s in the zip", name)
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("want one regular file %s in the tar: %w", name, err)
	}
	if h.Name != name || h.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("want one regular file %s in the tar, found %q (type %q)", name, h.Name, h.Typeflag)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, err
	}
	if _, err := tr.Next(); err != io.EOF {
		return nil, fmt.Errorf("want one regular file %s in the tar, found more", name)
	}
	return data, nil
}

// tarGzOne is a gzip'd tar holding one executable: root-owned, mode 0755, time mtime, and a
// gzip header without name or time, so the same input always gives the same bytes.
func tarGzOne(name string, data []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o755,
		Size:     int64(len(data)),
		ModTime:  mtime,
		Uname:    "root",
		Gname:    "root",
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipOne is a zip holding one executable with a fixed time and mode.
func zipOne(name string, data []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseSums reads SHA256SUMS lines ("HEX  NAME") into name → lower-case hex.
func parseSums(text string) (map[string]string, error) {
	sums := map[string]string{}
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 || len(fields[0]) != 64 {
			return nil, fmt.Errorf("%s line %d: want \"SHA256  NAME\", got %q", sumsFile, i+1, line)
		}
		if _, err := hex.DecodeString(fields[0]); err != nil {
			return nil, fmt.Errorf("%s line %d: %q is not hex", sumsFile, i+1, fields[0])
		}
		sums[strings.TrimPrefix(fields[1], "*")] = strings.ToLower(fields[0])
	}
	return sums, nil
}

// verifyDist checks that dist holds an archive of version for each of platforms and that each,
// and the binary in it, matches dist's SHA256SUMS. It returns the SHA256SUMS lines of those
// archives, then of their binaries, in SHA256SUMS's order.
func verifyDist(dist, version string, platforms []string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dist, sumsFile))
	if err != nil {
		return "", exitcode.Usagef("%v (build the release first: scripts/build-release.sh %s %s)", err, version, dist)
	}
	sums, err := parseSums(string(raw))
	if err != nil {
		return "", err
	}
	var lines, binLines []string
	for _, platform := range platforms {
		name := archiveName(version, platform)
		want, ok := sums[name]
		if !ok {
			return "", exitcode.Usagef("%s/%s has no line for %s: was the release built as version %s?", dist, sumsFile, name, version)
		}
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			return "", exitcode.Usagef("%v", err)
		}
		if got := sha256Hex(data); got != want {
			return "", fmt.Errorf("%s/%s: SHA-256 is %s but %s says %s", dist, name, got, sumsFile, want)
		}
		entry := binaryEntry(version, platform)
		wantBin, ok := sums[entry]
		if !ok {
			return "", fmt.Errorf("%s/%s has no line for %s, the binary in %s: rebuild the release with scripts/build-release.sh", dist, sumsFile, entry, name)
		}
		bin, err := archivedBinary(data, platform)
		if err != nil {
			return "", fmt.Errorf("%s/%s: %w", dist, name, err)
		}
		if got := sha256Hex(bin); got != wantBin {
			return "", fmt.Errorf("%s/%s: its %s has SHA-256 %s but %s says %s", dist, name, binaryName(platform), got, sumsFile, wantBin)
		}
		lines = append(lines, want+"  "+name)
		binLines = append(binLines, wantBin+"  "+entry)
	}
	return strings.Join(append(lines, binLines...), "\n") + "\n", nil
}
