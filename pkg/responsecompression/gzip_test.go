package responsecompression

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	featuregatetesting "k8s.io/component-base/featuregate/testing"
)

// serve runs handler behind WithGzip for a request of verb with
// Accept-Encoding acceptEncoding, as a client would see it.
func serve(t *testing.T, verb, acceptEncoding string, handler http.HandlerFunc) (*http.Response, []byte, string) {
	t.Helper()
	var seenAcceptEncoding string
	inner := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		seenAcceptEncoding = req.Header.Get("Accept-Encoding")
		handler(w, req)
	})
	req := httptest.NewRequest(http.MethodGet, "/apis/apps.kruise.io/v1beta1/clonesets", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	req = req.WithContext(request.WithRequestInfo(req.Context(), &request.RequestInfo{
		IsResourceRequest: true, Verb: verb, APIGroup: "apps.kruise.io", APIVersion: "v1beta1", Resource: "clonesets",
	}))
	recorder := httptest.NewRecorder()
	WithGzip(inner).ServeHTTP(recorder, req)
	resp := recorder.Result()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		r, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		if body, err = io.ReadAll(r); err != nil {
			t.Fatalf("bad gzip stream: %v", err)
		}
	}
	return resp, body, seenAcceptEncoding
}

// writeInPieces answers status and body the way a streaming list encoder
// does: a tiny first write, then the rest in chunks.
func writeInPieces(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body[:1])
		for rest := body[1:]; len(rest) > 0; {
			n := min(len(rest), 10000)
			w.Write(rest[:n])
			rest = rest[n:]
		}
	}
}

func bigBody() []byte {
	return []byte(strings.Repeat(`{"kind":"CloneSet","spec":{"replicas":3}},`, 2*Threshold/40))
}

func TestLargeListIsGzipped(t *testing.T) {
	body := bigBody()
	resp, got, seen := serve(t, "list", "gzip, deflate", writeInPieces(http.StatusOK, body))
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers %v, want gzip with Vary", resp.Header)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("body changed: %d bytes, want %d", len(got), len(body))
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if seen != "" {
		t.Errorf("the handler saw Accept-Encoding %q: k8s.io/apiserver would compress too", seen)
	}
}

func TestLargeGetInOneWriteIsGzipped(t *testing.T) {
	body := bigBody()
	resp, got, _ := serve(t, "get", "gzip", func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })
	if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(got, body) {
		t.Fatalf("Content-Encoding %q, %d bytes: want gzip of %d", resp.Header.Get("Content-Encoding"), len(got), len(body))
	}
}

func TestSmallAnswerIsPlain(t *testing.T) {
	body := []byte(`{"kind":"CloneSet"}`)
	resp, got, _ := serve(t, "get", "gzip", writeInPieces(http.StatusNotFound, body))
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(got, body) || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("Content-Encoding %q, status %d, body %q", resp.Header.Get("Content-Encoding"), resp.StatusCode, got)
	}
}

func TestExactlyThresholdIsPlain(t *testing.T) {
	body := bytes.Repeat([]byte("x"), Threshold)
	resp, got, _ := serve(t, "list", "gzip", writeInPieces(http.StatusOK, body))
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(got, body) {
		t.Fatalf("Content-Encoding %q for %d bytes", resp.Header.Get("Content-Encoding"), len(got))
	}
}

func TestStatusWithoutBody(t *testing.T) {
	resp, got, _ := serve(t, "get", "gzip", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if resp.StatusCode != http.StatusNoContent || len(got) != 0 || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("status %d, %d bytes, Content-Encoding %q", resp.StatusCode, len(got), resp.Header.Get("Content-Encoding"))
	}
}

func TestNotCompressed(t *testing.T) {
	body := bigBody()
	for name, c := range map[string]struct{ verb, acceptEncoding string }{
		"client does not accept gzip": {"list", ""},
		"client accepts only deflate": {"list", "deflate"},
		"watch":                       {"watch", "gzip"},
		"create":                      {"create", "gzip"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, got, seen := serve(t, c.verb, c.acceptEncoding, writeInPieces(http.StatusOK, body))
			if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(got, body) {
				t.Errorf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
			}
			if seen != c.acceptEncoding {
				t.Errorf("the handler saw Accept-Encoding %q, want it untouched (%q)", seen, c.acceptEncoding)
			}
		})
	}
}

func TestFeatureGateTurnsCompressionOff(t *testing.T) {
	featuregatetesting.SetFeatureGateDuringTest(t, utilfeature.DefaultFeatureGate, features.APIResponseCompression, false)
	resp, _, _ := serve(t, "list", "gzip", writeInPieces(http.StatusOK, bigBody()))
	if resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q with APIResponseCompression off", resp.Header.Get("Content-Encoding"))
	}
}

func TestAlreadyEncodedAnswerIsLeftAlone(t *testing.T) {
	body := bigBody()
	resp, got, _ := serve(t, "get", "gzip", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "identity")
		w.Write(body)
	})
	if resp.Header.Get("Content-Encoding") != "identity" || !bytes.Equal(got, body) {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}

func TestFlushSendsWhatIsHeldBack(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/apis/apps.kruise.io/v1beta1/clonesets", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req = req.WithContext(request.WithRequestInfo(req.Context(), &request.RequestInfo{IsResourceRequest: true, Verb: "list"}))
	recorder := httptest.NewRecorder()
	WithGzip(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		if got := recorder.Body.String(); got != "first" {
			t.Errorf("after Flush the client has %q, want %q", got, "first")
		}
		w.Write([]byte(" second"))
	})).ServeHTTP(recorder, req)
	if got := recorder.Body.String(); got != "first second" {
		t.Fatalf("body %q", got)
	}
}
