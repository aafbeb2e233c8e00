package userfile

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// CreateIn creates (or replaces) the regular file rel inside the directory dir, creating the
// directories between. rel is a slash-separated path that must stay inside dir: absolute paths,
// ".." and symbolic links that lead out are refused by os.Root, and an existing link or
// non-regular file at rel is refused too, so a name from a server cannot write anywhere else.
func CreateIn(dir, rel string) (*os.File, error) {
	if !fs.ValidPath(rel) || rel == "." {
		return nil, errors.New("not a path inside the folder")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, unwrap(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, unwrap(err)
	}
	defer root.Close()
	if parent := path.Dir(rel); parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return nil, unwrap(err)
		}
	}
	if info, err := root.Lstat(rel); err == nil {
		if info.Mode()&fs.ModeSymlink != 0 {
			return nil, errors.New("a symbolic link is in the way")
		}
		if err := regular(info); err != nil {
			return nil, err
		}
	}
	// a link swapped in after Lstat still cannot lead out of root
	return opened(root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NONBLOCK, 0o644))
}
