package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// thirdPartyNotices is THIRD_PARTY_NOTICES for the Go binary bin: the licenses of what is
// linked into it besides baton's own code, taken from what the binary itself records, so that
// each platform's archive names exactly what its binary holds. First the Go toolchain's (its
// runtime and standard library are in every binary; goroot is the toolchain that built bin),
// then every module of the build information, its license files read from the module cache
// (modcache, `go env GOMODCACHE`): LICENSE*, LICENCE*, COPYING* and NOTICE* in its root. A
// module without one stops the release: its code must not ship without its terms.
func thirdPartyNotices(bin []byte, goroot, modcache string) ([]byte, error) {
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return nil, fmt.Errorf("reading the binary's build information: %w", err)
	}
	if v, err := os.ReadFile(filepath.Join(goroot, "VERSION")); err == nil {
		if got, _, _ := strings.Cut(string(v), "\n"); got != info.GoVersion {
			return nil, fmt.Errorf("the binary was built by %s, but %s is %s", info.GoVersion, goroot, got)
		}
	}
	var b bytes.Buffer
	b.WriteString("baton is distributed under the MIT license, in LICENSE. Its binary also holds the\n" +
		"code below, each part under the license that follows its name.\n")
	if err := writeNotice(&b, "Go "+info.GoVersion+": the runtime and standard library, https://go.dev", goroot); err != nil {
		return nil, err
	}
	for _, dep := range info.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		dir := filepath.Join(modcache, escapeModule(dep.Path)+"@"+escapeModule(dep.Version))
		if err := writeNotice(&b, dep.Path+" "+dep.Version, dir); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// writeNotice appends a heading for what and the license files of dir.
func writeNotice(b *bytes.Buffer, what, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w (run go mod download)", what, err)
	}
	var names []string
	for _, e := range entries {
		upper := strings.ToUpper(e.Name())
		if e.Type().IsRegular() && slices.ContainsFunc([]string{"LICENSE", "LICENCE", "COPYING", "NOTICE"}, func(p string) bool {
			return strings.HasPrefix(upper, p)
		}) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: no LICENSE, COPYING or NOTICE file in %s", what, dir)
	}
	rule := strings.Repeat("=", 78)
	fmt.Fprintf(b, "\n%s\n%s\n%s\n", rule, what, rule)
	for _, name := range names { // ReadDir sorts them
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if len(names) > 1 {
			fmt.Fprintf(b, "\n--- %s\n", name)
		}
		b.WriteString("\n" + strings.TrimRight(string(data), "\n") + "\n")
	}
	return nil
}

// escapeModule is a module path or version as the module cache spells it: each upper-case
// letter as '!' and its lower case (golang.org/x/mod/module.EscapePath), so that paths
// differing only in case stay apart on case-insensitive file systems.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
