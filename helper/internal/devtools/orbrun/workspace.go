package orbrun

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The workflow's workspace: persist_to_workspace and attach_workspace are carried out, not only
// recorded, so that a later job reads what an earlier one persisted, as on CircleCI. So are
// store_test_results and store_artifacts, so that tests read what a job stored.

// carriesOut says whether a step of this type is carried out here rather than only recorded.
func carriesOut(stepType string) bool {
	return stepType == "persist_to_workspace" || stepType == "attach_workspace" || isStore(stepType)
}

// workspaceStep carries out a persist_to_workspace or attach_workspace step of a job whose
// home and working directory are given.
func (m *Machine) workspaceStep(s Step, home, workDir string) error {
	if m.workspace == "" {
		dir, err := os.MkdirTemp(m.Root, "workspace")
		if err != nil {
			return err
		}
		m.workspace = dir
	}
	abs := func(p string) string {
		p = expandHome(p, home)
		if !filepath.IsAbs(p) {
			p = filepath.Join(workDir, p)
		}
		return p
	}
	if s.Type == "attach_workspace" {
		at, _ := s.Args["at"].(string)
		if at == "" {
			return fmt.Errorf("attach_workspace needs at")
		}
		return copyTree(m.workspace, abs(at))
	}
	root, _ := s.Args["root"].(string)
	paths, _ := s.Args["paths"].([]any)
	if root == "" || len(paths) == 0 {
		return fmt.Errorf("persist_to_workspace needs root and paths")
	}
	// paths are globs (Go's filepath.Match) relative to root; one that matches nothing fails the
	// step (configuration reference, persist_to_workspace; "save_cache and persist_to_workspace
	// only work if the file exists",
	// https://discuss.circleci.com/t/problem-all-build-steps-must-run-without-error-prior-to-final-success-no-skipping-or-configurably-ignoring-some-errors-in-circleci-built-in-commands-is-available/17558).
	for _, p := range paths {
		rel, _ := p.(string)
		if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
			return fmt.Errorf("persist_to_workspace: path %q must be relative to root", p)
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
			if err := copyTree(src, filepath.Join(m.workspace, name)); err != nil {
				return err
			}
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
