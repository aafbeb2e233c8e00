package startup_test

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/baton-ci/baton/helper/internal/startup"
)

func TestOneP(t *testing.T) {
	assert.Equal(t, 1, runtime.GOMAXPROCS(0))
}

// The package is initialised before the others only while it imports nothing but the runtime.
func TestImportsOnlyTheRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "github.com/baton-ci/baton/helper/internal/startup").Output()
	require.NoError(t, err)
	assert.Equal(t, "runtime", strings.TrimSpace(string(out)))
}
