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

// Package embeddedetcd runs a single-member etcd inside the kruise-apiserver
// process, so that a laptop setup needs no separate etcd.
//
// etcd listens on loopback only, and both of its listeners require a client
// certificate from a CA the package keeps in the data directory, because a
// loopback port is reachable by every local user.
package embeddedetcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/pki"
)

const (
	// DefaultReadyTimeout bounds the wait for etcd to elect itself and serve
	// once it has opened its data. Applying the entries an unclean shutdown
	// left in the WAL, on a slow disk, is the slow case it allows for.
	DefaultReadyTimeout = 60 * time.Second
	// DefaultLogLevel keeps etcd's per-request info logging off the
	// server's stderr while still showing problems.
	DefaultLogLevel = "warn"
	// DefaultQuotaBackendBytes is etcd's own default (2 GiB), stated here
	// so that it does not change silently with an etcd upgrade.
	DefaultQuotaBackendBytes = 2 << 30

	// Time-based compaction keeps a predictable window of history no matter
	// how bursty the writes are; a revision count would cover seconds under
	// a burst of status updates and days on an idle laptop. The API server
	// also compacts every 5 minutes by default, so this is a backstop for
	// when that is disabled, and one hour comfortably exceeds how far
	// clients resume watches.
	autoCompactionRetention = "1h"

	// The API server relies on watch progress notifications for watch
	// bookmarks and streaming lists; 5s is what kubeadm and the GCE
	// scripts configure.
	watchProgressNotifyInterval = 5 * time.Second

	lockFileName = "kruise-apiserver.lock"
	pkiDirName   = "pki"
	// maxBindAttempts retries when another process takes a port between
	// choosing it and etcd binding it.
	maxBindAttempts = 5
)

// ErrDataDirInUse is returned by Start when another embedded etcd, in this or
// another process, already uses the data directory.
var ErrDataDirInUse = errors.New("etcd data directory is in use")

// Config configures the embedded etcd.
type Config struct {
	// DataDir holds etcd's data (DataDir/member), the TLS material
	// (DataDir/pki) and a lock file. It is created with mode 0700.
	DataDir string

	// ReadyTimeout defaults to DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// LogLevel is the level of etcd's own zap logger (debug, info, warn,
	// error); it defaults to DefaultLogLevel. Ignored when Logger is set.
	LogLevel string
	// Logger, if set, receives etcd's logs instead of stderr.
	Logger *zap.Logger
	// QuotaBackendBytes defaults to DefaultQuotaBackendBytes. etcd refuses
	// writes beyond it until compacted and defragmented.
	QuotaBackendBytes int64
}

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	lock      *fileutil.LockedFile
	clientURL string
	tls       TLSFiles

	errc     chan error
	stopping chan struct{}
	stopOnce sync.Once
	watchWG  sync.WaitGroup
}

// Start starts etcd on cfg.DataDir and returns once it serves requests. It
// fails with an error wrapping ErrDataDirInUse if another embedded etcd uses
// the directory, and gives up after cfg.ReadyTimeout or when ctx is done,
// shutting etcd down again.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded etcd: data directory must not be empty")
	}
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("embedded etcd: not started: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = DefaultLogLevel
	}
	if cfg.QuotaBackendBytes <= 0 {
		cfg.QuotaBackendBytes = DefaultQuotaBackendBytes
	}

	// etcd only warns about a data directory readable by others; it holds
	// every object of the API, so tighten it instead.
	if err := pki.EnsurePrivateDir(dataDir); err != nil {
		return nil, fmt.Errorf("embedded etcd: creating data directory: %w", err)
	}

	// etcd locks its WAL, but only after opening the bbolt database, and
	// bbolt waits forever for its lock; a second server would hang rather
	// than fail. A lock of our own, taken first, turns that into an error.
	lock, err := fileutil.TryLockFile(filepath.Join(dataDir, lockFileName), os.O_WRONLY|os.O_CREATE, 0o600)
	if errors.Is(err, fileutil.ErrLocked) {
		return nil, fmt.Errorf("embedded etcd: %w: %s is locked by another process (is another kruise-apiserver running with the same data directory?)", ErrDataDirInUse, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: locking data directory: %w", err)
	}

	s, err := start(ctx, cfg, dataDir)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func start(ctx context.Context, cfg Config, dataDir string) (*Server, error) {
	// Closed before any shutdown of etcd, requested or after a failed start,
	// so that the logger can tell expected shutdown errors from real ones.
	stopping := make(chan struct{})
	lg, err := newLogger(cfg, stopping)
	if err != nil {
		return nil, err
	}
	files, err := ensurePKI(filepath.Join(dataDir, pkiDirName))
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: preparing TLS certificates: %w", err)
	}

	var e *embed.Etcd
	for attempt := 1; ; attempt++ {
		ecfg, err := etcdConfig(cfg, dataDir, files, lg)
		if err != nil {
			return nil, err
		}
		e, err = embed.StartEtcd(ecfg)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == maxBindAttempts {
			return nil, fmt.Errorf("embedded etcd: starting: %w", err)
		}
	}
	abort := func(err error) (*Server, error) {
		close(stopping)
		e.Close()
		return nil, err
	}

	timer := time.NewTimer(cfg.ReadyTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return abort(fmt.Errorf("embedded etcd: failed while starting: %w", err))
	case <-e.Server.StopNotify():
		return abort(errors.New("embedded etcd: stopped while starting; see its log for the cause"))
	case <-timer.C:
		return abort(fmt.Errorf("embedded etcd did not become ready within %s", cfg.ReadyTimeout))
	case <-ctx.Done():
		return abort(fmt.Errorf("embedded etcd: interrupted while starting: %w", context.Cause(ctx)))
	}

	s := &Server{
		etcd:      e,
		clientURL: "https://" + e.Clients[0].Addr().String(),
		tls:       files.client,
		errc:      make(chan error, 1),
		stopping:  stopping,
	}
	s.watchWG.Add(1)
	go s.watch()
	return s, nil
}

func etcdConfig(cfg Config, dataDir string, files pkiFiles, lg *zap.Logger) (*embed.Config, error) {
	ports, err := freeLoopbackPorts(2)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: choosing ports: %w", err)
	}
	clientURL := url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))}
	peerURL := url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))}

	ec := embed.NewConfig()
	ec.Name = "kruise-apiserver"
	ec.Dir = dataDir
	ec.ListenClientUrls = []url.URL{clientURL}
	ec.AdvertiseClientUrls = []url.URL{clientURL}
	// Only a cluster of one is ever formed, but etcd still needs a peer
	// URL; it is locked down like the client one since etcd accepts raft
	// messages there.
	ec.ListenPeerUrls = []url.URL{peerURL}
	ec.AdvertisePeerUrls = []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.InitialClusterToken = "kruise-apiserver"

	tlsInfo := transport.TLSInfo{
		CertFile:       files.serverCert,
		KeyFile:        files.serverKey,
		TrustedCAFile:  files.caCert,
		ClientCertAuth: true,
	}
	ec.ClientTLSInfo = tlsInfo
	ec.PeerTLSInfo = tlsInfo

	// The API server speaks gRPC; the JSON gateway would only add surface.
	ec.EnableGRPCGateway = false
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = autoCompactionRetention
	ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	ec.WatchProgressNotifyInterval = watchProgressNotifyInterval

	ec.Logger = "zap"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	return ec, nil
}

// freeLoopbackPorts asks the kernel for distinct free ports. etcd has to be
// given concrete ports, not :0, because it publishes the URLs it advertises
// in its membership data; so there is a window in which another process may
// take a port before etcd binds it, and start retries when that happens.
func freeLoopbackPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		// Closed only after all are chosen, so the ports are distinct.
		defer func() { _ = l.Close() }()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// watch reports etcd failing after Start returned, so the API server can
// exit instead of serving errors.
func (s *Server) watch() {
	defer s.watchWG.Done()
	var err error
	select {
	case <-s.stopping:
		return
	case err = <-s.etcd.Err():
		if err == nil {
			err = errors.New("embedded etcd stopped serving")
		}
	case <-s.etcd.Server.StopNotify():
		err = errors.New("embedded etcd stopped unexpectedly; see its log for the cause")
	}
	select {
	case <-s.stopping:
	default:
		s.errc <- fmt.Errorf("embedded etcd: %w", err)
	}
}

// ClientURL is the URL clients connect to, https://127.0.0.1:<port>. The port
// is chosen anew on every start.
func (s *Server) ClientURL() string { return s.clientURL }

// Endpoints returns ClientURL as a list, the form etcd clients and
// k8s.io/apiserver's storagebackend.TransportConfig.ServerList take.
func (s *Server) Endpoints() []string { return []string{s.clientURL} }

// ClientTLS returns the CA and the client certificate and key that clients
// must use; a connection without that certificate is refused.
func (s *Server) ClientTLS() TLSFiles { return s.tls }

// Err delivers at most one error, when etcd fails or stops on its own while
// running; the server should then shut down, as its storage is gone. The
// channel is never closed, and nothing is sent once Stop has been called.
func (s *Server) Err() <-chan error { return s.errc }

// Stop shuts etcd down and returns once it has released the data directory.
// Call it after the API server has drained, so in-flight requests can finish.
// It may be called more than once and concurrently; all calls wait for the
// first to finish.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.etcd.Close()
		s.watchWG.Wait()
		// Released last so that a new Start cannot open the database while
		// this one still has it open.
		_ = s.lock.Close()
	})
}
