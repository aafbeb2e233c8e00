package testkit

import (
	"net/http"
	"net/http/httptest"
	"regexp"
)

// idField is the "id" of a JSON answer as the simulator writes it.
var idField = regexp.MustCompile(`"id":"[^"]*"`)

// BadTriggerIDs stands in front of next and rewrites the "id" of every answer to a POST to id,
// as a server that creates the pipeline but names it unusably (".." or a path) would: the
// pipeline exists; only the answer is wrong.
func BadTriggerIDs(next http.Handler, id string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(idField.ReplaceAllLiteral(rec.Body.Bytes(), []byte(`"id":"`+id+`"`)))
	})
}
