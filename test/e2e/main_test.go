// Package e2e drives a real local control plane (internal/localup: etcd,
// kube-apiserver, kube-controller-manager, kruise-apiserver behind
// APIServices) with the pinned kubectl, exactly as a user would, through
// kube-apiserver only.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
)

var (
	cluster *localup.Cluster
	kubeBin string
	repo    string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	if repo, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "kruise-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	keep := os.Getenv("KRUISE_E2E_KEEP") != ""
	if !keep {
		defer os.RemoveAll(work)
	}

	fmt.Fprintln(os.Stderr, "e2e: building Kubernetes binaries (cached after the first run)")
	out, err := exec.Command(filepath.Join(repo, "hack", "build-kube-binaries.sh"), "kube-apiserver", "kube-controller-manager", "kubectl", "etcd").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: hack/build-kube-binaries.sh: %v\n", err)
		return 1
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	kubeBin = lines[len(lines)-1]

	kruiseBinary := filepath.Join(work, "kruise-apiserver")
	build := exec.Command("go", "build", "-o", kruiseBinary, "./cmd/apiserver")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building kruise-apiserver: %v\n%s", err, out)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cluster, err = localup.Up(ctx, localup.Options{
		Dir:          filepath.Join(work, "local"),
		KubeBinDir:   kubeBin,
		KruiseBinary: kruiseBinary,
		ArtifactsDir: filepath.Join(repo, "artifacts"),
		Progress:     os.Stderr,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: local-up: %v\n", err)
		return 1
	}
	defer cluster.Down()
	if keep {
		fmt.Fprintf(os.Stderr, "e2e: keeping %s\n", work)
	}
	return m.Run()
}
