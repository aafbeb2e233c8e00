package simulator

import (
	"math"
	"net/http"
	"slices"
	"time"
)

const opWorkflowSummary = "getWorkflowSummary"

// insightsWindow is how far back the summary looks: CircleCI's insights keep 90 days.
const insightsWindow = 90 * 24 * time.Hour

// workflowRun is one run of a workflow, as the summary counts it.
type workflowRun struct {
	status   string
	created  time.Time
	stopped  *time.Time
	duration time.Duration
}

// getWorkflowSummary serves GET /insights/{project-slug}/workflows/{workflow-name}/summary from
// the simulator's own history: every run of that workflow name in the project's pipelines of
// the last 90 days, on the branch asked for (the default branch when none is; all of them with
// all-branches=true). A name that never ran is answered 404, as a project the token cannot see.
// Unlike CircleCI, which may lag a day, a run counts as soon as it stops. CircleCI does not say
// which runs its duration metrics cover; the simulator takes the successful ones, the figure a
// follower expecting success wants.
func (s *Simulator) getWorkflowSummary(w http.ResponseWriter, r *http.Request, rt route, user *Token) {
	proj := s.lookupProject(rt.slug, user)
	if proj == nil {
		writeMessage(w, http.StatusNotFound, "Project not found")
		return
	}
	q := r.URL.Query()
	all := q.Get("all-branches") == "true"
	branch := q.Get("branch")
	if branch == "" {
		branch = proj.cfg.DefaultBranch
	}
	s.mu.Lock()
	now := s.now()
	var runs []workflowRun
	names := []string{}
	for _, p := range s.pipelines {
		if p.proj != proj || p.createdAt.Before(now.Add(-insightsWindow)) {
			continue
		}
		s.advance(p, now)
		for _, wf := range p.workflows {
			if !slices.Contains(names, wf.cfg.Name) {
				names = append(names, wf.cfg.Name)
			}
			if wf.cfg.Name != rt.name || (!all && p.branch != branch) {
				continue
			}
			st, stopped := wf.statusAt(now)
			run := workflowRun{status: st, created: wf.createdAt, stopped: stopped}
			if stopped != nil {
				run.duration = stopped.Sub(wf.createdAt)
			}
			runs = append(runs, run)
		}
	}
	s.mu.Unlock()
	if len(runs) == 0 {
		writeMessage(w, http.StatusNotFound, "Workflow not found")
		return
	}
	slices.Sort(names)
	writeJSON(w, http.StatusOK, summaryJSON(runs, names, now))
}

type summaryBody struct {
	Metrics       summaryMetrics `json:"metrics"`
	Trends        summaryTrends  `json:"trends"`
	WorkflowNames []string       `json:"workflow_names"`
}

type summaryMetrics struct {
	TotalRuns        int64           `json:"total_runs"`
	SuccessfulRuns   int64           `json:"successful_runs"`
	MTTR             *int64          `json:"mttr"`
	TotalCreditsUsed int64           `json:"total_credits_used"`
	FailedRuns       int64           `json:"failed_runs"`
	SuccessRate      float64         `json:"success_rate"`
	CompletedRuns    int64           `json:"completed_runs"`
	WindowStart      string          `json:"window_start"`
	DurationMetrics  durationMetrics `json:"duration_metrics"`
	WindowEnd        string          `json:"window_end"`
	Throughput       float64         `json:"throughput"`
}

// durationMetrics are in whole seconds; null when no run succeeded.
type durationMetrics struct {
	Min               *int64   `json:"min"`
	Mean              *int64   `json:"mean"`
	Median            *int64   `json:"median"`
	P95               *int64   `json:"p95"`
	Max               *int64   `json:"max"`
	StandardDeviation *float64 `json:"standard_deviation"`
}

// summaryTrends compare this window with the one before; the simulator keeps no earlier
// window, so every trend is 0 (no change).
type summaryTrends struct {
	TotalRuns          float64 `json:"total_runs"`
	FailedRuns         float64 `json:"failed_runs"`
	SuccessRate        float64 `json:"success_rate"`
	P95DurationSecs    float64 `json:"p95_duration_secs"`
	MedianDurationSecs float64 `json:"median_duration_secs"`
	TotalCreditsUsed   float64 `json:"total_credits_used"`
	MTTR               float64 `json:"mttr"`
	Throughput         float64 `json:"throughput"`
}

// summaryJSON aggregates runs (in creation order) as the insights summary does.
func summaryJSON(runs []workflowRun, names []string, now time.Time) summaryBody {
	m := summaryMetrics{TotalRuns: int64(len(runs))}
	var durations []time.Duration
	var canceled int64
	var failedAt *time.Time // the first failure since the last success
	var recoveries []time.Duration
	for _, r := range runs {
		if r.stopped == nil {
			continue
		}
		m.CompletedRuns++
		switch r.status {
		case "success":
			m.SuccessfulRuns++
			durations = append(durations, r.duration)
			if failedAt != nil {
				recoveries = append(recoveries, r.stopped.Sub(*failedAt))
				failedAt = nil
			}
		case "canceled":
			canceled++
		case "failed", "error", "unauthorized":
			m.FailedRuns++
			if failedAt == nil {
				failedAt = r.stopped
			}
		}
	}
	if n := m.TotalRuns - canceled; n > 0 {
		m.SuccessRate = float64(m.SuccessfulRuns) / float64(n)
	}
	if len(recoveries) > 0 {
		m.MTTR = ptr(secondsOf(mean(recoveries)))
	}
	first, last := runs[0].created, runs[len(runs)-1].created
	m.WindowStart, m.WindowEnd = timestamp(first), timestamp(last)
	m.Throughput = float64(len(runs)) / math.Max(now.Sub(first).Hours()/24, 1)
	if len(durations) > 0 {
		slices.Sort(durations)
		avg := mean(durations)
		var sq float64
		for _, d := range durations {
			sq += math.Pow(d.Seconds()-avg.Seconds(), 2)
		}
		sd := math.Sqrt(sq / float64(len(durations)))
		m.DurationMetrics = durationMetrics{
			Min: ptr(secondsOf(durations[0])), Mean: ptr(secondsOf(avg)),
			Median: ptr(secondsOf(percentile(durations, 50))), P95: ptr(secondsOf(percentile(durations, 95))),
			Max: ptr(secondsOf(durations[len(durations)-1])), StandardDeviation: &sd,
		}
	}
	return summaryBody{Metrics: m, WorkflowNames: names}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := int(math.Ceil(float64(p)/100*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func secondsOf(d time.Duration) int64 { return int64(math.Round(d.Seconds())) }

func ptr[T any](v T) *T { return &v }
