package orbrun

import (
	"fmt"
	"slices"
)

// CircleCI's job statuses a requirement may name; terminal is all of them.
var requirementStatuses = []string{"success", "failed", "canceled", "unauthorized", "not_run"}

// requiresList reads a job's requires: names, or {name: status} / {name: [status, …]}
// mappings of one key, as CircleCI's schema allows. It returns the names in order and, for
// those with statuses, the statuses that meet them.
func requiresList(v any) ([]string, map[string][]string, error) {
	list, ok := v.([]any)
	if !ok {
		names, err := stringList(v, "requires")
		return names, nil, err
	}
	var names []string
	var statuses map[string][]string
	for _, x := range list {
		switch x := x.(type) {
		case string:
			names = append(names, x)
		case map[string]any:
			if len(x) != 1 {
				return nil, nil, fmt.Errorf("requires: a mapping names one job, not %d", len(x))
			}
			name := sortedKeys(x)[0]
			want, err := stringList(x[name], "requires: "+name)
			if err != nil {
				return nil, nil, err
			}
			var expanded []string
			for _, st := range want {
				switch {
				case st == "terminal":
					expanded = append(expanded, requirementStatuses...)
				case slices.Contains(requirementStatuses, st):
					expanded = append(expanded, st)
				default:
					return nil, nil, fmt.Errorf("requires: %s: %q is not a job status (success, failed, canceled, unauthorized, not_run or terminal)", name, st)
				}
			}
			if statuses == nil {
				statuses = map[string][]string{}
			}
			names, statuses[name] = append(names, name), expanded
		default:
			return nil, nil, fmt.Errorf("requires: %v is neither a job name nor {job: status}", x)
		}
	}
	return names, statuses, nil
}

// requirementMet reports whether a required job that ended with status (JobSuccess, JobFailed
// or JobBlocked, which CircleCI calls not_run) meets a requirement that accepts want (nil:
// success only).
func requirementMet(status string, want []string) bool {
	if want == nil {
		return status == JobSuccess
	}
	switch status {
	case JobSuccess, JobFailed:
		return slices.Contains(want, status)
	case JobBlocked:
		return slices.Contains(want, "not_run")
	}
	return false
}
