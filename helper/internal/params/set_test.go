package params_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/params"
)

// add feeds one source to s: "param:ARG", "lines:TEXT" or "json:DATA".
func add(s *params.Set, source string) error {
	kind, text, _ := strings.Cut(source, ":")
	switch kind {
	case "param":
		return s.AddAssignment(text)
	case "lines":
		return s.AddLines(text)
	case "json":
		return s.AddJSON("--parameters-json", []byte(text))
	}
	panic("unknown source kind " + kind)
}

func TestSetRefusesAKeyGivenTwice(t *testing.T) {
	tests := []struct {
		name    string
		sources []string
		wantErr string
	}{
		{"twice by --param", []string{"param:env=a", "param:env=b"}, `parameter "env" is given twice by --param; give it once`},
		{"by --param then JSON", []string{"param:env=a", `json:{"env":"b"}`}, `parameter "env" is given twice (--param and --parameters-json); give it once`},
		{"by JSON then --param", []string{`json:{"env":"b"}`, "param:env=a"}, `parameter "env" is given twice (--parameters-json and --param); give it once`},
		{"by lines then --param", []string{"lines:# c\nenv=a", "param:env=b"}, `parameter "env" is given twice (BATON_PARAMETERS line 2 and --param); give it once`},
		{"by --param then lines", []string{"param:env=b", "lines:x=1\nenv=a"}, `parameter "env" is given twice (--param and BATON_PARAMETERS line 2); give it once`},
		{"by lines then JSON", []string{"lines:env=a", `json:{"env":"b"}`}, `parameter "env" is given twice (BATON_PARAMETERS line 1 and --parameters-json); give it once`},
		{"twice by JSON sources", []string{`json:{"env":"a"}`, `json:{"env":"b"}`}, `parameter "env" is given twice by --parameters-json; give it once`},
		{"with different types", []string{"param:n:int=1", "param:n:string=1"}, `parameter "n" is given twice by --param; give it once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := params.NewSet(literal())
			last := len(tt.sources) - 1
			for _, src := range tt.sources[:last] {
				require.NoError(t, add(s, src))
			}
			before := s.Params()
			err := add(s, tt.sources[last])
			require.Error(t, err)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.Equal(t, exitcode.Usage, exitcode.Of(err))
			assert.Equal(t, before, s.Params(), "the refused source adds nothing")
		})
	}
}

func TestSetKeysDifferingOnlyInCaseAreDistinct(t *testing.T) {
	s := params.NewSet(literal())
	require.NoError(t, s.AddAssignment("env=a"))
	require.NoError(t, s.AddAssignment("Env=b"))
	assert.Equal(t, []params.Param{{"env", "a"}, {"Env", "b"}}, s.Params())
}

func TestSetKeepsInsertionOrderAcrossSources(t *testing.T) {
	s := params.NewSet(literal())
	require.NoError(t, s.AddAssignment("z=1"))
	require.NoError(t, s.AddJSON("--parameters-json", []byte(`{"m":"x","a":true}`)))
	require.NoError(t, s.AddLines("y=false\nb=2"))
	assert.Equal(t, []params.Param{{"z", int64(1)}, {"m", "x"}, {"a", true}, {"y", false}, {"b", int64(2)}}, s.Params())
}

func TestSetParamsIsACopy(t *testing.T) {
	s := params.NewSet(literal())
	require.NoError(t, s.AddAssignment("a=1"))
	got := s.Params()
	got[0].Value = "changed"
	assert.Equal(t, []params.Param{{"a", int64(1)}}, s.Params())
}

func TestSetTakesAtMost100Parameters(t *testing.T) {
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "p%d=%d\n", i, i)
		}
		return b.String()
	}
	object := func(from, to int) string {
		var parts []string
		for i := from; i <= to; i++ {
			parts = append(parts, fmt.Sprintf(`"p%d":%d`, i, i))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}

	t.Run("100 parameters are accepted", func(t *testing.T) {
		s := params.NewSet(literal())
		require.NoError(t, s.AddLines(lines(1, 100)))
		assert.Len(t, s.Params(), 100)
	})
	t.Run("a 101st parameter by --param is refused", func(t *testing.T) {
		s := params.NewSet(literal())
		require.NoError(t, s.AddJSON("--parameters-json", []byte(object(1, 100))))
		err := s.AddAssignment("extra=1")
		require.Error(t, err)
		assert.Equal(t, `--param: parameter "extra" is one too many; the API takes at most 100 parameters`, err.Error())
		assert.Equal(t, exitcode.Usage, exitcode.Of(err))
		assert.Len(t, s.Params(), 100)
	})
	t.Run("101 lines are refused at line 101", func(t *testing.T) {
		s := params.NewSet(literal())
		err := s.AddLines(lines(1, 101))
		require.Error(t, err)
		assert.Equal(t, `BATON_PARAMETERS line 101: parameter "p101" is one too many; the API takes at most 100 parameters`, err.Error())
		assert.Empty(t, s.Params())
	})
	t.Run("a JSON object that goes past 100 is refused whole", func(t *testing.T) {
		s := params.NewSet(literal())
		require.NoError(t, s.AddLines(lines(1, 60)))
		err := s.AddJSON("--parameters-json", []byte(object(61, 101)))
		require.Error(t, err)
		assert.Equal(t, `--parameters-json: parameter "p101" is one too many; the API takes at most 100 parameters`, err.Error())
		assert.Len(t, s.Params(), 60)
	})
}

func TestSetExpandsFromTheEnvironmentByDefault(t *testing.T) {
	t.Setenv("BATON_PARAMS_TEST", "42")
	s := params.NewSet(params.Options{Expand: true})
	require.NoError(t, s.AddAssignment("n=$BATON_PARAMS_TEST"))
	assert.Equal(t, []params.Param{{"n", int64(42)}}, s.Params())
}

func TestSetDoesNotExpandWhenTold(t *testing.T) {
	s := params.NewSet(params.Options{Expand: false})
	require.NoError(t, s.AddAssignment("a=$NOPE ${"))
	require.NoError(t, s.AddLines("b=$$"))
	assert.Equal(t, []params.Param{{"a", "$NOPE ${"}, {"b", "$$"}}, s.Params())
}

func TestSetZeroOptionsAndNoInputGiveNothing(t *testing.T) {
	s := params.NewSet(params.Options{})
	assert.Empty(t, s.Params())
}

func TestZeroSetWorks(t *testing.T) {
	var s params.Set
	require.NoError(t, s.AddAssignment("a=1"))
	require.Error(t, s.AddAssignment("a=2"))
	assert.Equal(t, []params.Param{{"a", int64(1)}}, s.Params())
}
