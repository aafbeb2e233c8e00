package cli_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/cli"
)

// realAPIDir holds bodies the real CircleCI API returned (see its SOURCES.md).
var realAPIDir = filepath.Join("..", "..", "..", "..", "shared", "circleci-real-api")

// realBody reads one of them, or skips the test when they are absent.
func realBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realAPIDir, name))
	if err != nil {
		t.Skipf("../shared/circleci-real-api is absent (%v): no real CircleCI answers to replay", err)
	}
	return b
}

// A pipeline CircleCI ran in 2020, replayed as CircleCI served it: its pipeline, its workflow
// list (docker_build_and_push failed after 1m5s, yet_another_test_workflow succeeded) and their
// job lists. baton wait reads it years later: every duration comes from the answers' own
// timestamps, none from the clock.
func TestAPipelineReadYearsLaterShowsHowLongItRan(t *testing.T) {
	const (
		pipelineID = "b4f4eabc-d572-4fdf-916a-d5f05d178221"
		failedWF   = "75e83261-5b3c-4bc0-ad11-514bb01f634c"
		successWF  = "cd7b408f-48d4-4ba7-8a0a-644d82267434"
	)
	bodies := map[string][]byte{
		"/api/v2/pipeline/" + pipelineID:               realBody(t, "pipeline-created-webhook.json"),
		"/api/v2/pipeline/" + pipelineID + "/workflow": realBody(t, "workflows-failed-and-success.json"),
		"/api/v2/workflow/" + failedWF + "/job":        realBody(t, "jobs-failed.json"),
		"/api/v2/workflow/" + successWF + "/job":       realBody(t, "jobs-success.json"),
		// no test results were published with the failed job: an empty list, as CircleCI answers
		"/api/v2/project/gh/gravitee-lab/GraviteeCiCdOrchestrator/127/tests": []byte(`{"items":[],"next_page_token":null}`),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not found."}`))
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	files := map[string]string{"--junit": "junit.xml", "--summary": "summary.md", "--result-file": "result.json"}
	args := []string{"wait", pipelineID, "--host", srv.URL, "--log-lines", "0"}
	for flag, name := range files {
		files[flag] = filepath.Join(dir, name)
		args = append(args, flag, files[flag])
	}
	var stdout, stderr bytes.Buffer
	d := inProcess(&stdout, &stderr, map[string]string{"CIRCLE_TOKEN": token})
	d.HTTPClient = nil // the real clock, six years after the pipeline ran
	code := cli.Run(args, d)
	require.Equal(t, 1, code, stderr.String())

	out := stdout.String()
	assert.Contains(t, out, "gh/gravitee-lab/GraviteeCiCdOrchestrator #126: workflow docker_build_and_push failed (1m5s) ")
	assert.Contains(t, out, "gh/gravitee-lab/GraviteeCiCdOrchestrator #126: failed after 1m5s\n")
	assert.NotRegexp(t, `\d{3,}h`, out+stderr.String(), "no duration of years")

	var result struct {
		Pipelines []struct {
			Duration float64 `json:"duration_seconds"`
			Created  string  `json:"created_at"`
			Finished string  `json:"finished_at"`
		}
	}
	data, err := os.ReadFile(files["--result-file"])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &result))
	require.Len(t, result.Pipelines, 1)
	assert.Equal(t, 65.0, result.Pipelines[0].Duration, "created_at 17:47:21.364 to the last stopped_at 17:48:26")
	assert.Equal(t, "2020-09-12T17:47:21.364Z", result.Pipelines[0].Created)
	assert.Equal(t, "2020-09-12T17:48:26Z", result.Pipelines[0].Finished)

	var junit struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Time  string `xml:"time,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
				Time string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, err = os.ReadFile(files["--junit"])
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, &junit))
	times := map[string]string{}
	for _, s := range junit.Suites {
		times["suite "+s.Name] = s.Time
		for _, c := range s.Cases {
			times[c.Name] = c.Time
		}
	}
	assert.Equal(t, "64.636", times["suite gh/gravitee-lab/GraviteeCiCdOrchestrator #126"], "%v", times)
	assert.Equal(t, "61.000", times["build"], "the failed job: started_at 17:47:25 to stopped_at 17:48:26")
	assert.Equal(t, "17.000", times["yet_another_test_job"])

	summary, err := os.ReadFile(files["--summary"])
	require.NoError(t, err)
	assert.Contains(t, string(summary), "| 1m5s |")
	assert.NotRegexp(t, `\d{3,}h`, string(summary), "nothing of the six years since")
}
