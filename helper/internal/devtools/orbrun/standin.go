package orbrun

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"time"
)

// A stand-in orb (orbtools.go) is a real orb's jobs and commands, parameter for parameter and
// step for step, whose scripts are replaced by standin steps: Go code on this machine doing
// what the script does. Its checkout, persist_to_workspace and attach_workspace steps are the
// Machine's own, so the workspace rules hold for it as for any job. Only stand-in orbs use
// the standin step; CircleCI has no such step, and the project's configs never name it.

// StandIn carries out one standin step. Its error fails the step (exit 1), as a script's
// failure would, after its message is written to the step's output.
type StandIn func(ctx context.Context, s StandInStep) error

// StandInStep is what a standin step sees: its arguments, its environment (the job's with the
// step's own environment: over it, as a run step's) and where it runs.
type StandInStep struct {
	Args    map[string]any
	Env     map[string]string
	Home    string
	WorkDir string
	Out     io.Writer
}

// Path resolves p as a script in the job would: ~ is the home directory, a relative path is
// relative to the working directory.
func (s StandInStep) Path(p string) string {
	p = expandHome(p, s.Home)
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.WorkDir, p)
	}
	return p
}

// standInStep reads a standin step: {name, run: the stand-in to call, environment, when}.
func standInStep(arg any) (Step, error) {
	a, err := mapping(arg, "standin")
	if err != nil {
		return Step{}, err
	}
	s := Step{Type: "standin", When: "on_success", Args: a}
	s.Name, _ = a["name"].(string)
	if run, _ := a["run"].(string); run == "" || s.Name == "" {
		return s, fmt.Errorf("standin: needs name and run")
	}
	if s.Environment, err = envMap(a["environment"]); err != nil {
		return s, fmt.Errorf("standin %q: environment: %w", s.Name, err)
	}
	if w, ok := a["when"]; ok {
		if s.When, err = whenValue(w, s.Name); err != nil {
			return s, err
		}
	}
	return s, nil
}

// runStandIn carries out a standin step; its exit code is 1 when the stand-in fails.
func (m *Machine) runStandIn(ctx context.Context, s Step, jobEnv map[string]string, home, workDir string) (int, string, time.Duration) {
	var out bytes.Buffer
	w := io.Writer(&out)
	if m.Log != nil {
		w = io.MultiWriter(&out, &indenter{w: m.Log, prefix: "  "})
	}
	name, _ := s.Args["run"].(string)
	env := maps.Clone(jobEnv)
	maps.Copy(env, s.Environment)
	start := time.Now()
	f, ok := m.StandIns[name]
	err := fmt.Errorf("no stand-in %q on this machine", name)
	if ok {
		err = f(ctx, StandInStep{Args: s.Args, Env: env, Home: home, WorkDir: workDir, Out: w})
	}
	if err != nil {
		fmt.Fprintln(w, err)
		return 1, out.String(), time.Since(start)
	}
	return 0, out.String(), time.Since(start)
}
