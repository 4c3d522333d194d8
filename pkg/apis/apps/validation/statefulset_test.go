package validation

import (
	"fmt"
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
)

// stsErr is the type and field path of one expected error. (The helpers of
// this file are prefixed so they cannot clash with other kinds' tests.)
type stsErr struct {
	Type  field.ErrorType
	Field string
}

func stsRequired(f string) stsErr     { return stsErr{field.ErrorTypeRequired, f} }
func stsInvalid(f string) stsErr      { return stsErr{field.ErrorTypeInvalid, f} }
func stsForbidden(f string) stsErr    { return stsErr{field.ErrorTypeForbidden, f} }
func stsNotSupported(f string) stsErr { return stsErr{field.ErrorTypeNotSupported, f} }

// checkStatefulSetErrors asserts that errs are exactly want (type and path, any order).
func checkStatefulSetErrors(t *testing.T, errs field.ErrorList, want []stsErr) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, fmt.Sprintf("%s %s", e.Type, e.Field))
	}
	exp := make([]string, 0, len(want))
	for _, w := range want {
		exp = append(exp, fmt.Sprintf("%s %s", w.Type, w.Field))
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors mismatch\n got: %q\nwant: %q\nfull errors: %v", got, exp, errs.ToAggregate())
	}
}

// validStatefulSet is a StatefulSet as it looks after v1beta1 defaulting.
func validStatefulSet() *apps.StatefulSet {
	labels := map[string]string{"app": "db"}
	return &apps.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default", ResourceVersion: "1"},
		Spec: apps.StatefulSetSpec{
			Replicas:            ptr.To[int32](3),
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			ServiceName:         "db",
			PodManagementPolicy: apps.ParallelPodManagement,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:  corev1.RestartPolicyAlways,
					DNSPolicy:      corev1.DNSClusterFirst,
					ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "InPlaceUpdateReady"}},
					Containers: []corev1.Container{{
						Name: "db", Image: "db:1",
						ImagePullPolicy:          corev1.PullIfNotPresent,
						TerminationMessagePolicy: corev1.TerminationMessageReadFile,
						VolumeMounts:             []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
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
			UpdateStrategy: apps.StatefulSetUpdateStrategy{
				Type: apps.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &apps.RollingUpdateStatefulSetStrategy{
					Partition:       ptr.To[int32](0),
					MaxUnavailable:  ptr.To(intstr.FromInt32(1)),
					PodUpdatePolicy: apps.InPlaceIfPossiblePodUpdateStrategyType,
					MinReadySeconds: ptr.To[int32](0),
				},
			},
			RevisionHistoryLimit: ptr.To[int32](10),
			PersistentVolumeClaimRetentionPolicy: &apps.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: apps.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  apps.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
	}
}

func TestValidateStatefulSet(t *testing.T) {
	const ru = "spec.updateStrategy.rollingUpdate."
	cases := []struct {
		name   string
		modify func(*apps.StatefulSet)
		want   []stsErr
	}{
		{"valid", func(*apps.StatefulSet) {}, nil},
		{"valid OnDelete without rollingUpdate", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy = apps.StatefulSetUpdateStrategy{Type: apps.OnDeleteStatefulSetStrategyType}
		}, nil},
		{"valid reserved ordinals, ordinals and percentages", func(s *apps.StatefulSet) {
			s.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromInt32(1), intstr.FromString("3-5"), intstr.FromString("7-7")}
			s.Spec.Ordinals = &apps.StatefulSetOrdinals{Start: 1}
			s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("50%"))
			s.Spec.ScaleStrategy = &apps.StatefulSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromInt32(2))}
			s.Spec.VolumeClaimUpdateStrategy.Type = apps.OnPodRollingUpdateVolumeClaimUpdateStrategyType
		}, nil},

		{"name must be a DNS label", func(s *apps.StatefulSet) { s.Name = "db.example" },
			[]stsErr{stsInvalid("metadata.name")}},
		{"stash annotation left over", func(s *apps.StatefulSet) {
			s.Annotations = map[string]string{annotationstash.Key: `{"spec":{}}`}
		}, []stsErr{stsInvalid("metadata.annotations[" + annotationstash.Key + "]")}},

		{"podManagementPolicy required", func(s *apps.StatefulSet) { s.Spec.PodManagementPolicy = "" },
			// the rollout's maxUnavailable of 1 is still fine without Parallel
			[]stsErr{stsRequired("spec.podManagementPolicy")}},
		{"podManagementPolicy enum", func(s *apps.StatefulSet) { s.Spec.PodManagementPolicy = "Sometimes" },
			[]stsErr{stsInvalid("spec.podManagementPolicy")}},

		{"reserve ordinal negative", func(s *apps.StatefulSet) {
			s.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromInt32(0), intstr.FromInt32(-1)}
		}, []stsErr{stsInvalid("spec.reserveOrdinals[1]")}},
		{"reserve ordinal string not a range", func(s *apps.StatefulSet) {
			s.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromString("3")}
		}, []stsErr{stsInvalid("spec.reserveOrdinals[0]"), stsInvalid("spec.reserveOrdinals[0]")}},
		{"reserve ordinal range reversed", func(s *apps.StatefulSet) {
			s.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromString("5-3")}
		}, []stsErr{stsInvalid("spec.reserveOrdinals[0]")}},
		{"reserve ordinal range out of int range", func(s *apps.StatefulSet) {
			s.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromString("1-99999999999999999999")}
		}, []stsErr{stsInvalid("spec.reserveOrdinals[0]")}},

		{"scale maxUnavailable needs Parallel", func(s *apps.StatefulSet) {
			s.Spec.PodManagementPolicy = apps.OrderedReadyPodManagement
			s.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = apps.RecreatePodUpdateStrategyType
			s.Spec.ScaleStrategy = &apps.StatefulSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromInt32(2))}
		}, []stsErr{stsInvalid("spec.scaleStrategy.maxUnavailable")}},
		{"scale maxUnavailable at least 1", func(s *apps.StatefulSet) {
			s.Spec.ScaleStrategy = &apps.StatefulSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromInt32(0))}
		}, []stsErr{stsInvalid("spec.scaleStrategy.maxUnavailable")}},

		{"updateStrategy required", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy = apps.StatefulSetUpdateStrategy{}
		}, []stsErr{stsRequired("spec.updateStrategy")}},
		{"updateStrategy type enum", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.Type = "Rolling" },
			[]stsErr{stsInvalid("spec.updateStrategy.type")}},
		{"rollingUpdate only with RollingUpdate", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.Type = apps.OnDeleteStatefulSetStrategyType
		}, []stsErr{stsInvalid("spec.updateStrategy.rollingUpdate")}},
		{"partition required", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = nil },
			[]stsErr{stsRequired(ru + "partition")}},
		{"partition non-negative", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](-1) },
			[]stsErr{stsInvalid(ru + "partition")}},
		{"minReadySeconds required", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.MinReadySeconds = nil },
			[]stsErr{stsRequired(ru + "minReadySeconds")}},
		{"minReadySeconds non-negative", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.MinReadySeconds = ptr.To[int32](-1)
		}, []stsErr{stsInvalid(ru + "minReadySeconds")}},
		{"minReadySeconds at most 300", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.MinReadySeconds = ptr.To[int32](301)
		}, []stsErr{stsInvalid(ru + "minReadySeconds")}},
		{"maxUnavailable required", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = nil },
			[]stsErr{stsRequired(ru + "maxUnavailable")}},
		{"maxUnavailable negative", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(-1))
		}, []stsErr{stsInvalid(ru + "maxUnavailable"), stsInvalid(ru + "maxUnavailable")}},
		{"maxUnavailable 0%", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("0%"))
		}, []stsErr{stsInvalid(ru + "maxUnavailable")}},
		{"maxUnavailable not a percentage", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("two"))
		}, []stsErr{stsInvalid(ru + "maxUnavailable"), stsInvalid(ru + "maxUnavailable")}},
		{"maxUnavailable above 1 needs Parallel", func(s *apps.StatefulSet) {
			s.Spec.PodManagementPolicy = apps.OrderedReadyPodManagement
			s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(2))
		}, []stsErr{stsInvalid(ru + "maxUnavailable")}},
		{"podUpdatePolicy required", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = "" },
			[]stsErr{stsRequired(ru + "podUpdatePolicy")}},
		{"podUpdatePolicy enum", func(s *apps.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = "InPlace" },
			[]stsErr{stsInvalid(ru + "podUpdatePolicy")}},
		{"in-place update needs the readiness gate", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = apps.InPlaceOnlyPodUpdateStrategyType
			s.Spec.Template.Spec.ReadinessGates = nil
		}, []stsErr{stsInvalid("spec.template.spec.readinessGates")}},
		{"unorderedUpdate needs Parallel", func(s *apps.StatefulSet) {
			s.Spec.PodManagementPolicy = apps.OrderedReadyPodManagement
			s.Spec.UpdateStrategy.RollingUpdate.UnorderedUpdate = &apps.UnorderedUpdateStrategy{}
		}, []stsErr{stsRequired(ru + "unorderedUpdate")}},
		{"unorderedUpdate priority strategy", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.UnorderedUpdate = &apps.UnorderedUpdateStrategy{PriorityStrategy: &apps.UpdatePriorityStrategy{
				OrderPriority: []apps.UpdatePriorityOrderTerm{{OrderedKey: "rank"}},
				WeightPriority: []apps.UpdatePriorityWeightTerm{{Weight: 10,
					MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}}},
			}}
		}, []stsErr{stsForbidden(ru + "unorderedUpdate.priorityStrategy.orderPriority")}},
		{"inPlaceUpdateStrategy", func(s *apps.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate.InPlaceUpdateStrategy = &apps.InPlaceUpdateStrategy{GracePeriodSeconds: -1}
		}, []stsErr{stsInvalid(ru + "inPlaceUpdateStrategy.gracePeriodSeconds")}},

		{"retention policy enum", func(s *apps.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = "Keep"
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = ""
		}, []stsErr{
			stsNotSupported("spec.persistentVolumeClaimRetentionPolicy.whenDeleted"),
			stsNotSupported("spec.persistentVolumeClaimRetentionPolicy.whenScaled"),
		}},
		{"volumeClaimUpdateStrategy enum", func(s *apps.StatefulSet) { s.Spec.VolumeClaimUpdateStrategy.Type = "Always" },
			[]stsErr{stsNotSupported("spec.volumeClaimUpdateStrategy.type")}},

		{"replicas required", func(s *apps.StatefulSet) { s.Spec.Replicas = nil },
			[]stsErr{stsRequired("spec.replicas")}},
		{"replicas non-negative", func(s *apps.StatefulSet) { s.Spec.Replicas = ptr.To[int32](-1) },
			[]stsErr{stsInvalid("spec.replicas")}},
		{"revisionHistoryLimit non-negative", func(s *apps.StatefulSet) { s.Spec.RevisionHistoryLimit = ptr.To[int32](-1) },
			[]stsErr{stsInvalid("spec.revisionHistoryLimit")}},
		{"ordinals.start non-negative", func(s *apps.StatefulSet) { s.Spec.Ordinals = &apps.StatefulSetOrdinals{Start: -1} },
			[]stsErr{stsInvalid("spec.ordinals.start")}},
		{"serviceName is a DNS label", func(s *apps.StatefulSet) { s.Spec.ServiceName = "db.headless" },
			[]stsErr{stsInvalid("spec.serviceName")}},

		{"selector required", func(s *apps.StatefulSet) { s.Spec.Selector = nil },
			[]stsErr{stsRequired("spec.selector")}},
		{"selector not empty", func(s *apps.StatefulSet) { s.Spec.Selector = &metav1.LabelSelector{} },
			[]stsErr{stsInvalid("spec.selector")}},
		{"selector matches template labels", func(s *apps.StatefulSet) {
			s.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		}, []stsErr{stsInvalid("spec.template.metadata.labels")}},
		{"restartPolicy Always", func(s *apps.StatefulSet) { s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]stsErr{stsNotSupported("spec.template.spec.restartPolicy")}},
		{"activeDeadlineSeconds forbidden", func(s *apps.StatefulSet) {
			s.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](10)
		}, []stsErr{stsForbidden("spec.template.spec.activeDeadlineSeconds")}},
		{"pod template validated", func(s *apps.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "" },
			[]stsErr{stsRequired("spec.template.spec.containers[0].image")}},
		{"claim template validated", func(s *apps.StatefulSet) { s.Spec.VolumeClaimTemplates[0].Spec.AccessModes = nil },
			[]stsErr{stsRequired("spec.volumeClaimTemplates[0].spec.accessModes")}},
		{"mount needs a volume or claim template", func(s *apps.StatefulSet) { s.Spec.VolumeClaimTemplates = nil },
			[]stsErr{stsNotFound("spec.template.spec.containers[0].volumeMounts[0].name")}},
		{"lifecycle hooks", func(s *apps.StatefulSet) {
			s.Spec.Lifecycle = &apps.Lifecycle{PreDelete: &apps.LifecycleHook{FinalizersHandler: []string{"not a finalizer"}}}
		}, []stsErr{stsInvalid("spec.lifecycle.preDelete.finalizersHandler[0]")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sts := validStatefulSet()
			tc.modify(sts)
			checkStatefulSetErrors(t, ValidateStatefulSet(sts), tc.want)
		})
	}
}

func stsNotFound(f string) stsErr { return stsErr{field.ErrorTypeNotFound, f} }

func TestValidateStatefulSetUpdate(t *testing.T) {
	cases := []struct {
		name      string
		modifyOld func(*apps.StatefulSet)
		modify    func(*apps.StatefulSet)
		want      []stsErr
		message   string
	}{
		{name: "mutable fields", modify: func(s *apps.StatefulSet) {
			s.Spec.Replicas = ptr.To[int32](5)
			s.Spec.Ordinals = &apps.StatefulSetOrdinals{Start: 2}
			s.Spec.Template.Labels["tier"] = "backend"
			s.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
			s.Spec.ReserveOrdinals = []intstr.IntOrString{intstr.FromInt32(1)}
			s.Spec.Lifecycle = &apps.Lifecycle{}
			s.Spec.RevisionHistoryLimit = ptr.To[int32](3)
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = apps.DeletePersistentVolumeClaimRetentionPolicyType
			s.Spec.VolumeClaimTemplates = append(s.Spec.VolumeClaimTemplates, *s.Spec.VolumeClaimTemplates[0].DeepCopy())
			s.Spec.VolumeClaimTemplates[1].Name = "logs"
			s.Spec.VolumeClaimUpdateStrategy.Type = apps.OnPVCDeleteVolumeClaimUpdateStrategyType
			s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2)
			s.Spec.ScaleStrategy = &apps.StatefulSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromInt32(2))}
		}},
		{name: "old name is not revalidated", modifyOld: func(s *apps.StatefulSet) { s.Name = "db.example" },
			modify: func(s *apps.StatefulSet) { s.Name = "db.example" }},
		{name: "selector immutable", modify: func(s *apps.StatefulSet) {
			s.Spec.Selector.MatchLabels = map[string]string{"app": "db", "tier": "backend"}
			s.Spec.Template.Labels["tier"] = "backend"
		}, want: []stsErr{stsForbidden("spec")},
			message: "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'reserveOrdinals', 'lifecycle', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', `volumeClaimTemplates`, `VolumeClaimUpdateStrategy` and 'updateStrategy' are forbidden"},
		{name: "serviceName immutable", modify: func(s *apps.StatefulSet) { s.Spec.ServiceName = "db2" },
			want: []stsErr{stsForbidden("spec")}},
		{name: "podManagementPolicy immutable", modify: func(s *apps.StatefulSet) {
			s.Spec.PodManagementPolicy = apps.OrderedReadyPodManagement
		}, want: []stsErr{stsForbidden("spec")}},

		{name: "claim templates grow with OnPodRollingUpdate", modifyOld: onPodRollingUpdate, modify: func(s *apps.StatefulSet) {
			onPodRollingUpdate(s)
			s.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
			s.Spec.VolumeClaimTemplates[0].Labels = map[string]string{"size": "2Gi"}
		}},
		{name: "claim template added with OnPodRollingUpdate", modifyOld: onPodRollingUpdate, modify: func(s *apps.StatefulSet) {
			onPodRollingUpdate(s)
			s.Spec.VolumeClaimTemplates = append(s.Spec.VolumeClaimTemplates, *s.Spec.VolumeClaimTemplates[0].DeepCopy())
			s.Spec.VolumeClaimTemplates[1].Name = "logs"
		}, want: []stsErr{stsInvalid("spec.volumeClaimTemplates")}},
		{name: "claim template renamed with OnPodRollingUpdate", modifyOld: onPodRollingUpdate, modify: func(s *apps.StatefulSet) {
			onPodRollingUpdate(s)
			s.Spec.VolumeClaimTemplates[0].Name = "store"
			s.Spec.Template.Spec.Containers[0].VolumeMounts[0].Name = "store"
		}, want: []stsErr{stsForbidden("spec.volumeClaimTemplates[0].metadata.name")}},
		{name: "claim template access modes with OnPodRollingUpdate", modifyOld: onPodRollingUpdate, modify: func(s *apps.StatefulSet) {
			onPodRollingUpdate(s)
			s.Spec.VolumeClaimTemplates[0].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, want: []stsErr{stsInvalid("spec.volumeClaimTemplates[0]")}},
		{name: "claim template storage class with OnPodRollingUpdate", modifyOld: func(s *apps.StatefulSet) {
			onPodRollingUpdate(s)
			s.Spec.VolumeClaimTemplates[0].Spec.StorageClassName = ptr.To("ssd")
		}, modify: func(s *apps.StatefulSet) {
			onPodRollingUpdate(s)
			s.Spec.VolumeClaimTemplates[0].Spec.StorageClassName = ptr.To("hdd")
		}, want: []stsErr{stsInvalid("spec.volumeClaimTemplates[0]")}},

		{name: "InPlaceOnly allows image changes", modifyOld: inPlaceOnly, modify: func(s *apps.StatefulSet) {
			inPlaceOnly(s)
			s.Spec.Template.Spec.Containers[0].Image = "db:2"
			s.Spec.Template.Labels["version"] = "2"
		}},
		{name: "InPlaceOnly rejects other template changes", modifyOld: inPlaceOnly, modify: func(s *apps.StatefulSet) {
			inPlaceOnly(s)
			s.Spec.Template.Spec.Containers[0].Image = "db:2"
			s.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
		}, want: []stsErr{stsForbidden("spec.template")},
			message: "invalid template modified with InPlaceOnly strategy: add /containers/0/env, currently only image update is allowed for InPlaceOnly"},
		{name: "InPlaceOnly rejects image pull policy changes", modifyOld: inPlaceOnly, modify: func(s *apps.StatefulSet) {
			inPlaceOnly(s)
			s.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		}, want: []stsErr{stsForbidden("spec.template")},
			message: "invalid template modified with InPlaceOnly strategy: replace /containers/0/imagePullPolicy, currently only image update is allowed for InPlaceOnly"},
		{name: "InPlaceOnly rejects added containers", modifyOld: inPlaceOnly, modify: func(s *apps.StatefulSet) {
			inPlaceOnly(s)
			sidecar := *s.Spec.Template.Spec.Containers[0].DeepCopy()
			sidecar.Name = "sidecar"
			sidecar.VolumeMounts = nil
			s.Spec.Template.Spec.Containers = append(s.Spec.Template.Spec.Containers, sidecar)
		}, want: []stsErr{stsForbidden("spec.template")},
			message: "invalid template modified with InPlaceOnly strategy: add /containers/1, currently only image update is allowed for InPlaceOnly"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validStatefulSet()
			if tc.modifyOld != nil {
				tc.modifyOld(old)
			}
			sts := old.DeepCopy()
			if tc.modify != nil {
				tc.modify(sts)
			}
			errs := ValidateStatefulSetUpdate(sts, old)
			checkStatefulSetErrors(t, errs, tc.want)
			if tc.message != "" && len(errs) > 0 && errs[0].Detail != tc.message {
				t.Errorf("message\n got: %s\nwant: %s", errs[0].Detail, tc.message)
			}
		})
	}
}

func onPodRollingUpdate(s *apps.StatefulSet) {
	s.Spec.VolumeClaimUpdateStrategy.Type = apps.OnPodRollingUpdateVolumeClaimUpdateStrategyType
}

func inPlaceOnly(s *apps.StatefulSet) {
	s.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = apps.InPlaceOnlyPodUpdateStrategyType
}

func TestValidateStatefulSetStatusUpdate(t *testing.T) {
	cases := []struct {
		name      string
		modifyOld func(*apps.StatefulSetStatus)
		modify    func(*apps.StatefulSetStatus)
		want      []stsErr
	}{
		{name: "valid", modify: func(s *apps.StatefulSetStatus) {
			*s = apps.StatefulSetStatus{ObservedGeneration: 2, Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
				CurrentReplicas: 1, UpdatedReplicas: 2, UpdatedReadyReplicas: 2, UpdatedAvailableReplicas: 2,
				CollisionCount: ptr.To[int32](1),
				VolumeClaims:   []apps.VolumeClaimStatus{{VolumeClaimName: "data", CompatibleReplicas: 3, CompatibleReadyReplicas: 2}}}
		}},
		{name: "negative counters", modify: func(s *apps.StatefulSetStatus) {
			*s = apps.StatefulSetStatus{ObservedGeneration: -1, Replicas: -1, ReadyReplicas: -1, AvailableReplicas: -1,
				CurrentReplicas: -1, UpdatedReplicas: -1, UpdatedReadyReplicas: -1, UpdatedAvailableReplicas: -1,
				CollisionCount: ptr.To[int32](-1),
				VolumeClaims:   []apps.VolumeClaimStatus{{VolumeClaimName: "data", CompatibleReplicas: -1, CompatibleReadyReplicas: -1}}}
		}, want: []stsErr{
			stsInvalid("status.observedGeneration"), stsInvalid("status.replicas"), stsInvalid("status.readyReplicas"),
			stsInvalid("status.availableReplicas"), stsInvalid("status.currentReplicas"), stsInvalid("status.updatedReplicas"),
			stsInvalid("status.updatedReadyReplicas"), stsInvalid("status.updatedAvailableReplicas"),
			stsInvalid("status.collisionCount"),
			stsInvalid("status.volumeClaims[0].compatibleReplicas"), stsInvalid("status.volumeClaims[0].compatibleReadyReplicas"),
		}},
		{name: "collisionCount not decremented",
			modifyOld: func(s *apps.StatefulSetStatus) { s.CollisionCount = ptr.To[int32](2) },
			modify:    func(s *apps.StatefulSetStatus) { s.CollisionCount = ptr.To[int32](1) },
			want:      []stsErr{stsInvalid("status.collisionCount")}},
		{name: "collisionCount not cleared",
			modifyOld: func(s *apps.StatefulSetStatus) { s.CollisionCount = ptr.To[int32](2) },
			modify:    func(s *apps.StatefulSetStatus) { s.CollisionCount = nil },
			want:      []stsErr{stsInvalid("status.collisionCount")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validStatefulSet()
			if tc.modifyOld != nil {
				tc.modifyOld(&old.Status)
			}
			sts := old.DeepCopy()
			tc.modify(&sts.Status)
			checkStatefulSetErrors(t, ValidateStatefulSetStatusUpdate(sts, old), tc.want)
		})
	}
}
