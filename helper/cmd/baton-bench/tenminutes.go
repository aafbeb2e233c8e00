package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/cli"
	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
	"github.com/baton-ci/baton/helper/internal/devtools/testkit"
)

// integrationRuns are the durations of the integration workflow, run after run: about 10
// minutes, varying as real runs do (median 10m). Each side measures one wait of each.
var integrationRuns = []string{"10m", "9m40s", "10m20s", "9m50s", "10m10s"}

// tenMinuteConfig: a pipeline that sits pending 5s, then runs a 3-minute build and the
// integration workflow, taking the given durations in turn.
func tenMinuteConfig(durations []string) string {
	return `
tokens: [{token: ` + token + `}]
projects:
  - slug: gh/acme/ten-minutes
    start_delay: 5s
    workflows:
      - {name: build, duration: 3m}
      - {name: integration, durations: [` + strings.Join(durations, ", ") + `]}
`
}

// waited is one measured wait: requests made after the trigger, and how long after the last
// workflow stopped the wait saw the end.
type waited struct {
	requests int
	late     time.Duration
}

// tenMinutes runs `baton trigger --wait` for the 10-minute pipeline in-process (cli.Run, default
// flags) on a simulated clock: the simulator, the client (request budget, retries) and the
// follower read one hand-moved clock that every sleep moves, so ten minutes pass in
// milliseconds and each request is made at the moment baton would make it. Without history
// (the baseline) each run is the project's first; with history, five runs came before.
func (b *bench) tenMinutes() error {
	var blind []waited
	for _, d := range integrationRuns {
		w, err := waitTenMinutes([]string{d}, 0, 1)
		if err != nil {
			return err
		}
		blind = append(blind, w...)
	}
	n := len(integrationRuns)
	known, err := waitTenMinutes(integrationRuns, n, n)
	if err != nil {
		return err
	}
	bl, kl := medianLate(blind), medianLate(known)
	br, kr := medianRequests(blind), medianRequests(known)
	b.row("10-minute wait: end seen after", fmt.Sprintf("%s median with history, %s without: ratio %.2f", secs(kl), secs(bl), kl.Seconds()/bl.Seconds()), "≤ 10s", kl <= 10*time.Second)
	b.row("10-minute wait: requests", fmt.Sprintf("%d median (%d at most) with history, %d (%d) without: ratio %.2f", kr, maxRequests(known), br, maxRequests(blind), float64(kr)/float64(br)), "≤ 30", kr <= 30)
	return nil
}

// waitTenMinutes triggers and waits for warmup+measured pipelines in turn on one simulator
// whose integration workflow takes durations in turn, and returns the measured waits.
func waitTenMinutes(durations []string, warmup, measured int) ([]waited, error) {
	cfg, err := simulator.ParseConfig([]byte(tenMinuteConfig(durations)))
	if err != nil {
		return nil, err
	}
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sim := simulator.New(cfg, simulator.WithClock(clock.Now))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	reader, err := circleci.New(circleci.Config{Host: srv.URL, Token: token, Sleep: clock.Sleep, Now: clock.Now})
	if err != nil {
		return nil, err
	}
	var out []waited
	for i := range warmup + measured {
		before := len(sim.Requests())
		var stderr limitedBuffer
		code := cli.Run([]string{"trigger", "--project", "gh/acme/ten-minutes", "--wait", "--host", srv.URL}, cli.Deps{
			Context: context.Background(), Stdout: io.Discard, Stderr: &stderr,
			LookupEnv: func(k string) (string, bool) {
				if k == "CIRCLE_TOKEN" {
					return token, true
				}
				return "", false
			},
			ReadFile: os.ReadFile, Sleep: clock.Sleep, Now: clock.Now, Version: "bench",
		})
		seen := clock.Now()
		reqs := sim.Requests()[before:]
		if code != 0 {
			return nil, fmt.Errorf("baton trigger --wait on the 10-minute pipeline: exit %d: %s", code, stderr.String())
		}
		// The end as the simulator has it: the last workflow's stopped_at (not counted).
		ps := sim.Pipelines()
		ws, err := reader.ListPipelineWorkflows(context.Background(), ps[len(ps)-1].ID)
		if err != nil {
			return nil, err
		}
		var end time.Time
		for _, w := range ws {
			if w.StoppedAt != nil && w.StoppedAt.After(end) {
				end = *w.StoppedAt
			}
		}
		if i >= warmup {
			out = append(out, waited{requests: len(reqs) - 1, late: seen.Sub(end)}) // the trigger is not waiting
		}
		clock.Advance(time.Minute) // the next deploy comes a little later
	}
	return out, nil
}

func medianLate(ws []waited) time.Duration {
	var ls []time.Duration
	for _, w := range ws {
		ls = append(ls, w.late)
	}
	slices.Sort(ls)
	return ls[len(ls)/2]
}

func medianRequests(ws []waited) int {
	var ns []int
	for _, w := range ws {
		ns = append(ns, w.requests)
	}
	slices.Sort(ns)
	return ns[len(ns)/2]
}

func maxRequests(ws []waited) int {
	n := 0
	for _, w := range ws {
		n = max(n, w.requests)
	}
	return n
}
