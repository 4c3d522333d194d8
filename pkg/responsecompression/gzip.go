// Package responsecompression gzips large GET and LIST answers with
// github.com/klauspost/compress instead of compress/gzip.
//
// k8s.io/apiserver compresses any answer over 128 KB for clients that
// accept gzip (client-go and kubectl do), with compress/gzip at level 1:
// a quarter of kruise-apiserver's CPU for a LIST of 10,000 CloneSets
// (docs/performance.md). klauspost/compress writes the same format at the
// same level about twice as fast. The answers stay what clients expect —
// gzip over 128 KB, plain below, nothing else changes — and the
// APIResponseCompression feature gate still turns compression off.
package responsecompression

import (
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"

	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/endpoints/responsewriter"
	"k8s.io/apiserver/pkg/features"
)

// Threshold is the size above which an answer is compressed, as in
// k8s.io/apiserver.
const Threshold = 128 * 1024

// level is k8s.io/apiserver's: the least CPU for a ratio close to the
// best (kubernetes/kubernetes#112296).
const level = 1

var writers = sync.Pool{New: func() any {
	w, err := gzip.NewWriterLevel(nil, level)
	if err != nil {
		panic(err)
	}
	return w
}}

// WithGzip compresses the GET and LIST answers of handler itself, taking
// that job from k8s.io/apiserver's response writers: it hides the request's
// Accept-Encoding from them. Other requests (watches above all, whose
// events must not wait in a buffer) pass through untouched.
func WithGzip(handler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !compressible(req) {
			handler.ServeHTTP(w, req)
			return
		}
		req = req.Clone(req.Context())
		req.Header.Del("Accept-Encoding")
		cw := &compressingWriter{inner: w, status: http.StatusOK}
		handler.ServeHTTP(responsewriter.WrapForHTTP1Or2(cw), req)
		// Not deferred: after a panic, what is held back is dropped and the
		// panic's handler answers, as with k8s.io/apiserver's writers.
		cw.close()
	})
}

func compressible(req *http.Request) bool {
	info, ok := request.RequestInfoFrom(req.Context())
	if !ok || !info.IsResourceRequest || (info.Verb != "get" && info.Verb != "list") {
		return false
	}
	return responsewriters.ContentEncodingSupported(req, features.APIResponseCompression) == "gzip"
}

// compressingWriter holds back the status and the first bytes of an answer
// until it knows whether the answer is over Threshold.
type compressingWriter struct {
	inner  http.ResponseWriter
	status int
	// statusSet: the handler called WriteHeader.
	statusSet bool
	// buffer holds what was written before the decision.
	buffer  []byte
	decided bool
	// gzip is nil when the answer goes out plain.
	gzip *gzip.Writer
}

var _ responsewriter.UserProvidedDecorator = &compressingWriter{}

func (w *compressingWriter) Unwrap() http.ResponseWriter { return w.inner }

func (w *compressingWriter) Header() http.Header { return w.inner.Header() }

func (w *compressingWriter) WriteHeader(status int) {
	if !w.decided {
		w.status, w.statusSet = status, true
		return
	}
	w.inner.WriteHeader(status)
}

func (w *compressingWriter) Write(p []byte) (int, error) {
	if w.decided {
		return w.write(p)
	}
	w.buffer = append(w.buffer, p...)
	if len(w.buffer) <= Threshold {
		return len(p), nil
	}
	if err := w.decide(true); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush sends what is held back, deciding on what was written so far.
func (w *compressingWriter) Flush() {
	if !w.decided {
		_ = w.decide(len(w.buffer) > Threshold)
	}
	if w.gzip != nil {
		_ = w.gzip.Flush()
	}
	if f, ok := w.inner.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *compressingWriter) decide(compress bool) error {
	w.decided = true
	header := w.inner.Header()
	// An answer already encoded (by anything but k8s.io/apiserver's writers,
	// which no longer see the Accept-Encoding) goes out as it is.
	if compress && header.Get("Content-Encoding") == "" {
		header.Set("Content-Encoding", "gzip")
		header.Add("Vary", "Accept-Encoding")
		header.Del("Content-Length")
		w.gzip = writers.Get().(*gzip.Writer)
		w.gzip.Reset(w.inner)
	}
	w.inner.WriteHeader(w.status)
	buffered := w.buffer
	w.buffer = nil
	_, err := w.write(buffered)
	return err
}

func (w *compressingWriter) write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.gzip != nil {
		return w.gzip.Write(p)
	}
	return w.inner.Write(p)
}

// close sends what is still held back and ends the gzip stream.
func (w *compressingWriter) close() {
	if !w.decided {
		if len(w.buffer) == 0 && !w.statusSet {
			// Nothing was written: net/http answers 200 with no body.
			return
		}
		_ = w.decide(false)
	}
	if w.gzip != nil {
		_ = w.gzip.Close()
		w.gzip.Reset(nil)
		writers.Put(w.gzip)
		w.gzip = nil
	}
}
