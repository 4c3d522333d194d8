// Command local-up runs the local aggregated control plane of
// hack/local-up.sh: see internal/localup. Without arguments it runs in the
// foreground until Ctrl-C; -d starts it detached and returns once it is
// ready; --node adds a real node (kubelet, containerd, kube-scheduler);
// "down" stops a detached (or foreground) one and removes what its node
// left on the host; "check" lists what any node left on the host.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
)

const detachedEnv = "KRUISE_LOCAL_UP_DETACHED"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "local-up: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var opts localup.Options
	var detach bool
	flags := flag.NewFlagSet("local-up", flag.ContinueOnError)
	flags.StringVar(&opts.Dir, "dir", "_output/local", "state directory (certificates, data, logs, kubeconfig)")
	flags.StringVar(&opts.KubeBinDir, "kube-bin-dir", "", "directory with kube-apiserver, kube-controller-manager and etcd")
	flags.StringVar(&opts.KruiseBinary, "kruise-binary", "_output/bin/kruise-apiserver", "the kruise-apiserver binary")
	flags.StringVar(&opts.ArtifactsDir, "artifacts", "artifacts", "the repository's artifacts/ directory")
	flags.BoolVar(&detach, "d", false, "start detached and return once everything is ready")
	flags.BoolVar(&opts.Node, "node", false, "also run a real node (containerd, kubelet, registry, kube-scheduler); needs root")
	flags.StringVar(&opts.ImagesDir, "images-dir", "hack/images", "the repository's hack/images (the node's images)")
	flags.StringVar(&opts.DaemonBinary, "daemon-binary", "_output/bin/kruise-daemon", "the kruise-daemon binary (run on the node)")
	flags.IntVar(&opts.KruiseReplicas, "kruise-replicas", localup.DefaultKruiseReplicas, "kruise-apiserver replicas (sharing one etcd, behind a balancer; the Lease holder runs the controllers)")
	if err := flags.Parse(os.Args[1:]); err != nil {
		return err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	opts.Dir = dir
	pidFile := filepath.Join(dir, "local-up.pid")
	readyFile := filepath.Join(dir, "ready")

	switch args := flags.Args(); {
	case len(args) == 1 && args[0] == "down":
		return down(dir, pidFile)
	case len(args) == 1 && args[0] == "check":
		return check()
	case len(args) > 0:
		return fmt.Errorf("unknown arguments %q (use -d to detach, --node, down or check)", args)
	}
	if pid, ok := runningPID(pidFile); ok && os.Getenv(detachedEnv) == "" {
		return fmt.Errorf("already running (pid %d); stop it with: hack/local-up.sh down", pid)
	}
	if opts.KubeBinDir == "" {
		return errors.New("--kube-bin-dir is required")
	}
	if opts.KruiseReplicas < 1 {
		return errors.New("--kruise-replicas must be at least 1")
	}
	for _, p := range []*string{&opts.KubeBinDir, &opts.KruiseBinary, &opts.ArtifactsDir, &opts.ImagesDir, &opts.DaemonBinary} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		return err
	}
	if detach {
		return startDetached(dir, pidFile, readyFile)
	}
	return foreground(opts, pidFile, readyFile)
}

// foreground runs the control plane until SIGINT/SIGTERM or until a
// component dies.
func foreground(opts localup.Options, pidFile, readyFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_ = os.Remove(readyFile)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	defer os.Remove(readyFile)

	opts.Progress = os.Stdout
	cluster, err := localup.Up(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := cluster.Down(); err != nil {
			fmt.Fprintf(os.Stderr, "local-up: %v\n", err)
		}
	}()
	printUsage(cluster)
	if err := os.WriteFile(readyFile, nil, 0o644); err != nil {
		return err
	}
	if os.Getenv(detachedEnv) == "" {
		fmt.Println("Press Ctrl-C to stop everything.")
	}
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	running := map[string]bool{}
	for _, r := range cluster.KruiseReplicas() {
		running[r.Name] = r.Running
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Println("local-up: stopping")
			return nil
		case <-ticker.C:
			if err := cluster.Exited(); err != nil {
				return err
			}
			// A replica that died is left down; the others serve.
			for _, r := range cluster.KruiseReplicas() {
				if running[r.Name] && !r.Running {
					fmt.Printf("local-up: %s exited; the other replicas serve (log: %s)\n", r.Name, r.LogPath)
				}
				running[r.Name] = r.Running
			}
		}
	}
}

func printUsage(c *localup.Cluster) {
	replicas := c.KruiseReplicas()
	var names []string
	for _, r := range replicas {
		names = append(names, fmt.Sprintf("%s (127.0.0.1:%d)", r.Name, r.Port))
	}
	fmt.Printf(`local-up: ready. kube-apiserver serves apps.kruise.io and policy.kruise.io through kruise-apiserver:
%d replicas, %s, behind 127.0.0.1:%d; the one holding the Lease runs the controllers.
  export KUBECONFIG=%s
  kubectl get apiservices | grep kruise
  kubectl get clonesets -A
  kubectl -n kruise-system get lease kruise-manager   # which replica leads
`, len(replicas), strings.Join(names, ", "), c.Ports()[localup.KruiseAPIServer], c.Kubeconfig)
	if ip := c.NodeIP(); ip != "" {
		var standIns []string
		for _, name := range c.Images.StandInNames() {
			standIns = append(standIns, name+" = "+c.Images.StandIns[name])
		}
		fmt.Printf(`Node %s (InternalIP %s, pods in %s) runs pods; images in its registry %s:
  %s
and, for OpenKruise's samples (docker.io resolves to that registry only), stand-ins:
  %s
  kubectl run testapp --image=%s && kubectl get pod testapp -o wide
`, localup.NodeName, ip, c.PodCIDR(), c.Images.Registry, strings.Join(c.Images.All(), "\n  "), strings.Join(standIns, "\n  "), c.Images.TestAppV1)
	}
	fmt.Printf("Logs: %s\n", filepath.Dir(c.LogPath(localup.KubeAPIServer)))
}

// startDetached re-runs this command in its own session, logging to
// logs/local-up.log, and waits until it is ready or has failed.
func startDetached(dir, pidFile, readyFile string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var args []string
	for _, a := range os.Args[1:] {
		if a != "-d" && a != "--d" {
			args = append(args, a)
		}
	}
	logPath := filepath.Join(dir, "logs", "local-up.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	_ = os.Remove(readyFile)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), detachedEnv+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(10 * time.Minute)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("local-up failed (%v); see %s:\n%s", err, logPath, tail(logPath, 30))
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return fmt.Errorf("not ready within 10 minutes; see %s", logPath)
		case <-time.After(500 * time.Millisecond):
			if _, err := os.Stat(readyFile); err == nil {
				data, _ := os.ReadFile(logPath)
				fmt.Print(string(data))
				fmt.Printf("local-up: running detached (pid %d); stop it with: hack/local-up.sh down\n", cmd.Process.Pid)
				return nil
			}
		}
	}
}

// down stops a running local-up and waits for it to finish stopping its
// components, then removes whatever its node left on the host (all of it
// when local-up was killed before it could stop the node).
func down(dir, pidFile string) error {
	pid, ok := runningPID(pidFile)
	if !ok {
		fmt.Println("local-up: not running")
		_ = os.Remove(pidFile)
	} else {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return err
		}
		stopped := false
		for i := 0; i < 240 && !stopped; i++ {
			stopped = syscall.Kill(pid, 0) != nil
			if !stopped {
				time.Sleep(500 * time.Millisecond)
			}
		}
		if !stopped {
			return fmt.Errorf("pid %d did not stop within 2 minutes", pid)
		}
		fmt.Println("local-up: stopped")
	}
	if err := localup.CleanupNode(dir); err != nil {
		return err
	}
	return nil
}

// check lists what nodes left on the host (or what running ones have
// there), and fails if there is anything.
func check() error {
	traces := localup.HostTraces()
	if len(traces) == 0 {
		fmt.Println("local-up: no trace of a node on this host")
		return nil
	}
	return fmt.Errorf("traces of a node on this host:\n  %s", strings.Join(traces, "\n  "))
}

func runningPID(pidFile string) (int, bool) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
