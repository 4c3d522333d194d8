package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/embeddedetcd"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// protobufPrefix starts every object Kubernetes stores in protobuf (the
// runtime.Unknown envelope's magic number).
var protobufPrefix = []byte("k8s\x00")

// etcdKey is where the server keeps an object: the etcd prefix, then
// group/resource (SimpleStorageFactory), then namespace and name.
func etcdKey(k kind, name string) string {
	key := "/registry/kruise.io/" + k.group + "/" + k.resource + "/"
	if k.namespaced {
		key += testNamespace + "/"
	}
	return key + name
}

func etcdValue(t *testing.T, c *clientv3.Client, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, key)
	if err != nil {
		t.Fatalf("etcd get %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("etcd has no %s", key)
	}
	return resp.Kvs[0].Value
}

func encodingOf(value []byte) string {
	switch {
	case bytes.HasPrefix(value, protobufPrefix):
		return "protobuf"
	case bytes.HasPrefix(value, []byte("{")):
		return "JSON"
	}
	return "unknown"
}

// TestStorageIsProtobufAndJSONStillReads checks the storage encoding on an
// etcd shared by successive servers: one run with
// --storage-media-type=application/json (the encoding of earlier versions)
// stores JSON; JSON written straight into etcd (as an earlier version wrote
// it) is also there; a server with the default encoding stores new objects
// in protobuf, reads, lists and updates the JSON ones, and rewrites them in
// protobuf, also on an update that changes nothing.
func TestStorageIsProtobufAndJSONStillReads(t *testing.T) {
	etcd, err := embeddedetcd.Start(context.Background(), embeddedetcd.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// After the servers (cleanups run last-registered first).
	t.Cleanup(etcd.Stop)
	files := etcd.ClientTLS()
	tlsConfig, err := transport.TLSInfo{CertFile: files.CertFile, KeyFile: files.KeyFile, TrustedCAFile: files.CAFile}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), TLS: tlsConfig, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.Close() })
	etcdFlags := []string{"--etcd-servers", etcd.ClientURL(),
		"--etcd-cafile", files.CAFile, "--etcd-certfile", files.CertFile, "--etcd-keyfile", files.KeyFile}
	ctx := context.Background()

	// An earlier version: JSON in etcd.
	old := framework.Start(t, "", append(etcdFlags, "--storage-media-type=application/json")...)
	for _, k := range kinds {
		if _, err := resourceClient(old.Dynamic(t), k, "v1beta1").Create(ctx, k.object(t, "v1beta1", "json-stored"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		if got := encodingOf(etcdValue(t, kv, etcdKey(k, "json-stored"))); got != "JSON" {
			t.Fatalf("%s stored with --storage-media-type=application/json is %s", k.name, got)
		}
	}
	old.Stop(t)

	// JSON bytes put straight at the key, as an earlier version stored them.
	for _, k := range kinds {
		obj := k.object(t, "v1beta1", "raw-json")
		if k.namespaced {
			obj.SetNamespace(testNamespace)
		}
		obj.SetUID(uuid.NewUUID())
		obj.SetGeneration(1)
		obj.SetCreationTimestamp(metav1.Now())
		raw, err := json.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, etcdKey(k, "raw-json"), string(raw)+"\n"); err != nil {
			t.Fatal(err)
		}
	}

	s := framework.Start(t, "", etcdFlags...)
	c := s.Dynamic(t)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for _, version := range versions {
				client := resourceClient(c, k, version)
				name := "pb-" + version
				if _, err := client.Create(ctx, k.object(t, version, name), metav1.CreateOptions{}); err != nil {
					t.Fatalf("create at %s: %v", version, err)
				}
				if got := encodingOf(etcdValue(t, kv, etcdKey(k, name))); got != "protobuf" {
					t.Fatalf("created at %s, stored as %s", version, got)
				}
			}

			for _, name := range []string{"json-stored", "raw-json"} {
				before := etcdValue(t, kv, etcdKey(k, name))
				if encodingOf(before) != "JSON" {
					t.Fatalf("%s is not JSON in etcd to begin with", name)
				}
				var stored unstructured.Unstructured
				if err := json.Unmarshal(before, &stored.Object); err != nil {
					t.Fatal(err)
				}
				for _, version := range versions {
					got, err := resourceClient(c, k, version).Get(ctx, name, metav1.GetOptions{})
					if err != nil {
						t.Fatalf("get %s (JSON in etcd) at %s: %v", name, version, err)
					}
					if got.GetUID() != stored.GetUID() || got.GetAPIVersion() != k.group+"/"+version {
						t.Fatalf("get %s at %s: uid %s, apiVersion %s", name, version, got.GetUID(), got.GetAPIVersion())
					}
				}
				list, err := resourceClient(c, k, "v1beta1").List(ctx, metav1.ListOptions{})
				if err != nil || !containsName(list, name) {
					t.Fatalf("list lacks %s (JSON in etcd): %v", name, err)
				}

				client := resourceClient(c, k, "v1beta1")
				obj, err := client.Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				wantSpec, _, _ := unstructured.NestedMap(obj.Object, "spec")
				// An update that changes nothing is written too: only the
				// encoding differs (how objects are migrated, either way).
				wantLabel := ""
				if name == "json-stored" {
					wantLabel = "yes"
					obj.SetLabels(map[string]string{"rewritten": wantLabel})
				}
				if _, err := client.Update(ctx, obj, metav1.UpdateOptions{}); err != nil {
					t.Fatalf("update %s (JSON in etcd): %v", name, err)
				}
				after := etcdValue(t, kv, etcdKey(k, name))
				if encodingOf(after) != "protobuf" {
					t.Fatalf("%s rewritten as %s (%q...)", name, encodingOf(after), after[:min(len(after), 16)])
				}
				reread, err := client.Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				spec, _, _ := unstructured.NestedMap(reread.Object, "spec")
				if reread.GetLabels()["rewritten"] != wantLabel || reread.GetUID() != stored.GetUID() || !equalJSON(spec, wantSpec) {
					t.Fatalf("%s after its rewrite in protobuf: labels %v, uid %s, spec %v (want %v)",
						name, reread.GetLabels(), reread.GetUID(), spec, wantSpec)
				}
			}
		})
	}
}

func equalJSON(a, b interface{}) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
