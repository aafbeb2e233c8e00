package orbrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The workflow's workspace, carried out as CircleCI documents it
// (https://circleci.com/docs/workspaces/):
//   - each workflow has its own workspace; nothing carries over from another workflow, even of
//     the same pipeline (RunWorkflow starts a new one);
//   - every persist_to_workspace step adds a layer;
//   - a job that attaches sees only the layers of the jobs upstream of it (those it requires,
//     directly or not), applied in the order those jobs ran;
//   - two upstream jobs neither of which requires the other must not persist the same file:
//     attaching then fails ("Concurrent upstream jobs persisted the same file(s)", the error
//     users quote, e.g. mapbox/mapbox-gl-js#12468).
//   - with no layer upstream there is nothing to attach and the step fails: a config whose
//     job attaches a workspace that no job before it persisted is broken, and fails here
//     before it fails on CircleCI. CircleCI's own wording for this case is not published; the
//     message below is ours.
//
// store_test_results and store_artifacts are carried out too, so that tests read what a job
// stored.

// workspace is the current workflow's: the requirements of its jobs and the layers persisted.
type workspace struct {
	name     string              // the workflow's, for messages
	requires map[string][]string // job → the jobs it requires
	layers   []layer             // in the order they were persisted
}

type layer struct {
	job string
	dir string // a copy of what the step persisted, relative to its root
}

// BeginWorkflow starts a new workflow's workspace for jobs (RunWorkflow calls it). Jobs run
// one by one with RunJob after it share that workspace, as jobs of one workflow do; a job not
// listed is added with its requirements when it runs.
func (m *Machine) BeginWorkflow(name string, jobs []*Job) {
	m.ws = &workspace{name: name, requires: map[string][]string{}}
	for _, j := range jobs {
		m.ws.requires[j.Name] = j.Requires
	}
}

// upstream is every job j requires, directly or not.
func (w *workspace) upstream(j string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		for _, r := range w.requires[name] {
			if !seen[r] {
				seen[r] = true
				visit(r)
			}
		}
	}
	visit(j)
	return seen
}

// carriesOut says whether a step of this type is carried out here rather than only recorded.
func (m *Machine) carriesOut(stepType string) bool {
	switch stepType {
	case "persist_to_workspace", "attach_workspace", "store_test_results", "store_artifacts":
		return true
	case "checkout":
		return m.Checkout != nil
	case "restore_cache":
		return m.RestoreCache != nil
	}
	return false
}

// builtinStep carries out a checkout, restore_cache, persist_to_workspace or attach_workspace
// step of job j,
// whose home and working directory are given.
func (m *Machine) builtinStep(j *Job, s Step, home, workDir string) error {
	abs := func(p string) string {
		p = expandHome(p, home)
		if !filepath.IsAbs(p) {
			p = filepath.Join(workDir, p)
		}
		return p
	}
	switch s.Type {
	case "checkout":
		dir := workDir
		if p, _ := s.Args["path"].(string); p != "" {
			dir = abs(p)
		}
		return m.Checkout(dir)
	case "restore_cache":
		return m.RestoreCache(workDir, home)
	case "attach_workspace":
		at, _ := s.Args["at"].(string)
		if at == "" {
			return fmt.Errorf("attach_workspace needs at")
		}
		return m.attach(j.Name, abs(at))
	}
	root, _ := s.Args["root"].(string)
	paths, _ := s.Args["paths"].([]any)
	if root == "" || len(paths) == 0 {
		return fmt.Errorf("persist_to_workspace needs root and paths")
	}
	dir, err := os.MkdirTemp(m.Root, "layer-")
	if err != nil {
		return err
	}
	// paths are globs (Go's filepath.Match) relative to root; one that matches nothing fails the
	// step (configuration reference, persist_to_workspace; "save_cache and persist_to_workspace
	// only work if the file exists",
	// https://discuss.circleci.com/t/problem-all-build-steps-must-run-without-error-prior-to-final-success-no-skipping-or-configurably-ignoring-some-errors-in-circleci-built-in-commands-is-available/17558).
	for _, p := range paths {
		rel, _ := p.(string)
		if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") || filepath.Clean(rel) == "." {
			return fmt.Errorf("persist_to_workspace: path %q must be relative to root, and not root itself", p)
		}
		matches, err := filepath.Glob(filepath.Join(abs(root), rel))
		if err != nil || len(matches) == 0 {
			return fmt.Errorf("persist_to_workspace: the specified path %s did not match any files in %s", rel, root)
		}
		for _, src := range matches {
			name, err := filepath.Rel(abs(root), src)
			if err != nil {
				return err
			}
			if err := copyTree(src, filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	m.ws.layers = append(m.ws.layers, layer{job: j.Name, dir: dir})
	return nil
}

// attach copies into at the layers of the jobs upstream of job, in the order they were
// persisted.
func (m *Machine) attach(job, at string) error {
	up := m.ws.upstream(job)
	var apply []layer
	for _, l := range m.ws.layers {
		if up[l.job] {
			apply = append(apply, l)
		}
	}
	if len(apply) == 0 {
		where := "its workflow"
		if m.ws.name != "" {
			where = "workflow " + m.ws.name
		}
		return fmt.Errorf("Error: nothing to attach: no job upstream of %s in %s persisted to the workspace "+
			"(a job sees only what the jobs it requires, directly or not, persisted in its own workflow)", job, where)
	}
	owner := map[string]string{} // workspace file → the job whose layer wrote it
	for _, l := range apply {
		err := filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(l.dir, path)
			if prev, ok := owner[rel]; ok && prev != l.job && !m.ws.upstream(l.job)[prev] {
				return fmt.Errorf("Error applying workspace layer for job %s: Concurrent upstream jobs persisted the same file(s) into the workspace: %s (also persisted by %s)", l.job, rel, prev)
			}
			owner[rel] = l.job
			return nil
		})
		if err != nil {
			return err
		}
		if err := copyTree(l.dir, at); err != nil {
			return err
		}
	}
	return nil
}

// copyTree copies the file or directory src to dst, keeping file modes.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			dest, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return os.Symlink(dest, target)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// isStore says whether a step stores files with the job: test results or artifacts.
func isStore(stepType string) bool {
	return stepType == "store_test_results" || stepType == "store_artifacts"
}

// storeStep carries out a store_test_results or store_artifacts step (the index-th of its job,
// whose directory is jobDir): it copies what its path holds now, a file or a directory, into a
// directory of its own, returned with what the step printed. A path that holds nothing is no
// failure: CircleCI says it found nothing and goes on ("Unable to save test results from …",
// "Found no test results, skipping", as in
// https://github.com/scikit-learn/scikit-learn/pull/16588).
func (m *Machine) storeStep(s Step, jobDir string, index int, home, workDir string) (string, string, error) {
	path, _ := s.Args["path"].(string)
	if path == "" {
		return "", "", fmt.Errorf("%s needs path", s.Type)
	}
	src := expandHome(path, home)
	if !filepath.IsAbs(src) {
		src = filepath.Join(workDir, src)
	}
	if _, err := os.Stat(src); err != nil {
		if s.Type == "store_test_results" {
			return "", fmt.Sprintf("Unable to save test results from %s\nFound no test results, skipping\n", src), nil
		}
		return "", fmt.Sprintf("No artifact files found at %s\n", src), nil
	}
	stored := filepath.Join(jobDir, "stored", fmt.Sprintf("%02d-%s", index, s.Type))
	dst := stored
	if fi, err := os.Stat(src); err == nil && !fi.IsDir() {
		dst = filepath.Join(stored, filepath.Base(src)) // a single file keeps its name
	}
	if err := copyTree(src, dst); err != nil {
		return "", "", err
	}
	return stored, fmt.Sprintf("Stored %s\n", src), nil
}
