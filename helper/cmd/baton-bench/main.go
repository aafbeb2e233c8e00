// Command baton-bench measures baton against its baseline in the same run, on loopback: the wall
// time of `baton trigger` against the curl one-liner it replaces doing the same POST, the binary's
// size and its peak memory. It prints ratios and goals; it exits 1 when a goal is missed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/baton-ci/baton/helper/internal/simulator"
)

const (
	token   = "bench-token-0123456789"
	project = "gh/acme/deploy"
)

const simConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: ` + project + `
    parameters:
      - {name: image-name, type: string, default: ""}
      - {name: replicas, type: integer, default: 1}
      - {name: deploy, type: boolean, default: false}
`

// The same POST both ways: baton from typed flags, curl from the hand-assembled JSON users paste.
var (
	batonArgs = []string{"trigger", "--project", project, "--branch", "main",
		"--param", "image-name=acme/api:0.1.123", "--param", "replicas=3", "--param", "deploy=true"}
	curlBody = `{"branch":"main","parameters":{"image-name":"acme/api:0.1.123","replicas":3,"deploy":true}}`
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("baton-bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	baton := flags.String("baton", "bin/baton", "the baton binary to measure (built stripped, as released)")
	runs := flags.Int("runs", 60, "timed runs of each command, interleaved (at least 20)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *runs < 20 {
		fmt.Fprintln(stderr, "baton-bench: --runs must be at least 20")
		return 2
	}
	if err := bench(stdout, *baton, *runs); err != nil {
		fmt.Fprintf(stderr, "baton-bench: %v\n", err)
		return 1
	}
	return 0
}

type sample struct {
	wall   time.Duration
	maxRSS int64 // bytes
}

func bench(stdout io.Writer, baton string, runs int) error {
	curl, err := exec.LookPath("curl")
	if err != nil {
		return errors.New("curl is needed as the baseline: apt-get install curl")
	}
	cfg, err := simulator.ParseConfig([]byte(simConfig))
	if err != nil {
		return err
	}
	sim := simulator.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim}
	go srv.Serve(ln) //nolint:errcheck // ends with Close below
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	batonCmd := func() *exec.Cmd {
		cmd := exec.Command(baton, append(batonArgs, "--host", base)...)
		cmd.Env = []string{"CIRCLE_TOKEN=" + token, "PATH=" + os.Getenv("PATH")}
		return cmd
	}
	curlCmd := func() *exec.Cmd {
		return exec.Command(curl, "-sS", "--fail", "-o", "/dev/null", "-X", "POST",
			"-H", "Circle-Token: "+token, "-H", "Content-Type: application/json",
			"-d", curlBody, base+"/api/v2/project/"+project+"/pipeline")
	}

	// Warm the page cache and the simulator, then alternate so drift hits both alike.
	for range 3 {
		if _, err := measure(batonCmd()); err != nil {
			return fmt.Errorf("baton: %w", err)
		}
		if _, err := measure(curlCmd()); err != nil {
			return fmt.Errorf("curl: %w", err)
		}
	}
	var batonRuns, curlRuns []sample
	for range runs {
		b, err := measure(batonCmd())
		if err != nil {
			return fmt.Errorf("baton: %w", err)
		}
		c, err := measure(curlCmd())
		if err != nil {
			return fmt.Errorf("curl: %w", err)
		}
		batonRuns, curlRuns = append(batonRuns, b), append(curlRuns, c)
	}
	if got, want := len(sim.Pipelines()), 2*(runs+3); got != want {
		return fmt.Errorf("the simulator created %d pipelines, want %d: a run did not do the POST", got, want)
	}

	info, err := os.Stat(baton)
	if err != nil {
		return err
	}
	batonMedian, curlMedian := median(batonRuns), median(curlRuns)
	ratio := float64(batonMedian) / float64(curlMedian)
	peak := slices.MaxFunc(batonRuns, func(a, b sample) int { return int(a.maxRSS - b.maxRSS) }).maxRSS

	fmt.Fprintf(stdout, "baton bench: %d runs of each, alternating, against the CircleCI simulator on loopback\n", runs)
	missed := 0
	row := func(name, value string, ok bool, goal string) {
		verdict := "ok"
		if !ok {
			verdict = "GOAL MISSED"
			missed++
		}
		fmt.Fprintf(stdout, "  %-22s %-36s goal %-12s %s\n", name, value, goal, verdict)
	}
	row("trigger wall (median)", fmt.Sprintf("baton %s, curl %s: ratio %.2f", ms(batonMedian), ms(curlMedian), ratio), ratio <= 0.6, "≤ 0.60")
	row("binary size", mib(info.Size()), info.Size() <= 8<<20, "≤ 8 MiB")
	row("peak RSS (max of runs)", mib(peak), peak <= 20<<20, "≤ 20 MiB")
	if missed > 0 {
		return fmt.Errorf("%d goal(s) missed", missed)
	}
	return nil
}

func measure(cmd *exec.Cmd) (sample, error) {
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, out.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // Linux reports KiB
	}
	return sample{wall: wall, maxRSS: rss}, nil
}

func median(s []sample) time.Duration {
	walls := make([]time.Duration, len(s))
	for i, x := range s {
		walls[i] = x.wall
	}
	slices.Sort(walls)
	return walls[len(walls)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func mib(n int64) string        { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// limitedBuffer keeps the first few KiB of a command's output for error messages.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
