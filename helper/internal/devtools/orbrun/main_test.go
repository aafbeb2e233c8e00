package orbrun_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/baton-ci/baton/helper/internal/devtools/orbrun"
)

// testVersion is the version the tests release baton as. Its major version is the one the
// examples show (orb-tools RC011, checked by scripts/pack-orb.sh).
const testVersion = "1.0.0-e2e"

var (
	root    string          // the repository
	release *orbrun.Release // made once per run by the project's own release scripts
)

// TestMain makes a release with scripts/build-release.sh and scripts/pack-orb.sh, unless
// scripts/test-orb.sh made one already and named it in $BATON_ORB_RELEASE.
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if root, err = orbrun.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if release, err = orbrun.ReleaseFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if release == nil {
		dir, err := os.MkdirTemp("", "baton-orb-release")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "orbrun: making release %s with scripts/build-release.sh and scripts/pack-orb.sh (set %s to reuse one)\n", testVersion, orbrun.EnvRelease)
		if release, err = orbrun.MakeRelease(root, dir, testVersion, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "orbrun: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// srcDir is the orb's source directory.
func srcDir() string { return filepath.Join(root, "orb", "src") }
