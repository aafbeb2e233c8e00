// Command baton triggers, and follows, pipelines in other CircleCI projects.
package main

import (
	"os"
	"runtime"

	"github.com/baton-ci/baton/helper/internal/cli"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	// baton waits on the network. With one P no idle thread is woken for each goroutine it
	// starts, which costs more than it saves in a process living milliseconds (make bench).
	runtime.GOMAXPROCS(1)
	os.Exit(cli.Run(os.Args[1:], cli.OSDeps(version)))
}
