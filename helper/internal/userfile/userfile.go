// Package userfile is the one way baton touches files the user names: input files (parameters,
// project lists) are read only when they are regular files and small; output files (results, env
// files, reports) are written only when they are regular files or absent. A FIFO, a device or a
// directory is refused at once, so baton never blocks on one nor reads /dev/zero until memory
// runs out.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// MaxInput is the size cap of an input file: far above any real parameters file or project list.
const MaxInput = 1 << 20

// TooLargeError is an input file larger than its cap.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than %s, the most baton reads", size(e.Limit))
}

// Read returns the contents of the regular file at path, refusing any other kind of file and any
// file larger than limit bytes (limit <= 0: MaxInput). The open never blocks (O_NONBLOCK), and the
// kind is checked on the opened file, so a path swapped for a FIFO in between is caught too.
func Read(path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxInput
	}
	f, err := openRegular(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit)
}

// ReadAll reads r to its end, refusing more than limit bytes (limit <= 0: MaxInput): the cap of
// an input file, for input that is not a file (standard input, for a file flag given "-").
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxInput
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, unwrap(err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return data, nil
}

// ReadFile is Read with the default cap, in the shape of os.ReadFile.
func ReadFile(path string) ([]byte, error) { return Read(path, 0) }

// CheckOutput makes sure path can be written as an output file before anything is sent: it is a
// regular file or absent, and its directory exists (created if needed). Nothing is created or
// changed at path itself.
func CheckOutput(path string) error {
	if err := checkKind(path); err != nil {
		return err
	}
	if err := mkdirFor(path); err != nil {
		return err
	}
	// The directory must let us create or open the file; opening without O_CREATE and O_TRUNC
	// leaves an absent file absent and an existing one unchanged.
	f, err := openRegular(path, os.O_WRONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return writableDir(filepath.Dir(path))
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Write writes data to the output file at path, replacing its contents (or appending them when
// appendTo is set), after the same checks as CheckOutput.
func Write(path string, data []byte, appendTo bool) error {
	if err := mkdirFor(path); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE
	if appendTo {
		flags |= os.O_APPEND
	}
	f, err := openRegular(path, flags)
	if err != nil {
		return err
	}
	if !appendTo { // not O_TRUNC: the kind is checked on the open file before anything changes
		if err := f.Truncate(0); err != nil {
			f.Close()
			return unwrap(err)
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return unwrap(err)
	}
	return unwrap(f.Close())
}

// checkKind refuses an existing path that is not a regular file (symbolic links are followed).
func checkKind(path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return unwrap(err)
	}
	return regular(info)
}

// openRegular opens path without blocking and refuses what is not a regular file: checked before
// opening (a device is not even opened) and again on the open file, in case path changed between.
func openRegular(path string, flags int) (*os.File, error) {
	if err := checkKind(path); err != nil {
		return nil, err
	}
	return opened(os.OpenFile(path, flags|syscall.O_NONBLOCK, 0o644))
}

// opened checks the outcome of an open: its error, said plainly, or a file that is not regular
// after all, which it closes.
func opened(f *os.File, err error) (*os.File, error) {
	if err != nil {
		if errors.Is(err, syscall.ENXIO) { // a FIFO without a reader, opened for writing
			return nil, errors.New("not a regular file (a named pipe)")
		}
		return nil, unwrap(err)
	}
	info, err := f.Stat()
	if err == nil {
		err = regular(info)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func regular(info fs.FileInfo) error {
	m := info.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errors.New("a directory, not a file")
	case m&fs.ModeNamedPipe != 0:
		return errors.New("not a regular file (a named pipe)")
	case m&fs.ModeSocket != 0:
		return errors.New("not a regular file (a socket)")
	case m&fs.ModeDevice != 0:
		return errors.New("not a regular file (a device)")
	}
	return errors.New("not a regular file")
}

func mkdirFor(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		return unwrap(os.MkdirAll(dir, 0o755))
	}
	return nil
}

// writableDir reports whether a file can be created in dir.
func writableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".baton-check-*")
	if err != nil {
		return unwrap(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrap keeps "open x: permission denied" from naming the path again: callers name it.
func unwrap(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
