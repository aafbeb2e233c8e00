package cli

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// isParamName accepts exactly the names CircleCI takes for a pipeline parameter.
func TestIsParamName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	for _, s := range []string{"", "a", "Z", "baton_callback", "run-e2e", "x9", "9x", "_x", "-x", "a b", "a.b", "é", "aé", "a\n", "A_-9z"} {
		assert.Equal(t, re.MatchString(s), isParamName(s), "%q", s)
	}
}
