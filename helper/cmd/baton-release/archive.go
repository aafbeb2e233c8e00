package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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

// writeArchives archives buildDir/PLATFORM/baton[.exe] for every platform, writes them and
// SHA256SUMS into dist and returns the archive names in SHA256SUMS order.
func writeArchives(version, buildDir, dist string, mtime time.Time) ([]string, error) {
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	var names []string
	var sums strings.Builder
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
		sum := sha256.Sum256(archive)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		names = append(names, name)
	}
	return names, os.WriteFile(filepath.Join(dist, sumsFile), []byte(sums.String()), 0o644)
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

// verifyDist checks that dist holds an archive of version for every platform and that each
// matches dist's SHA256SUMS. It returns the SHA256SUMS lines of those archives, in order.
func verifyDist(dist, version string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dist, sumsFile))
	if err != nil {
		return "", exitcode.Usagef("%v (build the release first: scripts/build-release.sh %s %s)", err, version, dist)
	}
	sums, err := parseSums(string(raw))
	if err != nil {
		return "", err
	}
	var lines []string
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
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			return "", fmt.Errorf("%s/%s: SHA-256 is %s but %s says %s", dist, name, got, sumsFile, want)
		}
		lines = append(lines, want+"  "+name)
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	return strings.Join(lines, "\n") + "\n", nil
}
