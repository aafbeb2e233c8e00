package cli

import (
	"maps"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
)

// What only --help shows (each flag's help and placeholder, baton's description) stays out of
// the struct tags: kong parses every tag rune by rune and interpolates every string in it on
// every run, and with that text in them kong.New for trigger took twice as long (440 against
// 215 µs warm; make bench counts every start-up). Each flag struct documents its flags with a
// flagDocs method next to it instead, and printHelp writes them into the model only when help
// is printed. TestEveryFlagIsDocumented keeps the two in step.

// flagDoc is how --help shows a flag: the placeholder of its value (--project=SLUG; "" for kong's
// own: the type, the enum's default) and its help, where ${default} stands for its default.
type flagDoc struct{ placeholder, help string }

// documented is a flag struct with a flagDocs method: flag name → how --help shows it.
type documented interface {
	flagDocs() map[string]flagDoc
}

// printHelp is kong's help printer, given the text it needs first.
func printHelp(options kong.HelpOptions, ctx *kong.Context) error {
	document(ctx.Model)
	return kong.DefaultHelpPrinter(options, ctx)
}

// document writes baton's description and every flag's and argument's help into the model.
func document(app *kong.Application) {
	app.Help = description
	_ = kong.Visit(app.Node, func(v kong.Visitable, next kong.Next) error {
		if node, ok := v.(*kong.Node); ok {
			docs := flagDocsOf(node.Target)
			for _, f := range node.Flags {
				documentValue(f.Value, docs)
				if doc := docs[f.Name]; doc.placeholder != "" {
					f.PlaceHolder = doc.placeholder
				}
			}
			for _, arg := range node.Positional {
				documentValue(arg, docs)
			}
		}
		return next(nil)
	})
}

func documentValue(v *kong.Value, docs map[string]flagDoc) {
	if doc, ok := docs[v.Name]; ok {
		v.Help = strings.ReplaceAll(doc.help, "${default}", v.Default)
	}
}

// flagDocsOf merges the flagDocs of a command's struct and of the flag structs it embeds.
func flagDocsOf(target reflect.Value) map[string]flagDoc {
	docs := map[string]flagDoc{}
	if !target.IsValid() || target.Kind() != reflect.Struct {
		return docs
	}
	add := func(v reflect.Value) {
		if d, ok := v.Interface().(documented); ok {
			maps.Copy(docs, d.flagDocs())
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
