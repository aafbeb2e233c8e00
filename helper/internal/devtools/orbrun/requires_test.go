package orbrun

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequiresWithStatuses(t *testing.T) {
	names, statuses, err := requiresList([]any{"build", map[string]any{"test": "terminal"}, map[string]any{"lint": []any{"success", "failed"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"build", "test", "lint"}, names)
	assert.Equal(t, map[string][]string{"test": requirementStatuses, "lint": {"success", "failed"}}, statuses)

	for _, bad := range []any{
		[]any{map[string]any{"test": "done"}},
		[]any{map[string]any{"a": "success", "b": "success"}},
		[]any{42},
	} {
		_, _, err := requiresList(bad)
		assert.Error(t, err, "%v", bad)
	}

	tests := []struct {
		status string
		want   []string
		met    bool
	}{
		{JobSuccess, nil, true},
		{JobFailed, nil, false},
		{JobFailed, requirementStatuses, true},
		{JobBlocked, requirementStatuses, true},
		{JobBlocked, []string{"success", "failed"}, false},
		{JobFailed, []string{"success"}, false},
		{"", requirementStatuses, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.met, requirementMet(tt.status, tt.want), "%s meets %v", tt.status, tt.want)
	}
}
