// Package sharedsamples finds the OpenKruise manifests every developer and
// CI machine has beside the repository (../shared): samples/ that the server
// must accept unchanged and samples-invalid/ that it must reject.
package sharedsamples

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns the shared directory: $KRUISE_SHARED_DIR, or "shared" beside
// the module root. Tests that need it fail when it is missing: the samples
// are part of what the server is checked against, not optional.
func Dir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("KRUISE_SHARED_DIR"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(filepath.Join(shared, "samples")); err != nil {
				t.Fatalf("shared samples not found at %s (set KRUISE_SHARED_DIR): %v", shared, err)
			}
			return shared
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Valid returns the manifests of one kind (its lower-case directory name,
// e.g. "cloneset") that the server must accept: samples/<kind>/ and
// samples/written/<kind>/.
func Valid(t testing.TB, kindDir string) []string {
	t.Helper()
	shared := Dir(t)
	return yamlFiles(t, filepath.Join(shared, "samples", kindDir), filepath.Join(shared, "samples", "written", kindDir))
}

// Invalid returns the manifests of one kind that the server must reject.
func Invalid(t testing.TB, kindDir string) []string {
	t.Helper()
	return yamlFiles(t, filepath.Join(Dir(t), "samples-invalid", kindDir))
}

func yamlFiles(t testing.TB, dirs ...string) []string {
	t.Helper()
	var files []string
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	sort.Strings(files)
	return files
}
