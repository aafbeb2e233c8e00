package main

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// defaultFanOutWorkflow is how long the fan-out's workflows run. With the default request budget
// (a burst of 100, then 300 a minute) a hundred pipelines can each be looked at about every 20s
// once the burst is spent, so their ends are seen up to that much later than one pipeline's; 2
// minutes is a short deploy, and long enough that the goal (1.2×) measures the follower, not the
// arithmetic of the budget.
const defaultFanOutWorkflow = 2 * time.Minute

// earlyGrace: a request that reaches the simulator this soon after a 429 was already on its way
// when the 429 was sent, so it cannot have ignored it.
const earlyGrace = 50 * time.Millisecond

// fanRun is one `baton trigger --projects … --wait` against a simulator of its own.
type fanRun struct {
	name  string
	n     int    // projects
	limit string // the simulator's rate_limit, YAML; "" for none
	// param: each project declares a parameter, has run before, and is sent one, so pre-flight
	// reads before the triggers; seeded counts the requests the bench made for that itself.
	param  bool
	seeded int
	srv    *served
	s      sample
	err    error
}

// The simulated limits: 300 requests a minute, announced on every answer as CircleCI documents
// (RateLimit-Remaining, -Reset), or told only in the 429s, as some of its services do.
const (
	announcedLimit = "{requests: 300, window: 1m}"
	quietLimit     = "{requests: 300, window: 1m, only_when_throttled: true}"
)

func fanOutConfig(n int, workflow time.Duration, limit string, param bool) string {
	var sb strings.Builder
	sb.WriteString("tokens: [{token: " + token + "}]\n")
	if limit != "" {
		sb.WriteString("rate_limit: " + limit + "\n")
	}
	sb.WriteString("projects:\n")
	for i := range n {
		declared := ""
		if param {
			declared = "parameters: [{name: replicas, type: integer, default: 1}], "
		}
		fmt.Fprintf(&sb, "  - {slug: %s, %sworkflows: [{name: deploy, duration: %s}]}\n", fanSlug(i), declared, workflow)
	}
	return sb.String()
}

func fanSlug(i int) string { return fmt.Sprintf("gh/acme/svc-%03d", i) }

// fanOut runs, at once and each against its own simulator, one project, 20 and 100 with --wait,
// and 100 under each rate limit; the one project is the baseline of the others.
func (b *bench) fanOut(workflow time.Duration) error {
	runs := []*fanRun{
		{name: "one project", n: 1},
		{name: "20 projects", n: 20},
		{name: "100 projects", n: 100},
		{name: "100 projects under 300/min", n: 100, limit: announcedLimit},
		{name: "100 under 300/min, told in 429s", n: 100, limit: quietLimit},
		{name: "100 projects, a parameter each", n: 100, param: true},
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		srv, err := serve(fanOutConfig(r.n, workflow, r.limit, r.param))
		if err != nil {
			return err
		}
		defer srv.close()
		r.srv = srv
		var slugs []string
		for i := range r.n {
			slugs = append(slugs, fanSlug(i))
		}
		args := []string{"trigger", "--wait"}
		if r.param {
			// Pre-flight reads the config of each project's last pipeline: give each one.
			for _, slug := range slugs {
				if err := seed(srv.base, slug); err != nil {
					return err
				}
			}
			r.seeded = len(srv.sim.Requests())
			args = append(args, "--param", "replicas=3")
		}
		if r.n == 1 {
			args = append(args, "--project", slugs[0])
		} else {
			args = append(args, "--projects", strings.Join(slugs, "\n"))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.s, r.err = measureRSS(b.batonCmd(srv.base, args...))
		}()
	}
	wg.Wait()
	for _, r := range runs {
		if r.err != nil {
			return fmt.Errorf("%s with --wait: %w", r.name, r.err)
		}
		if got := len(r.srv.sim.Pipelines()) - r.seeded; got != r.n {
			return fmt.Errorf("%s: %d pipelines were created, want %d", r.name, got, r.n)
		}
	}
	one := runs[0]
	perOne := float64(len(one.srv.sim.Requests()))
	b.row("one project --wait (baseline)", fmt.Sprintf("%s, %.0f requests, %s workflow", secs(one.s.wall), perOne, workflow), "", true)
	for _, r := range runs[1:3] {
		ratio := float64(r.s.wall) / float64(one.s.wall)
		b.row(r.name+" --wait vs one", fmt.Sprintf("%s vs %s: ratio %.2f", secs(r.s.wall), secs(one.s.wall), ratio), "≤ 1.2", ratio <= 1.2)
		spread := triggerSpread(r.srv.sim.Requests())
		b.row(r.name+": triggers spread", fmt.Sprintf("last trigger %s after the first", secs(spread)), "≤ 2s", spread <= 2*time.Second)
		per := float64(len(r.srv.sim.Requests())) / float64(r.n)
		b.row(r.name+": requests/pipeline", fmt.Sprintf("%.1f vs %.0f for one: ratio %.2f", per, perOne, per/perOne), "≤ 1.10", per/perOne <= 1.1)
	}
	hundred := runs[2]
	b.row("100 projects: peak RSS", fmt.Sprintf("%s (one project: %s)", mib(hundred.s.maxRSS), mib(one.s.maxRSS)), "≤ 30 MiB", hundred.s.maxRSS <= 30<<20)
	// Informational: sending parameters adds pre-flight's reads before the triggers, through the
	// same budget (helper/README.md, "Pre-flight").
	withParam := runs[5]
	reqs := withParam.srv.sim.Requests()[withParam.seeded:]
	b.row(withParam.name, fmt.Sprintf("%s vs %s: ratio %.2f; last trigger %s after the first, %d reads before", secs(withParam.s.wall), secs(one.s.wall), float64(withParam.s.wall)/float64(one.s.wall), secs(triggerSpread(reqs)), readsBeforeTriggers(reqs)), "", true)
	for _, r := range runs[3:5] {
		reqs := r.srv.sim.Requests()
		h := honoured(reqs)
		b.row(r.name, fmt.Sprintf("finished in %s, ratio %.2f to no limit; %d requests", secs(r.s.wall), float64(r.s.wall)/float64(hundred.s.wall), len(reqs)), "finishes", true)
		b.row("  every wait asked for honoured", fmt.Sprintf("%d 429s, %d answers with none left; %d sent too soon", h.throttled, h.spent, h.early), "0 too soon", h.early == 0)
	}
	return nil
}

// seed triggers one pipeline of slug, as a bench's earlier deploy.
func seed(base, slug string) error {
	req, err := http.NewRequest(http.MethodPost, base+"/api/v2/project/"+slug+"/pipeline", strings.NewReader(`{}`))
	if err != nil {
		return err
	}
	req.Header.Set("Circle-Token", token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("seeding %s: %s", slug, res.Status)
	}
	return nil
}

// readsBeforeTriggers counts the requests that reached the simulator before its first trigger.
func readsBeforeTriggers(reqs []simulator.Request) int {
	first := slices.IndexFunc(reqs, func(r simulator.Request) bool {
		return r.Operation == "triggerPipeline" || r.Operation == "triggerPipelineRun"
	})
	if first < 0 {
		return len(reqs)
	}
	return first
}

// triggerSpread is how long after the first trigger the last one reached the simulator.
func triggerSpread(reqs []simulator.Request) time.Duration {
	var times []time.Time
	for _, r := range reqs {
		if r.Operation == "triggerPipeline" || r.Operation == "triggerPipelineRun" {
			times = append(times, r.Time)
		}
	}
	if len(times) == 0 {
		return 0
	}
	first := slices.MinFunc(times, time.Time.Compare)
	last := slices.MaxFunc(times, time.Time.Compare)
	return last.Sub(first)
}

// waits is what honoured found.
type waits struct {
	throttled int // 429 answers
	spent     int // other answers saying no request is left until a reset
	early     int // requests that reached the simulator before the time one of those named
}

// honoured checks that no request reached the simulator (beyond earlyGrace, for one already on
// its way) before a 429's Retry-After had passed, or before the reset named by an answer whose
// RateLimit-Remaining was 0.
func honoured(reqs []simulator.Request) waits {
	var w waits
	seen := map[int]bool{}
	for _, r := range reqs {
		var wait string
		switch {
		case r.Status == http.StatusTooManyRequests:
			w.throttled++
			wait = r.ResponseHeader.Get("Retry-After")
		case r.ResponseHeader.Get("RateLimit-Remaining") == "0":
			w.spent++
			wait = r.ResponseHeader.Get("RateLimit-Reset")
		default:
			continue
		}
		n, err := strconv.Atoi(wait)
		if err != nil {
			continue
		}
		from, until := r.Time.Add(earlyGrace), r.Time.Add(time.Duration(n)*time.Second)
		for i, q := range reqs {
			if q.Time.After(from) && q.Time.Before(until) && !seen[i] {
				seen[i] = true
				w.early++
			}
		}
	}
	return w
}
