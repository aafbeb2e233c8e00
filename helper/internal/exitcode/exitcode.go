// Package exitcode names baton's process exit codes and carries them on errors, so that the
// code is decided where the failure is understood and mapped to a number in one place (main).
package exitcode

import (
	"errors"
	"fmt"
)

// The documented exit codes. README.md and `baton --help` list the same table.
const (
	OK          = 0 // done
	Failed      = 1 // the downstream pipeline failed, or an unexpected error
	Usage       = 2 // bad input or usage; nothing was sent
	Refused     = 3 // the API refused the request, or created no pipeline
	Timeout     = 4 // timed out
	Unreachable = 5 // the API could not be reached after retries, or a trigger's outcome is unknown
)

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

// Of returns the exit code for err: 0 for nil, the first code found in its chain, else Failed.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Failed
}
