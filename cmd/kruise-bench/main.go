// Command kruise-bench compares kruise-apiserver with OpenKruise's CloneSet
// CRD on a local control plane and prints one table (see test/bench and
// docs/performance.md). hack/bench.sh builds what it needs and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/test/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kruise-bench: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "a small run (1,000 CloneSets, 1s phases) for CI")
	objects := flag.Int("objects", 0, "CloneSets stored in each of ours and the CRD (default 10000, 1000 with --quick)")
	duration := flag.Duration("duration", 0, "length of each timed phase (default 10s, 1s with --quick)")
	dir := flag.String("dir", "_output/bench", "state directory of the local control plane (emptied first)")
	kubeBinDir := flag.String("kube-bin-dir", "", "directory with kube-apiserver, kube-controller-manager and etcd")
	kruiseBinary := flag.String("kruise-binary", "_output/bin/kruise-apiserver", "the kruise-apiserver binary")
	artifacts := flag.String("artifacts", "artifacts", "the repository's artifacts/")
	crd := flag.String("crd", "test/bench/testdata/apps.kruise-crd.io_clonesets.yaml", "OpenKruise's CloneSet CRD, its group renamed")
	profile := flag.String("profile", "", "comma-separated phases during which to take CPU profiles of both API servers (ours through kube-apiserver): create-8, create-32, get-8, get-32, list-<n>-<json|protobuf|table>, update-8, update-32, watch-8, watch-32, delete-8, delete-32; heap for heap profiles with the CloneSets stored")
	replicas := flag.Int("kruise-replicas", 1, "kruise-apiserver replicas (their CPU is added up; memory is the directly reached one's)")
	profileDir := flag.String("profile-dir", "_output/bench-profiles", "where --profile writes <server>-<phase>.pprof")
	flag.Parse()
	if *kubeBinDir == "" {
		return errors.New("--kube-bin-dir is required")
	}

	cfg := bench.Full()
	if *quick {
		cfg = bench.Quick()
	}
	if *objects > 0 {
		cfg.Objects = *objects
	}
	if *duration > 0 {
		cfg.Duration = *duration
	}
	for _, p := range []*string{dir, kubeBinDir, kruiseBinary, artifacts, crd, profileDir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	cfg.Dir, cfg.KubeBinDir, cfg.KruiseBinary, cfg.ArtifactsDir, cfg.CRDManifest = *dir, *kubeBinDir, *kruiseBinary, *artifacts, *crd
	cfg.ProfileDir = *profileDir
	cfg.KruiseReplicas = *replicas
	if *profile != "" {
		cfg.ProfilePhases = strings.Split(*profile, ",")
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	cfg.Out, cfg.Progress = os.Stdout, os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err := bench.Run(ctx, cfg)
	fmt.Fprintf(os.Stderr, "kruise-bench: %.0fs in all\n", time.Since(start).Seconds())
	return err
}
