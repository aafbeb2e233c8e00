// Package preflight is the stage between a validated request and its payload: it learns which
// pipeline parameters the downstream project declares, from the config of the project's most
// recent pipeline (GET /project/{slug}/pipeline, then GET /pipeline/{id}/config), refuses
// parameters CircleCI would reject (undeclared, mistyped, outside an enum), and types the rest
// as declared, so that `version=3` reaches a string parameter as "3".
//
// When it cannot learn the declarations (no earlier pipeline, an unreadable config, an API
// error), it says why and leaves the parameters as they were typed; the caller decides whether
// that is an error (--preflight=strict).
package preflight
