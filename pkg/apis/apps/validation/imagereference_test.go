package validation

import (
	"strings"
	"testing"
)

func TestImageReferenceError(t *testing.T) {
	digest := "sha256:" + strings.Repeat("a", 64)
	for _, ref := range []string{
		"nginx",
		"nginx:1.25.4",
		"library/nginx:latest",
		"docker.io/library/nginx",
		"index.docker.io/nginx",
		"nvcr.io/nvidia/pytorch:24.01-py3",
		"registry.example.com:5000/team/app:v1",
		"localhost/app",
		"localhost:5000/app:dev",
		"127.0.0.1:5000/app",
		"Registry.Example.com/app",
		"my-registry/app", // Docker Hub user "my-registry"
		"MyRegistry/app",  // upper case: a registry host, not a Hub user
		"a/b/c/d/e",
		"a__b/c.d/e--f",
		"busybox@" + digest,
		"busybox:1.36@" + digest,
		"busybox@sha512:" + strings.Repeat("0", 128),
		"nginx:" + strings.Repeat("t", 128),
	} {
		if reason := imageReferenceError(ref); reason != "" {
			t.Errorf("%q rejected: %s", ref, reason)
		}
	}

	for ref, want := range map[string]string{
		strings.Repeat("a", 64):             "cannot specify 64-byte hexadecimal strings",
		"Nginx":                             "must be lowercase",
		"registry.example.com/Team/app":     "must be lowercase",
		"nginx:":                            "invalid reference format",
		"nginx:-dev":                        "invalid reference format",
		"nginx:" + strings.Repeat("t", 129): "invalid reference format",
		"nginx app":                         "invalid reference format",
		"a//b":                              "invalid reference format",
		"-registry.example.com/app":         "invalid reference format",
		"app_":                              "invalid reference format",
		"registry.example.com:port/app":     "invalid reference format",
		"busybox@sha256:abc":                "invalid reference format",
		"busybox@sha256:" + strings.Repeat("a", 63): "invalid checksum digest length",
		"busybox@sha256:" + strings.Repeat("A", 64): "invalid checksum digest format",
		"busybox@md5:" + strings.Repeat("a", 32):    "unsupported digest algorithm",
		"":                                          "invalid reference format",
	} {
		if got := imageReferenceError(ref); !strings.Contains(got, want) {
			t.Errorf("%q: got %q, want %q", ref, got, want)
		}
	}
}
