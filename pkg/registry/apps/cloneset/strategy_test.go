package cloneset

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/install"
)

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return scheme
}

func newStrategies(t *testing.T) (cloneSetStrategy, cloneSetStatusStrategy) {
	t.Helper()
	strategy := NewStrategy(newScheme())
	return strategy, NewStatusStrategy(strategy)
}

// versionCtx is the context of a request made at version ("" for none).
func versionCtx(version string) context.Context {
	if version == "" {
		return context.Background()
	}
	return genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{
		APIGroup: apps.GroupName, APIVersion: version, Resource: "clonesets",
	})
}

// newCloneSet is a hub CloneSet as it looks after defaulting.
func newCloneSet() *apps.CloneSet {
	return &apps.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: "default", ResourceVersion: "1", Labels: map[string]string{"app": "sample"}},
		Spec: apps.CloneSetSpec{
			Replicas: ptr.To[int32](5),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "sample"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "sample"}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyAlways,
					DNSPolicy:     corev1.DNSClusterFirst,
					Containers: []corev1.Container{{
						Name:                     "nginx",
						Image:                    "nginx:alpine",
						ImagePullPolicy:          corev1.PullIfNotPresent,
						TerminationMessagePath:   corev1.TerminationMessagePathDefault,
						TerminationMessagePolicy: corev1.TerminationMessageReadFile,
					}},
				},
			},
			UpdateStrategy: apps.CloneSetUpdateStrategy{
				Type: apps.RollingUpdateCloneSetUpdateStrategyType,
				RollingUpdate: &apps.RollingUpdateCloneSetStrategy{
					PodUpdatePolicy:       apps.InPlaceIfPossibleCloneSetPodUpdateStrategyType,
					Partition:             ptr.To(intstr.FromInt32(0)),
					MaxUnavailable:        ptr.To(intstr.FromString(apps.DefaultCloneSetMaxUnavailable)),
					MaxSurge:              ptr.To(intstr.FromInt32(0)),
					InPlaceUpdateStrategy: &apps.InPlaceUpdateStrategy{},
				},
			},
			RevisionHistoryLimit: ptr.To[int32](10),
		},
	}
}

func newStatus() apps.CloneSetStatus {
	return apps.CloneSetStatus{
		ObservedGeneration: 2, Replicas: 5, ReadyReplicas: 5, AvailableReplicas: 5,
		UpdatedReplicas: 5, UpdatedReadyReplicas: 5, UpdatedAvailableReplicas: 5, ExpectedUpdatedReplicas: 5,
		UpdateRevision: "sample-7b9c5d", CurrentRevision: "sample-7b9c5d", CollisionCount: ptr.To[int32](1),
		LabelSelector: "app=sample",
	}
}

func TestPrepareForCreate(t *testing.T) {
	strategy, _ := newStrategies(t)
	cs := newCloneSet()
	cs.Status = newStatus()
	cs.Generation = 7
	strategy.PrepareForCreate(context.TODO(), cs)
	if !apiequality.Semantic.DeepEqual(cs.Status, apps.CloneSetStatus{}) {
		t.Errorf("status not reset: %+v", cs.Status)
	}
	if cs.Generation != 1 {
		t.Errorf("generation = %d, want 1", cs.Generation)
	}
	if !apiequality.Semantic.DeepEqual(cs.Spec, newCloneSet().Spec) {
		t.Errorf("spec changed on create: %+v", cs.Spec)
	}
	if errs := strategy.Validate(context.TODO(), cs); len(errs) > 0 {
		t.Errorf("valid cloneset rejected: %v", errs)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	strategy, _ := newStrategies(t)
	newOld := func() *apps.CloneSet {
		old := newCloneSet()
		old.Generation = 2
		old.Status = newStatus()
		return old
	}

	for _, tc := range []struct {
		name           string
		change         func(cs *apps.CloneSet)
		wantGeneration int64
	}{
		{name: "nothing", change: func(*apps.CloneSet) {}, wantGeneration: 2},
		{name: "labels", change: func(cs *apps.CloneSet) { cs.Labels = map[string]string{"app": "sample", "team": "web"} }, wantGeneration: 2},
		{name: "annotations", change: func(cs *apps.CloneSet) { cs.Annotations = map[string]string{"note": "scaled by hand"} }, wantGeneration: 2},
		{name: "replicas", change: func(cs *apps.CloneSet) { cs.Spec.Replicas = ptr.To[int32](8) }, wantGeneration: 3},
		{name: "template", change: func(cs *apps.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = "nginx:1.26" }, wantGeneration: 3},
		{name: "paused", change: func(cs *apps.CloneSet) { cs.Spec.UpdateStrategy.RollingUpdate.Paused = true }, wantGeneration: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := newOld()
			cs := old.DeepCopy()
			tc.change(cs)
			cs.Status = apps.CloneSetStatus{Replicas: 99, CollisionCount: ptr.To[int32](0)}
			strategy.PrepareForUpdate(context.TODO(), cs, old)
			if !apiequality.Semantic.DeepEqual(cs.Status, old.Status) {
				t.Errorf("status changed through the main resource: %+v", cs.Status)
			}
			if cs.Generation != tc.wantGeneration {
				t.Errorf("generation = %d, want %d", cs.Generation, tc.wantGeneration)
			}
			if errs := strategy.ValidateUpdate(context.TODO(), cs, old); len(errs) > 0 {
				t.Errorf("valid update rejected: %v", errs)
			}
		})
	}
}

func TestStatusPrepareForUpdate(t *testing.T) {
	_, statusStrategy := newStrategies(t)
	old := newCloneSet()
	old.Generation = 2
	old.Status = newStatus()

	cs := old.DeepCopy()
	cs.Spec.Replicas = ptr.To[int32](10)
	cs.Spec.Selector = nil
	cs.Labels = map[string]string{"app": "other"}
	cs.Annotations = map[string]string{"note": "from the controller"}
	cs.Status.ObservedGeneration = 2
	cs.Status.ReadyReplicas = 3
	cs.Status.CollisionCount = ptr.To[int32](2)
	want := cs.Status.DeepCopy()

	statusStrategy.PrepareForUpdate(context.TODO(), cs, old)
	if !apiequality.Semantic.DeepEqual(cs.Spec, old.Spec) {
		t.Errorf("spec changed through /status: %+v", cs.Spec)
	}
	if !apiequality.Semantic.DeepEqual(cs.Labels, old.Labels) {
		t.Errorf("labels changed through /status: %v", cs.Labels)
	}
	if !apiequality.Semantic.DeepEqual(cs.Status, *want) {
		t.Errorf("status not taken: %+v", cs.Status)
	}
	if cs.Generation != 2 {
		t.Errorf("generation = %d, want 2", cs.Generation)
	}
	if errs := statusStrategy.ValidateUpdate(context.TODO(), cs, old); len(errs) > 0 {
		t.Errorf("valid status rejected: %v", errs)
	}
}

func TestStatusValidateUpdate(t *testing.T) {
	_, statusStrategy := newStrategies(t)
	for _, tc := range []struct {
		name   string
		change func(s *apps.CloneSetStatus)
		want   string
	}{
		{name: "negative readyReplicas", change: func(s *apps.CloneSetStatus) { s.ReadyReplicas = -1 }, want: "status.readyReplicas"},
		{name: "collisionCount decremented", change: func(s *apps.CloneSetStatus) { s.CollisionCount = ptr.To[int32](0) }, want: "status.collisionCount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := newCloneSet()
			old.Status = newStatus()
			cs := old.DeepCopy()
			tc.change(&cs.Status)
			// /status is reported at the same path whatever the version.
			for _, version := range []string{"v1alpha1", "v1beta1"} {
				statusStrategy.PrepareForUpdate(versionCtx(version), cs, old)
				errs := statusStrategy.ValidateUpdate(versionCtx(version), cs, old)
				if len(errs) != 1 || errs[0].Type != field.ErrorTypeInvalid || errs[0].Field != tc.want {
					t.Errorf("%s: got %v, want one Invalid at %s", version, errs, tc.want)
				}
			}
		})
	}
}

// TestValidatePathsByVersion checks that errors found on the hub are reported
// at the path of the version the client wrote.
func TestValidatePathsByVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(cs *apps.CloneSet)
		errType field.ErrorType
		hub     string // the path for v1beta1 and for requests without version
		alpha   string // the path for v1alpha1
	}{
		{
			name:    "unsupported podUpdatePolicy",
			change:  func(cs *apps.CloneSet) { cs.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = "Rolling" },
			errType: field.ErrorTypeNotSupported,
			hub:     "spec.updateStrategy.rollingUpdate.podUpdatePolicy",
			alpha:   "spec.updateStrategy.type",
		},
		{
			name:    "missing podUpdatePolicy",
			change:  func(cs *apps.CloneSet) { cs.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = "" },
			errType: field.ErrorTypeRequired,
			hub:     "spec.updateStrategy.rollingUpdate.podUpdatePolicy",
			alpha:   "spec.updateStrategy.type",
		},
		{
			name: "malformed maxSurge",
			change: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("5x"))
			},
			errType: field.ErrorTypeInvalid,
			hub:     "spec.updateStrategy.rollingUpdate.maxSurge",
			alpha:   "spec.updateStrategy.maxSurge",
		},
		{
			name: "maxSurge with InPlaceOnly",
			change: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = apps.InPlaceOnlyCloneSetPodUpdateStrategyType
				cs.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(1))
			},
			errType: field.ErrorTypeInvalid,
			hub:     "spec.updateStrategy.rollingUpdate.maxSurge",
			alpha:   "spec.updateStrategy.maxSurge",
		},
		{
			name: "priority weight out of range",
			change: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy.RollingUpdate.PriorityStrategy = &apps.UpdatePriorityStrategy{WeightPriority: []apps.UpdatePriorityWeightTerm{{
					Weight: 101, MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"zone": "a"}},
				}}}
			},
			errType: field.ErrorTypeInvalid,
			hub:     "spec.updateStrategy.rollingUpdate.priorityStrategy.weightPriority[0].weight",
			alpha:   "spec.updateStrategy.priorityStrategy.weightPriority[0].weight",
		},
		{
			name: "negative in-place grace period",
			change: func(cs *apps.CloneSet) {
				cs.Spec.UpdateStrategy.RollingUpdate.InPlaceUpdateStrategy.GracePeriodSeconds = -1
			},
			errType: field.ErrorTypeInvalid,
			hub:     "spec.updateStrategy.rollingUpdate.inPlaceUpdateStrategy.gracePeriodSeconds",
			alpha:   "spec.updateStrategy.inPlaceUpdateStrategy.gracePeriodSeconds",
		},
		{
			name:    "unsupported update type",
			change:  func(cs *apps.CloneSet) { cs.Spec.UpdateStrategy.Type = "Canary" },
			errType: field.ErrorTypeNotSupported,
			hub:     "spec.updateStrategy.type",
			alpha:   "spec.updateStrategy.type",
		},
		{
			name:    "negative replicas",
			change:  func(cs *apps.CloneSet) { cs.Spec.Replicas = ptr.To[int32](-1) },
			errType: field.ErrorTypeInvalid,
			hub:     "spec.replicas",
			alpha:   "spec.replicas",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strategy, _ := newStrategies(t)
			for _, version := range []string{"", "v1beta1", "v1alpha1"} {
				want := tc.hub
				if version == "v1alpha1" {
					want = tc.alpha
				}
				check := func(op string, errs field.ErrorList) {
					t.Helper()
					if len(errs) != 1 || errs[0].Type != tc.errType || errs[0].Field != want {
						t.Errorf("%s at %q: got %v, want one %s at %s", op, version, errs, tc.errType, want)
					}
				}

				cs := newCloneSet()
				tc.change(cs)
				check("create", strategy.Validate(versionCtx(version), cs))

				old := newCloneSet()
				cs = old.DeepCopy()
				tc.change(cs)
				check("update", strategy.ValidateUpdate(versionCtx(version), cs, old))
			}
		})
	}
}

func TestValidateUpdateForbiddenSelector(t *testing.T) {
	strategy, _ := newStrategies(t)
	for _, version := range []string{"v1alpha1", "v1beta1"} {
		old := newCloneSet()
		cs := old.DeepCopy()
		cs.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
		errs := strategy.ValidateUpdate(versionCtx(version), cs, old)
		if len(errs) != 1 || errs[0].Type != field.ErrorTypeForbidden || errs[0].Field != "spec" {
			t.Errorf("%s: got %v, want one Forbidden at spec", version, errs)
		}
	}
}

// TestValidateV1alpha1Request decodes what a v1alpha1 client sends, as the
// server does, and checks that the error names the field the client wrote.
func TestValidateV1alpha1Request(t *testing.T) {
	scheme := newScheme()
	strategy := NewStrategy(scheme)
	body := `{
  "apiVersion": "apps.kruise.io/v1alpha1",
  "kind": "CloneSet",
  "metadata": {"name": "sample", "namespace": "default"},
  "spec": {
    "replicas": 3,
    "selector": {"matchLabels": {"app": "sample"}},
    "template": {
      "metadata": {"labels": {"app": "sample"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:alpine"}]}
    },
    "updateStrategy": {"type": "InPlaceSometimes", "maxSurge": "5x"}
  }
}`
	obj, _, err := serializer.NewCodecFactory(scheme).UniversalDecoder(apps.SchemeGroupVersion).Decode([]byte(body), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := strategy.Validate(versionCtx("v1alpha1"), obj)
	var got []string
	for _, e := range errs {
		got = append(got, string(e.Type)+" "+e.Field)
	}
	want := []string{
		string(field.ErrorTypeNotSupported) + " spec.updateStrategy.type",
		string(field.ErrorTypeInvalid) + " spec.updateStrategy.maxSurge",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestWarnings(t *testing.T) {
	strategy, statusStrategy := newStrategies(t)
	annotations := []string{
		apps.LegacyImagePreDownloadParallelismAnnotation,
		apps.LegacyImagePreDownloadTimeoutSecondsAnnotation,
		apps.LegacyImagePreDownloadMinUpdatedReadyAnnotation,
	}

	cs := newCloneSet()
	if w := strategy.WarningsOnCreate(context.TODO(), cs); len(w) != 0 {
		t.Errorf("warnings for a clean cloneset: %v", w)
	}

	cs.Labels[apps.LegacyExcludePreparingDeleteLabel] = "true"
	w := strategy.WarningsOnCreate(context.TODO(), cs)
	if len(w) != 1 || !strings.Contains(w[0], apps.LegacyExcludePreparingDeleteLabel) || !strings.Contains(w[0], "spec.scaleStrategy.excludePreparingDelete") {
		t.Errorf("legacy label: got %v", w)
	}

	for _, key := range annotations {
		cs := newCloneSet()
		cs.Annotations = map[string]string{key: "1"}
		w := strategy.WarningsOnCreate(context.TODO(), cs)
		if len(w) != 1 || !strings.Contains(w[0], key) || !strings.Contains(w[0], "inPlaceUpdateStrategy") {
			t.Errorf("annotation %s: got %v", key, w)
		}
	}

	cs = newCloneSet()
	cs.Labels[apps.LegacyExcludePreparingDeleteLabel] = "true"
	cs.Annotations = map[string]string{}
	for _, key := range annotations {
		cs.Annotations[key] = "1"
	}
	if w := strategy.WarningsOnCreate(context.TODO(), cs); len(w) != 4 {
		t.Errorf("all legacy keys: got %d warnings, want 4: %v", len(w), w)
	}
	if w := strategy.WarningsOnUpdate(context.TODO(), cs, newCloneSet()); len(w) != 4 {
		t.Errorf("all legacy keys on update: got %d warnings, want 4: %v", len(w), w)
	}
	if w := statusStrategy.WarningsOnUpdate(context.TODO(), cs, cs.DeepCopy()); w != nil {
		t.Errorf("/status warns: %v", w)
	}
}

func TestResetFields(t *testing.T) {
	strategy, statusStrategy := newStrategies(t)
	status := fieldpath.MakePathOrDie("status")
	spec := fieldpath.MakePathOrDie("spec")
	labels := fieldpath.MakePathOrDie("metadata", "labels")
	for _, version := range []string{"v1alpha1", "v1beta1"} {
		apiVersion := fieldpath.APIVersion("apps.kruise.io/" + version)
		set := strategy.GetResetFields()[apiVersion]
		if set == nil || !set.Has(status) || set.Has(spec) {
			t.Errorf("%s: main resource must reset status only, resets %v", version, set)
		}
		set = statusStrategy.GetResetFields()[apiVersion]
		if set == nil || !set.Has(spec) || !set.Has(labels) || set.Has(status) {
			t.Errorf("%s: /status must reset spec and labels, resets %v", version, set)
		}
	}
	if n := len(strategy.GetResetFields()); n != 2 {
		t.Errorf("main resource resets fields for %d versions, want 2", n)
	}
}

func TestStrategyFlags(t *testing.T) {
	strategy, _ := newStrategies(t)
	if !strategy.NamespaceScoped() {
		t.Error("clonesets are namespaced")
	}
	if strategy.AllowCreateOnUpdate(context.TODO()) {
		t.Error("clonesets must not be created by update")
	}
	if !strategy.AllowUnconditionalUpdate(context.TODO()) {
		t.Error("clonesets allow unconditional updates")
	}
}
