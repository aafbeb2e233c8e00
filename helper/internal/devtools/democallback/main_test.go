package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The demo checks its own story (exit codes, under a minute of upstream time); this runs it as make
// demo-callback does and holds its summary to the goal.
func TestTheDemoShowsTheCallbackCostingUnderAMinute(t *testing.T) {
	var out, errOut strings.Builder
	code := run(&out, &errOut)
	assert.Equal(t, 0, code, errOut.String())
	assert.Equal(t, 2, strings.Count(out.String(), "callback (trigger + result): "), "both downstreams")
	assert.Contains(t, out.String(), "baton: approved approval job await-e2e of gh/acme/deploy workflow deploy")
	assert.Contains(t, out.String(), "gh/acme/e2e #1: failed after 30m")
	assert.NotContains(t, out.String(), token)
}
