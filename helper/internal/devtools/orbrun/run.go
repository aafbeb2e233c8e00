package orbrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Machine runs expanded jobs the way a CircleCI executor would, on this machine: each job in
// a fresh home directory with its own $BASH_ENV, each run step with bash -eo pipefail. It runs
// one job at a time.
type Machine struct {
	// Root holds a directory per job (its home, $TMPDIR and $BASH_ENV).
	Root string
	// Env is what CircleCI sets in every job: CIRCLECI, CI, CIRCLE_BRANCH, … (see CircleEnv),
	// plus project environment variables.
	Env map[string]string
	// Contexts are the contexts jobs may name, with their variables.
	Contexts map[string]map[string]string
	// PathDirs come first in PATH, e.g. a directory of stubs for docker.
	PathDirs []string
	// SystemPath is the rest of PATH; default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin.
	SystemPath string
	// Log receives every job's output as CircleCI shows it: step names, then their output.
	Log io.Writer
	// StepTimeout bounds each run step; default 3m.
	StepTimeout time.Duration

	// Checkout, when set, carries out checkout steps: it puts the project's files into dir.
	// Without it checkout is recorded, not run.
	Checkout func(dir string) error
	// RestoreCache, when set, carries out restore_cache steps: it puts what the cache holds
	// into the job's working directory or home. Without it restore_cache is recorded, not run.
	RestoreCache func(workDir, home string) error
	// StandIns carry out the standin steps of the stand-in orbs (orbtools.go), by name.
	StandIns map[string]StandIn
	// AfterJob, when set, hears of every job RunWorkflow has finished (or blocked).
	AfterJob func(*JobResult)

	jobs int
	ws   *workspace // the current workflow's (workspace.go)
}

// The statuses of a job after RunWorkflow.
const (
	JobSuccess = "success"
	JobFailed  = "failed"
	JobBlocked = "blocked" // a job it requires did not succeed, so it never ran
)

// StepResult is what became of one step.
type StepResult struct {
	Step Step
	// Ran: a run step that was executed. Recorded: a step of another kind that CircleCI would
	// have carried out here. Neither: skipped because of an earlier failure (or on_fail).
	Ran, Recorded bool
	ExitCode      int
	Output        string // stdout and stderr as they interleaved
	Duration      time.Duration
	// Stored is, for store_test_results and store_artifacts, a directory holding a copy of the
	// files the step stored, as they were when it ran; "" when its path held nothing.
	Stored string
}

// JobResult is what became of one job.
type JobResult struct {
	Job     *Job
	Status  string
	Halted  bool // a step ran circleci-agent step halt: the steps after it did not run
	Steps   []StepResult
	Home    string // the job's home directory
	WorkDir string // its working directory
	BashEnv string // the contents of $BASH_ENV when it ended
}

// Step returns the result of the job's first step with the given name.
func (r *JobResult) Step(name string) (StepResult, bool) {
	for _, s := range r.Steps {
		if s.Step.Name == name {
			return s, true
		}
	}
	return StepResult{}, false
}

// Output is the output of every step that ran, in order.
func (r *JobResult) Output() string {
	var b strings.Builder
	for _, s := range r.Steps {
		b.WriteString(s.Output)
	}
	return b.String()
}

// Stored lists the files the job's steps of one type (store_test_results or store_artifacts)
// stored, as the copies taken when each step ran, by path below the step's stored directory.
func (r *JobResult) Stored(stepType string) map[string]string {
	out := map[string]string{}
	for _, s := range r.Steps {
		if s.Step.Type != stepType || s.Stored == "" {
			continue
		}
		_ = filepath.WalkDir(s.Stored, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(s.Stored, p)
				out[rel] = p
			}
			return nil
		})
	}
	return out
}

// FailedStep is the first run step that failed, if any.
func (r *JobResult) FailedStep() (StepResult, bool) {
	for _, s := range r.Steps {
		if s.Ran && s.ExitCode != 0 {
			return s, true
		}
	}
	return StepResult{}, false
}

// CircleEnv is the environment CircleCI gives every job of pipeline p in project org/repo
// (RunJob adds CIRCLE_JOB, CIRCLE_BUILD_NUM and CIRCLE_WORKING_DIRECTORY).
func CircleEnv(p Pipeline, org, repo string) map[string]string {
	env := map[string]string{
		"CI":                      "true",
		"CIRCLECI":                "true",
		"CIRCLE_BRANCH":           p.Branch,
		"CIRCLE_SHA1":             p.Revision,
		"CIRCLE_PROJECT_USERNAME": org,
		"CIRCLE_PROJECT_REPONAME": repo,
		"CIRCLE_REPOSITORY_URL":   p.GitURL,
		"CIRCLE_WORKFLOW_ID":      "5b7f0a1c-7c1e-4d6b-9a43-d1c9b3e0f001",
		"CIRCLE_NODE_INDEX":       "0",
		"CIRCLE_NODE_TOTAL":       "1",
		"CIRCLE_USERNAME":         "octocat",
	}
	if p.Tag != "" {
		env["CIRCLE_TAG"] = p.Tag
	}
	return env
}

// RunWorkflow runs jobs in order; a job whose requirements are not all met is blocked: by
// default a required job must succeed; {job: terminal} (or a list of statuses) says otherwise
// (requires.go).
func (m *Machine) RunWorkflow(ctx context.Context, jobs []*Job) ([]*JobResult, error) {
	return m.RunNamedWorkflow(ctx, "", jobs)
}

// RunNamedWorkflow is RunWorkflow for the workflow called name, which messages show.
func (m *Machine) RunNamedWorkflow(ctx context.Context, name string, jobs []*Job) ([]*JobResult, error) {
	m.BeginWorkflow(name, jobs) // each workflow has its own workspace
	status := map[string]string{}
	var out []*JobResult
	for _, j := range jobs {
		blocked := false
		for _, r := range j.Requires {
			if !requirementMet(status[r], j.RequiresStatus[r]) {
				blocked = true
			}
		}
		var res *JobResult
		switch {
		case blocked:
			res = &JobResult{Job: j, Status: JobBlocked}
			m.logf("\n━━ %s: not run, a job it requires did not succeed\n", j.Name)
		case j.Approval:
			res = &JobResult{Job: j, Status: JobSuccess}
			m.logf("\n━━ %s: approved\n", j.Name)
		default:
			var err error
			if res, err = m.RunJob(ctx, j); err != nil {
				return out, err
			}
		}
		status[j.Name] = res.Status
		out = append(out, res)
		if m.AfterJob != nil {
			m.AfterJob(res)
		}
	}
	return out, nil
}

// RunJob runs one job: its run steps with bash, in order, stopping at the first failure
// except for steps that run always (or on_fail). Other steps are recorded.
func (m *Machine) RunJob(ctx context.Context, j *Job) (*JobResult, error) {
	m.jobs++
	if m.ws == nil {
		m.BeginWorkflow("", nil)
	}
	if _, ok := m.ws.requires[j.Name]; !ok {
		m.ws.requires[j.Name] = j.Requires
	}
	dir := filepath.Join(m.Root, fmt.Sprintf("%02d-%s", m.jobs, safeName(j.Name)))
	home := filepath.Join(dir, "home")
	tmp := filepath.Join(dir, "tmp")
	bashEnv := filepath.Join(tmp, ".bash_env")
	workDir := expandHome(j.WorkingDirectory, home)
	for _, d := range []string{home, tmp, workDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(bashEnv, nil, 0o644); err != nil {
		return nil, err
	}
	env, err := m.jobEnv(j, home, tmp, workDir, bashEnv)
	if err != nil {
		return nil, err
	}
	halt, err := installAgent(dir, env)
	if err != nil {
		return nil, err
	}
	res := &JobResult{Job: j, Status: JobSuccess, Home: home, WorkDir: workDir}
	m.logf("\n━━ Job %s\n", j)
	m.logf("▸ Spin up environment\n")
	failed := false
	for i, s := range j.Steps {
		if _, err := os.Stat(halt); err == nil {
			m.logf("▸ the job was halted (circleci-agent step halt): %d steps not run\n", len(j.Steps)-i)
			for _, rest := range j.Steps[i:] {
				res.Steps = append(res.Steps, StepResult{Step: rest})
			}
			res.Halted = true
			break
		}
		r := StepResult{Step: s}
		if !shouldRun(s.When, failed) {
			if failed {
				m.logf("▸ %s: not run, an earlier step failed\n", s.Name)
			} else {
				m.logf("▸ %s: not run, it runs only after a failure\n", s.Name)
			}
			res.Steps = append(res.Steps, r)
			continue
		}
		if m.carriesOut(s.Type) {
			r.Recorded = true
			m.logf("▸ %s: %s %s [carried out here]\n", s.Name, s.Type, describeArgs(s.Args))
			var err error
			if isStore(s.Type) {
				r.Stored, r.Output, err = m.storeStep(s, dir, len(res.Steps), home, workDir)
			} else {
				err = m.builtinStep(j, s, home, workDir)
			}
			if r.Output != "" {
				m.logf("  %s", r.Output)
			}
			if err != nil {
				failed, r.ExitCode, r.Output = true, 1, err.Error()
				m.logf("  %v\n", err)
			}
			res.Steps = append(res.Steps, r)
			continue
		}
		if s.Type == "standin" {
			r.Ran = true
			m.logf("▸ %s [stand-in]\n", s.Name)
			r.ExitCode, r.Output, r.Duration = m.runStandIn(ctx, s, env, home, workDir)
			if r.ExitCode != 0 {
				failed = true
				m.logf("  Exited with code exit status %d\n", r.ExitCode)
			}
			res.Steps = append(res.Steps, r)
			continue
		}
		if s.Type != "run" {
			r.Recorded = true
			m.logf("▸ %s: %s %s [recorded, not run here]\n", s.Name, s.Type, describeArgs(s.Args))
			res.Steps = append(res.Steps, r)
			continue
		}
		r.Ran = true
		m.logf("▸ %s\n", s.Name)
		r.ExitCode, r.Output, r.Duration, err = m.runStep(ctx, s, env, home, workDir, j.Executor)
		if err != nil {
			return nil, fmt.Errorf("job %s, step %q: %w", j.Name, s.Name, err)
		}
		if r.ExitCode != 0 {
			failed = true
			m.logf("  Exited with code exit status %d\n", r.ExitCode)
		}
		res.Steps = append(res.Steps, r)
	}
	if failed {
		res.Status = JobFailed
	}
	content, err := os.ReadFile(bashEnv)
	if err != nil {
		return nil, err
	}
	res.BashEnv = string(content)
	m.logf("━━ %s: %s\n", j.Name, res.Status)
	return res, nil
}

func shouldRun(when string, failed bool) bool {
	switch when {
	case "always":
		return true
	case "on_fail":
		return failed
	}
	return !failed
}

// jobEnv is the environment of the job's steps before each step's own: the machine's, the
// contexts', the executor's and the job's, in that order of precedence (later wins).
func (m *Machine) jobEnv(j *Job, home, tmp, workDir, bashEnv string) (map[string]string, error) {
	sys := m.SystemPath
	if sys == "" {
		sys = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	env := map[string]string{
		"PATH":   strings.Join(append(slices.Clone(m.PathDirs), sys), string(os.PathListSeparator)),
		"HOME":   home,
		"USER":   "circleci",
		"SHELL":  "/bin/bash",
		"LANG":   "C.UTF-8",
		"TMPDIR": tmp,
	}
	maps.Copy(env, m.Env)
	env["CIRCLE_JOB"] = j.Name
	env["CIRCLE_BUILD_NUM"] = strconv.Itoa(100 + m.jobs)
	env["CIRCLE_WORKING_DIRECTORY"] = workDir
	for _, c := range j.Contexts {
		vars, ok := m.Contexts[c]
		if !ok {
			return nil, fmt.Errorf("job %s: context %q does not exist (the machine has %s)", j.Name, c, strings.Join(sortedKeys(m.Contexts), ", "))
		}
		maps.Copy(env, vars)
	}
	maps.Copy(env, j.Environment)
	env["BASH_ENV"] = bashEnv
	return env, nil
}

// runStep runs one run step and returns its exit code and output.
func (m *Machine) runStep(ctx context.Context, s Step, jobEnv map[string]string, home, workDir string, e Executor) (int, string, time.Duration, error) {
	timeout := m.StepTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	shell := StepShell(e, s)
	m.logf("  #!%s\n", strings.Join(shell, " "))
	argv, err := hostShell(shell)
	if err != nil {
		return 0, "", 0, err
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "-c", s.Command)...)
	env := maps.Clone(jobEnv)
	maps.Copy(env, s.Environment)
	env["BASH_ENV"] = jobEnv["BASH_ENV"] // a step cannot move $BASH_ENV
	cmd.Env = envList(env)
	cmd.Dir = workDir
	if s.WorkDir != "" {
		cmd.Dir = expandHome(s.WorkDir, home)
		if !filepath.IsAbs(cmd.Dir) {
			cmd.Dir = filepath.Join(workDir, cmd.Dir)
		}
	}
	var out bytes.Buffer
	w := io.Writer(&out)
	if m.Log != nil {
		w = io.MultiWriter(&out, &indenter{w: m.Log, prefix: "  "})
	}
	lw := &lockedWriter{w: w}
	cmd.Stdout, cmd.Stderr = lw, lw
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), took, nil
	case ctx.Err() != nil:
		return 0, out.String(), took, fmt.Errorf("still running after %s: %s", timeout, out.String())
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), out.String(), took, nil
	}
	return 0, out.String(), took, err
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// expandHome replaces a leading ~ with home, as CircleCI does for working_directory.
func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

func describeArgs(args map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(args) {
		if k != "name" {
			parts = append(parts, fmt.Sprintf("%s=%v", k, args[k]))
		}
	}
	return strings.Join(parts, " ")
}

func (m *Machine) logf(format string, args ...any) {
	if m.Log != nil {
		fmt.Fprintf(m.Log, format, args...)
	}
}

// lockedWriter serialises writes from a step's stdout and stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// indenter prefixes every line written through it.
type indenter struct {
	w       io.Writer
	prefix  string
	midLine bool
}

func (ind *indenter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, c := range p {
		if !ind.midLine {
			b.WriteString(ind.prefix)
			ind.midLine = true
		}
		b.WriteByte(c)
		if c == '\n' {
			ind.midLine = false
		}
	}
	if _, err := ind.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// StepShell is the shell a run step runs in, as CircleCI chooses it: the step's shell, else
// the job's (or its executor's), else the default. "For jobs that run on Linux, the default
// value of the shell option is /bin/bash -eo pipefail if /bin/bash is present in the build
// container. Otherwise it is /bin/sh -eo pipefail." (configuration reference, "Default shell
// options", https://circleci.com/docs/configuration-reference/#default-shell-options).
func StepShell(e Executor, s Step) []string {
	for _, sh := range []string{s.Shell, e.Shell} {
		if f := strings.Fields(sh); len(f) > 0 {
			return f
		}
	}
	if !HasBash(e) {
		return []string{"/bin/sh", "-eo", "pipefail"}
	}
	return []string{"/bin/bash", "-eo", "pipefail"}
}

// HasBash says whether an executor's build container has /bin/bash. Docker images are judged
// by name: Alpine (alpine, and tags such as node:20-alpine), docker (Docker's own images are
// Alpine's) and busybox have none; CircleCI's cimg/* images and every other image are taken
// to have it, as Debian- and Ubuntu-based images do. Machine and macOS executors have bash.
func HasBash(e Executor) bool {
	if e.Kind != "docker" || e.Image == "" {
		return true
	}
	ref := strings.ToLower(e.Image)
	ref, _, _ = strings.Cut(ref, "@") // a digest says nothing about the contents
	name, tag := ref, ""
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		name, tag = ref[:i], ref[i+1:]
	}
	name = strings.TrimPrefix(name, "docker.io/")
	name = strings.TrimPrefix(name, "library/")
	switch {
	case strings.HasPrefix(name, "cimg/"):
		return true
	case name == "alpine", name == "busybox", name == "docker":
		return false
	case strings.Contains(tag, "alpine"), strings.HasSuffix(name, "/alpine"):
		return false
	}
	return true
}

// hostShell turns a shell command line as CircleCI would run it into one for this machine:
// /bin/sh is dash here (Debian's /bin/sh, a strictly POSIX shell like Alpine's busybox ash), so
// that a step that needs bash fails here as it would on an image without bash. dash before
// 0.5.13 has no pipefail; then -o pipefail is dropped, which changes only how a failing pipe
// ends a step.
func hostShell(shell []string) ([]string, error) {
	if shell[0] != "/bin/sh" && shell[0] != "sh" {
		return shell, nil
	}
	dash, err := exec.LookPath("dash")
	if err != nil {
		return nil, fmt.Errorf("the step runs in /bin/sh, which is dash here, and dash is not installed (apt-get install dash)")
	}
	out := []string{dash}
	rest := shell[1:]
	for i := 0; i < len(rest); i++ {
		switch {
		case rest[i] == "-o" && i+1 < len(rest) && rest[i+1] == "pipefail" && !dashPipefail(dash):
			i++
		case rest[i] == "-eo" && !dashPipefail(dash):
			out = append(out, "-e")
			if i+1 < len(rest) && rest[i+1] == "pipefail" {
				i++
			}
		default:
			out = append(out, rest[i])
		}
	}
	return out, nil
}

var (
	dashPipefailOnce sync.Once
	dashHasPipefail  bool
)

// dashPipefail says whether this dash takes -o pipefail.
func dashPipefail(dash string) bool {
	dashPipefailOnce.Do(func() {
		dashHasPipefail = exec.Command(dash, "-o", "pipefail", "-c", ":").Run() == nil
	})
	return dashHasPipefail
}

// installAgent puts a circleci-agent first on the job's PATH, as CircleCI's executors have
// one, and returns the file whose presence means the job was halted. Only `circleci-agent
// step halt` is modelled: CircleCI ends the job there, successfully, once the step that ran
// it is done (https://circleci.com/docs/configuration-reference/#ending-a-job-from-within-a-step).
func installAgent(dir string, env map[string]string) (string, error) {
	bin := filepath.Join(dir, "agent")
	halt := filepath.Join(dir, "halted")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = step ] && [ \"$2\" = halt ]; then : >" + strconv.Quote(halt) + "; exit 0; fi\n" +
		"echo \"circleci-agent $*: only 'step halt' is modelled here\" >&2\nexit 1\n"
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(bin, "circleci-agent"), []byte(script), 0o755); err != nil {
		return "", err
	}
	env["PATH"] = bin + string(os.PathListSeparator) + env["PATH"]
	return halt, nil
}
