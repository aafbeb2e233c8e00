//go:build unix

package userfile

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A FIFO with no one at the other end would block an open or a read forever: each of these
// returning at all is the point.
func TestFIFOIsRefusedWithoutBlocking(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	const want = "not a regular file (a named pipe)"
	_, err := ReadFile(fifo)
	assert.EqualError(t, err, want)
	assert.EqualError(t, CheckOutput(fifo), want)
	assert.EqualError(t, Write(fifo, []byte("x"), true), want)
	assert.EqualError(t, Write(fifo, []byte("x"), false), want)
}

func TestDevZeroIsRefusedUnread(t *testing.T) {
	_, err := ReadFile("/dev/zero")
	assert.EqualError(t, err, "not a regular file (a device)")
}
