package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binaryWithADependency builds, offline and with the go build arguments given, a program
// linking github.com/tidwall/match (which baton depends on, so the module cache has it).
func binaryWithADependency(t *testing.T, args ...string) []byte {
	t.Helper()
	sums, err := os.ReadFile("../../../go.sum")
	require.NoError(t, err)
	var matchSums []string
	for _, line := range strings.Split(string(sums), "\n") {
		if strings.HasPrefix(line, "github.com/tidwall/match v1.1.1") {
			matchSums = append(matchSums, line)
		}
	}
	require.NotEmpty(t, matchSums, "go.sum has github.com/tidwall/match v1.1.1")
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module fake\n\ngo 1.22\n\nrequire github.com/tidwall/match v1.1.1\n",
		"go.sum":  strings.Join(matchSums, "\n") + "\n",
		"main.go": "package main\n\nimport \"github.com/tidwall/match\"\n\nfunc main() { println(match.Match(\"baton\", \"b*\")) }\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	build := exec.Command("go", append(append([]string{"build", "-trimpath", "-o", "fake"}, args...), ".")...)
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	bin, err := os.ReadFile(filepath.Join(dir, "fake"))
	require.NoError(t, err)
	return bin
}

func TestThirdPartyNoticesNameWhatTheBinaryLinks(t *testing.T) {
	bin, goroot, modcache := binaryWithADependency(t), goEnv(t, "GOROOT"), goEnv(t, "GOMODCACHE")
	goLicense, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	require.NoError(t, err)
	matchLicense, err := os.ReadFile(filepath.Join(modcache, "github.com/tidwall/match@v1.1.1/LICENSE"))
	require.NoError(t, err)

	notices, err := thirdPartyNotices(bin, goroot, modcache)
	require.NoError(t, err)
	text := string(notices)
	assert.True(t, strings.HasPrefix(text, "baton is distributed under the MIT license, in LICENSE."))
	assert.Contains(t, text, "\nGo go1.")
	assert.Contains(t, text, strings.TrimSpace(string(goLicense)))
	assert.Contains(t, text, "\ngithub.com/tidwall/match v1.1.1\n")
	assert.Contains(t, text, strings.TrimSpace(string(matchLicense)))
	assert.Less(t, strings.Index(text, "\nGo go1."), strings.Index(text, "github.com/tidwall/match v1.1.1"), "Go first, then the modules")
	again, err := thirdPartyNotices(bin, goroot, modcache)
	require.NoError(t, err)
	assert.Equal(t, notices, again, "the same binary gives the same bytes")

	t.Run("a module without a license file stops the release", func(t *testing.T) {
		bare := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(bare, "github.com/tidwall/match@v1.1.1"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bare, "github.com/tidwall/match@v1.1.1/match.go"), []byte("package match\n"), 0o644))
		_, err := thirdPartyNotices(bin, goroot, bare)
		assert.ErrorContains(t, err, "github.com/tidwall/match v1.1.1: no LICENSE, COPYING or NOTICE file in")
	})
	t.Run("a module missing from the cache stops the release", func(t *testing.T) {
		_, err := thirdPartyNotices(bin, goroot, t.TempDir())
		assert.ErrorContains(t, err, "github.com/tidwall/match v1.1.1: open")
		assert.ErrorContains(t, err, "(run go mod download)")
	})
	t.Run("another toolchain's GOROOT is refused", func(t *testing.T) {
		other := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(other, "VERSION"), []byte("go1.0\ntime 2012-03-28\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(other, "LICENSE"), goLicense, 0o644))
		_, err := thirdPartyNotices(bin, other, modcache)
		assert.ErrorContains(t, err, "but "+other+" is go1.0")
	})
	t.Run("a file that is not a Go binary is refused", func(t *testing.T) {
		_, err := thirdPartyNotices([]byte("#!/bin/sh\n"), goroot, modcache)
		assert.ErrorContains(t, err, "reading the binary's build information")
	})
}

func TestLicenseFilesAreAllFoundAndLabelled(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"LICENSE": "MIT\n", "NOTICE": "Copyright notice\n", "COPYING.md": "more\n", "README.md": "no\n", "license-apache.txt": "Apache\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "LICENSES"), 0o755))
	var b bytes.Buffer
	require.NoError(t, writeNotice(&b, "example.com/m v1.0.0", dir))
	text := b.String()
	assert.Contains(t, text, "\nexample.com/m v1.0.0\n")
	for _, want := range []string{"--- COPYING.md\n\nmore\n", "--- LICENSE\n\nMIT\n", "--- NOTICE\n\nCopyright notice\n", "--- license-apache.txt\n\nApache\n"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "README")
	assert.NotContains(t, text, "--- LICENSES", "a directory is not a license file")
}

func TestEscapeModuleIsTheModuleCachesSpelling(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/tidwall/match":   "github.com/tidwall/match",
		"github.com/BurntSushi/toml": "github.com/!burnt!sushi/toml",
		"v1.0.0-RC1":                 "v1.0.0-!r!c1",
		"go.yaml.in/yaml/v3":         "go.yaml.in/yaml/v3",
	} {
		assert.Equal(t, want, escapeModule(in), in)
	}
}
