package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCIIsReadAsTheBooleanItIs(t *testing.T) {
	for _, tc := range []struct {
		ci, term string
		want     bool
	}{
		{"true", "xterm", true}, {"1", "xterm", true}, {"woodpecker", "xterm", true},
		{"false", "xterm", false}, {"0", "xterm", false}, {"", "xterm", false},
		{"", "dumb", true},
	} {
		env := map[string]string{"CI": tc.ci, "TERM": tc.term}
		d := &Deps{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		assert.Equal(t, tc.want, inCI(d), "CI=%q TERM=%q", tc.ci, tc.term)
	}
}
