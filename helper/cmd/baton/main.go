// Command baton triggers, and follows, pipelines in other CircleCI projects.
package main

import (
	"os"

	"github.com/baton-ci/baton/helper/internal/cli"
	_ "github.com/baton-ci/baton/helper/internal/startup" // one P, set before any other package's init
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() { os.Exit(cli.Run(os.Args[1:], cli.OSDeps(version))) }
