package integration

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/embeddedetcd"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// kruiseAPIServerBinary builds cmd/apiserver once per test run.
func kruiseAPIServerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kruise-apiserver-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "kruise-apiserver")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/kruise-apiserver/kruise-apiserver/cmd/apiserver").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building kruise-apiserver: %v", buildErr)
	}
	return binary
}

func runBinary(t *testing.T, timeout time.Duration, args ...string) (stderr string, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kruiseAPIServerBinary(t), args...)
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kruise-apiserver %v did not exit within %s; stderr:\n%s", args, timeout, errBuf.String())
	}
	if exitErr, ok := err.(*exec.ExitError); ok {
		return errBuf.String(), exitErr.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return errBuf.String(), 0
}

// TestBadStartsFailWithOneLine checks that a bad flag, a missing
// kube-apiserver and an unreachable etcd each end the process with a
// non-zero exit and one clear error line, not a stack dump.
func TestBadStartsFailWithOneLine(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--no-such-flag"}, "kruise-apiserver: unknown flag: --no-such-flag"},
		{"bad value", []string{"--standalone", "--etcd-connect-timeout=soon"}, `kruise-apiserver: invalid argument "soon" for "--etcd-connect-timeout"`},
		{"arguments", []string{"--standalone", "serve"}, "kruise-apiserver: unexpected arguments"},
		{"no kube-apiserver", []string{"--data-dir", t.TempDir()}, "kruise-apiserver: no kube-apiserver to delegate authentication and authorization to"},
		{"unreachable etcd", []string{"--standalone", "--data-dir", t.TempDir(), "--etcd-servers", "https://127.0.0.1:1", "--etcd-connect-timeout", "2s"},
			"kruise-apiserver: cannot reach etcd at https://127.0.0.1:1 within 2s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stderr, code := runBinary(t, 60*time.Second, tc.args...)
			if code == 0 {
				t.Fatalf("exit code 0; stderr:\n%s", stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Fatalf("stderr is not the one line %q:\n%s", tc.want, stderr)
			}
		})
	}
}

// TestStandaloneBinaryStopsCleanlyOnSIGTERM runs the real binary, waits for
// its kubeconfig hint, sends SIGTERM and expects exit 0 with the embedded
// etcd shut down (a second run on the same data dir starts).
func TestStandaloneBinaryStopsCleanlyOnSIGTERM(t *testing.T) {
	dataDir := t.TempDir()
	for round := 0; round < 2; round++ {
		port := freePort(t)
		cmd := exec.Command(kruiseAPIServerBinary(t), "--standalone", "--data-dir", dataDir, "--secure-port", strconv.Itoa(port))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		hint := make(chan string, 1)
		go func() {
			scanner := bufio.NewScanner(stdout)
			for scanner.Scan() {
				if line := scanner.Text(); strings.Contains(line, "kubectl --kubeconfig") {
					hint <- line
				}
			}
		}()
		select {
		case line := <-hint:
			if !strings.Contains(line, filepath.Join(dataDir, "kubeconfig")) {
				t.Fatalf("hint does not name the kubeconfig: %q", line)
			}
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("no kubeconfig hint within 60s; stderr:\n%s", stderr.String())
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: exit after SIGTERM: %v; stderr:\n%s", round, err, stderr.String())
			}
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("round %d: no exit within 90s of SIGTERM", round)
		}
	}
}

// TestExternalEtcd runs the server against an etcd given by --etcd-servers
// (over client-certificate TLS), not the embedded one.
func TestExternalEtcd(t *testing.T) {
	etcd, err := embeddedetcd.Start(context.Background(), embeddedetcd.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Stop()
	tls := etcd.ClientTLS()
	dataDir := t.TempDir()
	s := framework.Start(t, dataDir, "--etcd-servers", etcd.ClientURL(),
		"--etcd-cafile", tls.CAFile, "--etcd-certfile", tls.CertFile, "--etcd-keyfile", tls.KeyFile)
	ctx := context.Background()
	if _, err := s.Clientset(t).AppsV1beta1().CloneSets(testNamespace).Create(ctx, typedCloneSet("external"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "etcd")); !os.IsNotExist(err) {
		t.Fatalf("an embedded etcd was started too (%v)", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSIGTERMEndsWatches: a stopping server ends its open watches at once
// (their clients re-watch through another replica) and exits well before
// the HTTP server's 60 s shutdown timeout, which open watches would
// otherwise hold it for.
func TestSIGTERMEndsWatches(t *testing.T) {
	dataDir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(kruiseAPIServerBinary(t), "--standalone", "--data-dir", dataDir, "--secure-port", strconv.Itoa(port))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	kubeconfig := filepath.Join(dataDir, "kubeconfig")
	var clients versioned.Interface
	deadline := time.Now().Add(60 * time.Second)
	for {
		config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err == nil {
			clients, err = versioned.NewForConfig(config)
		}
		if err == nil {
			_, err = clients.AppsV1beta1().CloneSets(testNamespace).List(context.Background(), metav1.ListOptions{})
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not serving within 60s: %v; stderr:\n%s", err, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	watch, err := clients.AppsV1beta1().CloneSets(testNamespace).Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Stop()

	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drain(watch.ResultChan()):
	case <-time.After(30 * time.Second):
		t.Fatalf("the watch was still open 30s after SIGTERM")
	}
	t.Logf("watch ended %.1fs after SIGTERM", time.Since(stopped).Seconds())
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
		t.Logf("exited %.1fs after SIGTERM", time.Since(stopped).Seconds())
	case <-time.After(40 * time.Second):
		t.Fatalf("still running 40s after SIGTERM with a watch open (the 60s shutdown timeout?)")
	}
}

// drain returns a channel closed once events is closed.
func drain[T any](events <-chan T) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range events {
		}
		close(done)
	}()
	return done
}
