// Command demo is `make demo`: a deploy triggered after an image push, run through the released orb the way CircleCI
// would run it, printed as its step output reads. A build job pushes an image (docker is a
// stub), then baton/trigger-pipeline installs baton from a local release server, verifies it
// against the checksums in the packed orb, triggers the deploy project on the CircleCI API
// simulator and waits for it. Last, the same job meets a tampered archive.
//
//	go run ./helper/internal/orbrun/demo --release DIR --version V
//
// DIR holds dist/ (scripts/build-release.sh) and orb.yml (scripts/pack-orb.sh); scripts/demo.sh
// makes both.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const token = "CCIPAT_demo_SeCrEt_0123456789abcdef"

// simConfig is the deploy project: it declares image-name, and its deploy workflow takes a
// minute of simulated time (a few seconds here).
const simConfig = `
tokens:
  - {token: ` + token + `, login: deployer}
projects:
  - slug: gh/acme/deploy
    parameters:
      - {name: image-name, type: string, default: ""}
    workflows:
      - name: deploy
        duration: 60s
        jobs:
          - {name: migrate, duration: 20s}
          - {name: rollout, requires: [migrate]}
`

const dockerStub = `#!/bin/sh
[ "$1" = login ] && cat >/dev/null
echo "(docker stub) docker $*"
`

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("release", "", "`DIR` holding dist/ and orb.yml (required)")
	version := fs.String("version", "", "the `VERSION` the release was built as (required)")
	if err := fs.Parse(args); err != nil || *dir == "" || *version == "" {
		fmt.Fprintln(stderr, "usage: demo --release DIR --version VERSION")
		return 2
	}
	if err := demo(*dir, *version, stdout); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

func demo(dir, version string, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "\n\033[1m== "+format+"\033[0m\n", args...) }
	rel := &orbrun.Release{Version: version, Dist: filepath.Join(dir, "dist"), Orb: filepath.Join(dir, "orb.yml")}
	orb, err := orbrun.LoadPacked(rel.Orb)
	if err != nil {
		return err
	}
	example, ok := orb.Examples["deploy-after-image-push"]
	if !ok {
		return fmt.Errorf("the packed orb has no deploy-after-image-push example")
	}

	cfg, err := simulator.ParseConfig([]byte(simConfig))
	if err != nil {
		return err
	}
	start := time.Now()
	clock := func() time.Time { return start.Add(time.Since(start) * 15) } // a minute in 4s
	sim := simulator.New(cfg, simulator.WithClock(clock))
	api := httptest.NewServer(sim)
	defer api.Close()
	releases := orbrun.NewReleaseServer(version, rel.Dist)
	defer releases.Close()

	work, err := os.MkdirTemp("", "baton-orb-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	stubs := filepath.Join(work, "stubs")
	if err := os.MkdirAll(stubs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stubs, "docker"), []byte(dockerStub), 0o755); err != nil {
		return err
	}

	// The deploy-after-image-push case, as the orb's example shows it, with wait: finished so that the job follows
	// the deploy to its end.
	usage := example.Usage
	trigger := findJob(usage, "baton/trigger-pipeline")
	if trigger == nil {
		return fmt.Errorf("the example has no baton/trigger-pipeline job")
	}
	trigger["wait"] = "finished"
	say("The config: the orb's deploy-after-image-push example, with wait: finished")
	if err := printYAML(out, usage); err != nil {
		return err
	}

	overrides := map[string]any{"host": api.URL, "helper_base_url": releases.URL, "poll_interval": "1s"}
	say("What stands in for CircleCI here")
	fmt.Fprintf(out, "API (host):           the CircleCI API simulator at %s\n", api.URL)
	fmt.Fprintf(out, "releases:             %s/v%s/…, serving %s\n", releases.URL, version, rel.Dist)
	fmt.Fprintf(out, "orb:                  %s (baton %s and its SHA-256 sums filled in by scripts/pack-orb.sh)\n", rel.Orb, version)
	fmt.Fprintf(out, "contexts:             docker-hub (DOCKER_LOGIN, DOCKER_PASSWORD), circleci-api (CIRCLE_TOKEN)\n")
	fmt.Fprintf(out, "poll_interval:        1s, and the simulator's clock runs 15× fast\n")

	p := orbrun.Pipeline{ID: "0f1e2d3c-4b5a-4698-8776-a5b4c3d2e1f0", Number: 42, Branch: "main", Revision: "3f786850e387550fdab836ed7e6dc881de23001b", GitURL: "https://github.com/acme/api"}
	m := &orbrun.Machine{
		Root: work,
		Env:  orbrun.CircleEnv(p, "acme", "api"),
		Contexts: map[string]map[string]string{
			"docker-hub":   {"DOCKER_LOGIN": "acme", "DOCKER_PASSWORD": "hunter2"},
			"circleci-api": {"CIRCLE_TOKEN": token},
		},
		PathDirs: []string{stubs},
		Log:      out,
	}
	jobs, err := expand(orb, usage, p, overrides)
	if err != nil {
		return err
	}
	say("The workflow, step by step")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	results, err := m.RunWorkflow(ctx, jobs)
	if err != nil {
		return err
	}
	failed := false
	for _, r := range results {
		failed = failed || r.Status != orbrun.JobSuccess
	}

	say("What the API received")
	for _, r := range sim.Requests() {
		if r.Method == "POST" {
			fmt.Fprintf(out, "%s %s\nCircle-Token: [the token from the circleci-api context]\n%s\n", r.Method, r.Path, r.Body)
		}
	}
	say("What later steps of the deploy job see in $BASH_ENV")
	for _, r := range results {
		if r.Job.Name == "deploy" {
			fmt.Fprint(out, strings.ReplaceAll(r.BashEnv, r.Home, "~"))
		}
	}

	say("The same job when the download is not the released archive")
	name := fmt.Sprintf("baton_%s_%s_%s.tar.gz", version, runtime.GOOS, runtime.GOARCH)
	releases.Swap(name, []byte("not the archive that was released"))
	before := len(sim.Requests())
	deployOnly := []*orbrun.Job{jobs[len(jobs)-1]}
	deployOnly[0].Requires = nil
	tampered, err := m.RunWorkflow(ctx, deployOnly)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "job %s: %s; requests that reached the API: %d\n", tampered[0].Job.Name, tampered[0].Status, len(sim.Requests())-before)
	if failed {
		return fmt.Errorf("the workflow did not succeed")
	}
	if tampered[0].Status != orbrun.JobFailed {
		return fmt.Errorf("the tampered archive was not refused")
	}
	return nil
}

func expand(orb *orbrun.Orb, usage map[string]any, p orbrun.Pipeline, overrides map[string]any) ([]*orbrun.Job, error) {
	cfg, err := orbrun.ParseConfig(usage, func(ref string) (*orbrun.Orb, error) {
		if !strings.HasPrefix(ref, "baton-ci/baton@") {
			return nil, fmt.Errorf("unknown orb %s", ref)
		}
		return orb, nil
	})
	if err != nil {
		return nil, err
	}
	x := &orbrun.Expander{Config: cfg, Pipeline: p, Overrides: overrides}
	return x.Workflow("build-and-deploy")
}

// findJob returns the arguments of the first workflow job running ref.
func findJob(usage map[string]any, ref string) map[string]any {
	workflows, _ := usage["workflows"].(map[string]any)
	for _, w := range workflows {
		jobs, _ := w.(map[string]any)["jobs"].([]any)
		for _, j := range jobs {
			if m, ok := j.(map[string]any); ok {
				if args, ok := m[ref].(map[string]any); ok {
					return args
				}
			}
		}
	}
	return nil
}

// printYAML prints a config with its top-level keys in the usual order.
func printYAML(out io.Writer, usage map[string]any) error {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range []string{"version", "orbs", "jobs", "workflows"} {
		v, ok := usage[k]
		if !ok {
			continue
		}
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			return err
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &n)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := out.Write(buf.Bytes())
	return err
}
