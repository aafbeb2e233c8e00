package orbrun_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// exampleTests run each usage example end to end: expanded as CircleCI would, its run steps
// executed against the simulator with baton installed from the local release server. Every
// example must have one (TestEveryExampleRuns).
var exampleTests = map[string]func(t *testing.T){
	"deploy-after-image-push":    testDeployAfterImagePush,
	"typed-parameters":           testTypedParameters,
	"wait-for-integration-tests": testWaitForIntegrationTests,
	"fan-out-to-services":        testFanOutToServices,
	"github-app-project":         testGitHubAppProject,
	"circleci-server":            testCircleCIServer,
	"command-in-existing-job":    testCommandInExistingJob,
	"result-for-a-later-job":     testResultForALaterJob,
	"per-project-parameters":     testPerProjectParameters,
	"callback-upstream":          testCallbackUpstream,
	"callback-downstream":        testCallbackDownstream,
	"roll-back-on-failure":       testRollBackOnFailure,
}

func TestEveryExampleRuns(t *testing.T) {
	o, err := orbrun.LoadPacked(release.Orb)
	require.NoError(t, err)
	for _, name := range o.ExampleNames() {
		test, ok := exampleTests[name]
		if !ok {
			t.Errorf("example %s has no end-to-end test: add one to exampleTests", name)
			continue
		}
		t.Run(name, test)
	}
}

var linkRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+/pipelines/github/acme/deploy/1\b`)

func testDeployAfterImagePush(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("deploy-after-image-push"))

	build := res["build-and-push"]
	requireSuccess(t, build)
	assert.Equal(t, []string{
		"docker login -u acme --password-stdin",
		"docker build -t acme/api:0.1.42 .",
		"docker push acme/api:0.1.42",
	}, w.stubCalls(), "the image is tagged with the pipeline number")
	for _, name := range []string{"Checkout code", "Setup a remote Docker engine"} {
		s, ok := build.Step(name)
		require.True(t, ok, name)
		assert.True(t, s.Recorded, "%s is recorded, not run", name)
	}

	deploy := res["deploy"]
	requireSuccess(t, deploy)
	assert.Equal(t, "https://circleci.com", deploy.Job.Overridden["host"], "the example calls circleci.com; the test points host at the simulator")
	assert.Equal(t, []string{"docker-hub", "circleci-api"}, deploy.Job.Contexts)
	assert.Equal(t, "cimg/base:2026.09", deploy.Job.Executor.Image)
	assert.Equal(t, "small", deploy.Job.Executor.ResourceClass)
	installedFromRelease(t, deploy)

	trigger, _ := deploy.Step("Trigger pipelines with baton")
	assert.Regexp(t, `gh/acme/deploy.*`+linkRE.String(), trigger.Output, "the step prints the pipeline's link")

	reqs := w.triggers()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/v2/project/gh%2Facme%2Fdeploy/pipeline", reqs[0].Path)
	assert.Equal(t, token, reqs[0].Header.Get("Circle-Token"), "the token from the circleci-api context")
	assert.JSONEq(t, `{"branch": "main", "parameters": {"image-name": "acme/api:0.1.42"}}`, string(reqs[0].Body),
		"the image the build job pushed, expanded by baton from $DOCKER_LOGIN and $CIRCLE_PROJECT_REPONAME")

	p := w.pipelines("gh/acme/deploy")
	require.Len(t, p, 1)
	assert.Empty(t, p[0].Errors, "the parameter matched its declared type")
	env := envExports(t, deploy.BashEnv, "BATON_PIPELINE_ID", "BATON_PIPELINE_NUMBER", "BATON_PIPELINE_URL", "BATON_PIPELINE_IDS", "BATON_JOB_PIPELINE_IDS")
	assert.Equal(t, p[0].ID, env["BATON_PIPELINE_ID"])
	assert.Equal(t, "1", env["BATON_PIPELINE_NUMBER"])
	assert.Regexp(t, "^"+linkRE.String()+"$", env["BATON_PIPELINE_URL"])
	assert.Equal(t, p[0].ID, env["BATON_PIPELINE_IDS"])
	assert.Equal(t, p[0].ID, env["BATON_JOB_PIPELINE_IDS"])
}

func testTypedParameters(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("typed-parameters"))
	requireSuccess(t, res["baton/trigger-pipeline"])
	p := w.pipelines("gh/acme/api")
	require.Len(t, p, 1)
	assert.Empty(t, p[0].Errors, "every value had its declared type")
	assert.Equal(t, map[string]any{
		"replicas":        int64(3),
		"canary":          true,
		"api-version":     "3",
		"source-sha":      pipeline.Revision,
		"regions":         "eu-west-1, us-east-1",
		"rollout-minutes": int64(20),
	}, p[0].Parameters)
	assert.Equal(t, "main", p[0].Branch)
	env := envExports(t, res["baton/trigger-pipeline"].BashEnv, "BATON_OUTCOME")
	assert.Equal(t, "started", env["BATON_OUTCOME"], "wait: started waited only until the workflows started")
}

func testWaitForIntegrationTests(t *testing.T) {
	t.Run("the tests pass: production is deployed", func(t *testing.T) {
		w := newWorld(t, worldOptions{integrationStatus: "success"})
		res := w.run(w.example("wait-for-integration-tests"))
		for _, name := range []string{"deploy-staging", "integration-tests", "deploy-production"} {
			requireSuccess(t, res[name])
		}
		assert.Equal(t, []string{"make deploy ENVIRONMENT=staging", "make deploy ENVIRONMENT=production"}, w.stubCalls())
		tests := res["integration-tests"]
		trigger, _ := tests.Step("Trigger pipelines with baton")
		assert.Contains(t, trigger.Output, "gh/acme/integration-tests")
		assertJUnit(t, tests, "test-results/integration-tests/junit.xml", "api-tests")

		p := w.pipelines("gh/acme/integration-tests")
		require.Len(t, p, 1)
		assert.Equal(t, map[string]any{"target-url": "https://staging.acme.example", "app-version": pipeline.Revision}, p[0].Parameters)
	})
	t.Run("the tests fail: the job fails with them and production waits", func(t *testing.T) {
		w := newWorld(t, worldOptions{integrationStatus: "failed"})
		res := w.run(w.example("wait-for-integration-tests"))
		requireSuccess(t, res["deploy-staging"])
		tests := res["integration-tests"]
		assert.Equal(t, orbrun.JobFailed, tests.Status)
		failed, ok := tests.FailedStep()
		require.True(t, ok)
		assert.Equal(t, "Trigger pipelines with baton", failed.Step.Name)
		assert.Equal(t, 1, failed.ExitCode, "exit 1: the downstream pipeline failed")
		assertJUnit(t, tests, "test-results/integration-tests/junit.xml", "api-tests")
		assert.Equal(t, orbrun.JobBlocked, res["deploy-production"].Status)
		assert.Equal(t, []string{"make deploy ENVIRONMENT=staging"}, w.stubCalls())
	})
}

// assertJUnit checks that the job wrote a JUnit file naming a downstream job, and stored it.
func assertJUnit(t *testing.T, r *orbrun.JobResult, path, downstreamJob string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.WorkDir, path))
	require.NoError(t, err, "the JUnit file")
	assert.Contains(t, string(data), "<testsuite")
	assert.Contains(t, string(data), downstreamJob)
	s, ok := r.Step("Store the downstream results")
	require.True(t, ok)
	assert.True(t, s.Recorded, "store_test_results runs even after a failed step")
	assert.Equal(t, path, s.Step.Args["path"])
}

func testFanOutToServices(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("fan-out-to-services"))
	job := res["baton/trigger-pipeline"]
	requireSuccess(t, job)
	var ids []string
	for slug, branch := range map[string]string{"gh/acme/billing": "main", "gh/acme/search": "main", "gh/acme/web": "release-2024"} {
		p := w.pipelines(slug)
		require.Len(t, p, 1, slug)
		assert.Equal(t, branch, p[0].Branch, slug)
		assert.Equal(t, map[string]any{"shared-lib-version": "2.4.42"}, p[0].Parameters, slug)
		assert.Empty(t, p[0].Errors, slug)
		ids = append(ids, p[0].ID)
	}
	env := envExports(t, job.BashEnv, "BATON_PIPELINE_IDS", "BATON_JOB_PIPELINE_IDS")
	assert.ElementsMatch(t, ids, strings.Fields(env["BATON_PIPELINE_IDS"]))
	assert.ElementsMatch(t, ids, strings.Fields(env["BATON_JOB_PIPELINE_IDS"]))
}

func testGitHubAppProject(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("github-app-project"))
	requireSuccess(t, res["baton/trigger-pipeline"])
	reqs := w.triggers()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/v2/project/circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz/pipeline/run", reqs[0].Path)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, "9a3b0c1d-2e4f-4a5b-8c6d-7e8f9a0b1c2d", body["definition_id"])
	assert.Equal(t, map[string]any{"branch": "main"}, body["config"])
	assert.Equal(t, map[string]any{"branch": pipeline.Branch}, body["checkout"], "<< pipeline.git.branch >> is this pipeline's branch")
	assert.Equal(t, map[string]any{"requested-by": "api"}, body["parameters"])
	assert.Len(t, w.pipelines("circleci/8e4z1Akd74woxagxnvLT5q/V29Cenkg8EaiSZARmWm8Lz"), 1)
}

func testCircleCIServer(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("circleci-server"))
	job := res["baton/trigger-pipeline"]
	requireSuccess(t, job)
	assert.Equal(t, "https://circleci.acme.internal", job.Job.Overridden["host"])
	assert.Equal(t, "https://artifacts.acme.internal/mirror/baton", job.Job.Overridden["helper_base_url"])
	assert.Equal(t, "baton/default", job.Job.Executor.Ref)
	assert.Equal(t, "medium", job.Job.Executor.ResourceClass)
	installedFromRelease(t, job)
	reqs := w.triggers()
	require.Len(t, reqs, 1)
	assert.Equal(t, serverToken, reqs[0].Header.Get("Circle-Token"), "the token from $ACME_CIRCLECI_TOKEN")
	assert.Len(t, w.pipelines("gh/platform/provisioning"), 1)
}

func testCommandInExistingJob(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("command-in-existing-job"))
	job := res["test"]
	requireSuccess(t, job)
	var names []string
	for _, s := range job.Steps {
		names = append(names, s.Step.Name)
	}
	assert.Equal(t, []string{
		"Checkout code", "Install baton", "Trigger pipelines with baton", "Run the unit tests",
		"Install baton", "Wait for pipelines with baton", "Store the downstream results",
	}, names)
	assert.Equal(t, []string{"make test"}, w.stubCalls())
	assert.Equal(t, 1, w.downloads(), "the second install finds baton installed")
	second := job.Steps[4]
	assert.Contains(t, second.Output, "baton "+release.Version+" is already installed")
	p := w.pipelines("gh/acme/contract-tests")
	require.Len(t, p, 1)
	wait := job.Steps[5]
	assert.Contains(t, wait.Output, "gh/acme/contract-tests", "baton wait follows the pipeline triggered earlier in the job")
	assertJUnit(t, job, "test-results/contract-tests/junit.xml", "pact")
}

func testResultForALaterJob(t *testing.T) {
	w := newWorld(t, worldOptions{})
	res := w.run(w.example("result-for-a-later-job"))
	trigger := res["baton/trigger-pipeline"]
	requireSuccess(t, trigger) // the suite failed, but soft_fail lets the step pass
	env := envExports(t, trigger.BashEnv, "BATON_OUTCOME")
	assert.Equal(t, "failed", env["BATON_OUTCOME"])
	persist, ok := trigger.Step("Persist the result to the workspace")
	require.True(t, ok)
	assert.Equal(t, []any{"baton/e2e.json"}, persist.Step.Args["paths"])
	data, err := os.ReadFile(filepath.Join(trigger.WorkDir, ".baton-workspace", "baton", "e2e.json"))
	require.NoError(t, err, "the trigger step wrote the result into the directory it persists")
	p := w.pipelines("gh/acme/e2e")
	require.Len(t, p, 1)
	assert.Contains(t, string(data), p[0].ID)

	report := res["report"]
	requireSuccess(t, report)
	s, _ := report.Step("Report how the end-to-end suite ended")
	assert.Equal(t, "gh/acme/e2e #1: failed\n", s.Output, "the later job read the result from the attached workspace")
}

func testRollBackOnFailure(t *testing.T) {
	t.Run("the deploy succeeds: nothing is rolled back", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		res := w.run(w.example("roll-back-on-failure"))
		job := res["deploy"]
		requireSuccess(t, job)
		rollback, _ := job.Step("Roll back with baton")
		assert.False(t, rollback.Ran)
		assert.Empty(t, w.triggers())
	})
	t.Run("the deploy fails: the rollback is triggered and the job still fails", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		require.NoError(t, os.WriteFile(filepath.Join(w.stubs, "make"), []byte(strings.Replace(stub, "exit 0", "exit 2", 1)), 0o755))
		res := w.run(w.example("roll-back-on-failure"))
		job := res["deploy"]
		assert.Equal(t, orbrun.JobFailed, job.Status)
		failed, _ := job.FailedStep()
		assert.Equal(t, "Deploy", failed.Step.Name)
		rollback, _ := job.Step("Roll back with baton")
		assert.True(t, rollback.Ran)
		assert.Zero(t, rollback.ExitCode, rollback.Output)
		reqs := w.triggers()
		require.Len(t, reqs, 1)
		assert.JSONEq(t, `{"branch": "main", "parameters": {"image-name": "acme/api:stable"}}`, string(reqs[0].Body))
	})
}

// TestTamperedArchiveIsRefused serves a different archive than the one released: the install
// refuses it naming both sums, nothing is unpacked or run, and nothing is triggered.
func TestTamperedArchiveIsRefused(t *testing.T) {
	w := newWorld(t, worldOptions{})
	marker := filepath.Join(t.TempDir(), "tampered-baton-ran")
	evil := tarGz(t, "baton", "#!/bin/sh\ntouch "+marker+"\n")
	name := "baton_" + release.Version + "_linux_amd64.tar.gz"
	w.rel.Swap(name, evil)

	res := w.run(w.example("deploy-after-image-push"))
	deploy := res["deploy"]
	assert.Equal(t, orbrun.JobFailed, deploy.Status)
	failed, ok := deploy.FailedStep()
	require.True(t, ok)
	assert.Equal(t, "Install baton", failed.Step.Name)
	assert.Contains(t, failed.Output, "checksum mismatch for "+name+": expected "+archiveSum(t, "linux_amd64")+", got "+sha256Hex(evil))
	trigger, _ := deploy.Step("Trigger pipelines with baton")
	assert.False(t, trigger.Ran, "no step runs after the failed install")
	assert.Empty(t, w.sim.Requests(), "nothing reached the API")
	assert.NoFileExists(t, marker, "the tampered binary never ran")
	assert.NoFileExists(t, filepath.Join(deploy.Home, ".local", "bin", "baton"), "nothing was installed")
}

// TestInstallTrustsOnlyTheReleasedBinary: a file planted at the install path that prints the
// pinned version (a restored cache could hold one) is installed over, and another baton earlier
// on PATH is never what the orb's steps run: they call the verified binary by its path.
func TestInstallTrustsOnlyTheReleasedBinary(t *testing.T) {
	w := newWorld(t, worldOptions{})
	require.NoError(t, os.WriteFile(filepath.Join(w.stubs, "baton"), []byte(stub), 0o755))
	marker := filepath.Join(t.TempDir(), "planted-baton-ran")
	usage := w.example("command-in-existing-job")
	job := usage["jobs"].(map[string]any)["test"].(map[string]any)
	plant := map[string]any{"run": map[string]any{
		"name": "Restore a cache that holds a baton",
		"command": "mkdir -p ~/.local/bin\nprintf '#!/bin/sh\\ntouch " + marker + "\\necho \"baton " + release.Version +
			"\"\\n' >~/.local/bin/baton\nchmod +x ~/.local/bin/baton\n",
	}}
	job["steps"] = append([]any{plant}, job["steps"].([]any)...)

	res := w.run(usage)
	test := res["test"]
	requireSuccess(t, test)
	first, _ := test.Step("Install baton")
	assert.Contains(t, first.Output, filepath.Join(test.Home, ".local", "bin", "baton")+" is not the released binary")
	installedFromRelease(t, test)
	second := test.Steps[5]
	require.Equal(t, "Install baton", second.Step.Name)
	assert.Contains(t, second.Output, "baton "+release.Version+" is already installed", "the binary the first install verified is reused")
	assert.Equal(t, 1, w.downloads())
	assert.NoFileExists(t, marker, "the planted binary never ran")
	assert.Equal(t, []string{"make test"}, w.stubCalls(), "the baton earlier on PATH never ran")
	assert.Len(t, w.pipelines("gh/acme/contract-tests"), 1)
}

// TestFlakyDownloadIsRetried: a mirror answering 503 once costs one retry, not the build.
func TestFlakyDownloadIsRetried(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.rel.FailNext(1)
	res := w.run(w.example("typed-parameters"))
	job := res["baton/trigger-pipeline"]
	requireSuccess(t, job)
	install, _ := job.Step("Install baton")
	assert.Contains(t, install.Output, "Download failed (attempt 1 of 4); retrying in 1s")
	installedFromRelease(t, job)
	assert.Len(t, w.pipelines("gh/acme/api"), 1)
}

// TestOtherHelperVersionNeedsItsChecksum: the orb only vouches for the version it pins.
func TestOtherHelperVersionNeedsItsChecksum(t *testing.T) {
	other := "9.9.9"
	dir := t.TempDir()
	realBaton := filepath.Join(dir, "real-baton")
	// A baton 9.9.9: the released binary behind a wrapper that reports the other version.
	require.NoError(t, exec.Command("tar", "-xzf", filepath.Join(release.Dist, "baton_"+release.Version+"_linux_amd64.tar.gz"), "-C", dir).Run())
	require.NoError(t, os.Rename(filepath.Join(dir, "baton"), realBaton))
	archive := tarGz(t, "baton", "#!/bin/sh\n[ \"$1\" = version ] && { echo 'baton "+other+"'; exit 0; }\nexec "+realBaton+" \"$@\"\n")
	name := "baton_" + other + "_linux_amd64.tar.gz"
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), archive, 0o644))

	withVersion := func(w *world, checksums string) map[string]any {
		usage := w.example("typed-parameters")
		job := usage["workflows"].(map[string]any)["release"].(map[string]any)["jobs"].([]any)[0].(map[string]any)["baton/trigger-pipeline"].(map[string]any)
		job["helper_version"] = other
		if checksums != "" {
			job["helper_checksums"] = checksums
		}
		return usage
	}
	t.Run("without its checksum the install refuses", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		w.rel.AddVersion(other, dir)
		res := w.run(withVersion(w, ""))
		job := res["baton/trigger-pipeline"]
		failed, ok := job.FailedStep()
		require.True(t, ok)
		assert.Equal(t, "Install baton", failed.Step.Name)
		assert.Contains(t, failed.Output, "helper_version 9.9.9 is not the version this orb release pins ("+release.Version+")")
		assert.Contains(t, failed.Output, "set helper_checksums")
		assert.Zero(t, w.downloads())
		assert.Empty(t, w.sim.Requests())
	})
	t.Run("with its SHA256SUMS line it installs", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		w.rel.AddVersion(other, dir)
		res := w.run(withVersion(w, sha256Hex(archive)+"  "+name+"\n"+strings.Repeat("0", 64)+"  baton_9.9.9_darwin_arm64.tar.gz\n"))
		job := res["baton/trigger-pipeline"]
		requireSuccess(t, job)
		install, _ := job.Step("Install baton")
		assert.Contains(t, install.Output, "SHA-256 verified: "+sha256Hex(archive))
		assert.Contains(t, install.Output, ": baton 9.9.9")
		assert.Len(t, w.pipelines("gh/acme/api"), 1)
	})
	t.Run("a wrong checksum is refused", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		w.rel.AddVersion(other, dir)
		res := w.run(withVersion(w, strings.Repeat("ab", 32)))
		failed, ok := res["baton/trigger-pipeline"].FailedStep()
		require.True(t, ok)
		assert.Contains(t, failed.Output, "expected "+strings.Repeat("ab", 32)+", got "+sha256Hex(archive))
		assert.Empty(t, w.sim.Requests())
	})
}

// TestUnpackedOrbPinsNothing: the source's placeholders never pass for a version.
func TestUnpackedOrbPinsNothing(t *testing.T) {
	w := newWorld(t, worldOptions{})
	var err error
	w.orb, err = orbrun.LoadSource(srcDir())
	require.NoError(t, err)
	res := w.run(w.example("typed-parameters"))
	failed, ok := res["baton/trigger-pipeline"].FailedStep()
	require.True(t, ok)
	assert.Equal(t, "Install baton", failed.Step.Name)
	assert.Contains(t, failed.Output, "pins no baton version (it was not packed by scripts/pack-orb.sh)")
	assert.Empty(t, w.sim.Requests())
}

// TestEveryRunStepIsTheScriptItIncludes: what CircleCI runs is the script in orb/src/scripts,
// byte for byte; scripts take nothing from << >>.
func TestEveryRunStepIsTheScriptItIncludes(t *testing.T) {
	w := newWorld(t, worldOptions{})
	scripts := map[string]string{}
	for _, f := range []string{"install.sh", "trigger-pipeline.sh", "wait-for-pipeline.sh", "callback.sh", "pipeline-result.sh", "exit-as-baton.sh"} {
		data, err := os.ReadFile(filepath.Join(srcDir(), "scripts", f))
		require.NoError(t, err)
		scripts[string(data)] = f
	}
	for _, name := range w.orb.ExampleNames() {
		for _, job := range w.expand(w.example(name)) {
			for _, s := range job.RunSteps() {
				if len(s.Path) == 0 {
					continue // the example's own step
				}
				_, ok := scripts[s.Command]
				assert.True(t, ok, "%s: step %q of %s is not one of the orb's scripts", name, s.Name, strings.Join(s.Path, " > "))
				assert.True(t, slices.Contains([]string{"Install baton", "Trigger pipelines with baton", "Wait for pipelines with baton",
					"Call the upstream workflow back with baton", "Read the downstream result with baton", "Exit as baton did",
					"Roll back with baton"}, s.Name), "%s: step %q", name, s.Name) // the last: roll-back-on-failure's step_name
			}
		}
	}
}
