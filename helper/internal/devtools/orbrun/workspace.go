package orbrun

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The workflow's workspace: persist_to_workspace and attach_workspace are carried out, not only
// recorded, so that a later job reads what an earlier one persisted, as on CircleCI.

// carriesOut says whether a step of this type is carried out here rather than only recorded.
func carriesOut(stepType string) bool {
	return stepType == "persist_to_workspace" || stepType == "attach_workspace"
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
	for _, p := range paths {
		rel, _ := p.(string)
		if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
			return fmt.Errorf("persist_to_workspace: path %q must be relative to root", p)
		}
		src := filepath.Join(abs(root), rel)
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("persist_to_workspace: the specified path %s did not match any files in %s", rel, root)
		}
		if err := copyTree(src, filepath.Join(m.workspace, rel)); err != nil {
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
