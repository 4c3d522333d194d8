package validation

import (
	"fmt"
	"regexp"
	"strings"
)

// The grammar of container image references, as kruise-daemon parses them
// (docker/distribution's reference package, v2.8, with its normalisation of
// Docker Hub names). It is written out here rather than imported because the
// module does not otherwise depend on docker/distribution.
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [domain "/"] path-component ["/" path-component]*
//	domain    := domain-component ["." domain-component]* [":" port]
const (
	refDomainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refDomain          = refDomainComponent + `(?:\.` + refDomainComponent + `)*(?::[0-9]+)?`
	refPathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	refName            = `(?:` + refDomain + `/)?` + refPathComponent + `(?:/` + refPathComponent + `)*`
	refTag             = `[\w][\w.-]{0,127}`
	refDigest          = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`

	// maxImageNameLength bounds the name (domain and path, as normalised)
	// of a reference.
	maxImageNameLength = 255

	dockerHubDomain       = "docker.io"
	legacyDockerHubDomain = "index.docker.io"
	officialImagePrefix   = "library/"
)

var (
	imageReferenceRegexp = regexp.MustCompile(`^(` + refName + `)(?::(` + refTag + `))?(?:@(` + refDigest + `))?$`)
	// A bare 64-digit hex string is an image ID, not a name.
	imageIDRegexp  = regexp.MustCompile(`^[a-f0-9]{64}$`)
	lowerHexRegexp = regexp.MustCompile(`^[a-f0-9]+$`)

	// digestHexLengths are the digest algorithms a reference may use, with
	// the length of their hex-encoded value.
	digestHexLengths = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
)

// imageReferenceError says why ref is not an image reference kruise-daemon
// can pull, or returns "" when it is one. The wording follows the parser's
// own errors, which is what OpenKruise's webhook reports.
func imageReferenceError(ref string) string {
	if imageIDRegexp.MatchString(ref) {
		return fmt.Sprintf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", ref)
	}
	domain, remainder := splitImageDomain(ref)
	repository := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		repository = remainder[:i]
	}
	if strings.ToLower(repository) != repository {
		return "invalid reference format: repository name must be lowercase"
	}

	full := domain + "/" + remainder
	match := imageReferenceRegexp.FindStringSubmatch(full)
	if match == nil {
		if lower := strings.ToLower(full); imageReferenceRegexp.MatchString(lower) {
			return "repository name must be lowercase"
		}
		return "invalid reference format"
	}
	if len(match[1]) > maxImageNameLength {
		return fmt.Sprintf("repository name must not be more than %d characters", maxImageNameLength)
	}
	if digest := match[3]; digest != "" {
		algorithm, hex, _ := strings.Cut(digest, ":")
		length, ok := digestHexLengths[algorithm]
		switch {
		case !ok:
			return "unsupported digest algorithm"
		case len(hex) != length:
			return "invalid checksum digest length"
		case !lowerHexRegexp.MatchString(hex):
			return "invalid checksum digest format"
		}
	}
	return ""
}

// splitImageDomain splits a reference into its registry and the rest, the
// way Docker does: the first path element is a registry only if it has a
// dot or a port, is "localhost", or has upper-case letters (which a
// repository path cannot); otherwise the registry is Docker Hub, where
// single-element names live under library/.
func splitImageDomain(ref string) (domain, remainder string) {
	first, rest, found := strings.Cut(ref, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost" && strings.ToLower(first) == first) {
		domain, remainder = dockerHubDomain, ref
	} else {
		domain, remainder = first, rest
	}
	if domain == legacyDockerHubDomain {
		domain = dockerHubDomain
	}
	if domain == dockerHubDomain && !strings.Contains(remainder, "/") {
		remainder = officialImagePrefix + remainder
	}
	return domain, remainder
}
