package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	body := []byte(`{"message":"simulator: cannot encode the answer"}` + "\n")
	if err := enc.Encode(v); err == nil {
		body = buf.Bytes()
	} else {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// message is CircleCI's error (and simple success) body.
type message struct {
	Message string `json:"message"`
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, message{Message: msg})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// timestamp formats t the way CircleCI does: UTC, milliseconds, Z.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func timestampPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

// jsonString quotes s as JSON does, without escaping HTML characters.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
