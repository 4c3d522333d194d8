package validation

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
)

// csErr is the type and path of one expected CloneSet error. (The helpers of
// these tests carry a cloneset prefix so that they do not clash with other
// kinds' test helpers in this package.)
type csErr struct {
	Type  field.ErrorType
	Field string
}

func (e csErr) String() string { return fmt.Sprintf("%s %s", e.Type, e.Field) }

func csRequired(f string) csErr     { return csErr{field.ErrorTypeRequired, f} }
func csInvalid(f string) csErr      { return csErr{field.ErrorTypeInvalid, f} }
func csForbidden(f string) csErr    { return csErr{field.ErrorTypeForbidden, f} }
func csDuplicate(f string) csErr    { return csErr{field.ErrorTypeDuplicate, f} }
func csNotSupported(f string) csErr { return csErr{field.ErrorTypeNotSupported, f} }
func csNotFound(f string) csErr     { return csErr{field.ErrorTypeNotFound, f} }

// checkCloneSetErrors asserts that errs are exactly want, in any order.
func checkCloneSetErrors(t *testing.T, errs field.ErrorList, want ...csErr) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, csErr{e.Type, e.Field}.String())
	}
	exp := make([]string, 0, len(want))
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		var full strings.Builder
		for _, e := range errs {
			fmt.Fprintf(&full, "  %s\n", e.Error())
		}
		t.Errorf("errors mismatch\n got: %v\nwant: %v\nfull errors:\n%s", got, exp, full.String())
	}
}

// checkCloneSetDetail asserts that the only error says exactly detail, or,
// with contains set, that it contains it.
func checkCloneSetDetail(t *testing.T, errs field.ErrorList, detail string, contains bool) {
	t.Helper()
	if detail == "" {
		return
	}
	if len(errs) != 1 {
		t.Errorf("want one error saying %q, got %v", detail, errs)
		return
	}
	if got := errs[0].Detail; (contains && !strings.Contains(got, detail)) || (!contains && got != detail) {
		t.Errorf("detail %q, want %q", got, detail)
	}
}

const (
	csRolling     = "spec.updateStrategy.rollingUpdate"
	csPriority    = csRolling + ".priorityStrategy"
	csScatter     = csRolling + ".scatterStrategy"
	csInPlace     = csRolling + ".inPlaceUpdateStrategy"
	csContainer0  = "spec.template.spec.containers[0]"
	csClaimSpec0  = "spec.volumeClaimTemplates[0].spec"
	csUpdateMsg   = "updates to cloneset spec for fields other than 'replicas', 'template', 'lifecycle', 'scaleStrategy', 'updateStrategy', 'minReadySeconds', 'progressDeadlineSeconds', 'volumeClaimTemplates' and 'revisionHistoryLimit' are forbidden"
	csBothLessMsg = "maxUnavailable and maxSurge should not both be less than 1"
)

// validCloneSet is a hub CloneSet as it looks after defaulting, using every
// part of the spec that validation looks at.
func validCloneSet() *apps.CloneSet {
	return &apps.CloneSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "sample",
			Namespace:       "default",
			ResourceVersion: "1",
			Labels:          map[string]string{"app": "sample", deletionprotection.LabelKey: deletionprotection.Cascading},
		},
		Spec: apps.CloneSetSpec{
			Replicas: ptr.To[int32](5),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "sample"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "sample", "zone": "a"}},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyAlways,
					DNSPolicy:                     corev1.DNSClusterFirst,
					TerminationGracePeriodSeconds: ptr.To[int64](30),
					Containers: []corev1.Container{{
						Name:                     "nginx",
						Image:                    "nginx:1.25.4",
						ImagePullPolicy:          corev1.PullIfNotPresent,
						TerminationMessagePath:   corev1.TerminationMessagePathDefault,
						TerminationMessagePolicy: corev1.TerminationMessageReadFile,
						Ports:                    []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
					}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
					},
				},
			}},
			ScaleStrategy: apps.CloneSetScaleStrategy{
				PodsToDelete:   []string{"sample-abcde"},
				MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			},
			UpdateStrategy: apps.CloneSetUpdateStrategy{
				Type: apps.RollingUpdateCloneSetUpdateStrategyType,
				RollingUpdate: &apps.RollingUpdateCloneSetStrategy{
					PodUpdatePolicy: apps.InPlaceIfPossibleCloneSetPodUpdateStrategyType,
					Partition:       ptr.To(intstr.FromInt32(0)),
					MaxUnavailable:  ptr.To(intstr.FromString(apps.DefaultCloneSetMaxUnavailable)),
					MaxSurge:        ptr.To(intstr.FromInt32(0)),
					Paused:          false,
					PriorityStrategy: &apps.UpdatePriorityStrategy{
						WeightPriority: []apps.UpdatePriorityWeightTerm{{
							Weight:        50,
							MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"zone": "a"}},
						}},
					},
					ScatterStrategy: apps.UpdateScatterStrategy{{Key: "zone", Value: "a"}},
					InPlaceUpdateStrategy: &apps.InPlaceUpdateStrategy{
						GracePeriodSeconds:                  10,
						ImagePreDownloadParallelism:         ptr.To(intstr.FromInt32(1)),
						ImagePreDownloadTimeoutSeconds:      ptr.To[int32](600),
						ImagePreDownloadMinUpdatedReadyPods: ptr.To[int32](1),
					},
				},
			},
			RevisionHistoryLimit: ptr.To[int32](10),
			MinReadySeconds:      5,
			Lifecycle: &apps.Lifecycle{
				PreDelete:     &apps.LifecycleHook{FinalizersHandler: []string{"example.com/pre-delete"}},
				InPlaceUpdate: &apps.LifecycleHook{LabelsHandler: map[string]string{"example.com/in-place": "true"}, MarkPodNotReady: true},
				PreNormal:     &apps.LifecycleHook{LabelsHandler: map[string]string{"example.com/pre-normal": "true"}},
			},
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}

// rollingUpdate returns the rollingUpdate of cs, for tweaks.
func rollingUpdate(cs *apps.CloneSet) *apps.RollingUpdateCloneSetStrategy {
	return cs.Spec.UpdateStrategy.RollingUpdate
}

func TestValidateCloneSet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tweak    func(cs *apps.CloneSet)
		want     []csErr
		detail   string
		contains bool // detail is only part of the message
	}{
		{name: "valid", tweak: func(*apps.CloneSet) {}},
		{
			name:  "empty object",
			tweak: func(cs *apps.CloneSet) { *cs = apps.CloneSet{} },
			want: []csErr{
				csRequired("metadata.name"), csRequired("metadata.namespace"),
				csRequired("spec.replicas"), csRequired("spec.selector"),
				csRequired("spec.template.spec.containers"), csNotSupported("spec.updateStrategy.type"),
			},
		},

		// metadata
		{
			name:  "missing name",
			tweak: func(cs *apps.CloneSet) { cs.Name = "" },
			want:  []csErr{csRequired("metadata.name")},
		},
		{
			name:  "invalid name",
			tweak: func(cs *apps.CloneSet) { cs.Name = "Sample_1" },
			want:  []csErr{csInvalid("metadata.name")},
		},
		{
			name:  "missing namespace",
			tweak: func(cs *apps.CloneSet) { cs.Namespace = "" },
			want:  []csErr{csRequired("metadata.namespace")},
		},
		{
			name: "stash annotation left on a hub object",
			tweak: func(cs *apps.CloneSet) {
				cs.Annotations = map[string]string{annotationstash.Key: `{"podUpdatePolicy":"InPlaceOnly"}`}
			},
			want:     []csErr{csInvalid("metadata.annotations[" + annotationstash.Key + "]")},
			detail:   "reserved for kruise-apiserver",
			contains: true,
		},
		{
			name:  "bad delete-protection label",
			tweak: func(cs *apps.CloneSet) { cs.Labels[deletionprotection.LabelKey] = "Sometimes" },
			want:  []csErr{csNotSupported("metadata.labels[" + deletionprotection.LabelKey + "]")},
		},

		// replicas
		{
			name:  "replicas nil",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Replicas = nil },
			want:  []csErr{csRequired("spec.replicas")},
		},
		{
			name:  "replicas negative",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Replicas = ptr.To[int32](-1) },
			want:  []csErr{csInvalid("spec.replicas")},
		},

		// selector
		{
			name:  "selector nil",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Selector = nil },
			want:  []csErr{csRequired("spec.selector")},
		},
		{
			name:   "selector empty",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.Selector = &metav1.LabelSelector{} },
			want:   []csErr{csInvalid("spec.selector")},
			detail: "empty selector is invalid for cloneset",
		},
		{
			name:  "selector invalid",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Selector.MatchLabels = map[string]string{"app": "not a value!"} },
			want:  []csErr{csInvalid("spec.selector.matchLabels")},
		},
		{
			name: "selector expression without values",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn}}}
			},
			want: []csErr{csRequired("spec.selector.matchExpressions[0].values")},
		},
		{
			name:   "selector does not match template labels",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.Selector.MatchLabels = map[string]string{"app": "other"} },
			want:   []csErr{csInvalid("spec.template.metadata.labels")},
			detail: "`selector` does not match template `labels`",
		},
		{
			name: "selector expression matching template labels",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"sample", "other"}}}}
			},
		},

		// template
		{
			name:  "restartPolicy Never",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want:  []csErr{csNotSupported("spec.template.spec.restartPolicy")},
		},
		{
			name:  "restartPolicy empty counts as Always",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Template.Spec.RestartPolicy = "" },
		},
		{
			name:   "activeDeadlineSeconds",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) },
			want:   []csErr{csForbidden("spec.template.spec.activeDeadlineSeconds")},
			detail: "activeDeadlineSeconds in cloneset is not Supported",
		},
		{
			name:  "container without image",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "" },
			want:  []csErr{csRequired(csContainer0 + ".image")},
		},
		{
			name:  "invalid template label",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Template.Labels["bad key!"] = "x" },
			want:  []csErr{csInvalid("spec.template.metadata.labels")},
		},

		// volumeClaimTemplates
		{
			name:   "claim template without access modes",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.VolumeClaimTemplates[0].Spec.AccessModes = nil },
			want:   []csErr{csRequired(csClaimSpec0 + ".accessModes")},
			detail: "at least 1 access mode is required",
		},
		{
			name:  "claim template without storage request",
			tweak: func(cs *apps.CloneSet) { cs.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests = nil },
			want:  []csErr{csRequired(csClaimSpec0 + ".resources.requests[storage]")},
		},
		{
			name:  "claim template with invalid name",
			tweak: func(cs *apps.CloneSet) { cs.Spec.VolumeClaimTemplates[0].Name = "Data_1" },
			want:  []csErr{csInvalid("spec.volumeClaimTemplates[0].metadata.name")},
		},
		{
			name: "volumeMount of a claim template",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
			},
		},
		{
			name: "volumeMount of an undeclared volume",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}}
			},
			want: []csErr{csNotFound(csContainer0 + ".volumeMounts[0].name")},
		},

		// revisionHistoryLimit, minReadySeconds, progressDeadlineSeconds
		{
			name:  "revisionHistoryLimit negative",
			tweak: func(cs *apps.CloneSet) { cs.Spec.RevisionHistoryLimit = ptr.To[int32](-1) },
			want:  []csErr{csInvalid("spec.revisionHistoryLimit")},
		},
		{
			name:  "minReadySeconds negative",
			tweak: func(cs *apps.CloneSet) { cs.Spec.MinReadySeconds = -1 },
			want:  []csErr{csInvalid("spec.minReadySeconds")},
		},
		{
			name:   "progressDeadlineSeconds equal to minReadySeconds",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.ProgressDeadlineSeconds = ptr.To[int32](5) },
			want:   []csErr{csInvalid("spec.progressDeadlineSeconds")},
			detail: "must be greater than minReadySeconds",
		},
		{
			name:   "progressDeadlineSeconds below minReadySeconds",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.MinReadySeconds = 700 },
			want:   []csErr{csInvalid("spec.progressDeadlineSeconds")},
			detail: "must be greater than minReadySeconds",
		},
		{
			name: "progressDeadlineSeconds MaxInt32 is no deadline",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.MinReadySeconds = math.MaxInt32
				cs.Spec.ProgressDeadlineSeconds = ptr.To[int32](math.MaxInt32)
			},
		},
		{
			name:  "progressDeadlineSeconds unset",
			tweak: func(cs *apps.CloneSet) { cs.Spec.ProgressDeadlineSeconds = nil },
		},

		// lifecycle
		{
			name: "invalid labelsHandler",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Lifecycle.InPlaceUpdate.LabelsHandler = map[string]string{"bad key!": "true"}
			},
			want: []csErr{csInvalid("spec.lifecycle.inPlaceUpdate.labelsHandler")},
		},
		{
			name: "invalid labelsHandler value",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Lifecycle.PreNormal.LabelsHandler["example.com/pre-normal"] = "not ok!"
			},
			want: []csErr{csInvalid("spec.lifecycle.preNormal.labelsHandler")},
		},
		{
			name:  "invalid finalizersHandler",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Lifecycle.PreDelete.FinalizersHandler = []string{"not a finalizer!"} },
			want:  []csErr{csInvalid("spec.lifecycle.preDelete.finalizersHandler[0]")},
		},
		{
			name: "duplicate finalizersHandler",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Lifecycle.PreDelete.FinalizersHandler = []string{"example.com/a", "example.com/a"}
			},
			want: []csErr{csDuplicate("spec.lifecycle.preDelete.finalizersHandler[1]")},
		},

		// scaleStrategy
		{
			name:  "podsToDelete duplicate",
			tweak: func(cs *apps.CloneSet) { cs.Spec.ScaleStrategy.PodsToDelete = []string{"sample-abcde", "sample-abcde"} },
			want:  []csErr{csDuplicate("spec.scaleStrategy.podsToDelete[1]")},
		},
		{
			name:   "podsToDelete empty name",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.ScaleStrategy.PodsToDelete = []string{"sample-abcde", ""} },
			want:   []csErr{csRequired("spec.scaleStrategy.podsToDelete[1]")},
			detail: "pod name can not be empty",
		},
		{
			name:   "scaleStrategy maxUnavailable over 100%",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.ScaleStrategy.MaxUnavailable = ptr.To(intstr.FromString("101%")) },
			want:   []csErr{csInvalid("spec.scaleStrategy.maxUnavailable")},
			detail: "must be between 0% and 100%",
		},
		{
			name:   "scaleStrategy maxUnavailable malformed",
			tweak:  func(cs *apps.CloneSet) { cs.Spec.ScaleStrategy.MaxUnavailable = ptr.To(intstr.FromString("5x")) },
			want:   []csErr{csInvalid("spec.scaleStrategy.maxUnavailable")},
			detail: "must be an integer or a percentage (e.g. '5%')",
		},

		// updateStrategy type and podUpdatePolicy
		{
			name:  "unsupported update type",
			tweak: func(cs *apps.CloneSet) { cs.Spec.UpdateStrategy.Type = "Canary" },
			want:  []csErr{csNotSupported("spec.updateStrategy.type")},
		},
		{
			name:  "OnDelete",
			tweak: func(cs *apps.CloneSet) { cs.Spec.UpdateStrategy.Type = apps.OnDeleteCloneSetUpdateStrategyType },
		},
		{
			name:  "unsupported podUpdatePolicy",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).PodUpdatePolicy = "Rolling" },
			want:  []csErr{csNotSupported(csRolling + ".podUpdatePolicy")},
		},
		{
			name:  "podUpdatePolicy required for RollingUpdate",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).PodUpdatePolicy = "" },
			want:  []csErr{csRequired(csRolling + ".podUpdatePolicy")},
		},
		{
			name: "podUpdatePolicy optional for OnDelete",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy.Type = apps.OnDeleteCloneSetUpdateStrategyType
				rollingUpdate(cs).PodUpdatePolicy = ""
			},
		},
		{
			name: "OnDelete still checks the rollout parameters",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy.Type = apps.OnDeleteCloneSetUpdateStrategyType
				rollingUpdate(cs).Partition = ptr.To(intstr.FromInt32(-1))
			},
			want: []csErr{csInvalid(csRolling + ".partition")},
		},
		{
			// v1alpha1 OnDelete without rollout parameters converts to this.
			name: "OnDelete without rollingUpdate",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy = apps.CloneSetUpdateStrategy{Type: apps.OnDeleteCloneSetUpdateStrategyType}
			},
		},
		{
			name: "ReCreate",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PodUpdatePolicy = apps.RecreateCloneSetPodUpdateStrategyType
				rollingUpdate(cs).InPlaceUpdateStrategy = nil
			},
		},

		// partition, maxUnavailable, maxSurge
		{
			name:  "partition negative",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).Partition = ptr.To(intstr.FromInt32(-1)) },
			want:  []csErr{csInvalid(csRolling + ".partition")},
		},
		{
			name:   "partition over 100%",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).Partition = ptr.To(intstr.FromString("101%")) },
			want:   []csErr{csInvalid(csRolling + ".partition")},
			detail: "must be between 0% and 100%",
		},
		{
			name:   "partition negative percent",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).Partition = ptr.To(intstr.FromString("-1%")) },
			want:   []csErr{csInvalid(csRolling + ".partition")},
			detail: "must be between 0% and 100%",
		},
		{
			name:   "partition malformed",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).Partition = ptr.To(intstr.FromString("5x")) },
			want:   []csErr{csInvalid(csRolling + ".partition")},
			detail: "must be an integer or a percentage (e.g. '5%')",
		},
		{
			name:  "partition above replicas",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).Partition = ptr.To(intstr.FromInt32(50)) },
		},
		{
			name:  "maxUnavailable negative",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromInt32(-1)) },
			want:  []csErr{csInvalid(csRolling + ".maxUnavailable")},
		},
		{
			name:   "maxUnavailable over 100%",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromString("101%")) },
			want:   []csErr{csInvalid(csRolling + ".maxUnavailable")},
			detail: "must be between 0% and 100%",
		},
		{
			name:   "maxUnavailable malformed",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromString("5x")) },
			want:   []csErr{csInvalid(csRolling + ".maxUnavailable")},
			detail: "must be an integer or a percentage (e.g. '5%')",
		},
		{
			name:  "maxSurge negative",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromInt32(-1)) },
			want:  []csErr{csInvalid(csRolling + ".maxSurge")},
		},
		{
			name:   "maxSurge over 100%",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromString("101%")) },
			want:   []csErr{csInvalid(csRolling + ".maxSurge")},
			detail: "must be between 0% and 100%",
		},
		{
			name:   "maxSurge malformed",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromString("5x")) },
			want:   []csErr{csInvalid(csRolling + ".maxSurge")},
			detail: "must be an integer or a percentage (e.g. '5%')",
		},
		{
			name:  "maxSurge with InPlaceIfPossible",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromString("50%")) },
		},
		{
			name: "maxSurge with InPlaceOnly",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PodUpdatePolicy = apps.InPlaceOnlyCloneSetPodUpdateStrategyType
				rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromInt32(1))
			},
			want:   []csErr{csInvalid(csRolling + ".maxSurge")},
			detail: "can not use maxSurge with podUpdatePolicy InPlaceOnly",
		},
		{
			name: "maxSurge percentage with InPlaceOnly",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PodUpdatePolicy = apps.InPlaceOnlyCloneSetPodUpdateStrategyType
				rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromString("10%")) // of 5, rounded up: 1
			},
			want:   []csErr{csInvalid(csRolling + ".maxSurge")},
			detail: "can not use maxSurge with podUpdatePolicy InPlaceOnly",
		},
		{
			name: "maxSurge 0 with InPlaceOnly",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PodUpdatePolicy = apps.InPlaceOnlyCloneSetPodUpdateStrategyType
			},
		},
		{
			name:   "maxUnavailable and maxSurge both 0",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromInt32(0)) },
			want:   []csErr{csInvalid(csRolling + ".maxUnavailable")},
			detail: csBothLessMsg,
		},
		{
			name: "maxUnavailable and maxSurge both 0%",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromString("0%"))
				rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromString("0%"))
			},
			want:   []csErr{csInvalid(csRolling + ".maxUnavailable")},
			detail: csBothLessMsg,
		},
		{
			name: "maxUnavailable and maxSurge both unset",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).MaxUnavailable = nil
				rollingUpdate(cs).MaxSurge = nil
			},
			want:   []csErr{csInvalid(csRolling + ".maxUnavailable")},
			detail: csBothLessMsg,
		},
		{
			name: "maxUnavailable and maxSurge both 0 with 0 replicas",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Replicas = ptr.To[int32](0)
				rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromInt32(0))
			},
		},
		{
			name: "maxUnavailable 0 with maxSurge 1",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromInt32(0))
				rollingUpdate(cs).MaxSurge = ptr.To(intstr.FromInt32(1))
			},
		},
		{
			name:  "maxUnavailable 1% rounds up to 1",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).MaxUnavailable = ptr.To(intstr.FromString("1%")) },
		},

		// priorityStrategy
		{
			name: "priority by order and weight",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PriorityStrategy.OrderPriority = []apps.UpdatePriorityOrderTerm{{OrderedKey: "example.com/order"}}
			},
			want:   []csErr{csForbidden(csPriority + ".orderPriority")},
			detail: "only one of weightPriority and orderPriority can be used",
		},
		{
			name: "priority by order",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PriorityStrategy = &apps.UpdatePriorityStrategy{OrderPriority: []apps.UpdatePriorityOrderTerm{{OrderedKey: "example.com/order"}}}
			},
		},
		{
			name:   "priority weight 0",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).PriorityStrategy.WeightPriority[0].Weight = 0 },
			want:   []csErr{csInvalid(csPriority + ".weightPriority[0].weight")},
			detail: "must be in the range 1-100",
		},
		{
			name:   "priority weight 101",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).PriorityStrategy.WeightPriority[0].Weight = 101 },
			want:   []csErr{csInvalid(csPriority + ".weightPriority[0].weight")},
			detail: "must be in the range 1-100",
		},
		{
			name: "priority weight 1 and 100",
			tweak: func(cs *apps.CloneSet) {
				terms := &rollingUpdate(cs).PriorityStrategy.WeightPriority
				(*terms)[0].Weight = 1
				*terms = append(*terms, apps.UpdatePriorityWeightTerm{Weight: 100, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"zone": "b"}}})
			},
		},
		{
			name: "priority empty matchSelector",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PriorityStrategy.WeightPriority[0].MatchSelector = metav1.LabelSelector{}
			},
			want:   []csErr{csRequired(csPriority + ".weightPriority[0].matchSelector")},
			detail: "selector can not be empty",
		},
		{
			name: "priority invalid matchSelector",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PriorityStrategy.WeightPriority[0].MatchSelector.MatchLabels = map[string]string{"bad key!": "a"}
			},
			want: []csErr{csInvalid(csPriority + ".weightPriority[0].matchSelector.matchLabels")},
		},
		{
			name: "priority empty orderedKey",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PriorityStrategy = &apps.UpdatePriorityStrategy{OrderPriority: []apps.UpdatePriorityOrderTerm{{OrderedKey: ""}}}
			},
			want:   []csErr{csRequired(csPriority + ".orderPriority[0].orderedKey")},
			detail: "order key can not be empty",
		},
		{
			name: "priority invalid orderedKey",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).PriorityStrategy = &apps.UpdatePriorityStrategy{OrderPriority: []apps.UpdatePriorityOrderTerm{{OrderedKey: "bad key!"}}}
			},
			want: []csErr{csInvalid(csPriority + ".orderPriority[0].orderedKey")},
		},

		// scatterStrategy
		{
			name:   "scatter empty key",
			tweak:  func(cs *apps.CloneSet) { rollingUpdate(cs).ScatterStrategy[0].Key = "" },
			want:   []csErr{csRequired(csScatter + "[0].key")},
			detail: "key should not be empty",
		},
		{
			name:  "scatter invalid key",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).ScatterStrategy[0].Key = "bad key!" },
			want:  []csErr{csInvalid(csScatter + "[0].key")},
		},
		{
			name: "scatter duplicate term",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).ScatterStrategy = apps.UpdateScatterStrategy{{Key: "zone", Value: "a"}, {Key: "zone", Value: "b"}, {Key: "zone", Value: "a"}}
			},
			want: []csErr{csDuplicate(csScatter + "[2]")},
		},

		// inPlaceUpdateStrategy
		{
			name:  "negative in-place grace period",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).InPlaceUpdateStrategy.GracePeriodSeconds = -1 },
			want:  []csErr{csInvalid(csInPlace + ".gracePeriodSeconds")},
		},
		{
			name: "image pre-download timeout 0",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).InPlaceUpdateStrategy.ImagePreDownloadTimeoutSeconds = ptr.To[int32](0)
			},
			want:   []csErr{csInvalid(csInPlace + ".imagePreDownloadTimeoutSeconds")},
			detail: "must be greater than 0",
		},
		{
			name: "image pre-download parallelism over 100%",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).InPlaceUpdateStrategy.ImagePreDownloadParallelism = ptr.To(intstr.FromString("200%"))
			},
			want: []csErr{csInvalid(csInPlace + ".imagePreDownloadParallelism")},
		},
		{
			name: "image pre-download min updated ready pods negative",
			tweak: func(cs *apps.CloneSet) {
				rollingUpdate(cs).InPlaceUpdateStrategy.ImagePreDownloadMinUpdatedReadyPods = ptr.To[int32](-1)
			},
			want: []csErr{csInvalid(csInPlace + ".imagePreDownloadMinUpdatedReadyPods")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := validCloneSet()
			tc.tweak(cs)
			errs := ValidateCloneSet(cs)
			checkCloneSetErrors(t, errs, tc.want...)
			checkCloneSetDetail(t, errs, tc.detail, tc.contains)
		})
	}
}

// TestValidateCloneSetUpdateFields changes each field of the spec in turn:
// only the fields OpenKruise lets change may change. A field added to
// CloneSetSpec fails this test until it is given a case, so that whether it
// is mutable is a decision, not an accident.
func TestValidateCloneSetUpdateFields(t *testing.T) {
	mutable := map[string]func(spec *apps.CloneSetSpec){
		"Replicas": func(spec *apps.CloneSetSpec) { spec.Replicas = ptr.To[int32](7) },
		"Template": func(spec *apps.CloneSetSpec) { spec.Template.Spec.Containers[0].Image = "nginx:1.26.0" },
		"VolumeClaimTemplates": func(spec *apps.CloneSetSpec) {
			spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		},
		"ScaleStrategy": func(spec *apps.CloneSetSpec) {
			spec.ScaleStrategy.PodsToDelete = append(spec.ScaleStrategy.PodsToDelete, "sample-fghij")
		},
		"UpdateStrategy": func(spec *apps.CloneSetSpec) {
			spec.UpdateStrategy.RollingUpdate.Partition = ptr.To(intstr.FromString("40%"))
		},
		"RevisionHistoryLimit": func(spec *apps.CloneSetSpec) { spec.RevisionHistoryLimit = ptr.To[int32](3) },
		"MinReadySeconds":      func(spec *apps.CloneSetSpec) { spec.MinReadySeconds = 30 },
		"Lifecycle": func(spec *apps.CloneSetSpec) {
			spec.Lifecycle.PreDelete.FinalizersHandler = []string{"example.com/other"}
		},
		"ProgressDeadlineSeconds": func(spec *apps.CloneSetSpec) {
			spec.ProgressDeadlineSeconds = ptr.To[int32](900)
		},
	}
	immutable := map[string]func(spec *apps.CloneSetSpec){
		"Selector": func(spec *apps.CloneSetSpec) {
			// Still a valid spec: the template labels follow the selector.
			spec.Selector.MatchLabels["zone"] = "a"
		},
	}

	specType := reflect.TypeOf(apps.CloneSetSpec{})
	for i := 0; i < specType.NumField(); i++ {
		name := specType.Field(i).Name
		if mutable[name] == nil && immutable[name] == nil {
			t.Errorf("CloneSetSpec.%s has no update case: decide whether it may change", name)
		}
	}

	for name, change := range mutable {
		t.Run(name, func(t *testing.T) {
			old := validCloneSet()
			cs := old.DeepCopy()
			change(&cs.Spec)
			if reflect.DeepEqual(cs.Spec, old.Spec) {
				t.Fatal("the case does not change the spec")
			}
			checkCloneSetErrors(t, ValidateCloneSetUpdate(cs, old))
		})
	}
	for name, change := range immutable {
		t.Run(name, func(t *testing.T) {
			old := validCloneSet()
			cs := old.DeepCopy()
			change(&cs.Spec)
			if errs := ValidateCloneSet(cs); len(errs) > 0 {
				t.Fatalf("the case makes an invalid spec: %v", errs)
			}
			errs := ValidateCloneSetUpdate(cs, old)
			checkCloneSetErrors(t, errs, csForbidden("spec"))
			checkCloneSetDetail(t, errs, csUpdateMsg, false)
		})
	}
}

func TestValidateCloneSetUpdate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tweak  func(cs *apps.CloneSet)
		want   []csErr
		detail string
	}{
		{name: "unchanged", tweak: func(*apps.CloneSet) {}},
		{
			name: "every mutable field at once",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Replicas = ptr.To[int32](0)
				cs.Spec.Template.Spec.Containers[0].Image = "nginx:1.26.0"
				cs.Spec.Lifecycle = nil
				cs.Spec.ScaleStrategy = apps.CloneSetScaleStrategy{EnablePVCReuse: true, ExcludePreparingDelete: true}
				cs.Spec.UpdateStrategy = apps.CloneSetUpdateStrategy{Type: apps.OnDeleteCloneSetUpdateStrategyType}
				cs.Spec.MinReadySeconds = 0
				cs.Spec.ProgressDeadlineSeconds = nil
				cs.Spec.VolumeClaimTemplates = nil
				cs.Spec.RevisionHistoryLimit = ptr.To[int32](0)
			},
		},
		{
			name: "selector changed",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"zone": "a"}}
			},
			want:   []csErr{csForbidden("spec")},
			detail: csUpdateMsg,
		},
		{
			name: "selector changed along with mutable fields",
			tweak: func(cs *apps.CloneSet) {
				cs.Spec.Replicas = ptr.To[int32](9)
				cs.Spec.Selector.MatchLabels["zone"] = "a"
			},
			want:   []csErr{csForbidden("spec")},
			detail: csUpdateMsg,
		},
		{
			name:  "new spec is validated",
			tweak: func(cs *apps.CloneSet) { cs.Spec.Replicas = ptr.To[int32](-1) },
			want:  []csErr{csInvalid("spec.replicas")},
		},
		{
			name:  "new update strategy is validated",
			tweak: func(cs *apps.CloneSet) { rollingUpdate(cs).PodUpdatePolicy = "Rolling" },
			want:  []csErr{csNotSupported(csRolling + ".podUpdatePolicy")},
		},
		{
			name:  "name changed",
			tweak: func(cs *apps.CloneSet) { cs.Name = "other" },
			want:  []csErr{csInvalid("metadata.name")},
		},
		{
			name:  "stash annotation",
			tweak: func(cs *apps.CloneSet) { cs.Annotations = map[string]string{annotationstash.Key: "{}"} },
			want:  []csErr{csInvalid("metadata.annotations[" + annotationstash.Key + "]")},
		},
		{
			name:  "bad delete-protection label",
			tweak: func(cs *apps.CloneSet) { cs.Labels[deletionprotection.LabelKey] = "Never" },
			want:  []csErr{csNotSupported("metadata.labels[" + deletionprotection.LabelKey + "]")},
		},
		{
			name:  "delete-protection label removed",
			tweak: func(cs *apps.CloneSet) { delete(cs.Labels, deletionprotection.LabelKey) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := validCloneSet()
			cs := old.DeepCopy()
			tc.tweak(cs)
			errs := ValidateCloneSetUpdate(cs, old)
			checkCloneSetErrors(t, errs, tc.want...)
			checkCloneSetDetail(t, errs, tc.detail, false)
		})
	}
}

func validCloneSetStatus() apps.CloneSetStatus {
	return apps.CloneSetStatus{
		ObservedGeneration:       2,
		Replicas:                 5,
		ReadyReplicas:            4,
		AvailableReplicas:        4,
		UpdatedReplicas:          3,
		UpdatedReadyReplicas:     3,
		UpdatedAvailableReplicas: 2,
		ExpectedUpdatedReplicas:  5,
		UpdateRevision:           "sample-7b9c5d",
		CurrentRevision:          "sample-6f8d4c",
		CollisionCount:           ptr.To[int32](1),
		LabelSelector:            "app=sample",
	}
}

func TestValidateCloneSetStatusUpdate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tweak  func(status *apps.CloneSetStatus)
		want   []csErr
		detail string
	}{
		{name: "valid", tweak: func(*apps.CloneSetStatus) {}},
		{name: "all zero", tweak: func(s *apps.CloneSetStatus) { *s = apps.CloneSetStatus{CollisionCount: ptr.To[int32](1)} }},
		{
			name:  "observedGeneration negative",
			tweak: func(s *apps.CloneSetStatus) { s.ObservedGeneration = -1 },
			want:  []csErr{csInvalid("status.observedGeneration")},
		},
		{
			name:  "replicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.Replicas = -1 },
			want:  []csErr{csInvalid("status.replicas")},
		},
		{
			name:  "readyReplicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.ReadyReplicas = -1 },
			want:  []csErr{csInvalid("status.readyReplicas")},
		},
		{
			name:  "availableReplicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.AvailableReplicas = -1 },
			want:  []csErr{csInvalid("status.availableReplicas")},
		},
		{
			name:  "updatedReplicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.UpdatedReplicas = -1 },
			want:  []csErr{csInvalid("status.updatedReplicas")},
		},
		{
			name:  "updatedReadyReplicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.UpdatedReadyReplicas = -1 },
			want:  []csErr{csInvalid("status.updatedReadyReplicas")},
		},
		{
			name:  "updatedAvailableReplicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.UpdatedAvailableReplicas = -1 },
			want:  []csErr{csInvalid("status.updatedAvailableReplicas")},
		},
		{
			name:  "expectedUpdatedReplicas negative",
			tweak: func(s *apps.CloneSetStatus) { s.ExpectedUpdatedReplicas = -1 },
			want:  []csErr{csInvalid("status.expectedUpdatedReplicas")},
		},
		{
			name:  "collisionCount incremented",
			tweak: func(s *apps.CloneSetStatus) { s.CollisionCount = ptr.To[int32](2) },
		},
		{
			name:   "collisionCount decremented",
			tweak:  func(s *apps.CloneSetStatus) { s.CollisionCount = ptr.To[int32](0) },
			want:   []csErr{csInvalid("status.collisionCount")},
			detail: "cannot be decremented",
		},
		{
			name:   "collisionCount cleared",
			tweak:  func(s *apps.CloneSetStatus) { s.CollisionCount = nil },
			want:   []csErr{csInvalid("status.collisionCount")},
			detail: "cannot be decremented",
		},
		{
			name:  "collisionCount negative",
			tweak: func(s *apps.CloneSetStatus) { s.CollisionCount = ptr.To[int32](-1) },
			// Negative, and below the old value.
			want: []csErr{csInvalid("status.collisionCount"), csInvalid("status.collisionCount")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := validCloneSet()
			old.Status = validCloneSetStatus()
			cs := old.DeepCopy()
			tc.tweak(&cs.Status)
			errs := ValidateCloneSetStatusUpdate(cs, old)
			checkCloneSetErrors(t, errs, tc.want...)
			checkCloneSetDetail(t, errs, tc.detail, false)
		})
	}

	t.Run("collisionCount set for the first time", func(t *testing.T) {
		old := validCloneSet()
		cs := old.DeepCopy()
		cs.Status.CollisionCount = ptr.To[int32](0)
		checkCloneSetErrors(t, ValidateCloneSetStatusUpdate(cs, old))
	})
	t.Run("collisionCount negative from unset", func(t *testing.T) {
		old := validCloneSet()
		cs := old.DeepCopy()
		cs.Status.CollisionCount = ptr.To[int32](-1)
		checkCloneSetErrors(t, ValidateCloneSetStatusUpdate(cs, old), csInvalid("status.collisionCount"))
	})
	t.Run("metadata is validated", func(t *testing.T) {
		old := validCloneSet()
		cs := old.DeepCopy()
		cs.Namespace = "other"
		checkCloneSetErrors(t, ValidateCloneSetStatusUpdate(cs, old), csInvalid("metadata.namespace"))
	})
}
