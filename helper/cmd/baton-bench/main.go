// Command baton-bench measures baton against its baselines in the same run, on loopback, against
// the CircleCI API simulator, with baton's default flags only:
//
//   - one `baton trigger` against the curl one-liner it replaces, the binary's size and the
//     trigger's peak memory;
//   - fan-outs of 20 and 100 projects with --wait against one project with --wait, the same
//     pipelines (wall time, how close together the triggers went out, requests per pipeline,
//     peak memory), and 100 projects again under a simulated limit of 300 requests a minute
//     (fanout.go);
//   - the wait for a pipeline whose workflows take 10 minutes, on a simulated clock, with the
//     workflows' history and without (tenminutes.go).
//
// It prints each figure against its goal and its baseline, and exits 1 when a goal is missed.
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
	"strings"
	"syscall"
	"time"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

const (
	token   = "bench-token-0123456789"
	project = "gh/acme/deploy"
	loop    = 20 // projects of the trigger-only fan-out compared with a curl loop
)

// simConfig: the project the trigger comparison posts to, and the projects of the curl loop.
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
`)
	for i := range loop {
		fmt.Fprintf(&sb, "  - {slug: gh/acme/svc-%02d, workflows: [{name: deploy, duration: 500ms}]}\n", i)
	}
	return sb.String()
}

// The same POST both ways: baton from typed flags, curl from the hand-assembled JSON users paste.
var (
	batonArgs = []string{"trigger", "--project", project, "--branch", "main",
		"--param", "image-name=acme/api:0.1.123", "--param", "replicas=3", "--param", "deploy=true"}
	curlBody = `{"branch":"main","parameters":{"image-name":"acme/api:0.1.123","replicas":3,"deploy":true}}`
	// unchecked is the same trigger without pre-flight's two reads, to show what they cost.
	unchecked = append(slices.Clip(batonArgs), "--preflight=off")
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("baton-bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	baton := flags.String("baton", "bin/baton", "the baton binary to measure (built stripped, as released)")
	runs := flags.Int("runs", 60, "timed runs of each command in the trigger comparison, interleaved (at least 20)")
	workflow := flags.Duration("fanout-workflow", defaultFanOutWorkflow, "how long the fan-out's workflows run, in real time; shorter only to try the bench out, as the goals assume the default")
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
		b.tenMinutes,
		func() error { return b.fanOut(*workflow) },
		b.curlLoopVsFanOut,
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
	main        *served // the trigger comparison's and the curl loop's simulator
	rows        [][4]string
	notes       []string
	missed      int
}

func newBench(baton string) (*bench, error) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		return nil, errors.New("curl is needed as the baseline: apt-get install curl")
	}
	main, err := serve(simConfig())
	if err != nil {
		return nil, err
	}
	return &bench{baton: baton, curl: curl, main: main}, nil
}

func (b *bench) close() { b.main.close() }

// served is a simulator on a loopback port.
type served struct {
	sim  *simulator.Simulator
	srv  *http.Server
	base string
}

func serve(config string, opts ...simulator.Option) (*served, error) {
	cfg, err := simulator.ParseConfig([]byte(config))
	if err != nil {
		return nil, err
	}
	sim := simulator.New(cfg, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: sim}
	go srv.Serve(ln) //nolint:errcheck // ends with close
	return &served{sim: sim, srv: srv, base: "http://" + ln.Addr().String()}, nil
}

func (s *served) close() { s.srv.Close() }

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
		fmt.Fprintf(w, "  %-34s %-58s %-16s %s\n", r[0], r[1], goal, r[3])
	}
	for _, n := range b.notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// batonCmd runs baton against the simulator at base, with the token in its default variable.
func (b *bench) batonCmd(base string, args ...string) *exec.Cmd {
	cmd := exec.Command(b.baton, append(args, "--host", base)...)
	cmd.Env = []string{"CIRCLE_TOKEN=" + token, "PATH=" + os.Getenv("PATH")}
	return cmd
}

func (b *bench) curlCmd(slug, body string) *exec.Cmd {
	return exec.Command(b.curl, "-sS", "--fail", "-o", "/dev/null", "-X", "POST",
		"-H", "Circle-Token: "+token, "-H", "Content-Type: application/json",
		"-d", body, b.main.base+"/api/v2/project/"+slug+"/pipeline")
}

// triggerVsCurl: one trigger, baton against curl, interleaved so drift hits both alike.
func (b *bench) triggerVsCurl(runs int) error {
	if err := evict(b.baton); err != nil {
		b.note("baton's binary stays in the page cache as written (%v): its start-up may measure slower than installed", err)
	}
	before := len(b.main.sim.Pipelines())
	for range 3 { // warm the page cache and the simulator
		if _, err := measure(b.batonCmd(b.main.base, batonArgs...)); err != nil {
			return fmt.Errorf("baton: %w", err)
		}
		if _, err := measure(b.curlCmd(project, curlBody)); err != nil {
			return fmt.Errorf("curl: %w", err)
		}
		if _, err := measure(b.batonCmd(b.main.base, unchecked...)); err != nil {
			return fmt.Errorf("baton --preflight=off: %w", err)
		}
	}
	var batonRuns, curlRuns, uncheckedRuns []sample
	for range runs {
		s, err := measure(b.batonCmd(b.main.base, batonArgs...))
		if err != nil {
			return fmt.Errorf("baton: %w", err)
		}
		c, err := measure(b.curlCmd(project, curlBody))
		if err != nil {
			return fmt.Errorf("curl: %w", err)
		}
		u, err := measure(b.batonCmd(b.main.base, unchecked...))
		if err != nil {
			return fmt.Errorf("baton --preflight=off: %w", err)
		}
		batonRuns, curlRuns, uncheckedRuns = append(batonRuns, s), append(curlRuns, c), append(uncheckedRuns, u)
	}
	if got, want := len(b.main.sim.Pipelines())-before, 3*(runs+3); got != want {
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
	b.row("pre-flight's cost (trigger wall)", fmt.Sprintf("default %s, --preflight=off %s: ratio %.2f", ms(batonMedian), ms(median(uncheckedRuns)), float64(batonMedian)/float64(median(uncheckedRuns))), "", true)
	b.row("binary size (stripped)", mib(info.Size()), "≤ 8 MiB", info.Size() <= 8<<20)
	b.row("peak RSS (max of runs)", mib(peak), "≤ 20 MiB", peak <= 20<<20)
	return nil
}

// curlLoopVsFanOut: 20 projects triggered without waiting, against the sequential curl loop
// users write today (informational: each curl is a process start).
func (b *bench) curlLoopVsFanOut() error {
	var slugs []string
	for i := range loop {
		slugs = append(slugs, fmt.Sprintf("gh/acme/svc-%02d", i))
	}
	const rounds = 5
	var fan, curl []sample
	for range rounds {
		t, err := measure(b.batonCmd(b.main.base, "trigger", "--projects", strings.Join(slugs, "\n")))
		if err != nil {
			return fmt.Errorf("fan-out trigger: %w", err)
		}
		c, err := b.curlLoop(slugs)
		if err != nil {
			return fmt.Errorf("curl loop: %w", err)
		}
		fan, curl = append(fan, t), append(curl, c)
	}
	ratio := float64(median(fan)) / float64(median(curl))
	b.row(fmt.Sprintf("%d triggers vs curl loop", loop), fmt.Sprintf("%s vs %s: ratio %.2f", ms(median(fan)), ms(median(curl)), ratio), "", true)
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

func ms(d time.Duration) string   { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
func mib(n int64) string          { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// limitedBuffer keeps the first few KiB of a command's output for error messages.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
