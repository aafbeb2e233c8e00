// Package startup readies the Go runtime for baton, whose processes live milliseconds or wait on
// the network: it runs them on one P (GOMAXPROCS 1), so the runtime starts no thread to run a
// second goroutine at once, which a trigger would pay for and never use.
//
// baton's main imports it for that alone. It imports nothing but the runtime, so Go initialises
// it before every package that does more (packages are initialised in import-path order, each
// once its imports are): the other packages' inits already run on one P, and the stop of the
// world that GOMAXPROCS makes finds nothing running yet. Set in main instead, after every init,
// it cost a trigger 10% of its wall time (make bench; 4.4 against 4.0 ms, interleaved).
package startup

import "runtime"

func init() { runtime.GOMAXPROCS(1) }
