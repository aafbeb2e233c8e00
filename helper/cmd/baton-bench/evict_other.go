//go:build !(linux && (amd64 || arm64))

package main

import "errors"

func evict(string) error {
	return errors.New("dropping a file from the page cache is only done on linux/amd64 and linux/arm64")
}
