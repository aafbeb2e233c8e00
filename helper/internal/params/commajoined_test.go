package params_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/params"
)

func TestCommaJoinedPairsGetAWarning(t *testing.T) {
	for name, tc := range map[string]struct{ text, want string }{
		"two pairs on one line": {"env=prod,replicas=3",
			`--parameters "env=prod,replicas=3" is one parameter env="prod,replicas=3"; if you meant 2 parameters, put one per line: env=prod, replicas=3`},
		"spaces after the commas, a typed key and a trailing newline": {"env=prod, replicas:int=3, canary=true\n",
			`--parameters "env=prod, replicas:int=3, canary=true" is one parameter env="prod, replicas:int=3, canary=true"; if you meant 3 parameters, put one per line: env=prod, replicas:int=3, canary=true`},
		"one joined line among comments and blank lines": {"# the deploy\n\nenv=prod,replicas=3\r\n",
			`--parameters "env=prod,replicas=3" is one parameter env="prod,replicas=3"; if you meant 2 parameters, put one per line: env=prod, replicas=3`},
		"a value with commas that are no pairs":        {"regions=eu-west-1,us-east-1", ""},
		"one pair and a plain value":                   {"env=prod,replicas", ""},
		"a URL whose query has commas":                 {"callback=https://x.example/?a=1,b=2", ""},
		"an empty part":                                {"a=1,,b=2", ""},
		"a key that is no parameter name":              {"my key=1,b=2", ""},
		"two assignment lines":                         {"env=prod,replicas=3\nregion=eu", ""},
		"one parameter a line":                         {"env=prod\nreplicas=3", ""},
		"JSON after the key":                           {`payload={"env":"prod","replicas":3}`, ""},
		"a JSON array after the key":                   {`list=[a=1,b=2]`, ""},
		"JSON alone":                                   {`{"env":"prod","replicas":3}`, ""},
		"no comma":                                     {"env=prod", ""},
		"nothing":                                      {"", ""},
		"a pair whose value is a comma-separated list": {"tags=a,b,env=prod", ""},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, params.CommaJoined(tc.text))
		})
	}
}

func TestTheWarningStaysOneReadableLine(t *testing.T) {
	w := params.CommaJoined("a=\x1b[31mred,b=" + strings.Repeat("x", 200))
	assert.NotContains(t, w, "\x1b", "control characters are escaped")
	assert.NotContains(t, w, "\n")
	assert.Less(t, len(w), 400, "long values are cut")
}

func FuzzCommaJoined(f *testing.F) {
	for _, s := range []string{"env=prod,replicas=3", "a=1,,b=2", "x=1\ny=2,z=3", "=,=", "a=b,c=\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		w := params.CommaJoined(text)
		if w == "" {
			return
		}
		if strings.Contains(w, "\n") {
			t.Fatalf("%q: the warning is more than one line: %q", text, w)
		}
		if !strings.Contains(text, ",") || !strings.HasPrefix(w, "--parameters ") {
			t.Fatalf("%q: warned without comma-joined pairs: %q", text, w)
		}
	})
}
