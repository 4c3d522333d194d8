package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
)

// The legacy annotations kruise.io/pub-protect-operations and
// pub.kruise.io/protect-total-replicas are not converted: OpenKruise turns
// them into spec.protectOperations / spec.protectTotalReplicas and back,
// which cannot be lossless (an annotation such as "DELETE, EVICT" has no
// exact field form, and a client that set both would see one overwrite the
// other). They stay annotations at every version, and the controller honours
// them when the fields are unset.

// podUnavailableBudgetStash is what the hub's PodUnavailableBudget holds
// that v1alpha1 cannot express: the three spec fields v1beta1 added.
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type podUnavailableBudgetStash struct {
	ProtectOperations    []policy.PubOperation `json:"protectOperations,omitempty"`
	ProtectTotalReplicas *int32                `json:"protectTotalReplicas,omitempty"`
	IgnoredPodSelector   *metav1.LabelSelector `json:"ignoredPodSelector,omitempty"`
}

func Convert_v1alpha1_PodUnavailableBudget_To_policy_PodUnavailableBudget(in *PodUnavailableBudget, out *policy.PodUnavailableBudget, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_PodUnavailableBudget_To_policy_PodUnavailableBudget(in, out, s); err != nil {
		return err
	}
	var stash podUnavailableBudgetStash
	if !annotationstash.Restore(&out.ObjectMeta, &stash) {
		return nil
	}
	out.Spec.ProtectOperations = stash.ProtectOperations
	out.Spec.ProtectTotalReplicas = stash.ProtectTotalReplicas
	out.Spec.IgnoredPodSelector = stash.IgnoredPodSelector
	return nil
}

func Convert_policy_PodUnavailableBudget_To_v1alpha1_PodUnavailableBudget(in *policy.PodUnavailableBudget, out *PodUnavailableBudget, s conversion.Scope) error {
	if err := autoConvert_policy_PodUnavailableBudget_To_v1alpha1_PodUnavailableBudget(in, out, s); err != nil {
		return err
	}
	return annotationstash.Stash(&out.ObjectMeta, podUnavailableBudgetStash{
		ProtectOperations:    in.Spec.ProtectOperations,
		ProtectTotalReplicas: in.Spec.ProtectTotalReplicas,
		IgnoredPodSelector:   in.Spec.IgnoredPodSelector,
	})
}

// The spec's extra fields are carried by the object-level conversions
// above, which own the annotations they are stashed in.
func Convert_policy_PodUnavailableBudgetSpec_To_v1alpha1_PodUnavailableBudgetSpec(in *policy.PodUnavailableBudgetSpec, out *PodUnavailableBudgetSpec, s conversion.Scope) error {
	return autoConvert_policy_PodUnavailableBudgetSpec_To_v1alpha1_PodUnavailableBudgetSpec(in, out, s)
}
