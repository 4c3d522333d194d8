package localup

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
)

// VariantLabel is the image label of an image PushImage built, holding its
// variant.
const VariantLabel = "io.kruise-apiserver.variant"

// PushImage builds a small image whose only content is the file /variant
// (holding variant; the label VariantLabel says it too) and pushes it to the
// node's registry as ref: a Docker Hub reference ("base:latest",
// "docker.io/library/base:latest"), which the node's containerds pull from
// that registry, or a reference in the registry itself. Pushing another
// variant under the same ref moves the tag to the new image, as a re-push
// to a registry does; each variant has its own digest. It returns the
// manifest digest the registry serves for ref afterwards.
func (c *Cluster) PushImage(ctx context.Context, ref, variant string) (string, error) {
	if c.node == nil {
		return "", fmt.Errorf("PushImage needs the cluster's node (Options.Node)")
	}
	if variant == "" || strings.ContainsAny(variant, "/\\: \n") {
		return "", fmt.Errorf("variant %q: want a non-empty word", variant)
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return "", fmt.Errorf("image %q: push to a tag, not a digest", ref)
	}
	tagged := reference.TagNameOnly(named).(reference.Tagged)
	domain, path := reference.Domain(named), reference.Path(named)
	if domain != "docker.io" && domain != c.Images.Registry {
		return "", fmt.Errorf("image %q: only Docker Hub references (served by the node's registry) and %s/... can be pushed", ref, c.Images.Registry)
	}
	layout := filepath.Join(c.node.state.Dir, "images", "pushed", strings.NewReplacer("/", "-", ":", "-").Replace(path+"-"+tagged.Tag()+"-"+variant))
	spec := imageSpec{
		layers: [][]layerEntry{{{name: "variant", mode: 0o644, data: []byte(variant + "\n")}}},
		labels: map[string]string{VariantLabel: variant},
	}
	if err := writeOCILayout(layout, tagged.Tag(), spec); err != nil {
		return "", err
	}
	if err := c.skopeoPush(ctx, layout+":"+tagged.Tag(), c.Images.Registry+"/"+path+":"+tagged.Tag()); err != nil {
		return "", err
	}
	return c.RegistryDigest(ctx, ref)
}

// RegistryDigest returns the manifest digest the node's registry serves
// for ref (a Docker Hub reference or one in the registry), as a pull
// resolves it.
func (c *Cluster) RegistryDigest(ctx context.Context, ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	tagged := reference.TagNameOnly(named).(reference.Tagged)
	url := "http://" + c.Images.Registry + "/v2/" + reference.Path(named) + "/manifests/" + tagged.Tag()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HEAD %s: %s", url, resp.Status)
	}
	digest := resp.Header.Get("Docker-Content-Digest")
	if digest == "" {
		return "", fmt.Errorf("HEAD %s: no Docker-Content-Digest", url)
	}
	return digest, nil
}
