package main

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The placeholders orb/src/commands/install.yml carries until the orb is released, and the
// variables of its step that hold them, which orb/src/scripts/install.sh reads.
const (
	versionPlaceholder = "@BATON_PINNED_VERSION@"
	sumsPlaceholder    = "@BATON_PINNED_SHA256SUMS@"
	pinnedVersionKey   = "BATON_INSTALL_PINNED_VERSION"
	pinnedSumsKey      = "BATON_INSTALL_PINNED_SHA256SUMS"
	orbName            = "baton-ci/baton"
)

// fillOrb puts version and sums (release.pinned: SHA256SUMS's lines, then the binaries') in
// place of the placeholders of the packed orb, after checking that its usage examples show version's major version (orb-tools' RC011).
// It works on the YAML tree, so a multi-line value cannot break the document.
func fillOrb(packed []byte, version, sums string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(packed, &doc); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	if err := checkExampleMajor(&doc, version); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	walk(&doc, func(n *yaml.Node) {
		switch n.Value {
		case versionPlaceholder:
			counts[n.Value]++
			n.Value, n.Style = version, yaml.DoubleQuotedStyle
		case sumsPlaceholder:
			counts[n.Value]++
			n.Value, n.Style = sums, yaml.LiteralStyle
		}
	})
	if counts[versionPlaceholder] == 0 || counts[sumsPlaceholder] == 0 {
		return nil, fmt.Errorf("no %s and %s placeholders to fill: was it packed from orb/src?", versionPlaceholder, sumsPlaceholder)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(4) // as circleci orb pack writes it
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if bytes.Contains(out.Bytes(), []byte("@BATON_")) {
		return nil, fmt.Errorf("a placeholder is left after filling: %q", firstPlaceholder(out.String()))
	}
	return out.Bytes(), nil
}

// checkOrbPins checks a packed orb before it is published: it follows orb-tools' RC011, and
// every variable the installer reads its pins from holds exactly version and sums, so the orb
// installs nothing but the archives in dist and recognises nothing but their binaries.
func checkOrbPins(orb []byte, version, sums string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(orb, &doc); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	if err := checkExampleMajor(&doc, version); err != nil {
		return err
	}
	want := map[string]string{pinnedVersionKey: version, pinnedSumsKey: sums}
	found := map[string]int{}
	var wrong error
	walkPairs(&doc, func(key, value *yaml.Node) {
		w, ok := want[key.Value]
		if !ok || wrong != nil {
			return
		}
		found[key.Value]++
		switch {
		case value.Kind != yaml.ScalarNode:
			wrong = fmt.Errorf("%s (line %d) is not a string", key.Value, key.Line)
		case value.Value != w && key.Value == pinnedVersionKey:
			wrong = fmt.Errorf("%s (line %d) pins baton %q, not %s", key.Value, key.Line, value.Value, version)
		case value.Value != w:
			wrong = fmt.Errorf("%s (line %d) is not dist's sums: %s", key.Value, key.Line, firstDifference(value.Value, w))
		}
	})
	if wrong != nil {
		return wrong
	}
	for _, k := range []string{pinnedVersionKey, pinnedSumsKey} {
		if found[k] == 0 {
			return fmt.Errorf("no %s: the orb pins nothing (was it filled by scripts/pack-orb.sh?)", k)
		}
	}
	return nil
}

// firstDifference names the first line where got and want (lines of sums) differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, want %q", i+1, gl, wl)
		}
	}
	return "they differ" // unreachable: got != want
}

// walkPairs calls f on every key and value of every mapping under n.
func walkPairs(n *yaml.Node, f func(key, value *yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			f(n.Content[i], n.Content[i+1])
		}
	}
	for _, c := range n.Content {
		walkPairs(c, f)
	}
}

// walk calls f on every scalar node under n.
func walk(n *yaml.Node, f func(*yaml.Node)) {
	if n.Kind == yaml.ScalarNode {
		f(n)
	}
	for _, c := range n.Content {
		walk(c, f)
	}
}

func firstPlaceholder(s string) string {
	i := strings.Index(s, "@BATON_")
	end := strings.IndexAny(s[i+1:], "@\n")
	if end < 0 {
		return s[i:]
	}
	return s[i : i+end+2]
}

// checkExampleMajor is orb-tools' RC011: every usage example that imports this orb must show
// the major version being released, so the registry never documents an older major.
func checkExampleMajor(doc *yaml.Node, version string) error {
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	examples := lookup(doc, "examples")
	if examples == nil {
		return fmt.Errorf("the orb has no usage examples")
	}
	for i := 0; i+1 < len(examples.Content); i += 2 {
		name := examples.Content[i].Value
		orbs := lookup(examples.Content[i+1], "usage", "orbs")
		if orbs == nil {
			continue
		}
		for j := 0; j+1 < len(orbs.Content); j += 2 {
			ref := orbs.Content[j+1].Value
			at := strings.Index(ref, "@")
			if at < 0 || ref[:at] != orbName {
				continue
			}
			refMajor, _, _ := strings.Cut(ref[at+1:], ".")
			if refMajor != major {
				return fmt.Errorf("example %s uses %s but this release is %s: update the examples to @%s.x (orb-tools RC011)", name, ref, version, major)
			}
		}
	}
	return nil
}

// lookup follows mapping keys from n (a document or mapping node); nil when a key is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
