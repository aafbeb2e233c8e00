package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// serveAdmin answers the simulator's own endpoints, which are not CircleCI's and are never
// recorded:
//
//	GET  /_sim/requests   every recorded request, as a JSON array (bodies as strings)
//	POST /_sim/reset      forget the recorded requests
//	POST /_sim/faults     queue a fault, given as JSON (see Fault)
//	GET  /_sim/faults     the faults still pending
//	POST /_sim/hostile    make later answers hostile, given as JSON (see Hostile)
//	GET  /_sim/pipelines  every created pipeline (see PipelineInfo)
func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.EscapedPath() {
	case "GET /_sim/requests":
		writeJSON(w, http.StatusOK, s.Requests())
	case "POST /_sim/reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "GET /_sim/faults":
		writeJSON(w, http.StatusOK, s.Faults())
	case "POST /_sim/faults":
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return
		}
		var f Fault
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeMessage(w, http.StatusBadRequest, "fault: "+err.Error())
			return
		}
		nf, err := f.normalized()
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "fault "+err.Error())
			return
		}
		s.mu.Lock()
		s.faults = append(s.faults, nf)
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, nf)
	case "POST /_sim/hostile":
		var h Hostile
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			writeMessage(w, http.StatusBadRequest, "hostile: "+err.Error())
			return
		}
		if err := s.AddHostile(h); err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, h)
	case "GET /_sim/pipelines":
		writeJSON(w, http.StatusOK, s.Pipelines())
	default:
		writeMessage(w, http.StatusNotFound, "simulator admin: unknown endpoint; use GET /_sim/requests, POST /_sim/reset, GET or POST /_sim/faults, POST /_sim/hostile, GET /_sim/pipelines")
	}
}
