package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

const opPipelineConfig = "getPipelineConfigById"

// pipelineConfigBody is the spec's PipelineConfig: source and compiled always; the setup pair
// only for a pipeline that ran a setup workflow.
type pipelineConfigBody struct {
	Source              string  `json:"source"`
	Compiled            string  `json:"compiled"`
	SetupConfig         *string `json:"setup-config,omitempty"`
	CompiledSetupConfig *string `json:"compiled-setup-config,omitempty"`
}

// getPipelineConfig serves GET /pipeline/{pipeline-id}/config: the config the project's
// pipelines run, written from its declared parameters and workflows (see configSource).
func (s *Simulator) getPipelineConfig(w http.ResponseWriter, rt route, user *Token) {
	s.mu.Lock()
	p := s.visiblePipeline(rt.id, user)
	var body pipelineConfigBody
	if p != nil {
		body = configSource(p.proj.cfg)
		if p.proj.cfg.External {
			body = p.ranConfig()
		}
	}
	s.mu.Unlock()
	if p == nil {
		writeMessage(w, http.StatusNotFound, "Pipeline not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// ranConfig is the config an external project's pipeline ran, as its runner gave it; for a
// setup pipeline, the setup config and, once continued, the continuation as the source.
// Nothing is compiled here, so compiled repeats the source. Caller holds s.mu.
func (p *pipeline) ranConfig() pipelineConfigBody {
	b := pipelineConfigBody{Source: p.config, Compiled: p.config}
	if p.contKey == "" {
		return b
	}
	setup := p.config
	b.SetupConfig, b.CompiledSetupConfig = &setup, &setup
	if p.continued != nil {
		b.Source, b.Compiled = p.continued.config, p.continued.config
	}
	return b
}

// configSource writes a project's config as a user would have: its parameters in a top-level
// `parameters:` map sharing a `references:` anchor (`<<: *…` merges and `*…` aliases), so that a
// reader must resolve YAML as CircleCI does. A project with a setup workflow has a setup config
// (setup: true) declaring the parameters a trigger passes, and a continuation config, the
// source, that declares them again with its ContinuationParameters added.
func configSource(proj *Project) pipelineConfigBody {
	var setup, rest []Workflow
	for _, w := range proj.Workflows {
		if w.Tag == "setup" {
			setup = append(setup, w)
		} else {
			rest = append(rest, w)
		}
	}
	if len(setup) == 0 {
		return pipelineConfigBody{
			Source:   writeConfig(proj.Slug, false, proj.Parameters, rest),
			Compiled: compiledConfig(rest),
		}
	}
	continuation := append(append([]Parameter(nil), proj.Parameters...), proj.ContinuationParameters...)
	setupSource, setupCompiled := writeConfig(proj.Slug, true, proj.Parameters, setup), compiledConfig(setup)
	return pipelineConfigBody{
		Source:              writeConfig(proj.Slug, false, continuation, rest),
		Compiled:            compiledConfig(rest),
		SetupConfig:         &setupSource,
		CompiledSetupConfig: &setupCompiled,
	}
}

func writeConfig(slug string, setup bool, params []Parameter, workflows []Workflow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: the config circleci-sim serves for this project's pipelines\nversion: 2.1\n", slug)
	if setup {
		b.WriteString("setup: true\norbs:\n  continuation: circleci/continuation@1.0.0\n")
	}
	if len(params) > 0 {
		b.WriteString("references:\n  string-parameter: &string-parameter\n    type: string\n    description: a string\n")
		b.WriteString("parameters:\n")
		for i, p := range params {
			fmt.Fprintf(&b, "  %s:\n", jsonString(p.Name))
			switch p.Type {
			case "string":
				b.WriteString("    <<: *string-parameter\n")
			case "enum":
				fmt.Fprintf(&b, "    type: enum\n    enum: &values-%d [", i)
				for j, v := range p.Enum {
					if j > 0 {
						b.WriteString(", ")
					}
					b.WriteString(jsonString(v))
				}
				b.WriteString("]\n")
			default:
				fmt.Fprintf(&b, "    type: %s\n", p.Type)
			}
			if p.Default != nil {
				fmt.Fprintf(&b, "    default: %s\n", yamlScalar(p.Default))
			}
		}
	}
	writeJobs(&b, workflows)
	return b.String()
}

// compiledConfig is the config after CircleCI's compilation: version 2, parameters resolved
// away.
func compiledConfig(workflows []Workflow) string {
	var b strings.Builder
	b.WriteString("version: 2\n")
	writeJobs(&b, workflows)
	return b.String()
}

func writeJobs(b *strings.Builder, workflows []Workflow) {
	if len(workflows) == 0 {
		return
	}
	b.WriteString("jobs:\n")
	seen := map[string]bool{}
	for _, w := range workflows {
		for _, j := range jobsOf(w) {
			if !seen[j.Name] && j.Type != "approval" {
				seen[j.Name] = true
				fmt.Fprintf(b, "  %s:\n    docker: [{image: cimg/base:current}]\n    steps: [checkout]\n", jsonString(j.Name))
			}
		}
	}
	b.WriteString("workflows:\n")
	for _, w := range workflows {
		fmt.Fprintf(b, "  %s:\n    jobs:\n", jsonString(w.Name))
		for _, j := range jobsOf(w) {
			fmt.Fprintf(b, "      - %s", jsonString(j.Name))
			if j.Type == "approval" || len(j.Requires) > 0 {
				fmt.Fprintf(b, ":\n")
				if j.Type == "approval" {
					b.WriteString("          type: approval\n")
				}
				if len(j.Requires) > 0 {
					b.WriteString("          requires: [")
					for k, r := range j.Requires {
						if k > 0 {
							b.WriteString(", ")
						}
						b.WriteString(jsonString(r))
					}
					b.WriteString("]\n")
				}
				continue
			}
			b.WriteString("\n")
		}
	}
}

// jobsOf is a workflow's jobs; a workflow scripted without any runs one named after it.
func jobsOf(w Workflow) []Job {
	if len(w.Jobs) == 0 {
		return []Job{{Name: w.Name}}
	}
	return w.Jobs
}

// yamlScalar writes a default: strings double-quoted (JSON escapes are YAML's), numbers and
// booleans plain.
func yamlScalar(v any) string {
	switch x := v.(type) {
	case string:
		return jsonString(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
