package cli

import (
	"maps"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
)

// The help text of flags, and baton's description, stay out of the struct tags: kong parses
// every tag rune by rune and interpolates every string in it on every run, and with the help
// text in them that was a tenth of a trigger's wall time (make bench). Each flag struct documents
// its flags with a flagHelp method next to it instead, and printHelp writes that text into the
// model only when help is printed. TestEveryFlagIsDocumented keeps the two in step.

// flagHelper is a flag struct that documents its flags: flag name → help, where ${default}
// stands for the flag's default value.
type flagHelper interface {
	flagHelp() map[string]string
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
			docs := flagHelpOf(node.Target)
			for _, f := range node.Flags {
				documentValue(f.Value, docs)
			}
			for _, arg := range node.Positional {
				documentValue(arg, docs)
			}
		}
		return next(nil)
	})
}

func documentValue(v *kong.Value, docs map[string]string) {
	if help, ok := docs[v.Name]; ok {
		v.Help = strings.ReplaceAll(help, "${default}", v.Default)
	}
}

// flagHelpOf merges the flagHelp of a command's struct and of the flag structs it embeds.
func flagHelpOf(target reflect.Value) map[string]string {
	docs := map[string]string{}
	if !target.IsValid() || target.Kind() != reflect.Struct {
		return docs
	}
	add := func(v reflect.Value) {
		if h, ok := v.Interface().(flagHelper); ok {
			maps.Copy(docs, h.flagHelp())
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
