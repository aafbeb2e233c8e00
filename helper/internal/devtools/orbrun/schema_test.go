package orbrun_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

func TestPackedOrbAndExamplesFitCircleCISchema(t *testing.T) {
	s, err := orbrun.LoadSchema(orbrun.SchemaPath())
	if errors.Is(err, orbrun.ErrSchemaAbsent) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	o, err := orbrun.LoadPacked(release.Orb)
	require.NoError(t, err)
	if err := s.Validate(o.Doc); err != nil {
		t.Errorf("the packed orb: %v", err)
	}
	for _, name := range o.ExampleNames() {
		if err := s.Validate(o.Examples[name].Usage); err != nil {
			t.Errorf("example %s: %v", name, err)
		}
	}
}

func TestSchemaCatchesMistakes(t *testing.T) {
	s, err := orbrun.LoadSchema(orbrun.SchemaPath())
	if errors.Is(err, orbrun.ErrSchemaAbsent) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	for name, doc := range map[string]string{
		"a misspelled run key": `
version: 2.1
jobs:
  j:
    docker: [{image: cimg/base:2025.01}]
    steps:
      - run: {name: x, comand: echo}
workflows:
  w: {jobs: [j]}`,
		"a resource class that does not exist": `
version: 2.1
executors:
  e:
    parameters:
      size: {type: enum, enum: [small, huge], default: huge}
    docker: [{image: cimg/base:2025.01}]
    resource_class: << parameters.size >>
jobs:
  j:
    executor: e
    steps: [checkout]
workflows:
  w: {jobs: [j]}`,
		"a parameter of an unknown type": `
version: 2.1
commands:
  c:
    parameters:
      p: {type: text, default: ""}
    steps: [checkout]
workflows:
  w: {jobs: []}`,
	} {
		t.Run(name, func(t *testing.T) {
			var v map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(doc), &v))
			assert.Error(t, s.Validate(v))
		})
	}
}
