package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/transport"
)

// waitForEtcd fails clearly, rather than serving errors, when the etcd
// given by --etcd-servers cannot be reached. It asks etcd's /health endpoint
// over plain HTTPS instead of opening a gRPC client: a gRPC client that
// cannot connect logs a warning per retry, and a failed start should print
// one error line, not a page of them.
func waitForEtcd(ctx context.Context, config storagebackend.Config, timeout time.Duration) error {
	servers := config.Transport.ServerList
	tlsConfig, err := transport.TLSConfigFor(&transport.Config{TLS: transport.TLSConfig{
		CAFile:   config.Transport.TrustedCAFile,
		CertFile: config.Transport.CertFile,
		KeyFile:  config.Transport.KeyFile,
	}})
	if err != nil {
		return fmt.Errorf("etcd TLS files: %w", err)
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: tlsConfig},
		Timeout:   3 * time.Second,
	}
	defer client.CloseIdleConnections()

	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, server := range servers {
			if lastErr = etcdHealthy(ctx, client, server); lastErr == nil {
				return true, nil
			}
		}
		return false, nil
	})
	if err == nil {
		return nil
	}
	if lastErr == nil {
		lastErr = err
	}
	return fmt.Errorf("cannot reach etcd at %s within %s: %w", strings.Join(servers, ","), timeout, lastErr)
}

// etcdHealthy asks one etcd member whether the cluster can serve requests.
func etcdHealthy(ctx context.Context, client *http.Client, server string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	var health struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &health); err != nil {
		return fmt.Errorf("%s/health answered %s: %q", server, resp.Status, body)
	}
	if health.Health != "true" {
		return fmt.Errorf("%s reports itself unhealthy: %s", server, health.Reason)
	}
	return nil
}
