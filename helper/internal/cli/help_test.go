package cli

import (
	"slices"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Help text and placeholders live in the flagDocs methods, not in struct tags (see help.go):
// every flag and argument of every command has help, every flag taking a free-form value a
// placeholder, and no flagDocs names a flag that does not exist.
func TestEveryFlagIsDocumented(t *testing.T) {
	var root CLI
	parser, err := kong.New(&root, append([]kong.Option{kong.Name("baton")}, AllCommands()...)...)
	require.NoError(t, err)

	values := func(n *kong.Node) []*kong.Value {
		vs := slices.Clone(n.Positional)
		for _, f := range n.Flags {
			vs = append(vs, f.Value)
		}
		return vs
	}
	var nodes []*kong.Node
	require.NoError(t, kong.Visit(parser.Model.Node, func(v kong.Visitable, next kong.Next) error {
		if n, ok := v.(*kong.Node); ok {
			nodes = append(nodes, n)
		}
		return next(nil)
	}))
	require.Len(t, nodes, 1+len(commands()))
	for _, n := range nodes {
		for _, v := range values(n) {
			if v.Name != "help" { // kong's own flag
				assert.Empty(t, v.Help, "%s --%s: help belongs in flagDocs, not in the struct tag (help.go says why)", n.Name, v.Name)
			}
		}
		for _, f := range n.Flags {
			if f.Name != "help" {
				assert.Empty(t, f.PlaceHolder, "%s --%s: the placeholder belongs in flagDocs, not in the struct tag", n.Name, f.Name)
			}
		}
	}

	document(parser.Model)
	assert.Equal(t, description, parser.Model.Help)
	for _, n := range nodes {
		for _, f := range n.Flags {
			if !f.IsBool() && f.Enum == "" && f.Name != "help" {
				assert.NotEmpty(t, f.PlaceHolder, "%s --%s takes a value: give it a placeholder in flagDocs", n.Name, f.Name)
			}
		}
		names := map[string]bool{}
		for _, v := range values(n) {
			names[v.Name] = true
			assert.NotEmpty(t, v.Help, "%s --%s has no help: add it to the flagDocs of its struct", n.Name, v.Name)
			assert.NotContains(t, v.Help, "${default}", "%s --%s", n.Name, v.Name)
			if v.Default != "" {
				assert.Contains(t, v.Help, "default: "+v.Default, "%s --%s shows its default", n.Name, v.Name)
			}
		}
		for name := range flagDocsOf(n.Target) {
			assert.True(t, names[name], "%s: flagDocs documents %q, which is not one of its flags", n.Name, name)
		}
	}
}

func TestDocumentFillsInDefaults(t *testing.T) {
	v := &kong.Value{Name: "timeout", Default: "30m"}
	documentValue(v, map[string]flagDoc{"timeout": {"DURATION", "Stop after DURATION (default: ${default})."}})
	assert.Equal(t, "Stop after DURATION (default: 30m).", v.Help)

	undocumented := &kong.Value{Name: "other", Help: ""}
	documentValue(undocumented, map[string]flagDoc{"timeout": {"", "x"}})
	assert.Empty(t, undocumented.Help)
}
