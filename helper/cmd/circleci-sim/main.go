// Command circleci-sim serves the CircleCI API v2 simulator on a loopback port, for scripts and
// demos that drive baton without the network.
//
//	circleci-sim --config sim.yaml [--addr 127.0.0.1:0] [--url-file FILE] [--rate-limit N/WINDOW] [--quiet]
//
// The first line on stdout is "circleci-sim listening on http://HOST:PORT"; point a client at
// that URL plus /api/v2. One line per request goes to stderr unless --quiet. SIGINT or SIGTERM
// shuts it down cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/exitcode"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run serves until SIGINT or SIGTERM and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve runs the simulator until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("circleci-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "simulator config `FILE` (YAML or JSON; required)")
	addr := fs.String("addr", "127.0.0.1:0", "`HOST:PORT` to listen on (port 0 picks a free one)")
	urlFile := fs.String("url-file", "", "write the base URL to `FILE` once listening, for scripts")
	quiet := fs.Bool("quiet", false, "do not log each request to stderr")
	logBodies := fs.Bool("log-bodies", false, "log each request's body, exactly as received, under its line")
	rateLimit := fs.String("rate-limit", "", "answer 429 (with Retry-After and RateLimit headers) beyond `N/WINDOW` API calls, e.g. 300/1m (300/1m,quiet: headers with the 429s only); overrides the config's rate_limit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: circleci-sim --config FILE [--addr HOST:PORT] [--url-file FILE] [--rate-limit N/WINDOW] [--quiet | --log-bodies]")
		fmt.Fprintln(stderr, "Serves a simulated CircleCI API v2 under /api/v2 (admin endpoints under /_sim/).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitcode.OK
		}
		return exitcode.Usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "circleci-sim: unexpected argument %q; all options are flags (see --help)\n", fs.Arg(0))
		return exitcode.Usage
	}
	if *configPath == "" {
		fmt.Fprintln(stderr, "circleci-sim: --config is required: give the simulator config file (see --help)")
		return exitcode.Usage
	}
	cfg, err := simulator.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "circleci-sim: %v\n", err)
		return exitcode.Usage
	}
	if *rateLimit != "" {
		rl, err := simulator.ParseRateLimit(*rateLimit)
		if err != nil {
			fmt.Fprintf(stderr, "circleci-sim: --rate-limit %v\n", err)
			return exitcode.Usage
		}
		cfg.RateLimit = rl
	}
	var opts []simulator.Option
	if !*quiet {
		opts = append(opts, simulator.WithLog(stderr))
		if *logBodies {
			opts = append(opts, simulator.WithLogBodies())
		}
	}
	sim := simulator.New(cfg, opts...)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "circleci-sim: --addr %s: %v\n", *addr, err)
		return exitcode.Usage
	}
	url := "http://" + ln.Addr().String()
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o644); err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "circleci-sim: --url-file: %v\n", err)
			return exitcode.Failed
		}
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "circleci-sim listening on %s\n", url)

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "circleci-sim: %v\n", err)
		return exitcode.Failed
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close() // a slow fault is still waiting; do not wait for it
	}
	return exitcode.OK
}
