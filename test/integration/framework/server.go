// Package framework runs a real kruise-apiserver inside the test process:
// the production command code in standalone mode, on an embedded etcd in a
// temporary data dir, on a free loopback port, reached over TLS with the
// admin kubeconfig it writes.
package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kruise-apiserver/kruise-apiserver/cmd/apiserver/app"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned"
)

// Server is a kruise-apiserver running in this process.
type Server struct {
	// DataDir survives Stop, so a new Server on it sees the same data.
	DataDir string
	// Config is the admin client configuration (system:masters).
	Config *rest.Config

	cancel context.CancelFunc
	done   chan error
}

// Start runs a server on dataDir (a fresh t.TempDir() when empty) and
// waits until /readyz is ok. It is stopped when the test ends.
func Start(t testing.TB, dataDir string, extraFlags ...string) *Server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := listener.Addr().(*net.TCPAddr).Port

	o := app.NewOptions()
	fs := pflag.NewFlagSet("kruise-apiserver", pflag.ContinueOnError)
	o.AddFlags(fs)
	args := append([]string{"--standalone", "--data-dir", dataDir, "--secure-port", strconv.Itoa(port)}, extraFlags...)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	o.Recommended.SecureServing.Listener = listener
	o.Out = io.Discard
	if err := o.Complete(fs); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{DataDir: dataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- app.Run(ctx, o) }()
	t.Cleanup(func() { s.Stop(t) })

	kubeconfig := filepath.Join(dataDir, "kubeconfig")
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-s.done:
			s.done <- err
			return false, fmt.Errorf("server exited: %v", err)
		default:
		}
		config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return false, nil
		}
		client, err := discovery.NewDiscoveryClientForConfig(config)
		if err != nil {
			return false, nil
		}
		body, err := client.RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil || string(body) != "ok" {
			return false, nil
		}
		s.Config = config
		return true, nil
	})
	if err != nil {
		t.Fatalf("kruise-apiserver did not become ready: %v", err)
	}
	s.Config.QPS = 1000
	s.Config.Burst = 1000
	return s
}

// Stop shuts the server (and its embedded etcd) down and waits for it.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server stopped with: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Errorf("server did not stop within 90s")
	}
}

// Clientset is the generated typed clientset for the server.
func (s *Server) Clientset(t testing.TB) versioned.Interface {
	t.Helper()
	c, err := versioned.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Dynamic is a dynamic client for the server.
func (s *Server) Dynamic(t testing.TB) dynamic.Interface {
	t.Helper()
	c, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Discovery is a discovery client for the server.
func (s *Server) Discovery(t testing.TB) discovery.DiscoveryInterface {
	t.Helper()
	c, err := discovery.NewDiscoveryClientForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
