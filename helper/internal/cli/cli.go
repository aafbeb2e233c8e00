// Package cli is baton's command line: kong structs, one file per command, and the one place where
// errors become exit codes.
package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/kong"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/redact"
	"github.com/baton-ci/baton/helper/internal/userfile"
)

// Deps is everything a command reaches outside the process; tests replace any of it.
type Deps struct {
	Context    context.Context
	Stdin      io.Reader // read only for a file flag given "-"; nil: empty
	Stdout     io.Writer
	Stderr     io.Writer
	LookupEnv  func(string) (string, bool)
	ReadFile   func(string) ([]byte, error)
	HTTPClient *http.Client                                     // nil: the client's default
	Sleep      func(ctx context.Context, d time.Duration) error // nil: a real, context-aware wait
	Now        func() time.Time                                 // this machine's clock; nil: time.Now
	// Interruptible derives a context that SIGINT and SIGTERM end, with an *exitcode.Signal as
	// its cause; nil: nothing interrupts.
	Interruptible func(context.Context) (context.Context, context.CancelFunc)
	// Terminal reports whether stdout is a terminal, for the live view of a wait; nil: never.
	Terminal func() bool
	Version  string

	redactor    *redact.Redactor  // every form of every secret, scrubbed from all baton writes
	given       map[string]bool   // the flags given on the command line (not through the environment)
	interrupted []context.Context // the contexts interruptible made, to learn whether a signal came
}

// OSDeps is Deps for the real process.
func OSDeps(version string) Deps {
	return Deps{
		Context:       context.Background(),
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		LookupEnv:     os.LookupEnv,
		ReadFile:      userfile.ReadFile,
		Interruptible: onSignal,
		Terminal:      stdoutIsTerminal,
		Version:       version,
	}
}

// stdoutIsTerminal: a character device is a terminal here (or /dev/null, where a live view
// costs nothing); a pipe or a file is not. This is all golang.org/x/term's IsTerminal would add
// for the one question baton asks, without a dependency.
func stdoutIsTerminal() bool {
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// stdin is Deps.Stdin, or empty input.
func (d *Deps) stdin() io.Reader {
	if d.Stdin == nil {
		return strings.NewReader("")
	}
	return d.Stdin
}

// givenFlag reports whether the flag was given on the command line, rather than through its
// environment variable or not at all.
func (d *Deps) givenFlag(name string) bool { return d.given[name] }

// onSignal: SIGINT and SIGTERM (the upstream job being canceled) end the context with an
// *exitcode.Signal as its cause, so that a wait or a fan-out ends cleanly, with its report (and
// cancels downstream workflows when asked), and exits 130 or 143. A repeat within repeatWindow
// is the same request arriving twice (the runner signals the step's process group, and the orb's
// script passes its own signal on) and is ignored; a later one ends the process at once, as the
// first would have without baton catching it.
func onSignal(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(signals) // back to the default: the next signal ends the process
		select {
		case sig := <-signals:
			cancel(exitcode.SignalOf(sig))
		case <-ctx.Done():
			return
		}
		repeats := time.NewTimer(repeatWindow)
		defer repeats.Stop()
		for {
			select {
			case <-signals:
			case <-repeats.C:
				return
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

// repeatWindow is how long after the first signal another counts as the same request.
const repeatWindow = 2 * time.Second

// interruptible is ctx ended by SIGINT and SIGTERM. Only commands that wait or fan out ask for
// it: catching signals costs a thread at start-up, and a single trigger, one request, is best
// ended at once by them, as curl would be.
func (d *Deps) interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	if d.Interruptible == nil {
		return context.WithCancel(ctx)
	}
	ictx, stop := d.Interruptible(ctx)
	d.interrupted = append(d.interrupted, ictx)
	return ictx, stop
}

// signaled is the signal that ended a context interruptible made, or nil when none did.
func (d *Deps) signaled() *exitcode.Signal {
	for _, ctx := range d.interrupted {
		if sig, ok := errorsAs[*exitcode.Signal](context.Cause(ctx)); ok {
			return sig
		}
	}
	return nil
}

// exitCode is the process exit code for a command's error: a signal's when one interrupted a
// command that did not succeed (whatever it was doing then, the signal is why it stopped), else
// the error's own (package exitcode: an error without a code is an internal error).
func (d *Deps) exitCode(err error) int {
	if err == nil {
		return exitcode.OK
	}
	if sig := d.signaled(); sig != nil {
		return sig.ExitCode()
	}
	return exitcode.Of(err)
}

// secrets is the redactor Run wraps every output in (a fresh one for a Deps used without Run).
func (d *Deps) secrets() *redact.Redactor {
	if d.redactor == nil {
		d.redactor = redact.New()
	}
	return d.redactor
}

// addSecret registers a value that must never be printed.
func (d *Deps) addSecret(s string) { d.secrets().Add(s) }

// redact scrubs secrets from s. Stdout and Stderr already redact whatever is written to them;
// this is for text that goes elsewhere first.
func (d *Deps) redact(s string) string { return d.secrets().String(s) }

// writeFile is the one way commands write an output file (result, env file, JUnit, summary):
// rendered in full through the redactor, then written by userfile, which refuses anything but a
// regular file, so a rendering error leaves no half-written file. appendTo appends instead of
// replacing. checkOutputs has refused unusable paths before anything was sent.
func (d *Deps) writeFile(path string, appendTo bool, render func(io.Writer) error) error {
	var b bytes.Buffer
	w := d.secrets().Writer(&b)
	if err := render(w); err != nil {
		return err
	}
	if err := redact.Flush(w); err != nil {
		return err
	}
	return userfile.Write(path, b.Bytes(), appendTo)
}

// registerTokens registers, before any argument is parsed or echoed, every value that may be the
// API token: that of the variable --token-env or $BATON_TOKEN_ENV names (whatever its length; a
// short one is refused later, without printing it), that of $CIRCLE_TOKEN (when 16 characters or
// more, as a token is), and a token pasted as the variable's name.
func registerTokens(r *redact.Redactor, args []string, lookupEnv func(string) (string, bool)) {
	names := []string{defaultTokenEnv}
	if v, ok := lookupEnv("BATON_TOKEN_ENV"); ok && v != "" {
		names = append(names, v)
	}
	for i, arg := range args {
		if arg == "--" {
			break
		}
		if v, ok := strings.CutPrefix(arg, "--token-env="); ok {
			names = append(names, v)
		} else if arg == "--token-env" && i+1 < len(args) {
			names = append(names, args[i+1])
		}
	}
	for i, name := range names {
		if looksLikeToken(name) {
			r.Add(name)
			continue
		}
		if !isEnvName(name) {
			continue
		}
		v, _ := lookupEnv(name)
		if v = strings.TrimSpace(v); i == len(names)-1 || len(v) >= minTokenLen {
			r.Add(v)
		}
	}
}

// CLI is the root of baton's commands.
type CLI struct {
	Version versionFlag
}

// flagDocs is everything about CLI's flags but their Go fields (see help.go).
func (CLI) flagDocs() []flagDoc { return rootFlagDocs }

// rootFlagDocs is CLI's flag table, laid out by the linker rather than built on each run.
var rootFlagDocs = []flagDoc{
	{name: "version", help: "Print baton's version and exit."},
}

// versionFlag is --version, which prints what `baton version` prints. It is kong's VersionFlag
// without kong's variables: kong interpolates every variable into every flag on every run.
type versionFlag bool

// buildVersion is the version stamped at build time, bound for versionFlag.
type buildVersion string

// BeforeReset prints the version and exits, before anything else is parsed or checked.
func (versionFlag) BeforeReset(app *kong.Kong, v buildVersion) error {
	fmt.Fprintf(app.Stdout, "baton %s\n", v)
	app.Exit(0)
	return nil
}

// command is one of baton's commands, added to the root by name.
type command struct {
	name, help string
	target     runner // the kong struct of its flags and arguments
}

// runner is a command's struct, run once kong has filled it in.
type runner interface {
	Run(d *Deps) error
}

func commands() []command {
	return []command{
		{"trigger", "Trigger pipelines in other CircleCI projects, and with --wait follow them.", &TriggerCmd{}},
		{"wait", "Wait for pipelines triggered earlier to finish.", &WaitCmd{}},
		{"callback", "Approve the upstream workflow's approval job that triggered this pipeline (the callback pattern).", &CallbackCmd{}},
		{"result", "Report the pipelines an earlier trigger recorded, and fail with them (the callback pattern).", &ResultCmd{}},
		{"version", "Print baton's version.", &VersionCmd{}},
	}
}

// Parser is baton's whole command line as a kong parser, every command with its flags'
// environment variables, defaults and allowed values (help is added by --help), exiting
// nowhere: for tools and tests that read the model or trace arguments, e.g. which environment
// variables each command reads.
func Parser() (*kong.Kong, error) {
	parser, err := kong.New(&CLI{}, append([]kong.Option{kong.Name("baton"), kong.FlagNamer(flagName), kong.Exit(func(int) {})}, options(commands())...)...)
	if err != nil {
		return nil, err
	}
	configure(parser.Model)
	return parser, nil
}

// chosenCommands is the command args names, alone, when the first argument names one, else
// every command. kong builds the model of every command it is given on every run (flags, tags),
// and that is most of baton's start-up; the others cannot be reached anyway.
func chosenCommands(args []string) []command {
	all := commands()
	if len(args) > 0 {
		for _, c := range all {
			if c.name == args[0] {
				return []command{c}
			}
		}
	}
	return all
}

// options adds commands to a kong root.
func options(chosen []command) []kong.Option {
	opts := make([]kong.Option, 0, len(chosen))
	for _, c := range chosen {
		opts = append(opts, kong.DynamicCommand(c.name, c.help, "", c.target))
	}
	return opts
}

var description = `Trigger, and follow, pipelines in other CircleCI projects through CircleCI API v2.

The API token is read only from an environment variable (CIRCLE_TOKEN, or the one named by
--token-env) and never printed.

Examples:
  # Trigger gh/acme/deploy on main with a typed parameter:
  baton trigger --project gh/acme/deploy --branch main --param replicas=3

  # See the exact request without sending it:
  baton trigger --project gh/acme/deploy --param replicas=3 --dry-run

` + exitCodes

// exitCodes is the exit code table every command's help ends with, each meaning wrapped to fit
// the help's width beside its code.
var exitCodes = func() string {
	const width = 84
	var b strings.Builder
	b.WriteString("Exit codes:")
	for _, row := range exitcode.Table {
		line := fmt.Sprintf("%-3d ", row.Code)
		for _, word := range strings.Fields(row.Meaning) {
			if len(line)+1+len(word) > width {
				b.WriteString("\n  " + line)
				line = "    "
			}
			line += " " + word
		}
		b.WriteString("\n  " + line)
	}
	return b.String()
}()

// toldError is a command's error that its output has already said in full (e.g. the line of a
// pipeline interrupted while followed): Run exits with its code without saying it again.
type toldError struct{ err error }

func (e *toldError) Error() string { return e.err.Error() }
func (e *toldError) Unwrap() error { return e.err }

// told reports whether err was already said.
func told(err error) bool {
	_, ok := errorsAs[*toldError](err)
	return ok
}

// exitRequest carries kong's wish to exit (after --help or --version) up to Run, which returns it.
type exitRequest int

// Run parses args, runs the chosen command and returns the process exit code. Nothing below it
// exits the process.
func Run(args []string, d Deps) (code int) {
	if d.Context == nil {
		d.Context = context.Background()
	}
	// Everything baton prints passes the redactor, which knows the token before kong has seen
	// an argument: a parse error quoting a stray argument cannot carry it.
	registerTokens(d.secrets(), args, d.LookupEnv)
	stdout, stderr := d.secrets().Writer(d.Stdout), d.secrets().Writer(d.Stderr)
	d.Stdout, d.Stderr = stdout, stderr
	defer func() { // last: after the recovery below has printed
		_ = redact.Flush(stdout)
		_ = redact.Flush(stderr)
	}()
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if req, ok := r.(exitRequest); ok {
			code = int(req)
			return
		}
		// A bug, not bad input: say so, with the stack, but never with the token in it.
		fmt.Fprintf(d.Stderr, "baton: internal error (a bug in baton; please report it): %v\n%s\n", r, debug.Stack())
		code = exitcode.Internal
	}()

	var root CLI
	chosen := chosenCommands(args)
	parser, err := kong.New(&root, append([]kong.Option{
		kong.Name("baton"),
		kong.Help(printHelp),
		kong.Writers(d.Stdout, d.Stderr),
		kong.Exit(func(c int) { panic(exitRequest(c)) }),
		kong.Bind(buildVersion(d.Version)),
		kong.FlagNamer(flagName),
		kong.ConfigureHelp(kong.HelpOptions{WrapUpperBound: 100}),
	}, options(chosen)...)...)
	if err != nil {
		panic(err) // the structs above are malformed: a programming error
	}
	configure(parser.Model)
	if err := checkUTF8(args, parser.Model, d.LookupEnv); err != nil {
		fmt.Fprintf(d.Stderr, "baton: %v\n", err)
		return exitcode.Usage
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(d.Stderr, "baton: %v (see baton --help)\n", err)
		return exitcode.Usage
	}
	d.given = map[string]bool{}
	for _, p := range kctx.Path {
		if p.Flag != nil {
			d.given[p.Flag.Name] = true
		}
	}
	// The command is run directly rather than by kctx.Run, whose reflective call and bindings
	// cost a cold start more than this switch.
	for _, c := range chosen {
		if c.name != kctx.Selected().Name {
			continue
		}
		err := c.target.Run(&d)
		if err != nil && !told(err) {
			fmt.Fprintf(d.Stderr, "baton: %v\n", err)
		}
		return d.exitCode(err)
	}
	panic("kong selected " + kctx.Command() + ", which is not one of baton's commands")
}

// checkUTF8 refuses invalid UTF-8 in arguments and in the flags' environment variables. kong
// decodes values rune by rune and would silently turn such bytes into U+FFFD, sending a payload
// that is not what the user gave.
func checkUTF8(args []string, app *kong.Application, lookupEnv func(string) (string, bool)) error {
	for i, arg := range args {
		if utf8.ValidString(arg) {
			continue
		}
		name := "argument"
		switch {
		case strings.HasPrefix(arg, "-") && strings.Contains(arg, "="):
			name = arg[:strings.IndexByte(arg, '=')]
		case i > 0 && strings.HasPrefix(args[i-1], "-"):
			name = args[i-1]
		}
		return fmt.Errorf("%s %s: not valid UTF-8", name, strconv.QuoteToASCII(arg))
	}
	var bad error
	_ = kong.Visit(app, func(node kong.Visitable, next kong.Next) error {
		if flag, ok := node.(*kong.Flag); ok && bad == nil {
			for _, env := range flag.Envs {
				if v, ok := lookupEnv(env); ok && !utf8.ValidString(v) {
					bad = fmt.Errorf("$%s (for --%s): not valid UTF-8", env, flag.Name)
				}
			}
		}
		return next(nil)
	})
	return bad
}

// errorsAs is errors.As for a target type, for reading optional details off an error chain.
func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
