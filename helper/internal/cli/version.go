package cli

import "fmt"

// VersionCmd is `baton version`.
type VersionCmd struct{}

// Run prints the version stamped at build time.
func (VersionCmd) Run(d *Deps) error {
	_, err := fmt.Fprintf(d.Stdout, "baton %s\n", d.Version)
	return err
}
