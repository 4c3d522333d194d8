package imagepuller

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// dockerConfigEntry is one registry's credentials in a Docker config.
type dockerConfigEntry struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// registryAuths returns the credentials of the secrets (of type
// kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg, as for a
// Pod's imagePullSecrets) that apply to image: those whose registry key
// names the image's registry (docker.io for Docker Hub, also spelled
// index.docker.io or https://index.docker.io/v1/), and, when the key has a
// path, whose path the repository starts with. They come in the order of
// the secrets, and within a secret the entry with the longest path first.
// Secrets of other types are ignored; a malformed one is an error naming
// it.
func registryAuths(secrets []*corev1.Secret, image string) ([]*runtimeapi.AuthConfig, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return nil, fmt.Errorf("invalid image %q: %w", image, err)
	}
	domain, path := reference.Domain(named), reference.Path(named)
	var auths []*runtimeapi.AuthConfig
	for _, secret := range secrets {
		var entries map[string]dockerConfigEntry
		switch secret.Type {
		case corev1.SecretTypeDockerConfigJson:
			var config struct {
				Auths map[string]dockerConfigEntry `json:"auths"`
			}
			if err := json.Unmarshal(secret.Data[corev1.DockerConfigJsonKey], &config); err != nil {
				return nil, fmt.Errorf("pull secret %s/%s: %s: %w", secret.Namespace, secret.Name, corev1.DockerConfigJsonKey, err)
			}
			entries = config.Auths
		case corev1.SecretTypeDockercfg:
			if err := json.Unmarshal(secret.Data[corev1.DockerConfigKey], &entries); err != nil {
				return nil, fmt.Errorf("pull secret %s/%s: %s: %w", secret.Namespace, secret.Name, corev1.DockerConfigKey, err)
			}
		default:
			continue
		}
		// The most specific entry first, as the kubelet's keyring tries them
		// (a key with a longer path before its prefixes); then by key, so
		// that the same secrets are tried in the same order every time.
		type match struct {
			key, path string
		}
		var matches []match
		for key := range entries {
			keyDomain, keyPath := splitRegistryKey(key)
			if keyDomain != domain || (keyPath != "" && path != keyPath && !strings.HasPrefix(path, keyPath+"/")) {
				continue
			}
			matches = append(matches, match{key: key, path: keyPath})
		}
		sort.Slice(matches, func(i, j int) bool {
			if len(matches[i].path) != len(matches[j].path) {
				return len(matches[i].path) > len(matches[j].path)
			}
			return matches[i].key < matches[j].key
		})
		for _, m := range matches {
			entry := entries[m.key]
			auth := &runtimeapi.AuthConfig{
				Username: entry.Username, Password: entry.Password, Auth: entry.Auth,
				ServerAddress: domain, IdentityToken: entry.IdentityToken, RegistryToken: entry.RegistryToken,
			}
			// "auth" is base64("user:password"); runtimes accept either form,
			// the split one is unambiguous.
			if auth.Username == "" && auth.Auth != "" {
				if decoded, err := base64.StdEncoding.DecodeString(auth.Auth); err == nil {
					if user, password, ok := strings.Cut(string(decoded), ":"); ok {
						auth.Username, auth.Password, auth.Auth = user, password, ""
					}
				}
			}
			auths = append(auths, auth)
		}
	}
	return auths, nil
}

// splitRegistryKey turns a Docker config key (a host, host/path, or a URL)
// into the registry's domain, as reference names it, and the path.
func splitRegistryKey(key string) (domain, path string) {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	domain, path, _ = strings.Cut(strings.TrimSuffix(key, "/"), "/")
	switch domain {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		// Docker Hub's legacy key is https://index.docker.io/v1/.
		domain = "docker.io"
		if path == "v1" {
			path = ""
		}
	}
	return domain, path
}
