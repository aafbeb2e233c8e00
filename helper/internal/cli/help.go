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

// documented is a flag struct with a flagDocs method: flag name → everything about it.
type documented interface {
	flagDocs() map[string]flagDoc
}

// configure writes what each flag's table says about the environment, its default and its
// allowed values into kong's model, where kong's Parse and Validate read them, exactly as kong
// would have from env:, default: and enum: tags.
func configure(app *kong.Application) {
	_ = kong.Visit(app.Node, func(v kong.Visitable, next kong.Next) error {
		if node, ok := v.(*kong.Node); ok {
			docs := flagDocsOf(node.Target)
			for _, f := range node.Flags {
				configureValue(f.Value, docs)
				f.Envs = f.Value.Tag.Envs
			}
			for _, arg := range node.Positional {
				configureValue(arg, docs)
			}
		}
		return next(nil)
	})
}

func configureValue(v *kong.Value, docs map[string]flagDoc) {
	doc, ok := docs[v.Name]
	if !ok {
		return
	}
	if doc.env != "" {
		v.Tag.Envs = []string{doc.env}
	}
	if doc.def != "" {
		v.HasDefault, v.Default = true, doc.def
		v.Tag.HasDefault, v.Tag.Default = true, doc.def
	}
	if doc.enum != "" {
		v.Enum, v.Tag.Enum = doc.enum, doc.enum
	}
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

// document writes baton's description and every flag's and argument's help into the model.
func document(app *kong.Application) {
	app.Help = description
	groups := map[string]*kong.Group{}
	_ = kong.Visit(app.Node, func(v kong.Visitable, next kong.Next) error {
		if node, ok := v.(*kong.Node); ok {
			docs := flagDocsOf(node.Target)
			for _, f := range node.Flags {
				documentValue(f.Value, docs)
				doc := docs[f.Name]
				if doc.placeholder != "" {
					f.PlaceHolder = doc.placeholder
				}
				if doc.group != "" {
					if groups[doc.group] == nil {
						groups[doc.group] = &kong.Group{Key: doc.group, Title: doc.group}
					}
					f.Group = groups[doc.group]
				}
			}
			for _, arg := range node.Positional {
				documentValue(arg, docs)
			}
		}
		return next(nil)
	})
}

// over is doc, with what it leaves empty taken from base.
func (doc flagDoc) over(base flagDoc) flagDoc {
	for _, f := range []struct{ to, from *string }{{&doc.env, &base.env}, {&doc.def, &base.def}, {&doc.enum, &base.enum},
		{&doc.placeholder, &base.placeholder}, {&doc.help, &base.help}, {&doc.group, &base.group}} {
		if *f.to == "" {
			*f.to = *f.from
		}
	}
	return doc
}

func documentValue(v *kong.Value, docs map[string]flagDoc) {
	if doc, ok := docs[v.Name]; ok {
		v.Help = strings.ReplaceAll(doc.help, "${default}", v.Default)
	}
}

// flagDocsOf merges the flagDocs of a command's struct and of the flag structs it embeds. A
// command's own entry for an embedded flag overrides the fields it sets (its help, say, where
// the shared text does not fit the command).
func flagDocsOf(target reflect.Value) map[string]flagDoc {
	docs := map[string]flagDoc{}
	if !target.IsValid() || target.Kind() != reflect.Struct {
		return docs
	}
	add := func(v reflect.Value) {
		d, ok := v.Interface().(documented)
		if !ok {
			return
		}
		for name, doc := range d.flagDocs() {
			docs[name] = doc.over(docs[name])
		}
	}
	for i := range target.NumField() {
		if target.Type().Field(i).Anonymous {
			add(target.Field(i))
		}
	}
	add(target)
	return docs
}
