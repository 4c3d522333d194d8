/*
Copyright The kruise-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package embeddedetcd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// startServer logs through the test, so that the connections tests reject
// on purpose do not clutter the output.
func startServer(t *testing.T, dataDir string) *Server {
	t.Helper()
	s, err := Start(context.Background(), Config{DataDir: dataDir, Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func newClient(t *testing.T, s *Server, files TLSFiles) *clientv3.Client {
	t.Helper()
	tlsCfg, err := transport.TLSInfo{
		TrustedCAFile: files.CAFile,
		CertFile:      files.CertFile,
		KeyFile:       files.KeyFile,
	}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   s.Endpoints(),
		TLS:         tlsCfg,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func put(t *testing.T, c *clientv3.Client, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, key, value); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t *testing.T, c *clientv3.Client, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %d values", key, len(resp.Kvs))
	}
	return string(resp.Kvs[0].Value)
}

func TestStartServesOverTLSOnLoopback(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	// The default logger, as the server uses it.
	s, err := Start(context.Background(), Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)

	u, err := url.Parse(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		t.Errorf("ClientURL = %q, want https://127.0.0.1:<port>", s.ClientURL())
	}
	if got := s.Endpoints(); len(got) != 1 || got[0] != s.ClientURL() {
		t.Errorf("Endpoints = %v", got)
	}
	for _, a := range s.etcd.Peers {
		if ip := a.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("peer listener on %s", a.Addr())
		}
	}

	for _, d := range []string{dataDir, filepath.Join(dataDir, "pki")} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode = %v, want 0700", d, fi.Mode().Perm())
		}
	}
	files := s.ClientTLS()
	for _, f := range []string{files.KeyFile, filepath.Join(dataDir, "pki", "ca.key"), filepath.Join(dataDir, "pki", "server.key")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", f, fi.Mode().Perm())
		}
	}

	c := newClient(t, s, files)
	put(t, c, "/registry/foo", "bar")
	if got := get(t, c, "/registry/foo"); got != "bar" {
		t.Errorf("got %q, want bar", got)
	}
}

func TestClientWithoutCertificateIsRejected(t *testing.T) {
	s := startServer(t, t.TempDir())
	put(t, newClient(t, s, s.ClientTLS()), "k", "v")

	// Trusting the server is not enough; every client needs our certificate.
	noCert := newClient(t, s, TLSFiles{CAFile: s.ClientTLS().CAFile})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := noCert.Put(ctx, "k", "v"); err == nil {
		t.Error("put without a client certificate succeeded")
	}

	// The refusal happens in the TLS handshake, before any request.
	roots, err := transport.TLSInfo{TrustedCAFile: s.ClientTLS().CAFile}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.ClientURL(), "https://"), roots)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		_ = conn.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("TLS connection without a client certificate: err = %v, want certificate required", err)
	}

	// A certificate from another CA, e.g. another data directory, is
	// refused too.
	other := startServer(t, t.TempDir())
	foreign := newClient(t, s, TLSFiles{CAFile: s.ClientTLS().CAFile, CertFile: other.ClientTLS().CertFile, KeyFile: other.ClientTLS().KeyFile})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if _, err := foreign.Put(ctx2, "k", "v"); err == nil {
		t.Error("put with a certificate of another CA succeeded")
	}
}

func TestPeerListenerRequiresClientCertificate(t *testing.T) {
	s := startServer(t, t.TempDir())
	peerURL := "https://" + s.etcd.Peers[0].Addr().String() + "/members"

	roots, err := transport.TLSInfo{TrustedCAFile: s.ClientTLS().CAFile}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: roots}}
	if resp, err := noCert.Get(peerURL); err == nil {
		_ = resp.Body.Close()
		t.Errorf("peer endpoint answered %s without a client certificate", resp.Status)
	}

	cert, err := tls.LoadX509KeyPair(s.ClientTLS().CertFile, s.ClientTLS().KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	withCert := roots.Clone()
	withCert.Certificates = []tls.Certificate{cert}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: withCert}}
	resp, err := c.Get(peerURL)
	if err != nil {
		t.Fatalf("peer endpoint with client certificate: %v", err)
	}
	_ = resp.Body.Close()
}

func TestRestartKeepsData(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	put(t, newClient(t, s, s.ClientTLS()), "/registry/persisted", "yes")
	ca1, err := os.ReadFile(s.ClientTLS().CAFile)
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop() // idempotent
	select {
	case err := <-s.Err():
		t.Errorf("Err after Stop delivered %v", err)
	default:
	}

	s2 := startServer(t, dataDir)
	if got := get(t, newClient(t, s2, s2.ClientTLS()), "/registry/persisted"); got != "yes" {
		t.Errorf("after restart got %q, want yes", got)
	}
	ca2, err := os.ReadFile(s2.ClientTLS().CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca1, ca2) {
		t.Error("CA regenerated on restart")
	}
}

func TestErrReportsUnexpectedStop(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.etcd.Server.Stop()
	select {
	case err := <-s.Err():
		if err == nil {
			t.Error("nil error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Err did not report that etcd stopped")
	}
	s.Stop()
}

func TestSecondStartOnSameDirFails(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s2, err := Start(ctx, Config{DataDir: dataDir})
	if err == nil {
		s2.Stop()
		t.Fatal("second Start on the same data directory succeeded")
	}
	if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), dataDir) {
		t.Errorf("error = %v, want ErrDataDirInUse naming %s", err, dataDir)
	}

	// The failed attempt must leave the running server alone.
	c := newClient(t, s, s.ClientTLS())
	put(t, c, "still", "works")
}

func TestStartCanceled(t *testing.T) {
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s, err := Start(ctx, Config{DataDir: dataDir}); err == nil {
		s.Stop()
		t.Fatal("Start with a canceled context succeeded")
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestStartTimesOut(t *testing.T) {
	dataDir := t.TempDir()
	// etcd needs at least one raft tick (100ms) to elect itself, so a
	// nanosecond always expires first.
	_, err := Start(context.Background(), Config{DataDir: dataDir, ReadyTimeout: time.Nanosecond})
	if err == nil || !strings.Contains(err.Error(), "did not become ready within") {
		t.Fatalf("error = %v, want a readiness timeout", err)
	}
	// The lock is released, so the directory can be used right away.
	startServer(t, dataDir)
}

func TestStartRejectsBadConfig(t *testing.T) {
	if _, err := Start(context.Background(), Config{}); err == nil {
		t.Error("empty DataDir accepted")
	}
	dataDir := t.TempDir()
	if _, err := Start(context.Background(), Config{DataDir: dataDir, LogLevel: "loud"}); err == nil {
		t.Error("invalid log level accepted")
	}
	// A failed start must not keep the directory locked.
	startServer(t, dataDir)
}
