package integration

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// TestLargeAnswersAreGzipped: a LIST over 128 KB comes gzipped to a client
// that accepts gzip (pkg/responsecompression), decodes to every object, and
// a small GET comes plain, as from kube-apiserver.
func TestLargeAnswersAreGzipped(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	clonesets := s.Clientset(t).AppsV1beta1().CloneSets("gzip")
	const objects = 200 // about 1.2 KB each in JSON: 240 KB
	for i := 0; i < objects; i++ {
		if _, err := clonesets.Create(ctx, cacheCloneSet(fmt.Sprintf("cs-%03d", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	client, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.Config.Host+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Set by hand, so that net/http hands over the body as it came.
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body := io.Reader(resp.Body)
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
		}
		return resp, data
	}

	resp, data := get("/apis/apps.kruise.io/v1beta1/namespaces/gzip/clonesets")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("LIST of %d KB: Content-Encoding %q, want gzip", len(data)/1024, resp.Header.Get("Content-Encoding"))
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("LIST body: %v", err)
	}
	if len(list.Items) != objects {
		t.Errorf("LIST has %d items, want %d", len(list.Items), objects)
	}

	resp, data = get("/apis/apps.kruise.io/v1beta1/namespaces/gzip/clonesets/cs-000")
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("GET of %d bytes: Content-Encoding %q, want none", len(data), resp.Header.Get("Content-Encoding"))
	}
}
