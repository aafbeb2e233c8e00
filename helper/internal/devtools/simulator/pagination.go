package simulator

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// Page tokens are opaque to clients: base64 of the list they belong to and a position, so a
// token from one list is refused by another.

func encodeToken(scope string, pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "|" + strconv.Itoa(pos)))
}

func decodeToken(tok, scope string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	sc, pos, ok := strings.Cut(string(b), "|")
	if !ok || sc != scope {
		return 0, false
	}
	n, err := strconv.Atoi(pos)
	return n, err == nil && n >= 0
}

// writePage answers one page of items: {items, next_page_token}, the token null on the last
// page. The position in a token is an offset into items.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, scope string, size int) {
	start := 0
	if tok := r.URL.Query().Get("page-token"); tok != "" {
		n, ok := decodeToken(tok, scope)
		if !ok {
			writeMessage(w, http.StatusBadRequest, "Invalid page-token.")
			return
		}
		start = min(n, len(items))
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		t := encodeToken(scope, end)
		next = &t
	}
	writeJSON(w, http.StatusOK, struct {
		Items         []T     `json:"items"`
		NextPageToken *string `json:"next_page_token"`
	}{items[start:end], next})
}
