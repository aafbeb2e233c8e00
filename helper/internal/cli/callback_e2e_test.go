package cli_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/baton-ci/baton/helper/internal/devtools/simulator"
)

// The callback pattern end to end, in-process, against the simulator on a clock the injected
// sleep moves: the upstream trigger with a callback, the downstream pipeline running, its last
// job calling back, the upstream's result job. The upstream workflow also holds a production
// gate, approve-prod, that no callback may approve unless the allow-list names it.

const callbackConfig = `
tokens:
  - token: ` + token + `
projects:
  - slug: gh/acme/deploy
    workflows:
      - &upstream
        name: deploy
        duration: 20s
        status: on_hold
        approved: {duration: 30s}
        jobs:
          - {name: lint, duration: 5s}
          - {name: start-e2e, duration: 10s}
          - {name: await-e2e, type: approval, requires: [start-e2e]}
          - {name: e2e-result, status: blocked, requires: [await-e2e]}
          - {name: approve-prod, type: approval, requires: [start-e2e]}
          - {name: deploy-prod, status: blocked, requires: [approve-prod]}
  - slug: gh/evil/deploy
    workflows: [*upstream]
  - slug: gh/acme/e2e
    parameters: [{name: baton_callback, type: string, default: ""}]
    workflows:
      - name: e2e
        duration: 30m
        jobs: [{name: browser-tests, duration: 29m}, {name: callback, requires: [browser-tests]}]
  - slug: gh/acme/e2e-broken
    parameters: [{name: baton_callback, type: string, default: ""}]
    workflows:
      - name: e2e
        duration: 30m
        status: failed
        jobs: [{name: browser-tests, duration: 29m, status: failed}, {name: callback, requires: [browser-tests], status: success}]
  - slug: gh/acme/e2e-instant
    parameters: [{name: baton_callback, type: string, default: ""}]
    workflows: [{name: e2e, status: failed, jobs: [{name: lint, status: failed}, {name: callback, status: success}]}]
  - slug: gh/acme/e2e-two
    parameters: [{name: baton_callback, type: string, default: ""}]
    workflows:
      - {name: e2e, duration: 10m, jobs: [{name: browser-tests}, {name: callback}]}
      - {name: soak, duration: 25m, jobs: [{name: soak}]}
  - slug: gh/acme/e2e-undeclared
    workflows: [{name: e2e, duration: 30m}]
`

type callbackWorld struct {
	*clockWorld
}

func newCallbackWorld(t *testing.T) *callbackWorld {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(callbackConfig))
	require.NoError(t, err)
	return &callbackWorld{newClockWorld(t, func(c *simulator.Config) { *c = cfg }, nil)}
}

// get reads an API path as JSON.
func (w *callbackWorld) get(path string) gjson.Result {
	w.t.Helper()
	req, err := http.NewRequest("GET", w.url+"/api/v2/"+path, nil)
	require.NoError(w.t, err)
	req.Header.Set("Circle-Token", token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(w.t, err)
	require.Equal(w.t, 200, res.StatusCode, string(body))
	return gjson.ParseBytes(body)
}

// upstream starts an upstream pipeline of project and returns its workflow's id, once its
// trigger job runs.
func (w *callbackWorld) upstream(project string) string {
	w.t.Helper()
	code, out, errOut := w.baton("trigger", "--project", project, "--output", "json")
	require.Equal(w.t, 0, code, out+errOut)
	id := gjson.Get(out, "pipelines.0.id").String()
	w.clock.Advance(time.Second)
	return w.get("pipeline/" + id + "/workflow").Get("items.0.id").String()
}

// job is the status of the upstream workflow's job.
func (w *callbackWorld) job(workflowID, name string) string {
	w.t.Helper()
	for _, j := range w.get("workflow/" + workflowID + "/job").Get("items").Array() {
		if j.Get("name").String() == name {
			return j.Get("status").String()
		}
	}
	return ""
}

// approvals are the approve requests the simulator received.
func (w *callbackWorld) approvals() []string {
	var out []string
	for _, r := range w.sim.Requests() {
		if r.Operation == "approvePendingApprovalJobById" {
			out = append(out, r.Path)
		}
	}
	return out
}

// downstream is the latest pipeline of project: its id, its callback parameter, its workflow.
func (w *callbackWorld) downstream(project string) (id, reference, workflowID string) {
	w.t.Helper()
	for _, p := range w.sim.Pipelines() {
		if p.ProjectSlug == project {
			id, reference = p.ID, ""
			if v, ok := p.Parameters["baton_callback"].(string); ok {
				reference = v
			}
		}
	}
	require.NotEmpty(w.t, id, "no pipeline of %s", project)
	return id, reference, w.get("pipeline/" + id + "/workflow").Get("items.0.id").String()
}

// callback runs the downstream's callback job in the workflow downstreamWF.
func (w *callbackWorld) callback(downstreamWF, reference string, args ...string) (int, string, string) {
	w.t.Helper()
	return w.run(map[string]string{"CIRCLE_WORKFLOW_ID": downstreamWF}, nil,
		append([]string{"callback", "--reference", reference, "--allowed-projects", "gh/acme/deploy:await-e2e"}, args...)...)
}

// triggerWithCallback starts an upstream pipeline, then triggers project from its workflow
// with --callback await-e2e; it returns baton's exit code and output.
func (w *callbackWorld) triggerWithCallback(project string, args ...string) (up string, code int, out, errOut string) {
	w.t.Helper()
	up = w.upstream("gh/acme/deploy")
	code, out, errOut = w.run(map[string]string{"CIRCLE_WORKFLOW_ID": up}, nil,
		append([]string{"trigger", "--project", project, "--callback", "await-e2e"}, args...)...)
	return up, code, out, errOut
}

func TestTheCallbackPatternEndToEnd(t *testing.T) {
	for _, tt := range []struct {
		name, project string
		code          int
		line          string
	}{
		{"the downstream succeeds: so does the result job", "gh/acme/e2e", 0, `gh/acme/e2e #1: succeeded after 30m`},
		{"the downstream fails: the result job fails with it, and was still called back", "gh/acme/e2e-broken", 1, `baton: gh/acme/e2e-broken #1: failed after 30m: workflow e2e failed (job browser-tests failed)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newCallbackWorld(t)
			up := w.upstream("gh/acme/deploy")
			dir := t.TempDir()
			recorded, junit := filepath.Join(dir, "ws", "await-e2e.json"), filepath.Join(dir, "junit.xml")
			require.NoError(t, os.MkdirAll(filepath.Dir(recorded), 0o755))

			start := w.clock.Now()
			code, out, errOut := w.run(map[string]string{"CIRCLE_WORKFLOW_ID": up}, nil,
				"trigger", "--project", tt.project, "--callback", "await-e2e", "--result-file", recorded, "--poll-interval", "2s")
			require.Equal(t, 0, code, out+errOut)
			triggerTime := w.clock.Now().Sub(start)
			assert.Contains(t, out, "started")
			data, err := os.ReadFile(recorded)
			require.NoError(t, err)
			assert.Equal(t, "started", gjson.GetBytes(data, "pipelines.0.outcome").String())

			_, reference, downWF := w.downstream(tt.project)
			assert.Equal(t, "baton-callback:v1:"+up+":await-e2e", reference, "the reference: the workflow and its approval job, nothing else")
			assert.NotContains(t, reference, w.url)

			w.clock.Advance(30 * time.Minute) // the downstream tests run; nothing upstream does
			assert.Equal(t, "on_hold", w.job(up, "await-e2e"))
			code, out, errOut = w.callback(downWF, reference)
			require.Equal(t, 0, code, out+errOut)
			assert.Regexp(t, `^baton: approved approval job await-e2e of gh/acme/deploy workflow deploy \(http://127\.0\.0\.1:\d+/pipelines/github/acme/deploy/1/workflows/`+up+`\)\n$`, out)
			assert.Equal(t, "success", w.job(up, "await-e2e"))
			require.Len(t, w.approvals(), 1)

			code, out, _ = w.callback(downWF, reference)
			assert.Equal(t, 0, code, "a rerun of the callback job is harmless")
			assert.Contains(t, out, "was already approved; nothing to do")
			assert.Len(t, w.approvals(), 1, "and approves nothing twice")

			start = w.clock.Now()
			code, out, errOut = w.run(nil, nil, "result", recorded, "--junit", junit)
			resultTime := w.clock.Now().Sub(start)
			assert.Equal(t, tt.code, code, out+errOut)
			assert.Contains(t, out+errOut, tt.line)
			x, err := os.ReadFile(junit)
			require.NoError(t, err)
			assert.Contains(t, string(x), "browser-tests")

			// The point of the pattern: the upstream's jobs spend under a minute on a 30-minute downstream.
			assert.Less(t, triggerTime+resultTime, time.Minute, "trigger %s + result %s", triggerTime, resultTime)
		})
	}
}

func TestTheTriggerJobFailsAtOnceWhenTheDownstreamCannotStart(t *testing.T) {
	w := newCallbackWorld(t)
	_, code, out, errOut := w.triggerWithCallback("gh/acme/e2e-undeclared")
	assert.Equal(t, 1, code, out+errOut)
	assert.Contains(t, errOut, "baton_callback", "CircleCI's message names the undeclared parameter")
	assert.Empty(t, w.approvals())
}

func TestTheCallbackRefusesWhatItMustNotApprove(t *testing.T) {
	w := newCallbackWorld(t)
	acme, evil := w.upstream("gh/acme/deploy"), w.upstream("gh/evil/deploy")
	w.clock.Advance(time.Minute) // both approval jobs on hold
	_, _, downWF := w.downstream("gh/evil/deploy")

	tests := []struct {
		name, reference string
		args            []string
		code            int
		stderr          string
	}{
		{"an upstream outside the allow-list", "baton-callback:v1:" + evil + ":await-e2e", nil, 2,
			"baton: refused, nothing approved: workflow " + evil + ` belongs to "gh/evil/deploy", which is not in --allowed-projects (gh/acme/deploy:await-e2e)`},
		// the wildcard, so that the job's type, and the job list, are what refuse these two
		{"a forged reference naming a build job", "baton-callback:v1:" + acme + ":lint", []string{"--allowed-projects", "gh/acme/deploy:*"}, 2,
			`baton: refused, nothing approved: job "lint" of the upstream workflow is of type "build", not an approval job`},
		{"a job the workflow does not have", "baton-callback:v1:" + acme + ":ship-it", []string{"--allowed-projects", "gh/acme/deploy:*"}, 2, `no job named "ship-it"`},
		{"a reference that is not one", "https://evil.example/approve", nil, 2, "not a baton callback reference"},
		{"no allow-list", "baton-callback:v1:" + acme + ":await-e2e", []string{"--allowed-projects", ""}, 2, "--allowed-projects is required"},
		{"a forged reference naming the production gate", "baton-callback:v1:" + acme + ":approve-prod", []string{"--allowed-projects", "gh/acme/deploy:wait-for-tests"}, 2,
			`baton: refused, nothing approved: job "approve-prod" of "gh/acme/deploy" is not among the approval jobs --allowed-projects allows (gh/acme/deploy:wait-for-tests)`},
		{"an approval job the allow-list does not name", "baton-callback:v1:" + acme + ":await-e2e", []string{"--allowed-projects", "gh/acme/deploy:approve-prod"}, 2,
			`baton: refused, nothing approved: job "await-e2e" of "gh/acme/deploy" is not among the approval jobs --allowed-projects allows (gh/acme/deploy:approve-prod)`},
		{"a workflow that does not exist", "baton-callback:v1:00000000-0000-4000-8000-000000000000:await-e2e", nil, 3, "404 Workflow not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := w.callback(downWF, tt.reference, tt.args...)
			assert.Equal(t, tt.code, code, out+errOut)
			assert.Contains(t, errOut, tt.stderr)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line")
		})
	}
	assert.Empty(t, w.approvals(), "nothing was approved")
	assert.Equal(t, "on_hold", w.job(acme, "await-e2e"))
	assert.Equal(t, "on_hold", w.job(acme, "approve-prod"))
	assert.Equal(t, "on_hold", w.job(evil, "await-e2e"))
}

func TestTheAllowListNamesTheApprovalJobs(t *testing.T) {
	t.Run("PROJECT:JOB approves exactly that job", func(t *testing.T) {
		w := newCallbackWorld(t)
		up := w.upstream("gh/acme/deploy")
		w.clock.Advance(time.Minute)
		code, out, errOut := w.callback("", "baton-callback:v1:"+up+":await-e2e", "--allowed-projects", "gh/acme/deploy:await-e2e, gh/acme/deploy:wait-for-tests")
		require.Equal(t, 0, code, out+errOut)
		assert.Regexp(t, `^baton: approved approval job await-e2e of gh/acme/deploy workflow deploy \(http://\S+\)\n$`, out, "named, not announced as a wildcard")
		require.Len(t, w.approvals(), 1)
		assert.Equal(t, "success", w.job(up, "await-e2e"))
		assert.Equal(t, "on_hold", w.job(up, "approve-prod"), "the production gate is left alone")
	})
	for _, tt := range []struct{ name, allowed, bare string }{
		{"a project alone is refused, and nothing is sent", "gh/acme/deploy", "gh/acme/deploy"},
		{"a project alone beside PROJECT:JOB entries is refused too", "gh/acme/deploy:await-e2e\ngh/acme/web", "gh/acme/web"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newCallbackWorld(t)
			up := w.upstream("gh/acme/deploy")
			w.clock.Advance(time.Minute)
			before := len(w.sim.Requests())
			for _, ref := range []string{"baton-callback:v1:" + up + ":await-e2e", ""} {
				code, out, errOut := w.callback("", ref, "--allowed-projects", tt.allowed)
				assert.Equal(t, 2, code, out+errOut)
				assert.Empty(t, out)
				assert.Equal(t, "baton: --allowed-projects "+tt.bare+": name the approval job too, as "+tt.bare+":JOB (or "+tt.bare+":* for any approval job of that project)\n", errOut,
					"one line, which shows the PROJECT:JOB form, even without a reference")
			}
			assert.Len(t, w.sim.Requests(), before, "nothing was sent")
			assert.Equal(t, "on_hold", w.job(up, "await-e2e"))
		})
	}
	t.Run("the wildcard approves any approval job, and says so each time", func(t *testing.T) {
		w := newCallbackWorld(t)
		up := w.upstream("gh/acme/deploy")
		w.clock.Advance(time.Minute)
		for _, job := range []string{"approve-prod", "await-e2e"} {
			code, out, errOut := w.callback("", "baton-callback:v1:"+up+":"+job, "--allowed-projects", "gh/acme/deploy:*")
			require.Equal(t, 0, code, out+errOut)
			assert.Regexp(t, `^baton: approved approval job `+job+` of gh/acme/deploy workflow deploy \(allowed by the wildcard gh/acme/deploy:\*\) \(http://\S+\)\n$`, out)
			assert.Equal(t, "success", w.job(up, job))
		}
		assert.Len(t, w.approvals(), 2)
	})
}

func TestTheCallbackWaitsForTheApprovalAndKnowsWhenItIsOver(t *testing.T) {
	t.Run("an empty reference: not called back, nothing to do", func(t *testing.T) {
		w := newCallbackWorld(t)
		code, out, _ := w.run(nil, nil, "callback", "--reference", "", "--allowed-projects", "gh/acme/deploy:await-e2e")
		assert.Equal(t, 0, code)
		assert.Contains(t, out, "nothing to approve")
		assert.Empty(t, w.approvals())
	})
	t.Run("an approval still blocked behind the trigger job is waited for", func(t *testing.T) {
		w := newCallbackWorld(t)
		up := w.upstream("gh/acme/deploy")
		require.Equal(t, "blocked", w.job(up, "await-e2e"))
		code, out, errOut := w.callback("", "baton-callback:v1:"+up+":await-e2e", "--poll-interval", "5s")
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "is blocked, not on hold yet; waiting for it")
		assert.Contains(t, out, "baton: approved approval job await-e2e")
		assert.Len(t, w.approvals(), 1)
	})
	t.Run("one that stays blocked times out, approving nothing", func(t *testing.T) {
		w := newCallbackWorld(t)
		up := w.upstream("gh/acme/deploy")
		code, _, errOut := w.callback("", "baton-callback:v1:"+up+":await-e2e", "--timeout", "5s", "--poll-interval", "1s")
		assert.Equal(t, 4, code, errOut)
		assert.Contains(t, errOut, "was still blocked after 5s; nothing approved")
		assert.Empty(t, w.approvals())
	})
	t.Run("a canceled upstream is said, not a failure", func(t *testing.T) {
		w := newCallbackWorld(t)
		up := w.upstream("gh/acme/deploy")
		w.clock.Advance(time.Minute)
		req, err := http.NewRequest("POST", w.url+"/api/v2/workflow/"+up+"/cancel", nil)
		require.NoError(t, err)
		req.Header.Set("Circle-Token", token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		code, out, errOut := w.callback("", "baton-callback:v1:"+up+":await-e2e")
		assert.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "nothing approved: the upstream workflow is canceled")
		assert.Empty(t, w.approvals())
	})
}

func TestTriggerRefusesACallbackItCannotKeep(t *testing.T) {
	w := newCallbackWorld(t)
	up := "c2abcb97-ec23-47ef-9666-a9f34ac24501"
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		err  string
	}{
		{"outside CircleCI", nil, nil, "--callback needs $CIRCLE_WORKFLOW_ID"},
		{"with --wait", map[string]string{"CIRCLE_WORKFLOW_ID": up}, []string{"--wait"}, "drop --wait"},
		{"a parameter given twice", map[string]string{"CIRCLE_WORKFLOW_ID": up}, []string{"--param", "baton_callback=x"}, "--callback sends it itself"},
		{"a bad parameter name", map[string]string{"CIRCLE_WORKFLOW_ID": up}, []string{"--callback-parameter", "1x"}, `--callback-parameter "1x": not a pipeline parameter name`},
		{"the token as the job's name", map[string]string{"CIRCLE_WORKFLOW_ID": up}, []string{"--callback", "x" + token}, "--callback holds the API token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := w.run(tt.env, nil, append([]string{"trigger", "--project", "gh/acme/e2e", "--callback", "await-e2e"}, tt.args...)...)
			assert.Equal(t, 2, code, out+errOut)
			assert.Contains(t, errOut, tt.err)
		})
	}
	assert.Empty(t, w.sim.Pipelines(), "nothing was sent")
}

func TestADownstreamThatEndedBeforeTheFirstLookCountsAsStarted(t *testing.T) {
	w := newCallbackWorld(t)
	_, code, out, errOut := w.triggerWithCallback("gh/acme/e2e-instant", "--output", "json")
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, errOut, "baton: gh/acme/e2e-instant #1 had already failed when first read; its callback approves await-e2e, and the result job reports it")
	assert.Equal(t, "started", gjson.Get(out, "pipelines.0.outcome").String(), "its last job calls back; the result job fails with it")
}

func TestTheCallbackWaitsForThePipelinesOtherWorkflows(t *testing.T) {
	w := newCallbackWorld(t)
	_, code, out, errOut := w.triggerWithCallback("gh/acme/e2e-two")
	require.Equal(t, 0, code, out+errOut)
	_, reference, e2eWF := w.downstream("gh/acme/e2e-two")
	w.clock.Advance(10 * time.Minute) // e2e is done; soak runs 15 minutes more

	start := w.clock.Now()
	code, out, errOut = w.callback(e2eWF, reference, "--timeout", "30m")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "baton: waiting for this pipeline's other workflows to end before calling back: soak\n")
	assert.NotContains(t, out, "still running")
	assert.Contains(t, out, "baton: approved approval job await-e2e")
	assert.GreaterOrEqual(t, w.clock.Now().Sub(start), 15*time.Minute, "it approved once soak had ended")

	t.Run("and goes on after --timeout", func(t *testing.T) {
		w := newCallbackWorld(t)
		_, code, out, errOut := w.triggerWithCallback("gh/acme/e2e-two")
		require.Equal(t, 0, code, out+errOut)
		_, reference, e2eWF := w.downstream("gh/acme/e2e-two")
		w.clock.Advance(10 * time.Minute)
		code, out, errOut = w.callback(e2eWF, reference, "--timeout", "2m")
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "baton: soak still running after 2m0s; calling back anyway (the upstream's result job follows them)\n")
		assert.Contains(t, out, "baton: approved approval job await-e2e")
	})
}

func TestAnApprovalWhoseAnswerWasLostIsKnownByTheJobList(t *testing.T) {
	w := newCallbackWorld(t)
	up := w.upstream("gh/acme/deploy")
	w.clock.Advance(time.Minute)
	// The approval goes through, its answer is a 502; the retry is refused as no longer on hold.
	w.fault(simulator.Fault{Operation: "approvePendingApprovalJobById", Kind: "processed", Status: 502})
	code, out, errOut := w.callback("", "baton-callback:v1:"+up+":await-e2e")
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "baton: approved approval job await-e2e")
	assert.Len(t, w.approvals(), 2, "sent, answer lost, sent again and refused")
	assert.Equal(t, "success", w.job(up, "await-e2e"))
}

// A project the trigger job got no pipeline for fails the result job with the code the trigger
// job recorded for it, as that job exited.
func TestTheResultJobExitsWithTheRecordedCodeOfAProjectNeverTriggered(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pipelines string
		code      int
	}{
		{"refused by the API", `{"project": "gh/acme/e2e", "outcome": "trigger_failed", "exit_code": 3}`, 3},
		{"outcome unknown", `{"project": "gh/acme/e2e", "outcome": "unknown", "exit_code": 5}`, 5},
		{"the worst of several", `{"project": "gh/acme/e2e", "outcome": "trigger_failed", "exit_code": 3}, {"project": "gh/acme/web", "outcome": "not_sent", "exit_code": 6}`, 3},
		{"a file that recorded no code", `{"project": "gh/acme/e2e", "outcome": "trigger_failed"}`, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newCallbackWorld(t)
			recorded := filepath.Join(t.TempDir(), "await-e2e.json")
			require.NoError(t, os.WriteFile(recorded, []byte(`{"outcome": "x", "exit_code": 3, "pipelines": [`+tt.pipelines+`]}`), 0o600))
			code, out, errOut := w.run(nil, nil, "result", recorded)
			assert.Equal(t, tt.code, code, out+errOut)
			assert.Contains(t, errOut, "records no pipeline for gh/acme/e2e (")
			assert.Empty(t, w.sim.Requests(), "nothing to read")
		})
	}
}
