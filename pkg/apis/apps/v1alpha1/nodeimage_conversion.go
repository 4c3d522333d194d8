package v1alpha1

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
)

// nodeImageStash is what the hub's NodeImage holds that v1alpha1 cannot
// express: the mode of pull secrets. It is never served, so it has no
// OpenAPI schema.
// +k8s:openapi-gen=false
type nodeImageStash struct {
	// PullSecretModes maps an image name of spec.images to its pull secrets
	// that have a mode, in the order they appear.
	PullSecretModes map[string][]pullSecretMode `json:"pullSecretModes,omitempty"`
}

// pullSecretMode is the mode of one pull secret. The secret is identified
// by its namespace and name, not by its position: a v1alpha1 client may
// add, remove or reorder pull secrets, and a mode belongs to the secret it
// was written for, or to none if that secret is gone. Namespace and name are
// only looked up, never written back. Occurrence tells apart entries that
// repeat a secret: it counts the earlier entries naming the same one.
// +k8s:openapi-gen=false
type pullSecretMode struct {
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	Occurrence int    `json:"occurrence,omitempty"`
	Mode       string `json:"mode"`
}

func Convert_apps_NodeImage_To_v1alpha1_NodeImage(in *apps.NodeImage, out *NodeImage, s conversion.Scope) error {
	if err := autoConvert_apps_NodeImage_To_v1alpha1_NodeImage(in, out, s); err != nil {
		return err
	}
	var stash nodeImageStash
	for name, image := range in.Spec.Images {
		for i, secret := range image.PullSecrets {
			if secret.Mode == "" {
				continue
			}
			if stash.PullSecretModes == nil {
				stash.PullSecretModes = map[string][]pullSecretMode{}
			}
			stash.PullSecretModes[name] = append(stash.PullSecretModes[name], pullSecretMode{
				Namespace:  secret.Namespace,
				Name:       secret.Name,
				Occurrence: occurrence(image.PullSecrets[:i], secret.Namespace, secret.Name),
				Mode:       secret.Mode,
			})
		}
	}
	return annotationstash.Stash(&out.ObjectMeta, stash)
}

func Convert_v1alpha1_NodeImage_To_apps_NodeImage(in *NodeImage, out *apps.NodeImage, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_NodeImage_To_apps_NodeImage(in, out, s); err != nil {
		return err
	}
	var stash nodeImageStash
	if !annotationstash.Restore(&out.ObjectMeta, &stash) {
		return nil
	}
	for name, modes := range stash.PullSecretModes {
		image, ok := out.Spec.Images[name]
		if !ok {
			continue
		}
		// The generated conversion built out's pull secrets afresh (the
		// two versions' ReferenceObjects differ), so setting a mode here
		// does not write through to in.
		for _, m := range modes {
			for i := range image.PullSecrets {
				secret := &image.PullSecrets[i]
				if secret.Namespace == m.Namespace && secret.Name == m.Name &&
					occurrence(image.PullSecrets[:i], m.Namespace, m.Name) == m.Occurrence {
					secret.Mode = m.Mode
					break
				}
			}
		}
	}
	return nil
}

// Convert_apps_ReferenceObject_To_v1alpha1_ReferenceObject drops the mode,
// which Convert_apps_NodeImage_To_v1alpha1_NodeImage stashes.
func Convert_apps_ReferenceObject_To_v1alpha1_ReferenceObject(in *apps.ReferenceObject, out *ReferenceObject, s conversion.Scope) error {
	return autoConvert_apps_ReferenceObject_To_v1alpha1_ReferenceObject(in, out, s)
}

// occurrence counts the secrets of earlier that name namespace/name.
func occurrence(earlier []apps.ReferenceObject, namespace, name string) int {
	n := 0
	for _, secret := range earlier {
		if secret.Namespace == namespace && secret.Name == name {
			n++
		}
	}
	return n
}
