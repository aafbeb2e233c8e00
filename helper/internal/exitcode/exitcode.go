// Package exitcode names baton's process exit codes and carries them on errors, so that the
// code is decided where the failure is understood and mapped to a number in one place (cli.Run).
// Each code has one meaning; Table is the list `baton --help` prints.
package exitcode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// The documented exit codes.
const (
	OK          = 0   // done
	Failed      = 1   // a followed downstream pipeline failed (only that)
	Usage       = 2   // bad input or usage; nothing was sent
	Refused     = 3   // the API refused the request, or created no pipeline
	Timeout     = 4   // timed out
	Unreachable = 5   // the API could not be reached (or gave no usable answer) after retries, or a trigger's outcome is unknown
	Canceled    = 6   // a followed downstream pipeline was canceled (as `circleci run watch` exits)
	Internal    = 70  // an error baton did not expect: a bug (EX_SOFTWARE); please report it
	Interrupted = 130 // interrupted by SIGINT (128 + 2, as a shell reports it)
	Terminated  = 143 // interrupted by SIGTERM (128 + 15), as when CircleCI cancels the job
)

// Table is every exit code with its meaning, in order, for help texts.
var Table = []struct {
	Code    int
	Meaning string
}{
	{OK, "done"},
	{Failed, "a followed downstream pipeline failed (only that)"},
	{Usage, "bad input or usage; nothing was sent"},
	{Refused, "the API refused the request, or created no pipeline"},
	{Timeout, "timed out"},
	{Unreachable, "the API could not be reached (or gave no usable answer) after retries, or whether a trigger created a pipeline is unknown"},
	{Canceled, "a followed downstream pipeline was canceled (and none failed)"},
	{Internal, "internal error: a bug in baton; please report it"},
	{Interrupted, "interrupted by SIGINT (Ctrl-C)"},
	{Terminated, "interrupted by SIGTERM (as when CircleCI cancels the job)"},
}

// Coder is implemented by errors that know their exit code.
type Coder interface{ ExitCode() int }

// Error attaches an exit code to an error without changing its text.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
func (e *Error) ExitCode() int { return e.Code }

// Wrap gives err the exit code code; nil stays nil.
func Wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Usagef is a bad-input error (exit 2) built like fmt.Errorf.
func Usagef(format string, args ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, args...)}
}

// Of returns the exit code for err: 0 for nil, the first code found in its chain, else
// Internal: an error nobody gave a code is one baton did not expect.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Internal
}

// Coded reports whether err carries an exit code of its own.
func Coded(err error) bool {
	var c Coder
	return errors.As(err, &c)
}

// Signal is the cause of a context that a signal ended (context.WithCancelCause): its text
// names the signal, its exit code is the signal's, and it matches context.Canceled.
type Signal struct {
	Name string // SIGINT, SIGTERM
	Code int    // Interrupted, Terminated
}

// SignalOf is the Signal for sig: SIGTERM is Terminated, anything else Interrupted.
func SignalOf(sig os.Signal) *Signal {
	if sig == syscall.SIGTERM {
		return &Signal{Name: "SIGTERM", Code: Terminated}
	}
	return &Signal{Name: "SIGINT", Code: Interrupted}
}

func (s *Signal) Error() string { return "interrupted by " + s.Name }
func (s *Signal) Unwrap() error { return context.Canceled }
func (s *Signal) ExitCode() int { return s.Code }

// severity orders the codes for Worst, most severe first. An internal error comes first: it
// must be reported whatever else happened. A signal comes next: the run was stopped, so every
// other outcome is partial. Then the codes that say baton could not do its job, because they
// leave the state of some target unknown or wrong and must not pass for an ordinary red build:
// bad input (nothing, or not everything, was sent), unreachable (a pipeline may exist that
// nobody follows), refused (the fix is on the caller's side), timed out (a pipeline was still
// running). Last the outcomes of pipelines followed to their end: failed outranks canceled,
// since a failure is the result people act on, and a pipeline is often canceled because another
// failed (--fail-fast).
var severity = []int{Internal, Terminated, Interrupted, Usage, Unreachable, Refused, Timeout, Failed, Canceled}

// rank orders codes for Worst: a higher rank is worse. Codes outside the table rank between
// Timeout and Failed, a larger one first; 0 is last.
func rank(code int) int {
	for i, c := range severity {
		if code == c {
			if c == Failed || c == Canceled {
				return len(severity) - i // below any unknown code
			}
			return 1<<20 - i
		}
	}
	switch {
	case code == OK:
		return 0
	case code < 0:
		return 3 // not expected; above the pipelines' own outcomes
	}
	return 3 + min(code, 1<<19)
}

// Worst is the most severe of codes (see severity): the exit code of a run whose parts ended
// with codes. 0 when there are none.
func Worst(codes ...int) int {
	worst := OK
	for _, c := range codes {
		if rank(c) > rank(worst) {
			worst = c
		}
	}
	return worst
}
