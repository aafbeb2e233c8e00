package userfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "params.json")
	require.NoError(t, os.WriteFile(small, []byte(`{"a":1}`), 0o600))
	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", MaxInput+1)), 0o600))
	exact := filepath.Join(dir, "exact.json")
	require.NoError(t, os.WriteFile(exact, []byte(strings.Repeat("x", MaxInput)), 0o600))
	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.Symlink(small, link))

	t.Run("a regular file is read", func(t *testing.T) {
		data, err := ReadFile(small)
		require.NoError(t, err)
		assert.Equal(t, `{"a":1}`, string(data))
	})
	t.Run("a link to a regular file is read", func(t *testing.T) {
		_, err := ReadFile(link)
		assert.NoError(t, err)
	})
	t.Run("a file of exactly the cap is read", func(t *testing.T) {
		data, err := ReadFile(exact)
		require.NoError(t, err)
		assert.Len(t, data, MaxInput)
	})
	t.Run("a file over the cap is refused, naming the cap", func(t *testing.T) {
		_, err := ReadFile(big)
		assert.EqualError(t, err, "larger than 1 MiB, the most baton reads")
		var tooLarge *TooLargeError
		assert.ErrorAs(t, err, &tooLarge)
	})
	t.Run("a smaller cap", func(t *testing.T) {
		_, err := Read(small, 3)
		assert.EqualError(t, err, "larger than 3 bytes, the most baton reads")
	})
	t.Run("a directory is refused", func(t *testing.T) {
		_, err := ReadFile(dir)
		assert.EqualError(t, err, "a directory, not a file")
	})
	t.Run("a missing file says so without repeating the path", func(t *testing.T) {
		_, err := ReadFile(filepath.Join(dir, "nope"))
		assert.EqualError(t, err, "no such file or directory")
	})
}

func TestOutput(t *testing.T) {
	dir := t.TempDir()

	t.Run("an absent file passes the check and is not created by it", func(t *testing.T) {
		path := filepath.Join(dir, "sub", "result.json")
		require.NoError(t, CheckOutput(path))
		assert.NoFileExists(t, path)
	})
	t.Run("Write creates the file and its directory, then replaces it", func(t *testing.T) {
		path := filepath.Join(dir, "deep", "er", "junit.xml")
		require.NoError(t, Write(path, []byte("first, longer"), false))
		require.NoError(t, Write(path, []byte("second"), false))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "second", string(data))
	})
	t.Run("Write appends when asked", func(t *testing.T) {
		path := filepath.Join(dir, "env")
		require.NoError(t, Write(path, []byte("a\n"), true))
		require.NoError(t, Write(path, []byte("b\n"), true))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "a\nb\n", string(data))
	})
	t.Run("an existing regular file passes the check unchanged", func(t *testing.T) {
		path := filepath.Join(dir, "keep")
		require.NoError(t, os.WriteFile(path, []byte("kept"), 0o600))
		require.NoError(t, CheckOutput(path))
		data, _ := os.ReadFile(path)
		assert.Equal(t, "kept", string(data))
	})
	t.Run("a directory is refused", func(t *testing.T) {
		assert.EqualError(t, CheckOutput(dir), "a directory, not a file")
		assert.EqualError(t, Write(dir, nil, true), "a directory, not a file")
	})
	t.Run("a device is refused", func(t *testing.T) {
		if _, err := os.Stat(os.DevNull); err != nil {
			t.Skip("no", os.DevNull)
		}
		assert.EqualError(t, CheckOutput(os.DevNull), "not a regular file (a device)")
	})
}
