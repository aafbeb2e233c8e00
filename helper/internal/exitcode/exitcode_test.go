package exitcode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWorst(t *testing.T) {
	tests := []struct {
		name  string
		codes []int
		want  int
	}{
		{"nothing is done", nil, OK},
		{"all done", []int{OK, OK}, OK},
		{"a failure beats success", []int{OK, Failed}, Failed},
		{"a cancel beats success", []int{Canceled, OK}, Canceled},
		{"a failure beats a cancel, in either order", []int{Canceled, Failed, Canceled}, Failed},
		{"a failure beats a cancel, the other way round", []int{Failed, Canceled}, Failed},
		{"a timeout beats a failure", []int{Failed, Timeout}, Timeout},
		{"a refusal beats a timeout", []int{Timeout, Refused}, Refused},
		{"an unreachable API beats a refusal", []int{Refused, Unreachable}, Unreachable},
		{"bad input beats an unreachable API", []int{Unreachable, Usage}, Usage},
		{"an interrupt beats bad input", []int{Usage, Interrupted, Canceled}, Interrupted},
		{"SIGTERM beats SIGINT", []int{Interrupted, Terminated}, Terminated},
		{"an internal error beats everything", []int{Terminated, Internal, Usage, Failed}, Internal},
		{"an unknown code ranks above the pipelines' outcomes", []int{Failed, 9, Canceled}, 9},
		{"and below a timeout", []int{9, Timeout}, Timeout},
		{"of two unknown codes the larger", []int{9, 12, 8}, 12},
		{"a negative code is not lost", []int{-1, Failed}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Worst(tt.codes...))
		})
	}
}

func TestEveryCodeOfTheTableIsRanked(t *testing.T) {
	seen := map[int]bool{}
	for _, row := range Table {
		assert.False(t, seen[row.Code], "%d listed twice", row.Code)
		seen[row.Code] = true
		if row.Code != OK {
			assert.Contains(t, severity, row.Code, "%d has no place in the precedence", row.Code)
		}
	}
	assert.Len(t, severity, len(Table)-1)
}

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"no error", nil, OK},
		{"a coded error", Usagef("--x: bad"), Usage},
		{"a coded error, wrapped", fmt.Errorf("trigger: %w", Wrap(Refused, errors.New("404"))), Refused},
		{"an error nobody gave a code is internal", errors.New("surprise"), Internal},
		{"a plain cancellation is internal too: nothing said why", fmt.Errorf("GET /x: %w", context.Canceled), Internal},
		{"SIGINT", fmt.Errorf("not sent: %w", SignalOf(os.Interrupt)), Interrupted},
		{"SIGTERM", SignalOf(syscall.SIGTERM), Terminated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Of(tt.err))
			assert.Equal(t, tt.want != OK && tt.want != Internal, Coded(tt.err))
		})
	}
}

func TestASignalNamesItselfAndIsACancellation(t *testing.T) {
	s := SignalOf(syscall.SIGTERM)
	assert.EqualError(t, s, "interrupted by SIGTERM")
	assert.ErrorIs(t, s, context.Canceled)
	assert.EqualError(t, SignalOf(syscall.SIGINT), "interrupted by SIGINT")
}
