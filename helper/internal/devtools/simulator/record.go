package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Request is one recorded exchange: the request as received and the answer as sent.
type Request struct {
	// Time is when the request arrived, on the simulator's clock.
	Time time.Time
	// Method, Path (the escaped path exactly as received), RawQuery, Header and Body describe
	// the request.
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Operation is the spec's operationId of the route ("triggerPipeline", ...),
	// "appPipelinePage" for an app link, or "" when no route matched.
	Operation string
	// Fault names what was injected: "status", "slow", "drop", "lost", "rate_limit" or "".
	Fault string
	// Status, ResponseHeader and ResponseBody are the answer. For "lost" they are the answer
	// that was produced and never delivered; for "drop" (and a slow request the client gave up
	// on) Status is 0.
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
	// Dropped is true when the connection was closed without an answer.
	Dropped bool
}

// requestJSON is Request on the wire of GET /_sim/requests: bodies as strings.
type requestJSON struct {
	Time           string      `json:"time"`
	Method         string      `json:"method"`
	Path           string      `json:"path"`
	RawQuery       string      `json:"raw_query"`
	Header         http.Header `json:"header"`
	Body           string      `json:"body"`
	Operation      string      `json:"operation"`
	Fault          string      `json:"fault"`
	Status         int         `json:"status"`
	ResponseHeader http.Header `json:"response_header"`
	ResponseBody   string      `json:"response_body"`
	Dropped        bool        `json:"dropped"`
}

// MarshalJSON writes the request with its bodies as strings.
func (r Request) MarshalJSON() ([]byte, error) {
	return json.Marshal(requestJSON{
		Time: timestamp(r.Time), Method: r.Method, Path: r.Path, RawQuery: r.RawQuery,
		Header: r.Header, Body: string(r.Body), Operation: r.Operation, Fault: r.Fault,
		Status: r.Status, ResponseHeader: r.ResponseHeader, ResponseBody: string(r.ResponseBody),
		Dropped: r.Dropped,
	})
}

// UnmarshalJSON reads what MarshalJSON wrote (for clients of GET /_sim/requests).
func (r *Request) UnmarshalJSON(b []byte) error {
	var w requestJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t, _ := time.Parse(time.RFC3339Nano, w.Time)
	*r = Request{
		Time: t, Method: w.Method, Path: w.Path, RawQuery: w.RawQuery, Header: w.Header,
		Body: []byte(w.Body), Operation: w.Operation, Fault: w.Fault, Status: w.Status,
		ResponseHeader: w.ResponseHeader, ResponseBody: []byte(w.ResponseBody), Dropped: w.Dropped,
	}
	return nil
}

func (r Request) clone() Request {
	r.Header = r.Header.Clone()
	r.ResponseHeader = r.ResponseHeader.Clone()
	r.Body = slices.Clone(r.Body)
	r.ResponseBody = slices.Clone(r.ResponseBody)
	return r
}

// answer is a response being built: handlers write into it, and ServeHTTP records it before
// delivering it (or, for a "lost" fault, throwing it away).
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newAnswer() *answer { return &answer{header: http.Header{}} }

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

// deliver copies the answer to the real ResponseWriter.
func (a *answer) deliver(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body.Bytes())
}
