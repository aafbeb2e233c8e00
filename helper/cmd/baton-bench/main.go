// Command baton-bench measures baton against its baselines in the same run, on loopback, against
// the CircleCI API simulator: `baton trigger` against the curl one-liner it replaces, the binary's
// size and peak memory, the requests a 10-minute wait costs, and a 20-project fan-out against one
// trigger and against a sequential curl loop. It prints ratios and goals, and exits 1 when a goal
// is missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/simulator"
	"github.com/baton-ci/baton/helper/internal/testkit"
	"github.com/baton-ci/baton/helper/internal/watch"
)

const (
	token   = "bench-token-0123456789"
	project = "gh/acme/deploy"
	fanOut  = 20
)

// simConfig: the project the trigger comparison posts to, a 10-minute pipeline for the request
// count, and fanOut projects whose workflows take half a second of real time.
func simConfig() string {
	var sb strings.Builder
	sb.WriteString(`
tokens:
  - token: ` + token + `
projects:
  - slug: ` + project + `
    parameters:
      - {name: image-name, type: string, default: ""}
      - {name: replicas, type: integer, default: 1}
      - {name: deploy, type: boolean, default: false}
    workflows: [{name: deploy, duration: 500ms}]
  - slug: gh/acme/ten-minutes
    start_delay: 5s
    workflows:
      - {name: build, duration: 3m}
      - {name: integration, duration: 10m}
`)
	for i := range fanOut {
		fmt.Fprintf(&sb, "  - {slug: gh/acme/svc-%02d, workflows: [{name: deploy, duration: 500ms}]}\n", i)
	}
	return sb.String()
}

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
	runs := flags.Int("runs", 60, "timed runs of each command in the trigger comparison, interleaved (at least 20)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *runs < 20 {
		fmt.Fprintln(stderr, "baton-bench: --runs must be at least 20")
		return 2
	}
	b, err := newBench(*baton)
	if err != nil {
		fmt.Fprintf(stderr, "baton-bench: %v\n", err)
		return 1
	}
	defer b.close()
	fmt.Fprintf(stdout, "baton bench: against the CircleCI simulator on loopback, baselines measured in the same run\n")
	for _, measure := range []func() error{
		func() error { return b.triggerVsCurl(*runs) },
		b.waitRequests,
		b.fanOut,
	} {
		if err := measure(); err != nil {
			fmt.Fprintf(stderr, "baton-bench: %v\n", err)
			return 1
		}
	}
	b.print(stdout)
	if b.missed > 0 {
		fmt.Fprintf(stderr, "baton-bench: %d goal(s) missed\n", b.missed)
		return 1
	}
	return 0
}

type bench struct {
	baton, curl string
	sim         *simulator.Simulator
	srv         *http.Server
	base        string
	rows        [][4]string
	notes       []string
	missed      int
}

func newBench(baton string) (*bench, error) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		return nil, errors.New("curl is needed as the baseline: apt-get install curl")
	}
	cfg, err := simulator.ParseConfig([]byte(simConfig()))
	if err != nil {
		return nil, err
	}
	sim := simulator.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: sim}
	go srv.Serve(ln) //nolint:errcheck // ends with close
	return &bench{baton: baton, curl: curl, sim: sim, srv: srv, base: "http://" + ln.Addr().String()}, nil
}

func (b *bench) close() { b.srv.Close() }

// row records a measurement; goal "" means it is informational.
func (b *bench) row(name, value, goal string, ok bool) {
	verdict := ""
	if goal != "" {
		verdict = "ok"
		if !ok {
			verdict = "GOAL MISSED"
			b.missed++
		}
	}
	b.rows = append(b.rows, [4]string{name, value, goal, verdict})
}

// note records something that qualifies the measurements.
func (b *bench) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

func (b *bench) print(w io.Writer) {
	for _, r := range b.rows {
		goal := ""
		if r[2] != "" {
			goal = "goal " + r[2]
		}
		fmt.Fprintf(w, "  %-28s %-44s %-16s %s\n", r[0], r[1], goal, r[3])
	}
	for _, n := range b.notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func (b *bench) batonCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(b.baton, append(args, "--host", b.base)...)
	cmd.Env = []string{"CIRCLE_TOKEN=" + token, "PATH=" + os.Getenv("PATH")}
	return cmd
}

func (b *bench) curlCmd(slug, body string) *exec.Cmd {
	return exec.Command(b.curl, "-sS", "--fail", "-o", "/dev/null", "-X", "POST",
		"-H", "Circle-Token: "+token, "-H", "Content-Type: application/json",
		"-d", body, b.base+"/api/v2/project/"+slug+"/pipeline")
}

// triggerVsCurl: one trigger, baton against curl, interleaved so drift hits both alike.
func (b *bench) triggerVsCurl(runs int) error {
	if err := evict(b.baton); err != nil {
		b.note("baton's binary stays in the page cache as written (%v): its start-up may measure slower than installed", err)
	}
	before := len(b.sim.Pipelines())
	for range 3 { // warm the page cache and the simulator
		if _, err := measure(b.batonCmd(batonArgs...)); err != nil {
			return fmt.Errorf("baton: %w", err)
		}
		if _, err := measure(b.curlCmd(project, curlBody)); err != nil {
			return fmt.Errorf("curl: %w", err)
		}
	}
	var batonRuns, curlRuns []sample
	for range runs {
		s, err := measure(b.batonCmd(batonArgs...))
		if err != nil {
			return fmt.Errorf("baton: %w", err)
		}
		c, err := measure(b.curlCmd(project, curlBody))
		if err != nil {
			return fmt.Errorf("curl: %w", err)
		}
		batonRuns, curlRuns = append(batonRuns, s), append(curlRuns, c)
	}
	if got, want := len(b.sim.Pipelines())-before, 2*(runs+3); got != want {
		return fmt.Errorf("the simulator created %d pipelines, want %d: a run did not do the POST", got, want)
	}
	info, err := os.Stat(b.baton)
	if err != nil {
		return err
	}
	batonMedian, curlMedian := median(batonRuns), median(curlRuns)
	ratio := float64(batonMedian) / float64(curlMedian)
	peak := slices.MaxFunc(batonRuns, func(a, b sample) int { return int(a.maxRSS - b.maxRSS) }).maxRSS
	b.row(fmt.Sprintf("trigger wall (median of %d)", runs), fmt.Sprintf("baton %s, curl %s: ratio %.2f", ms(batonMedian), ms(curlMedian), ratio), "≤ 0.60", ratio <= 0.6)
	b.row("binary size (stripped)", mib(info.Size()), "≤ 8 MiB", info.Size() <= 8<<20)
	b.row("peak RSS (max of runs)", mib(peak), "≤ 20 MiB", peak <= 20<<20)
	return nil
}

// waitRequests counts the HTTP requests the watcher makes while a 10-minute pipeline runs, on a
// simulated clock, with the default poll interval and back-off.
func (b *bench) waitRequests() error {
	cfg, err := simulator.ParseConfig([]byte(simConfig()))
	if err != nil {
		return err
	}
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := circleci.New(circleci.Config{Host: srv.URL, Token: token, Sleep: clock.Sleep})
	if err != nil {
		return err
	}
	created, err := client.TriggerPipeline(context.Background(), "gh/acme/ten-minutes", []byte(`{}`))
	if err != nil {
		return err
	}
	start := clock.Now()
	res, err := watch.Watch(context.Background(), client, created.ID, watch.Options{Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		return err
	}
	if res.Outcome != watch.Success {
		return fmt.Errorf("the 10-minute pipeline ended %s: %s", res.Outcome, res.Reason)
	}
	requests := len(sim.Requests()) - 1 // the trigger itself is not waiting
	waited := clock.Now().Sub(start)
	b.row("requests, 10-minute wait", fmt.Sprintf("%d over %s (%.1f per waited minute)", requests, waited.Round(time.Second), float64(requests)/waited.Minutes()), "≤ 60", requests <= 60)
	return nil
}

// fanOut: 20 projects triggered and waited for at once, against one; and triggered without
// waiting, against the sequential curl loop users write today.
func (b *bench) fanOut() error {
	var lines []string
	for i := range fanOut {
		lines = append(lines, fmt.Sprintf("gh/acme/svc-%02d", i))
	}
	all := strings.Join(lines, "\n")
	waitArgs := []string{"--wait", "--poll-interval", "100ms"}
	const rounds = 5
	var single, many, triggerOnly, curlLoop []sample
	for range rounds {
		s, err := measure(b.batonCmd(append([]string{"trigger", "--project", lines[0]}, waitArgs...)...))
		if err != nil {
			return fmt.Errorf("single trigger --wait: %w", err)
		}
		m, err := measure(b.batonCmd(append([]string{"trigger", "--projects", all, "--max-parallel", fmt.Sprint(fanOut)}, waitArgs...)...))
		if err != nil {
			return fmt.Errorf("fan-out --wait: %w", err)
		}
		t, err := measure(b.batonCmd("trigger", "--projects", all, "--max-parallel", fmt.Sprint(fanOut)))
		if err != nil {
			return fmt.Errorf("fan-out trigger: %w", err)
		}
		c, err := b.curlLoop(lines)
		if err != nil {
			return fmt.Errorf("curl loop: %w", err)
		}
		single, many, triggerOnly, curlLoop = append(single, s), append(many, m), append(triggerOnly, t), append(curlLoop, c)
	}
	ratio := float64(median(many)) / float64(median(single))
	b.row(fmt.Sprintf("fan-out %d --wait vs one", fanOut), fmt.Sprintf("%s vs %s: ratio %.2f", ms(median(many)), ms(median(single)), ratio), "≤ 1.5", ratio <= 1.5)
	loopRatio := float64(median(triggerOnly)) / float64(median(curlLoop))
	b.row(fmt.Sprintf("fan-out %d vs curl loop", fanOut), fmt.Sprintf("%s vs %s: ratio %.2f", ms(median(triggerOnly)), ms(median(curlLoop)), loopRatio), "", true)
	return nil
}

// curlLoop triggers each project with curl, one after the other, as a shell loop would.
func (b *bench) curlLoop(slugs []string) (sample, error) {
	start := time.Now()
	for _, slug := range slugs {
		if err := b.curlCmd(slug, `{"branch":"main"}`).Run(); err != nil {
			return sample{}, err
		}
	}
	return sample{wall: time.Since(start)}, nil
}

type sample struct {
	wall   time.Duration
	maxRSS int64 // bytes
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
func mib(n int64) string        { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// limitedBuffer keeps the first few KiB of a command's output for error messages.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
