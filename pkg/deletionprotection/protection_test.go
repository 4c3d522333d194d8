package deletionprotection

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func object(value string, deleting bool) *metav1.ObjectMeta {
	meta := &metav1.ObjectMeta{Name: "x"}
	if value != "" {
		meta.Labels = map[string]string{LabelKey: value, "app": "x"}
	}
	if deleting {
		meta.DeletionTimestamp = ptr.To(metav1.Now())
	}
	return meta
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		meta    *metav1.ObjectMeta
		cascade Cascade
		want    string
	}{
		{"no label", object("", false), Replicas(ptr.To[int32](3)), ""},
		{"always", object(Always, false), nil, "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always"},
		{"always with replicas", object(Always, false), Replicas(ptr.To[int32](0)), "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always"},
		{"cascading with replicas", object(Cascading, false), Replicas(ptr.To[int32](3)), "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Cascading and replicas 3>0"},
		{"cascading scaled to zero", object(Cascading, false), Replicas(ptr.To[int32](0)), ""},
		{"cascading nil replicas", object(Cascading, false), Replicas(nil), ""},
		{"cascading unsupported", object(Cascading, false), nil, ""},
		{"unknown value", object("always", false), Replicas(ptr.To[int32](3)), ""},
		{"already deleting", object(Always, true), nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(tc.meta, tc.cascade)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckPassesCascadeErrors(t *testing.T) {
	boom := errors.New("listing pods failed")
	_, err := Check(object(Cascading, false), func() (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestValidateLabel(t *testing.T) {
	path := field.NewPath("metadata", "labels")
	for _, ok := range []map[string]string{nil, {"a": "b"}, {LabelKey: Always}, {LabelKey: Cascading}} {
		if errs := ValidateLabel(ok, path); len(errs) != 0 {
			t.Errorf("%v: %v", ok, errs)
		}
	}
	errs := ValidateLabel(map[string]string{LabelKey: "always"}, path)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeNotSupported || errs[0].Field != "metadata.labels[policy.kruise.io/delete-protection]" {
		t.Fatalf("got %v", errs)
	}
}

func count(n int, err error) func() (int, error) {
	return func() (int, error) { return n, err }
}

func TestNamespaceCascade(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name          string
		pods, claims  func() (int, error)
		want, wantErr string
	}{
		{"empty", count(0, nil), count(0, nil), "", ""},
		{"pods", count(2, nil), count(3, nil), "active pods 2>0", ""},
		{"claims", count(0, nil), count(1, nil), `"Bound" status pvc 1>0`, ""},
		{"pods failed", count(0, boom), count(1, nil), "", "forbidden by ResourcesProtectionDeletion for list pods error: boom"},
		{"pods first, claims not listed", count(1, nil), count(0, boom), "active pods 1>0", ""},
		{"claims failed", count(0, nil), count(0, boom), "", "forbidden by ResourcesProtectionDeletion for list pvc error: boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Namespace(tc.pods, tc.claims)()
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	reason, _ := Check(object(Cascading, false), Namespace(count(2, nil), count(0, nil)))
	if want := "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Cascading and active pods 2>0"; reason != want {
		t.Fatalf("got %q, want %q", reason, want)
	}
}

type listName string

func (l listName) String() string { return string(l) }

func TestCustomResourceDefinitionCascade(t *testing.T) {
	got, err := CustomResourceDefinition(listName("example.com/v1, Kind=WidgetList"), count(3, nil))()
	if err != nil || got != "active CRs 3>0" {
		t.Fatalf("got %q, %v", got, err)
	}
	got, err = CustomResourceDefinition(listName("example.com/v1, Kind=WidgetList"), count(0, nil))()
	if err != nil || got != "" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = CustomResourceDefinition(listName("example.com/v1, Kind=WidgetList"), count(0, errors.New("forbidden")))()
	if err == nil || err.Error() != "failed to list CRs of example.com/v1, Kind=WidgetList: forbidden" {
		t.Fatalf("got %v", err)
	}
}

func TestPodActiveAndClaimBound(t *testing.T) {
	now := ptr.To(metav1.Now())
	for _, tc := range []struct {
		pod  corev1.Pod
		want bool
	}{
		{corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, true},
		{corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, true},
		{corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodUnknown}}, true},
		{corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, false},
		{corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, false},
		{corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: now}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}, false},
	} {
		if got := PodActive(&tc.pod); got != tc.want {
			t.Errorf("PodActive(phase %s, deleting %v) = %v", tc.pod.Status.Phase, tc.pod.DeletionTimestamp != nil, got)
		}
	}
	for _, tc := range []struct {
		claim corev1.PersistentVolumeClaim
		want  bool
	}{
		{corev1.PersistentVolumeClaim{Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}, true},
		{corev1.PersistentVolumeClaim{Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}, false},
		{corev1.PersistentVolumeClaim{Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimLost}}, false},
		{corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: now}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}, false},
	} {
		if got := ClaimBound(&tc.claim); got != tc.want {
			t.Errorf("ClaimBound(phase %s, deleting %v) = %v", tc.claim.Status.Phase, tc.claim.DeletionTimestamp != nil, got)
		}
	}
}
