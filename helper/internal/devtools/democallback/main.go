// Command democallback is `make demo-callback`: the callback pattern with baton itself,
// in-process, against the CircleCI API simulator on a clock that only waits move, so the
// simulated time each upstream job spends is exactly what baton waited. The upstream triggers a
// 30-minute downstream with --callback and stops at an approval job; the downstream's last job
// runs baton callback; the upstream's result job reads the pipeline once. The same downstream
// with --wait shows what a waiting job costs.
//
//	go run ./helper/internal/devtools/democallback
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

func main() { os.Exit(run(os.Stdout, os.Stderr)) }

const token = "CCIPAT_demo_callback_SeCrEt_0123456789abcdef"

// simConfig: the upstream's deploy workflow waits at await-e2e; the downstream's suite takes 30
// minutes and ends with its callback job.
const simConfig = `
tokens:
  - {token: ` + token + `, login: deployer}
projects:
  - slug: gh/acme/deploy
    workflows:
      - name: deploy
        duration: 20s
        status: on_hold
        approved: {duration: 30s}
        jobs:
          - {name: start-e2e, duration: 10s}
          - {name: await-e2e, type: approval, requires: [start-e2e]}
          - {name: e2e-result, status: blocked, requires: [await-e2e]}
  - slug: gh/acme/e2e
    parameters: [{name: baton_callback, type: string, default: ""}]
    workflows:
      - name: e2e
        duration: 30m
        status: %s
        jobs:
          - {name: browser-tests, duration: 29m30s, status: %s}
          - {name: callback, requires: [browser-tests], status: success}
`

// world is the simulator, its clock and a place for files.
type world struct {
	out   io.Writer
	sim   *simulator.Simulator
	url   string
	clock *testkit.Clock
	dir   string
}

// baton runs one baton command in-process as a job would, with env as the job's
// environment; it returns the exit code and how long it took on the simulated clock.
func (w *world) baton(env map[string]string, args ...string) (int, time.Duration, string) {
	full := map[string]string{"CIRCLE_TOKEN": token}
	for k, v := range env {
		full[k] = v
	}
	var stdout strings.Builder
	d := cli.Deps{
		Context:   context.Background(),
		Stdout:    io.MultiWriter(w.out, &stdout),
		Stderr:    w.out,
		LookupEnv: func(k string) (string, bool) { v, ok := full[k]; return v, ok },
		ReadFile:  os.ReadFile,
		Now:       w.clock.Now,
		Sleep:     w.clock.Sleep,
		Version:   "demo",
	}
	fmt.Fprintf(w.out, "$ baton %s\n", strings.Join(args, " "))
	start := w.clock.Now()
	code := cli.Run(append(args, "--host", w.url), d)
	took := w.clock.Now().Sub(start)
	fmt.Fprintf(w.out, "(exit %d; %s on the simulated clock)\n", code, took.Round(time.Second))
	return code, took, stdout.String()
}

func run(stdout, stderr io.Writer) int {
	say := func(format string, args ...any) { fmt.Fprintf(stdout, "\n\033[1m== "+format+"\033[0m\n", args...) }
	for _, outcome := range []string{"success", "failed"} {
		say("A 30-minute downstream that ends %s", map[string]string{"success": "well", "failed": "failing"}[outcome])
		cb, wait, err := scenario(stdout, say, outcome)
		if err != nil {
			fmt.Fprintf(stderr, "demo-callback: %v\n", err)
			return 1
		}
		say("Upstream job time for this downstream (baton's own waiting, on the simulated clock)")
		fmt.Fprintf(stdout, "callback (trigger + result): %s\nwait: true (one waiting job):  %s\n", cb.Round(time.Second), wait.Round(time.Second))
		if cb >= time.Minute {
			fmt.Fprintf(stderr, "demo-callback: the callback's upstream jobs took %s, over the pattern's goal of a minute\n", cb)
			return 1
		}
	}
	return 0
}

// scenario runs the pattern for a downstream ending with outcome, then the same downstream
// waited for; it returns the upstream job time of each.
func scenario(out io.Writer, say func(string, ...any), outcome string) (callback, waited time.Duration, err error) {
	cfg, err := simulator.ParseConfig([]byte(fmt.Sprintf(simConfig, outcome, outcome)))
	if err != nil {
		return 0, 0, err
	}
	clock := testkit.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "baton-demo-callback")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	w := &world{out: out, sim: sim, url: srv.URL, clock: clock, dir: dir}

	// The upstream pipeline, as the API knows it: its deploy workflow is $CIRCLE_WORKFLOW_ID.
	up, err := w.api("POST", "project/gh/acme/deploy/pipeline")
	if err != nil {
		return 0, 0, err
	}
	upstream, err := w.workflowOf(up.Get("id").String())
	if err != nil {
		return 0, 0, err
	}
	upEnv := map[string]string{"CIRCLE_WORKFLOW_ID": upstream}
	recorded := filepath.Join(dir, "baton-callback", "await-e2e.json")
	if err := os.MkdirAll(filepath.Dir(recorded), 0o755); err != nil {
		return 0, 0, err
	}

	say("Upstream job start-e2e: trigger with a callback, wait only for the start")
	code, trig, _ := w.baton(upEnv, "trigger", "--project", "gh/acme/e2e", "--callback", "await-e2e", "--result-file", recorded)
	if code != 0 {
		return 0, 0, fmt.Errorf("the trigger exited %d", code)
	}
	var downstream, reference string
	for _, p := range sim.Pipelines() {
		if p.ProjectSlug == "gh/acme/e2e" {
			downstream, reference = p.ID, fmt.Sprint(p.Parameters["baton_callback"])
		}
	}
	fmt.Fprintf(out, "the downstream received baton_callback=%s\n", reference)

	say("30 minutes pass: the downstream's tests run; upstream, only the approval job await-e2e waits (no container)")
	clock.Advance(30 * time.Minute)

	say("Downstream's last job (requires: [{browser-tests: terminal}]): baton callback")
	downWF, err := w.workflowOf(downstream)
	if err != nil {
		return 0, 0, err
	}
	code, _, _ = w.baton(map[string]string{"CIRCLE_WORKFLOW_ID": downWF},
		"callback", "--reference", reference, "--allowed-projects", "gh/acme/deploy:await-e2e")
	if code != 0 {
		return 0, 0, fmt.Errorf("the callback exited %d", code)
	}

	say("Upstream job e2e-result, after the approval: baton result")
	code, result, _ := w.baton(upEnv, "result", recorded, "--junit", filepath.Join(dir, "junit.xml"))
	if want := map[string]int{"success": 0, "failed": 1}[outcome]; code != want {
		return 0, 0, fmt.Errorf("the result job exited %d, not %d", code, want)
	}

	say("The same downstream with wait: true: one job polls for the whole run")
	code, waited, _ = w.baton(nil, "trigger", "--project", "gh/acme/e2e", "--wait", "--timeout", "45m", "--heartbeat", "10m")
	if want := map[string]int{"success": 0, "failed": 1}[outcome]; code != want {
		return 0, 0, fmt.Errorf("the waiting trigger exited %d, not %d", code, want)
	}
	return trig + result, waited, nil
}

// api calls the simulator as the demo itself (not as a job), with the token.
func (w *world) api(method, path string) (gjson.Result, error) {
	req, err := http.NewRequest(method, w.url+"/api/v2/"+path, nil)
	if err != nil {
		return gjson.Result{}, err
	}
	req.Header.Set("Circle-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return gjson.Result{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return gjson.Result{}, err
	}
	if res.StatusCode >= 300 {
		return gjson.Result{}, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, body)
	}
	return gjson.ParseBytes(body), nil
}

// workflowOf is the first workflow of a pipeline.
func (w *world) workflowOf(pipelineID string) (string, error) {
	r, err := w.api("GET", "pipeline/"+pipelineID+"/workflow")
	return r.Get("items.0.id").String(), err
}
