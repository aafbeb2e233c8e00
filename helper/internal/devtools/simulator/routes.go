package simulator

import (
	"net/url"
	"strings"
)

const (
	apiPrefix = "/api/v2/"
	opAppPage = "appPipelinePage"
)

// route is a resolved request: the spec's operationId and the path parameters, unescaped.
type route struct {
	op     string
	method string // the method the route serves
	slug   string // project routes: the slug, joined from however many segments it came in
	id     string // pipeline or workflow id
	name   string // insights: the workflow name; approve: the approval request id
	// app links
	number     string
	workflowID string
}

// resolve maps a method and ESCAPED path to a route. It returns ok=false when nothing matches
// the path, and a route whose method differs from the request's when only the method is wrong.
//
// Project routes accept the slug as one escaped segment (gh%2Facme%2Fapi, as the spec's
// single project-slug parameter has it) or as plain segments (gh/acme/api), like the real API.
func resolve(method, escaped string) (route, bool) {
	if rest, ok := strings.CutPrefix(escaped, "/pipelines/"); ok {
		return resolveAppLink(rest)
	}
	rest, ok := strings.CutPrefix(escaped, apiPrefix)
	if !ok {
		return resolveDetail(escaped)
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for i, s := range seg {
		u, err := url.PathUnescape(s)
		if err != nil {
			return route{}, false
		}
		seg[i] = u
	}
	if rt, ok := resolveJobDetail(seg); ok {
		return rt, true
	}
	n := len(seg)
	switch {
	case n == 1 && seg[0] == "me":
		return route{op: "getCurrentUser", method: "GET"}, true
	case n == 2 && seg[0] == "pipeline" && seg[1] == "continue":
		return route{op: opContinue, method: "POST"}, true
	case n == 2 && seg[0] == "pipeline":
		return route{op: "getPipelineById", method: "GET", id: seg[1]}, true
	case n == 3 && seg[0] == "pipeline" && seg[2] == "config":
		return route{op: opPipelineConfig, method: "GET", id: seg[1]}, true
	case n == 3 && seg[0] == "pipeline" && seg[2] == "workflow":
		return route{op: "listWorkflowsByPipelineId", method: "GET", id: seg[1]}, true
	case n == 2 && seg[0] == "workflow":
		return route{op: "getWorkflowById", method: "GET", id: seg[1]}, true
	case n == 3 && seg[0] == "workflow" && seg[2] == "job":
		return route{op: "listWorkflowJobs", method: "GET", id: seg[1]}, true
	case n == 4 && seg[0] == "workflow" && seg[2] == "approve":
		return route{op: opApproveJob, method: "POST", id: seg[1], name: seg[3]}, true
	case n == 3 && seg[0] == "workflow" && seg[2] == "cancel":
		return route{op: "cancelWorkflow", method: "POST", id: seg[1]}, true
	case n >= 5 && seg[0] == "insights" && seg[n-3] == "workflows" && seg[n-1] == "summary":
		return route{op: opWorkflowSummary, method: "GET", slug: strings.Join(seg[1:n-3], "/"), name: seg[n-2]}, true
	case n >= 4 && seg[0] == "project" && seg[n-2] == "pipeline" && seg[n-1] == "run":
		return route{op: "triggerPipelineRun", method: "POST", slug: strings.Join(seg[1:n-2], "/")}, true
	case n >= 3 && seg[0] == "project" && seg[n-1] == "pipeline":
		slug := strings.Join(seg[1:n-1], "/")
		if method == "GET" {
			return route{op: "listPipelinesForProject", method: "GET", slug: slug}, true
		}
		return route{op: "triggerPipeline", method: "POST", slug: slug}, true
	case (n == 2 || n == 4) && seg[0] == "project": // the slug escaped as one segment, or plain
		return route{op: "getProjectBySlug", method: "GET", slug: strings.Join(seg[1:], "/")}, true
	}
	return route{}, false
}

// resolveAppLink matches the app's pipeline links:
// /pipelines/{provider}/{org}/{repo}/{number}[/workflows/{workflow-id}].
func resolveAppLink(rest string) (route, bool) {
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for i, s := range seg {
		u, err := url.PathUnescape(s)
		if err != nil {
			return route{}, false
		}
		seg[i] = u
	}
	r := route{op: opAppPage, method: "GET"}
	switch {
	case len(seg) == 4:
	case len(seg) == 6 && seg[4] == "workflows":
		r.workflowID = seg[5]
	default:
		return route{}, false
	}
	r.slug = strings.Join(seg[:3], "/")
	r.number = seg[3]
	return r, true
}
