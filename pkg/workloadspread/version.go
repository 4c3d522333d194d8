// Package workloadspread holds the WorkloadSpread allocation rules as plain
// functions on the API objects: which version a Pod and a workload are
// counted under, how many Pods a subset may take, which subset a new Pod
// goes to, how a Pod placed in a subset is patched, what the status says
// once the Pods are counted, and which Pods scale-in should remove first.
// The Pod admission webhook and the WorkloadSpread controller share them;
// neither reaches the other, they meet only in the WorkloadSpread status.
//
// It follows OpenKruise's WorkloadSpread (pkg/util/workloadspread,
// pkg/controller/workloadspread) in behaviour, including the fix of v1.6
// (PR #1197): Pods are counted per version of the workload's Pod template,
// so that during a rolling update with maxSurge the new Pods are spread by
// the subsets' caps on their own instead of filling whatever room the old
// Pods happen to leave.
package workloadspread

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
)

// VersionIgnored is the version every Pod is counted under when its
// workload's kind does not count by version: all its Pods share one set of
// subset statuses (OpenKruise's "versionIgnored").
const VersionIgnored = "versionIgnored"

// DefaultVersionedKinds are the workload kinds that count by version unless
// --ws-enabled-versioned-status says otherwise, as in OpenKruise.
var DefaultVersionedKinds = []string{"deployment", "replicaset"}

// Versioning says which workload kinds have their Pods counted per version.
// The zero value counts no kind by version.
type Versioning struct {
	kinds sets.Set[string]
}

// NewVersioning returns the versioning for the given kinds, case-insensitive.
// "deployment" implies "replicaset", since a Deployment's Pods are owned by
// its ReplicaSets.
func NewVersioning(kinds []string) Versioning {
	v := Versioning{kinds: sets.New[string]()}
	for _, kind := range kinds {
		if kind = strings.ToLower(strings.TrimSpace(kind)); kind != "" {
			v.kinds.Insert(kind)
		}
	}
	if v.kinds.Has("deployment") {
		v.kinds.Insert("replicaset")
	}
	return v
}

// Enabled says whether Pods of a workload of this kind count by version.
func (v Versioning) Enabled(kind string) bool {
	return v.kinds.Has(strings.ToLower(kind))
}

// Kinds returns the kinds that count by version, sorted.
func (v Versioning) Kinds() []string {
	return sets.List(v.kinds)
}

// PodVersion is the version a Pod is counted under: its pod-template-hash
// label (set by the ReplicaSet, CloneSet and Advanced StatefulSet
// controllers), else the short hash of its controller-revision-hash label,
// else VersionIgnored. Pods whose controller's kind does not count by
// version are all VersionIgnored.
func (v Versioning) PodVersion(pod *corev1.Pod) string {
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil || !v.Enabled(owner.Kind) {
		return VersionIgnored
	}
	if version, ok := pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		return version
	}
	if revision, ok := pod.Labels[appsv1.ControllerRevisionHashLabelKey]; ok {
		return ShortHash(revision)
	}
	return VersionIgnored
}

// ShortHash is the hash part of a ControllerRevision name ("name-hash"),
// what Kruise's workloads put in their Pods' pod-template-hash label.
func ShortHash(revision string) string {
	return revision[strings.LastIndex(revision, "-")+1:]
}

// ReplicaSetVersion is the version of a ReplicaSet's Pods: its
// pod-template-hash label.
func (v Versioning) ReplicaSetVersion(rs *appsv1.ReplicaSet) string {
	if !v.Enabled("ReplicaSet") {
		return VersionIgnored
	}
	return rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
}

// DeploymentVersion is the version of a Deployment's current Pods: that of
// its ReplicaSet (one of replicaSets, the ReplicaSets it controls) whose
// template equals its own, pod-template-hash aside. An error means the
// Deployment controller has not created that ReplicaSet yet.
func (v Versioning) DeploymentVersion(d *appsv1.Deployment, replicaSets []*appsv1.ReplicaSet) (string, error) {
	if !v.Enabled("Deployment") {
		return VersionIgnored, nil
	}
	for _, rs := range replicaSets {
		owner := metav1.GetControllerOfNoCopy(rs)
		if owner == nil || owner.UID != d.UID || rs.DeletionTimestamp != nil {
			continue
		}
		if equalIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			return rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey], nil
		}
	}
	return "", fmt.Errorf("deployment %s/%s has no ReplicaSet of its current template yet", d.Namespace, d.Name)
}

// equalIgnoreHash compares two Pod templates leaving out the
// pod-template-hash label the Deployment controller adds to its
// ReplicaSets' templates.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return apiequality.Semantic.DeepEqual(a, b)
}

// CloneSetVersion is the version of a CloneSet's current Pods: the short
// hash of status.updateRevision. An error means the controller has not
// observed the CloneSet's latest spec yet.
func (v Versioning) CloneSetVersion(cs *appsv1beta1.CloneSet) (string, error) {
	if !v.Enabled("CloneSet") {
		return VersionIgnored, nil
	}
	if cs.Generation > cs.Status.ObservedGeneration || cs.Status.UpdateRevision == "" {
		return "", fmt.Errorf("cloneset %s/%s: latest revision not observed yet", cs.Namespace, cs.Name)
	}
	return ShortHash(cs.Status.UpdateRevision), nil
}

// StatefulSetVersion is the version of an Advanced StatefulSet's current
// Pods, chosen like the CloneSet's: the short hash of
// status.updateRevision, as PodVersion reads it from the revision name its
// Pods carry in controller-revision-hash. OpenKruise has no rule here: it
// places StatefulSet Pods by ordinal, not by counting, so the version only
// groups the status and the deletion costs.
func (v Versioning) StatefulSetVersion(sts *appsv1beta1.StatefulSet) (string, error) {
	if !v.Enabled("StatefulSet") {
		return VersionIgnored, nil
	}
	if sts.Generation > sts.Status.ObservedGeneration || sts.Status.UpdateRevision == "" {
		return "", fmt.Errorf("statefulset %s/%s: latest revision not observed yet", sts.Namespace, sts.Name)
	}
	return ShortHash(sts.Status.UpdateRevision), nil
}
