//go:build linux && (amd64 || arm64)

package main

import (
	"os"
	"syscall"
)

// evict drops a file's pages from the page cache, so that the next exec loads it from disk
// through readahead, as an installed binary (and curl) is loaded. A binary fresh from the Go
// linker was written through mmap and sits in the cache in small pages; on this kernel it then
// starts up to 15% slower than the same bytes read back, which would measure the build, not baton.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil { // dirty pages cannot be dropped
		return err
	}
	const fadvDontNeed = 4 // POSIX_FADV_DONTNEED
	if _, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); errno != 0 {
		return errno
	}
	return nil
}
