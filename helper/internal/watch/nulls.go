package watch

import "github.com/baton-ci/baton/helper/internal/circleci"

// unnamed stands for a name the API answered as null or empty, so that no line reads
// "workflow  failed" and no Markdown link has empty text.
const unnamed = "(unnamed)"

// named fills in the names the API left null; statuses are left as they are ("" reads
// "unknown" wherever it is shown).
func named(ws []circleci.Workflow) []circleci.Workflow {
	for i := range ws {
		if ws[i].Name == "" {
			ws[i].Name = unnamed
		}
	}
	return ws
}

func namedJobs(js []circleci.Job) []circleci.Job {
	for i := range js {
		if js[i].Name == "" {
			js[i].Name = unnamed
		}
	}
	return js
}
