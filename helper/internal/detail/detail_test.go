package detail

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/circleci"
)

// fakeAPI answers Fetch's three questions from memory and counts them.
type fakeAPI struct {
	tests    []circleci.TestResult
	testsErr error
	steps    *circleci.JobSteps
	stepsErr error
	outputs  map[string][]circleci.StepOutputMessage
	calls    []string
}

func (f *fakeAPI) ListJobTests(_ context.Context, slug string, n int64, limit int) (*circleci.JobTests, error) {
	f.calls = append(f.calls, "tests")
	return &circleci.JobTests{Tests: f.tests}, f.testsErr
}

func (f *fakeAPI) GetJobSteps(_ context.Context, slug string, n int64) (*circleci.JobSteps, error) {
	f.calls = append(f.calls, "steps")
	return f.steps, f.stepsErr
}

func (f *fakeAPI) GetStepOutput(_ context.Context, u string) ([]circleci.StepOutputMessage, error) {
	f.calls = append(f.calls, "output "+u)
	return f.outputs[u], nil
}

func yes() *bool { b := true; return &b }

func TestFetch(t *testing.T) {
	api := &fakeAPI{
		tests: []circleci.TestResult{{Name: "a", Result: "success"}, {Name: "b", Result: "failure", Message: "boom"}},
		steps: &circleci.JobSteps{Steps: []circleci.JobStep{
			{Name: "Checkout", Actions: []circleci.StepAction{{Status: "success", OutputURL: "o0"}}},
			{Name: "Run tests", Actions: []circleci.StepAction{{Status: "success", OutputURL: "o1"}, {Failed: yes(), OutputURL: "o2"}}},
			{Name: "Later", Actions: []circleci.StepAction{{Status: "failed", OutputURL: "o3"}}},
		}},
		outputs: map[string][]circleci.StepOutputMessage{"o2": {{Message: "one\ntwo\n"}, {Message: "three\n"}}},
	}
	j := Fetch(context.Background(), api, "gh/acme/e2e", 7, Options{LogLines: 2})
	assert.Equal(t, 1, j.Failed)
	assert.Equal(t, 2, j.Total)
	assert.Len(t, j.Tests, 1, "passing tests only when asked")
	assert.Equal(t, "Run tests", j.Step, "the first step with a failed action")
	assert.Equal(t, []string{"two", "three"}, j.Tail)
	assert.Equal(t, []string{"tests", "steps", "output o2"}, api.calls, "only the failed container's output is read")

	api.calls = nil
	j = Fetch(context.Background(), api, "gh/acme/e2e", 7, Options{})
	assert.Equal(t, []string{"tests"}, api.calls, "--log-lines 0 reads no step")
	assert.Nil(t, j.Tail)
}

func TestFetchKeepsWhatItCouldNotRead(t *testing.T) {
	api := &fakeAPI{testsErr: errors.New("GET …/tests: 500"), stepsErr: circleci.ErrNotServed}
	j := Fetch(context.Background(), api, "circleci/org/proj", 7, Options{LogLines: 20})
	assert.EqualError(t, j.TestsErr, "GET …/tests: 500")
	assert.True(t, j.NoOutputAPI, "v1.1 does not know circleci/ projects: the link must do")

	api = &fakeAPI{}
	j = Fetch(context.Background(), api, "gh/acme/e2e", 0, Options{LogLines: 20})
	assert.Empty(t, api.calls, "a job without a number is not asked about")
	assert.Zero(t, j.Failed)
}
