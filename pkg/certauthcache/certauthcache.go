// Package certauthcache remembers for a few seconds who a request that
// authenticates with a client certificate is, so that the certificate chain
// is not verified again on every request of a connection.
//
// Behind kube-apiserver every request arrives over a long-lived connection
// with the aggregator's front-proxy client certificate and the user in
// X-Remote-* headers. k8s.io/apiserver verifies that chain (and, first, tries
// it against the client CA) on each request: 6–9% of kruise-apiserver's CPU
// in the profiles of docs/performance.md. The result depends only on the
// certificates, those headers, the CA bundles and the time, so it can be
// reused for a short while, as the delegated token authenticator reuses
// TokenReview answers.
package certauthcache

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/http"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/utils/clock"
)

// DefaultTTL bounds how long a rotated or withdrawn CA bundle, or a changed
// list of allowed front-proxy names, can go unnoticed for a certificate
// that was accepted before: the delegated token cache's success TTL.
const DefaultTTL = 10 * time.Second

// maxEntries bounds the memory: one entry per distinct certificate chain and
// front-proxy user in the last TTL.
const maxEntries = 4096

// Authenticator is an authenticator.Request that caches the successful
// answers of the one it wraps for requests carrying client certificates.
type Authenticator struct {
	delegate authenticator.Request
	// headers names the front-proxy headers the delegate reads, and strips
	// from the request once it has read them; nil when there is no front
	// proxy.
	headers *authenticatorfactory.RequestHeaderConfig
	ttl     time.Duration
	clock   clock.PassiveClock
	cache   *cache.LRUExpireCache
}

// New wraps delegate. headers is the front-proxy configuration the delegate
// was built with (AuthenticationInfo.RequestHeaderConfig), or nil.
func New(delegate authenticator.Request, headers *authenticatorfactory.RequestHeaderConfig, ttl time.Duration) *Authenticator {
	return newWithClock(delegate, headers, ttl, clock.RealClock{})
}

func newWithClock(delegate authenticator.Request, headers *authenticatorfactory.RequestHeaderConfig, ttl time.Duration, clk clock.PassiveClock) *Authenticator {
	return &Authenticator{
		delegate: delegate,
		headers:  headers,
		ttl:      ttl,
		clock:    clk,
		cache:    cache.NewLRUExpireCacheWithClock(maxEntries, clk),
	}
}

// AuthenticateRequest answers from the cache when it can, from the delegate
// otherwise.
func (a *Authenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	if !cacheable(req) {
		return a.delegate.AuthenticateRequest(req)
	}
	key := a.key(req)
	if cached, ok := a.cache.Get(key); ok {
		// The delegate strips the front-proxy headers once it has taken
		// the user from them, so that nothing after authentication reads
		// them; so does a hit.
		a.clearHeaders(req.Header)
		resp := *cached.(*authenticator.Response)
		return &resp, true, nil
	}
	resp, ok, err := a.delegate.AuthenticateRequest(req)
	if err != nil || !ok || resp == nil || resp.User == nil {
		return resp, ok, err
	}
	// An anonymous answer may depend on the path (anonymous authentication
	// conditions), which is not in the key.
	if resp.User.GetName() == user.Anonymous {
		return resp, ok, err
	}
	ttl := a.ttl
	now := a.clock.Now()
	for _, cert := range req.TLS.PeerCertificates {
		ttl = min(ttl, cert.NotAfter.Sub(now))
	}
	if ttl > 0 {
		stored := *resp
		a.cache.Add(key, &stored, ttl)
	}
	return resp, ok, err
}

// cacheable says whether the answer depends only on the client
// certificates and front-proxy headers: a bearer token (in Authorization or
// a WebSocket protocol) is left to the delegate and its own cache.
func cacheable(req *http.Request) bool {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return false
	}
	if req.Header.Get("Authorization") != "" {
		return false
	}
	for _, protocol := range req.Header.Values("Sec-WebSocket-Protocol") {
		if strings.Contains(strings.ToLower(protocol), "bearer.authorization.k8s.io") {
			return false
		}
	}
	return true
}

type cacheKey [sha256.Size]byte

// key digests the presented certificate chain and every front-proxy header
// the delegate may read.
func (a *Authenticator) key(req *http.Request) cacheKey {
	h := sha256.New()
	for _, cert := range req.TLS.PeerCertificates {
		writeField(h, cert.Raw)
	}
	writeField(h, nil) // end of the chain
	if a.headers != nil {
		for _, names := range []headerrequest.StringSliceProvider{a.headers.UsernameHeaders, a.headers.UIDHeaders, a.headers.GroupHeaders} {
			if names == nil {
				continue
			}
			for _, name := range names.Value() {
				writeField(h, []byte(name))
				for _, value := range req.Header.Values(name) {
					writeField(h, []byte(value))
				}
				writeField(h, nil)
			}
		}
		if a.headers.ExtraHeaderPrefixes != nil {
			for _, prefix := range a.headers.ExtraHeaderPrefixes.Value() {
				var extra []string
				for name := range req.Header {
					if hasPrefixFold(name, prefix) {
						extra = append(extra, name)
					}
				}
				sort.Strings(extra)
				for _, name := range extra {
					writeField(h, []byte(name))
					for _, value := range req.Header[name] {
						writeField(h, []byte(value))
					}
					writeField(h, nil)
				}
			}
		}
	}
	var key cacheKey
	h.Sum(key[:0])
	return key
}

// writeField writes b with its length, so that no two sequences of fields
// digest alike.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

func (a *Authenticator) clearHeaders(header http.Header) {
	if a.headers == nil {
		return
	}
	headerrequest.ClearAuthenticationHeaders(header, orEmpty(a.headers.UsernameHeaders), orEmpty(a.headers.UIDHeaders),
		orEmpty(a.headers.GroupHeaders), orEmpty(a.headers.ExtraHeaderPrefixes))
}

func orEmpty(p headerrequest.StringSliceProvider) headerrequest.StringSliceProvider {
	if p == nil {
		return headerrequest.StaticStringSlice(nil)
	}
	return p
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
