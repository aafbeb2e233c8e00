package cli

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment variables, defaults, allowed values, help text and placeholders live in the
// flagDocs methods, not in struct tags (see help.go): every flag and argument of every command
// has help, every flag taking a free-form value a placeholder, and no flagDocs names a flag that
// does not exist.
func TestEveryFlagIsDocumented(t *testing.T) {
	parser, err := Parser()
	require.NoError(t, err)
	model := parser.Model

	values := func(n *kong.Node) []*kong.Value {
		vs := slices.Clone(n.Positional)
		for _, f := range n.Flags {
			vs = append(vs, f.Value)
		}
		return vs
	}
	var nodes []*kong.Node
	require.NoError(t, kong.Visit(model.Node, func(v kong.Visitable, next kong.Next) error {
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
		for _, v := range values(n) {
			for _, key := range []string{"env", "default", "enum", "help", "placeholder"} {
				assert.False(t, v.Tag.Has(key), "%s --%s: %s belongs in flagDocs, not in the struct tag (help.go says why)", n.Name, v.Name, key)
			}
		}
	}

	document(model)
	assert.Equal(t, description, model.Help)
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
		for _, docs := range flagDocsOf(n.Target) {
			seen := map[string]bool{}
			for _, doc := range docs {
				assert.True(t, names[doc.name], "%s: flagDocs documents %q, which is not one of its flags", n.Name, doc.name)
				assert.False(t, seen[doc.name], "%s: one flagDocs documents %q twice", n.Name, doc.name)
				seen[doc.name] = true
			}
		}
	}
}

// A command's own entry for an embedded flag overrides only what it says, and help shows the
// default configure gave the flag.
func TestACommandsEntryOverridesWhatItSays(t *testing.T) {
	var c overridingCmd
	parser, err := kong.New(&c)
	require.NoError(t, err)
	configure(parser.Model)
	document(parser.Model)
	f := findFlag(parser.Model.Flags, "limit")
	require.NotNil(t, f)
	assert.Equal(t, []string{"BATON_TEST_LIMIT"}, f.Envs, "the embedded table's variable")
	assert.Equal(t, "N", f.PlaceHolder, "the embedded table's placeholder")
	assert.Equal(t, "At most N here (default: 3).", f.Help, "the command's own help, with the embedded default")
	assert.Equal(t, groupWaiting, f.Group.Title)
}

type overridingCmd struct {
	TabledFlags `embed:""`
}

func (overridingCmd) flagDocs() []flagDoc {
	return []flagDoc{{name: "limit", help: "At most N here (default: ${default})."}}
}

// taggedFlags and TabledFlags are the same flags, said in kong's tags and in a flagDocs table.
type taggedFlags struct {
	Mode  string        `env:"BATON_TEST_MODE" enum:"fast,slow" default:"fast"`
	Limit int           `env:"BATON_TEST_LIMIT" default:"3"`
	Wait  time.Duration `env:"BATON_TEST_WAIT" default:"5s"`
	Name  []string      `env:"BATON_TEST_NAME" sep:"none"`
}

type TabledFlags struct {
	Mode  string
	Limit int
	Wait  time.Duration
	Name  []string `sep:"none"`
}

func (TabledFlags) flagDocs() []flagDoc {
	return []flagDoc{
		{name: "mode", env: "BATON_TEST_MODE", enum: "fast,slow", def: "fast"},
		{name: "limit", env: "BATON_TEST_LIMIT", def: "3", placeholder: "N", help: "At most N (default: ${default}).", group: groupWaiting},
		{name: "wait", env: "BATON_TEST_WAIT", def: "5s"},
		{name: "name", env: "BATON_TEST_NAME"},
	}
}

// configure gives kong, from the tables, exactly what it would have read from the tags: the same
// values from the same arguments and environment, and the same refusals.
func TestFlagTablesActAsTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{name: "nothing given takes the defaults"},
		{name: "flags given win", args: []string{"--mode", "slow", "--limit", "7", "--wait", "1m", "--name", "a,b"}},
		{name: "the environment sets what is not given", env: map[string]string{"BATON_TEST_MODE": "slow", "BATON_TEST_LIMIT": "9", "BATON_TEST_NAME": "x"}},
		{name: "a flag wins over its variable", args: []string{"--limit", "1"}, env: map[string]string{"BATON_TEST_LIMIT": "2"}},
		{name: "a value outside the enum is refused", args: []string{"--mode", "medium"}},
		{name: "a variable outside the enum is refused", env: map[string]string{"BATON_TEST_MODE": "medium"}},
		{name: "a variable that is not a number is refused", env: map[string]string{"BATON_TEST_LIMIT": "many"}},
		{name: "an empty variable is an empty value", env: map[string]string{"BATON_TEST_WAIT": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var tagged taggedFlags
			var tabled TabledFlags
			tagParser, err := kong.New(&tagged)
			require.NoError(t, err)
			tableParser, err := kong.New(&tabled)
			require.NoError(t, err)
			configure(tableParser.Model)

			_, tagErr := tagParser.Parse(tc.args)
			_, tableErr := tableParser.Parse(tc.args)
			if tagErr != nil {
				require.Error(t, tableErr)
				assert.Equal(t, tagErr.Error(), tableErr.Error())
				return
			}
			require.NoError(t, tableErr)
			assert.Equal(t, TabledFlags(tagged), tabled)
		})
	}
}

// flagName names every flag and argument of every command as kong's own namer does.
func TestFlagNamesAreKongs(t *testing.T) {
	names := func(app *kong.Application) []string {
		var out []string
		require.NoError(t, kong.Visit(app.Node, func(v kong.Visitable, next kong.Next) error {
			switch v := v.(type) {
			case *kong.Node:
				out = append(out, "command "+v.Name)
			case *kong.Value:
				out = append(out, v.Name)
			}
			return next(nil)
		}))
		return out
	}
	ours, err := Parser()
	require.NoError(t, err)
	kongs, err := kong.New(&CLI{}, append([]kong.Option{kong.Name("baton")}, options(commands())...)...)
	require.NoError(t, err)
	assert.Equal(t, names(kongs.Model), names(ours.Model))
	assert.Greater(t, len(names(ours.Model)), 60)

	for field, want := range map[string]string{"ParametersJSON": "parameters-json", "DefinitionID": "definition-id",
		"MaxRequestsPerMinute": "max-requests-per-minute", "JSONFile": "json-file", "X": "x", "": ""} {
		assert.Equal(t, want, flagName(field), field)
	}
}

// `baton trigger --help` stays short enough to read, in an 80-column terminal: its flags are
// grouped and each says what it does in a line or two; explanations belong in the command's long
// help or in the README.
func TestTriggerHelpFitsOnAScreenOrTwo(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	var stdout, stderr strings.Builder
	code := Run([]string{"trigger", "--help"}, Deps{Stdout: &stdout, Stderr: &stderr, LookupEnv: func(string) (string, bool) { return "", false }})
	require.Equal(t, 0, code, stderr.String())
	lines := strings.Count(stdout.String(), "\n")
	assert.Less(t, lines, 160, "baton trigger --help is %d lines", lines)
	for _, group := range []string{groupTarget, groupParameters, groupWaiting, groupResults, groupDetails, groupConnection, groupDebug} {
		assert.Contains(t, stdout.String(), "\n"+group+"\n", "trigger --help lists its flags under %q", group)
	}
}
