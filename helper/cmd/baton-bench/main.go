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
	"strconv"
	"strings"
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

// The trigger's goals, as ratios to curl's wall time in the same run, and its size and memory.
const (
	goalBare    = 0.55     // --preflight=off: the POST alone, as curl sends it (a bare Go POST is about 0.42)
	goalDefault = 0.75     // default flags: pre-flight's reads of the project's config, then the POST
	goalSize    = 8.5      // MiB, stripped
	goalRSS     = 20 << 20 // bytes, the peak of any trigger run
	defaultRuns = 150
	minRuns     = 30
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("baton-bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	baton := flags.String("baton", "bin/baton", "the baton binary to measure (built stripped, as released)")
	runs := flags.Int("runs", defaultRuns, fmt.Sprintf("timed runs of each command in the trigger comparison, interleaved in turn (at least %d)", minRuns))
	workflow := flags.Duration("fanout-workflow", defaultFanOutWorkflow, "how long the fan-out's workflows run, in real time; shorter only to try the bench out, as the goals assume the default")
	triggerOnly := flags.Bool("trigger-only", false, "measure only the trigger against curl (wall, size, memory), in seconds rather than minutes")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *runs < minRuns {
		fmt.Fprintf(stderr, "baton-bench: --runs must be at least %d\n", minRuns)
		return 2
	}
	b, err := newBench(*baton)
	if err != nil {
		fmt.Fprintf(stderr, "baton-bench: %v\n", err)
		return 1
	}
	defer b.close()
	fmt.Fprintf(stdout, "baton bench: against the CircleCI simulator on loopback, baselines measured in the same run\n")
	measures := []func() error{func() error { return b.triggerVsCurl(*runs) }}
	if !*triggerOnly {
		measures = append(measures, b.tenMinutes, func() error { return b.fanOut(*workflow) }, b.curlLoopVsFanOut)
	}
	for _, measure := range measures {
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
		verdict = "PASS"
		if !ok {
			verdict = "FAIL"
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
		fmt.Fprintf(w, "  %-40s %-58s %-16s %s\n", r[0], r[1], goal, r[3])
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

// triggerVsCurl: one trigger, baton with its default flags and with --preflight=off, against
// curl sending the same POST to the same simulator. The three run in turn, the first of each
// round rotating, so that drift and a command's place in the round hit all three alike; each
// figure is the median of its runs.
func (b *bench) triggerVsCurl(runs int) error {
	if err := evict(b.baton); err != nil {
		b.note("baton's binary stays in the page cache as written (%v): its start-up may measure slower than installed", err)
	}
	before := len(b.main.sim.Pipelines())
	commands := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"baton", func() *exec.Cmd { return b.batonCmd(b.main.base, batonArgs...) }},
		{"curl", func() *exec.Cmd { return b.curlCmd(project, curlBody) }},
		{"baton --preflight=off", func() *exec.Cmd { return b.batonCmd(b.main.base, unchecked...) }},
	}
	const warm = 3 // rounds that warm the page cache and the simulator, not counted
	samples := make([][]sample, len(commands))
	for round := range warm + runs {
		for k := range commands {
			i := (round + k) % len(commands)
			s, err := measure(commands[i].cmd())
			if err != nil {
				return fmt.Errorf("%s: %w", commands[i].name, err)
			}
			if round >= warm {
				samples[i] = append(samples[i], s)
			}
		}
	}
	const rssRuns = 10 // untimed runs of baton's two under GNU time, for the memory they use
	if got, want := len(b.main.sim.Pipelines())-before, len(commands)*(warm+runs); got != want {
		return fmt.Errorf("the simulator created %d pipelines, want %d: a run did not do the POST", got, want)
	}
	info, err := os.Stat(b.baton)
	if err != nil {
		return err
	}
	batonMedian, curlMedian, bareMedian := median(samples[0]), median(samples[1]), median(samples[2])
	bare, full := float64(bareMedian)/float64(curlMedian), float64(batonMedian)/float64(curlMedian)
	var peak int64
	for range rssRuns {
		for _, i := range []int{0, 2} { // baton's two
			s, err := measureRSS(commands[i].cmd())
			if err != nil {
				return fmt.Errorf("%s: %w", commands[i].name, err)
			}
			peak = max(peak, s.maxRSS)
		}
	}
	b.row(fmt.Sprintf("trigger --preflight=off (median of %d)", runs), fmt.Sprintf("baton %s, curl %s: ratio %.2f", ms(bareMedian), ms(curlMedian), bare), fmt.Sprintf("≤ %.2f", goalBare), bare <= goalBare)
	b.row(fmt.Sprintf("trigger, default flags (median of %d)", runs), fmt.Sprintf("baton %s, curl %s: ratio %.2f", ms(batonMedian), ms(curlMedian), full), fmt.Sprintf("≤ %.2f", goalDefault), full <= goalDefault)
	b.row("pre-flight's cost (trigger wall)", fmt.Sprintf("default %s, --preflight=off %s: ratio %.2f", ms(batonMedian), ms(bareMedian), float64(batonMedian)/float64(bareMedian)), "", true)
	b.row("binary size (stripped)", mib(info.Size()), fmt.Sprintf("≤ %.1f MiB", goalSize), float64(info.Size()) <= goalSize*(1<<20))
	b.row(fmt.Sprintf("peak RSS (max of %d trigger runs)", 2*rssRuns), mib(peak), fmt.Sprintf("≤ %d MiB", goalRSS>>20), peak <= goalRSS)
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
	maxRSS int64 // bytes; 0 unless measured by measureRSS
}

// measure runs cmd and times it.
func measure(cmd *exec.Cmd) (sample, error) {
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, out.String())
	}
	return sample{wall: wall}, nil
}

// measureRSS runs cmd under GNU time, which reports its peak resident memory. The rusage Go
// gets for its own child would not do: the child starts as a vfork of this process, sharing its
// memory until it execs, and Linux counts that memory (this bench and its simulators, tens of
// MiB) as the child's peak. The wall time includes time's own start-up, a millisecond or so.
func measureRSS(cmd *exec.Cmd) (sample, error) {
	gnuTime, err := exec.LookPath("time")
	if err != nil {
		return sample{}, errors.New("GNU time is needed to measure memory: apt-get install time")
	}
	report, err := os.CreateTemp("", "baton-bench-rss")
	if err != nil {
		return sample{}, err
	}
	report.Close()
	defer os.Remove(report.Name())
	cmd.Args = append([]string{gnuTime, "-f", "%M", "-o", report.Name(), cmd.Path}, cmd.Args[1:]...)
	cmd.Path = gnuTime
	s, err := measure(cmd)
	if err != nil {
		return s, err
	}
	text, err := os.ReadFile(report.Name())
	if err != nil {
		return s, err
	}
	lines := strings.Fields(string(text))
	if len(lines) == 0 {
		return s, fmt.Errorf("GNU time reported nothing")
	}
	kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		return s, fmt.Errorf("GNU time's report %q: %w", text, err)
	}
	s.maxRSS = kib << 10
	return s, nil
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
