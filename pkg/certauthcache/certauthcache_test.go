package certauthcache

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/authentication/user"
	clocktesting "k8s.io/utils/clock/testing"
)

// countingAuthenticator plays the front-proxy authenticator: it takes the
// user from X-Remote-User (anonymous without one), strips the headers as
// the real one does, and counts its calls.
type countingAuthenticator struct {
	calls int
	err   error
}

func (c *countingAuthenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	c.calls++
	if c.err != nil {
		return nil, false, c.err
	}
	name := req.Header.Get("X-Remote-User")
	if name == "" {
		name = user.Anonymous
	}
	groups := req.Header.Values("X-Remote-Group")
	req.Header.Del("X-Remote-User")
	req.Header.Del("X-Remote-Group")
	return &authenticator.Response{User: &user.DefaultInfo{Name: name, Groups: groups}}, true, nil
}

var frontProxyHeaders = &authenticatorfactory.RequestHeaderConfig{
	UsernameHeaders:     headerrequest.StaticStringSlice{"X-Remote-User"},
	UIDHeaders:          headerrequest.StaticStringSlice{"X-Remote-Uid"},
	GroupHeaders:        headerrequest.StaticStringSlice{"X-Remote-Group"},
	ExtraHeaderPrefixes: headerrequest.StaticStringSlice{"X-Remote-Extra-"},
}

func certificate(t *testing.T, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notAfter.Add(-time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func request(cert *x509.Certificate, headers map[string][]string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/apis/apps.kruise.io/v1beta1/clonesets", nil)
	if cert != nil {
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	}
	for name, values := range headers {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	return req
}

func authenticate(t *testing.T, a *Authenticator, req *http.Request) string {
	t.Helper()
	resp, ok, err := a.AuthenticateRequest(req)
	if err != nil || !ok {
		t.Fatalf("AuthenticateRequest: ok=%v err=%v", ok, err)
	}
	return resp.User.GetName()
}

func TestSameCertificateAndHeadersAreVerifiedOnce(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	delegate := &countingAuthenticator{}
	a := newWithClock(delegate, frontProxyHeaders, DefaultTTL, clk)
	cert := certificate(t, "front-proxy-client", clk.Now().Add(24*time.Hour))

	for i := 0; i < 3; i++ {
		req := request(cert, map[string][]string{"X-Remote-User": {"alice"}, "X-Remote-Group": {"dev"}})
		if got := authenticate(t, a, req); got != "alice" {
			t.Fatalf("user = %q, want alice", got)
		}
		if req.Header.Get("X-Remote-User") != "" || req.Header.Get("X-Remote-Group") != "" {
			t.Fatalf("request %d still has the front-proxy headers: %v", i, req.Header)
		}
	}
	if delegate.calls != 1 {
		t.Fatalf("delegate called %d times, want 1", delegate.calls)
	}
}

func TestKeyCoversEveryFrontProxyHeaderAndTheCertificate(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	delegate := &countingAuthenticator{}
	a := newWithClock(delegate, frontProxyHeaders, DefaultTTL, clk)
	cert := certificate(t, "front-proxy-client", clk.Now().Add(24*time.Hour))
	other := certificate(t, "front-proxy-client", clk.Now().Add(24*time.Hour))

	requests := []*http.Request{
		request(cert, map[string][]string{"X-Remote-User": {"alice"}}),
		request(cert, map[string][]string{"X-Remote-User": {"bob"}}),
		request(cert, map[string][]string{"X-Remote-User": {"alice"}, "X-Remote-Group": {"admins"}}),
		request(cert, map[string][]string{"X-Remote-User": {"alice"}, "X-Remote-Group": {"admins", "dev"}}),
		request(cert, map[string][]string{"X-Remote-User": {"alice"}, "X-Remote-Uid": {"1"}}),
		request(cert, map[string][]string{"X-Remote-User": {"alice"}, "X-Remote-Extra-Scopes": {"a"}}),
		request(cert, map[string][]string{"X-Remote-User": {"alice"}, "X-Remote-Extra-Scopes": {"b"}}),
		request(other, map[string][]string{"X-Remote-User": {"alice"}}),
	}
	for _, req := range requests {
		authenticate(t, a, req)
	}
	if delegate.calls != len(requests) {
		t.Fatalf("delegate called %d times for %d distinct requests: a cache key misses a header or the certificate", delegate.calls, len(requests))
	}
	if got := authenticate(t, a, request(cert, map[string][]string{"X-Remote-User": {"bob"}})); got != "bob" {
		t.Fatalf("cached user = %q, want bob", got)
	}
}

func TestEntriesExpire(t *testing.T) {
	start := time.Now()
	clk := clocktesting.NewFakePassiveClock(start)
	delegate := &countingAuthenticator{}
	a := newWithClock(delegate, frontProxyHeaders, DefaultTTL, clk)
	longLived := certificate(t, "long", start.Add(24*time.Hour))
	expiring := certificate(t, "expiring", start.Add(2*time.Second))
	headers := map[string][]string{"X-Remote-User": {"alice"}}

	authenticate(t, a, request(longLived, headers))
	authenticate(t, a, request(expiring, headers))
	clk.SetTime(start.Add(3 * time.Second))
	authenticate(t, a, request(longLived, headers))
	if delegate.calls != 2 {
		t.Fatalf("delegate called %d times, want 2 (long-lived certificate cached for the TTL)", delegate.calls)
	}
	// The certificate has expired: the answer must not outlive it.
	authenticate(t, a, request(expiring, headers))
	if delegate.calls != 3 {
		t.Fatalf("delegate called %d times, want 3: an answer outlived its certificate", delegate.calls)
	}
	clk.SetTime(start.Add(DefaultTTL + time.Second))
	authenticate(t, a, request(longLived, headers))
	if delegate.calls != 4 {
		t.Fatalf("delegate called %d times, want 4: an answer outlived the TTL", delegate.calls)
	}
}

func TestWhatIsNeverCached(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	cert := certificate(t, "front-proxy-client", clk.Now().Add(24*time.Hour))
	cases := map[string]struct {
		delegate *countingAuthenticator
		req      func() *http.Request
	}{
		"no certificate": {&countingAuthenticator{}, func() *http.Request {
			return request(nil, map[string][]string{"X-Remote-User": {"alice"}})
		}},
		"bearer token": {&countingAuthenticator{}, func() *http.Request {
			return request(cert, map[string][]string{"X-Remote-User": {"alice"}, "Authorization": {"Bearer abc"}})
		}},
		"websocket bearer token": {&countingAuthenticator{}, func() *http.Request {
			return request(cert, map[string][]string{"X-Remote-User": {"alice"}, "Sec-Websocket-Protocol": {"base64url.bearer.authorization.k8s.io.YWJj"}})
		}},
		"anonymous answer": {&countingAuthenticator{}, func() *http.Request {
			return request(cert, nil)
		}},
		"failure": {&countingAuthenticator{err: errors.New("x509: certificate signed by unknown authority")}, func() *http.Request {
			return request(cert, map[string][]string{"X-Remote-User": {"alice"}})
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := newWithClock(tc.delegate, frontProxyHeaders, DefaultTTL, clk)
			for i := 0; i < 2; i++ {
				_, _, _ = a.AuthenticateRequest(tc.req())
			}
			if tc.delegate.calls != 2 {
				t.Fatalf("delegate called %d times, want 2", tc.delegate.calls)
			}
		})
	}
}
