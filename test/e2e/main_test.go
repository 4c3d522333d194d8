// Package e2e drives a real local control plane (internal/localup: etcd,
// kube-apiserver, kube-controller-manager, kruise-apiserver behind
// APIServices) and a real node (kubelet on containerd, kube-scheduler, a
// registry with the images of hack/images) with the pinned kubectl, exactly
// as a user would, through kube-apiserver only.
//
// The node needs root and the Debian packages of hack/install-node-deps.sh;
// KRUISE_E2E_NODE=0 runs without it (the node's tests are then skipped).
// After the run the suite checks that the node left nothing on the host.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
)

// parallelTests is how many parallel tests run at once by default.
const parallelTests = 16

var (
	cluster *localup.Cluster
	kubeBin string
	repo    string
	// withNode tells whether the cluster has a node (KRUISE_E2E_NODE).
	withNode bool
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
	withNode = os.Getenv("KRUISE_E2E_NODE") != "0"
	binaries := []string{"kube-apiserver", "kube-controller-manager", "kubectl", "etcd"}
	if withNode {
		binaries = append(binaries, "kubelet", "kube-scheduler", "containerd")
		// Nodes of earlier runs that were killed (go test -timeout, ^C twice).
		if err := localup.CleanupStaleNodes(filepath.Join(os.TempDir(), "kruise-e2e*", "local")); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: cleaning up the nodes of killed runs: %v\n", err)
		}
	}

	fmt.Fprintln(os.Stderr, "e2e: building Kubernetes binaries (cached after the first run)")
	out, err := exec.Command(filepath.Join(repo, "hack", "build-kube-binaries.sh"), binaries...).Output()
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

	daemonBinary := filepath.Join(work, "kruise-daemon")
	build = exec.Command("go", "build", "-o", daemonBinary, "./cmd/kruise-daemon")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building kruise-daemon: %v\n%s", err, out)
		return 1
	}

	var before localup.HostSnapshot
	if withNode {
		before = localup.SnapshotHost()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	cluster, err = localup.Up(ctx, localup.Options{
		Dir:          filepath.Join(work, "local"),
		KubeBinDir:   kubeBin,
		KruiseBinary: kruiseBinary,
		ArtifactsDir: filepath.Join(repo, "artifacts"),
		Progress:     os.Stderr,
		Node:         withNode,
		ImagesDir:    filepath.Join(repo, "hack", "images"),
		DaemonBinary: daemonBinary,
		// More flags for kruise-apiserver, to run the suite (or a test)
		// with a function turned off or tuned.
		KruiseArgs: strings.Fields(os.Getenv("KRUISE_E2E_KRUISE_ARGS")),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: local-up: %v\n", err)
		if withNode {
			fmt.Fprintln(os.Stderr, "e2e: the node needs root and hack/install-node-deps.sh; KRUISE_E2E_NODE=0 runs the suite without it")
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: local-up ready in %.1fs\n", time.Since(start).Seconds())
	// ^C or SIGTERM: stop the node all the same (it has processes,
	// cgroups and a veth pair outside this process).
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "e2e: %v: stopping local-up\n", sig)
		_ = cluster.Down()
		os.Exit(1)
	}()

	// The controllers' tests (t.Parallel) mostly wait for pods and
	// kubelets: run them all at once, far more than the machine has cores,
	// unless -parallel says otherwise.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(max(runtime.GOMAXPROCS(0), parallelTests)))
	}

	code := m.Run()

	signal.Stop(signals)
	if err := cluster.Down(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: stopping local-up: %v\n", err)
		code = 1
	}
	if withNode {
		if leaks := cluster.Leaks(before); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "e2e: the node left traces on the host:\n  %s\n", strings.Join(leaks, "\n  "))
			code = 1
		} else {
			fmt.Fprintln(os.Stderr, "e2e: the node left no trace on the host (links, routes, mounts, cgroups, firewall, sysctls, paths, processes)")
		}
	}
	if keep {
		fmt.Fprintf(os.Stderr, "e2e: keeping %s\n", work)
	}
	return code
}
