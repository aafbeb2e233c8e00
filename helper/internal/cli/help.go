package cli

import (
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
)

// Everything about a flag but its Go field lives in a table beside its struct (a flagDocs
// method), not in the struct tags: the environment variable that sets it, its default and
// allowed values, and how --help shows it. kong parses every tag rune by rune and interpolates
// every string in it on every run; with help text in the tags kong.New for trigger took twice
// as long, and with the variables and defaults too it still cost a cold trigger about 0.3 ms
// (make bench counts every start-up). The tags keep only what shapes the model (embed, arg,
// name, sep, short). configure writes each table into kong's model after it is built, on every
// run; document adds what only --help shows, when help is printed. TestEveryFlagIsDocumented
// keeps the tables and the structs in step.

// flagDoc is everything about one flag (or argument) but its Go field.
type flagDoc struct {
	name        string // the flag's name, as kong names it
	env         string // the environment variable that sets it when it is not given; "" none
	def         string // its default, as it would be written on the command line
	enum        string // the values it allows, comma-separated (kong's enum:)
	placeholder string // how --help names its value: --project=SLUG; "" for kong's own
	help        string // its line in --help, where ${default} stands for its default
	group       string // the --help section it is listed under (one of the group constants)
}

// The sections of a command's --help, shown in the order their first flag comes in the
// command's struct: what is triggered first, how to reach CircleCI and debugging last.
const (
	groupTarget     = "Target:"
	groupParameters = "Parameters:"
	groupWaiting    = "Waiting:"
	groupResults    = "Results and outputs:"
	groupDetails    = "Failure details:"
	groupConnection = "Connection:"
	groupDebug      = "Debugging:"
)

// documented is a flag struct with a flagDocs method: everything about each of its flags.
type documented interface {
	flagDocs() []flagDoc
}

// configure writes what the flag tables say about the environment, defaults and allowed values
// into kong's model, where kong's Parse and Validate read them, exactly as kong would have from
// env:, default: and enum: tags.
func configure(app *kong.Application) {
	eachDoc(app, func(v *kong.Value, f *kong.Flag, doc flagDoc) {
		if doc.env != "" {
			v.Tag.Envs = []string{doc.env}
			if f != nil {
				f.Envs = v.Tag.Envs
			}
		}
		if doc.def != "" {
			v.HasDefault, v.Default = true, doc.def
			v.Tag.HasDefault, v.Tag.Default = true, doc.def
		}
		if doc.enum != "" {
			v.Enum, v.Tag.Enum = doc.enum, doc.enum
		}
	})
}

// eachDoc calls apply with every flag and argument of every command and each table entry about
// it, the tables of embedded flag structs before the command's own, so that a command's entry
// (its own help for a shared flag, say) overrides what it sets: apply sets only what an entry
// says. f is nil for an argument. The tables are short lists, read once per run: a scan costs
// less than the maps it would take to index them.
func eachDoc(app *kong.Application, apply func(v *kong.Value, f *kong.Flag, doc flagDoc)) {
	_ = kong.Visit(app.Node, func(v kong.Visitable, next kong.Next) error {
		node, ok := v.(*kong.Node)
		if !ok {
			return next(nil)
		}
		for _, docs := range flagDocsOf(node.Target) {
			for _, doc := range docs {
				if f := findFlag(node.Flags, doc.name); f != nil {
					apply(f.Value, f, doc)
				} else if arg := findValue(node.Positional, doc.name); arg != nil {
					apply(arg, nil, doc)
				}
			}
		}
		return next(nil)
	})
}

func findFlag(flags []*kong.Flag, name string) *kong.Flag {
	for _, f := range flags {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func findValue(values []*kong.Value, name string) *kong.Value {
	for _, v := range values {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// flagName is kong's flag name for a field (ParametersJSON → parameters-json), without the
// Unicode word splitting kong does for it rune by rune on every run: baton's field names are
// ASCII letters. TestFlagNamesAreKongs holds it to kong's own.
func flagName(field string) string {
	upper := func(i int) bool { return i >= 0 && i < len(field) && 'A' <= field[i] && field[i] <= 'Z' }
	lower := func(i int) bool { return i >= 0 && i < len(field) && 'a' <= field[i] && field[i] <= 'z' }
	var b strings.Builder
	b.Grow(len(field) + 4)
	for i := range len(field) {
		c := field[i]
		if upper(i) {
			// A word starts at a capital after a small letter, or at the last capital of an
			// acronym that a small letter follows (JSONFile → json-file).
			if lower(i-1) || upper(i-1) && lower(i+1) {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// printHelp is kong's help printer, given the text it needs first.
func printHelp(options kong.HelpOptions, ctx *kong.Context) error {
	document(ctx.Model)
	return kong.DefaultHelpPrinter(options, ctx)
}

// document writes baton's description and every flag's and argument's help, placeholder and
// group into the model.
func document(app *kong.Application) {
	app.Help = description
	groups := map[string]*kong.Group{}
	eachDoc(app, func(v *kong.Value, f *kong.Flag, doc flagDoc) {
		if doc.help != "" { // configure has given every flag its default by now
			v.Help = strings.ReplaceAll(doc.help, "${default}", v.Default)
		}
		if f == nil {
			return
		}
		if doc.placeholder != "" {
			f.PlaceHolder = doc.placeholder
		}
		if doc.group != "" {
			if groups[doc.group] == nil {
				groups[doc.group] = &kong.Group{Key: doc.group, Title: doc.group}
			}
			f.Group = groups[doc.group]
		}
	})
}

// flagDocsOf lists the tables of a command's struct: those of the flag structs it embeds (and
// they embed), depth first, then its own.
func flagDocsOf(target reflect.Value) [][]flagDoc {
	if !target.IsValid() || target.Kind() != reflect.Struct {
		return nil
	}
	var tables [][]flagDoc
	for i := range target.NumField() {
		if target.Type().Field(i).Anonymous {
			tables = append(tables, flagDocsOf(target.Field(i))...)
		}
	}
	if d, ok := target.Interface().(documented); ok {
		tables = append(tables, d.flagDocs())
	}
	return tables
}
