package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kruise-apiserver/kruise-apiserver/internal/localup"
)

// result is what one kubectl run printed.
type result struct {
	args           []string
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("$ kubectl %s\n%s%s(exit: %v)", strings.Join(r.args, " "), r.stdout, r.stderr, r.err)
}

// runKubectl runs the pinned kubectl against kube-apiserver with the admin
// kubeconfig.
func runKubectl(stdin string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(kubeBin, "kubectl"), append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return result{args: args, stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// kubectl runs kubectl and fails the test, showing the command, its output
// and the tail of the servers' logs, if it fails.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	r := runKubectl("", args...)
	if r.err != nil {
		failWith(t, r)
	}
	return r.stdout
}

// kubectlIn is kubectl with a manifest on stdin.
func kubectlIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := runKubectl(stdin, args...)
	if r.err != nil {
		failWith(t, r)
	}
	return r.stdout
}

// kubectlFails runs kubectl expecting it to fail, and returns its stderr.
func kubectlFails(t *testing.T, args ...string) string {
	t.Helper()
	r := runKubectl("", args...)
	if r.err == nil {
		failWith(t, r, "expected kubectl to fail")
	}
	return r.stderr
}

func failWith(t *testing.T, r result, why ...string) {
	t.Helper()
	t.Fatalf("%s\n%s\n--- kruise-apiserver log (tail):\n%s\n--- kube-apiserver log (tail):\n%s",
		strings.Join(why, " "), r, cluster.LogTail(localup.KruiseAPIServer, 30), cluster.LogTail(localup.KubeAPIServer, 15))
}

// expectContains fails with the command output unless it contains want.
func expectContains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q not found in:\n%s\n--- kruise-apiserver log (tail):\n%s", what, want, got, cluster.LogTail(localup.KruiseAPIServer, 30))
	}
}
