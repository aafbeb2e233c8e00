package circleci

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeTail(t *testing.T, body string, keep int) ([]StepOutputMessage, error) {
	t.Helper()
	b, err := readStepTail(strings.NewReader(body), keep)
	if err != nil {
		return nil, err
	}
	var out []StepOutputMessage
	require.NoError(t, json.Unmarshal(b, &out))
	return out, nil
}

func TestReadStepTail(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		keep       int
		want       []StepOutputMessage
	}{
		{"a short output comes back as it was", `[{"type":"out","message":"a\nb\n","time":"2025-01-01T00:00:00Z","truncated":false}]`, 100,
			[]StepOutputMessage{{Type: "out", Message: "a\nb\n"}}},
		{"escapes are decoded", `[{"message":"tab\tq\"\\ \u00e9 \ud83d\ude00 \ud800x \/"}]`, 100,
			[]StepOutputMessage{{Message: "tab\tq\"\\ é 😀 \uFFFDx /"}}},
		{"other fields of any shape are skipped", `[{"x":{"a":[1,-2.5e3,true,false,null,{"b":"}"}]},"message":"m","y":[[]]}]`, 100,
			[]StepOutputMessage{{Message: "m"}}},
		{"null is no output", `null`, 100, []StepOutputMessage{}},
		{"an empty list is no output", " [ ] ", 100, []StepOutputMessage{}},
		{"older messages are dropped past the bound", `[{"message":"one\n"},{"message":"two\n"},{"message":"three\n"}]`, 12,
			[]StepOutputMessage{{Message: "two\n"}, {Message: "three\n"}}},
		{"a message cut at the bound starts at its next line", `[{"message":"first line\nsecond\nthird\n"}]`, 15,
			[]StepOutputMessage{{Message: "second\nthird\n"}}},
		{"a message dropped whole in the middle of a line leaves that line out", `[{"message":"one\nhalf"},{"message":" a line\nnext\n"}]`, 16,
			[]StepOutputMessage{{Message: "next\n"}}},
		{"a carriage return is kept", `[{"message":"ok\r\u001b[Kfake ok\n"}]`, 100,
			[]StepOutputMessage{{Message: "ok\r\x1b[Kfake ok\n"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeTail(t, tc.body, tc.keep)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{``, `{}`, `[1]`, `[{"message":"a"`, `[{"message":"a"}] x`, `[{"message":"\q"}]`, `[{"message" "a"}]`, `[{"message":"a"},]`} {
		t.Run(fmt.Sprintf("%q is refused", bad), func(t *testing.T) {
			_, err := decodeTail(t, bad, 100)
			assert.ErrorIs(t, err, errMalformed)
		})
	}
}

// endlessLog is a step output of n lines, made as it is read: a body larger than memory would
// hold is never built.
type endlessLog struct {
	lines, i int
	buf      []byte // reused, so that making the log allocates next to nothing
	pending  []byte
	done     bool
}

func (e *endlessLog) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := e.read(p[n:])
		n += m
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
	}
	return n, nil
}

func (e *endlessLog) read(p []byte) (int, error) {
	if len(e.pending) == 0 {
		switch {
		case e.done:
			return 0, io.EOF
		case e.i == 0:
			e.pending = []byte(`[{"type":"out","message":"`)
		case e.i > e.lines:
			e.pending, e.done = []byte(`"}]`), true
		default:
			e.buf = append(strconv.AppendInt(append(e.buf[:0], "line "...), int64(e.i), 10), ` of the output\r\n`...)
			e.pending = e.buf
			if e.i == e.lines {
				e.buf = append(e.buf, `FAIL: TestCheckout (expected 200, got 502)\n`...)
				e.pending = e.buf
			}
		}
		e.i++
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	return n, nil
}

// A step that printed far more than any other answer may hold (its output is one message of 32
// MiB here) still yields its last lines, read in one pass within a bounded amount of memory.
func TestAHugeStepOutputKeepsItsEnd(t *testing.T) {
	const lines = 1 << 20 // about 32 MiB
	storage := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, &endlessLog{lines: lines})
	})
	c, _ := newTestClient(t, storage.URL)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := c.GetStepOutput(context.Background(), storage.URL+"/output")
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Len(t, out, 1)
	text := out[0].Message
	assert.LessOrEqual(t, len(text), MaxStepOutput)
	assert.Greater(t, len(text), MaxStepOutput-100)
	assert.True(t, strings.HasPrefix(text, "line "), "the kept text starts at a line: %q", text[:40])
	assert.True(t, strings.HasSuffix(text, fmt.Sprintf("line %d of the output\r\nFAIL: TestCheckout (expected 200, got 502)\n", lines)))
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(12<<20), "allocated %d MiB for a 32 MiB output", allocated>>20)
}

// FuzzReadStepTail: any body is read or refused, never a panic; what a valid list says comes
// back the same, as far as the bound allows.
func FuzzReadStepTail(f *testing.F) {
	for _, s := range []string{`[{"type":"out","message":"a\nb"}]`, `null`, `[{"message":"\ud83d\ude00"}]`, `[{"x":[{"y":{}}],"message":"z"}]`, `[{"message":"a\u0000"}]`} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, body string, keep int) {
		keep = keep%64 + 64
		if keep < 1 {
			keep = 1
		}
		b, err := readStepTail(strings.NewReader(body), keep)
		var want []StepOutputMessage
		if json.Unmarshal([]byte(body), &want) != nil {
			return // not a list encoding/json reads: refused or read leniently, either is fine
		}
		if err != nil {
			t.Fatalf("readStepTail refused %q, which encoding/json reads: %v", body, err)
		}
		var got []StepOutputMessage
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("readStepTail(%q) = %q, not JSON", body, b)
		}
		total := 0 // the bytes they came from: a byte that is not UTF-8 comes back as U+FFFD
		for _, m := range got {
			for _, r := range m.Message {
				if r == utf8.RuneError {
					total++
				} else {
					total += utf8.RuneLen(r)
				}
			}
		}
		if total > keep {
			t.Fatalf("kept %d bytes, more than %d", total, keep)
		}
		whole := 0
		for _, m := range want {
			whole += len(m.Message)
		}
		if whole <= keep && len(want) <= maxStepMessages && !reflect.DeepEqual(got, append([]StepOutputMessage{}, want...)) {
			t.Fatalf("readStepTail(%q) = %q; want %q", body, got, want)
		}
	})
}
