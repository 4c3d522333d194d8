package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func validClaimTemplates() []corev1.PersistentVolumeClaim {
	return []corev1.PersistentVolumeClaim{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: map[string]string{"app": "zk"}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptr.To("ssd"),
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q("20Gi")}},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "datalog"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod},
				VolumeMode:  ptr.To(corev1.PersistentVolumeBlock),
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: q("10Gi")},
					Limits:   corev1.ResourceList{corev1.ResourceStorage: q("20Gi")},
				},
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "fast"}},
			},
		},
	}
}

func TestVolumeClaimTemplates(t *testing.T) {
	const p = "spec.volumeClaimTemplates"
	cases := []struct {
		name   string
		mutate func([]corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim
		want   []expectedError
	}{
		{"valid", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim { return c }, nil},
		{"none", func([]corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim { return nil }, nil},
		{"missing name", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim { c[0].Name = ""; return c },
			[]expectedError{required(p + "[0].metadata.name")}},
		{"invalid name", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim { c[0].Name = "Data_1"; return c },
			[]expectedError{invalid(p + "[0].metadata.name")}},
		{"subdomain name is fine", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim { c[0].Name = "data.v2"; return c }, nil},
		{"duplicate name", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim { c[1].Name = "data"; return c },
			[]expectedError{duplicate(p + "[1].metadata.name")}},
		{"bad label", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Labels["a b"] = "x"
			return c
		},
			[]expectedError{invalid(p + "[0].metadata.labels")}},
		{"no access modes", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.AccessModes = nil
			return c
		},
			[]expectedError{required(p + "[0].spec.accessModes")}},
		{"bad access mode", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.AccessModes = append(c[0].Spec.AccessModes, "ReadWriteSometimes")
			return c
		}, []expectedError{notSupported(p + "[0].spec.accessModes[1]")}},
		{"all access modes", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany}
			return c
		}, nil},
		{"ReadWriteOncePod with others", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[1].Spec.AccessModes = append(c[1].Spec.AccessModes, corev1.ReadWriteOnce)
			return c
		}, []expectedError{forbidden(p + "[1].spec.accessModes")}},
		{"no storage request", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.Resources.Requests = nil
			return c
		}, []expectedError{required(p + "[0].spec.resources.requests[storage]")}},
		{"zero storage request", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.Resources.Requests[corev1.ResourceStorage] = q("0")
			return c
		}, []expectedError{invalid(p + "[0].spec.resources.requests[storage]")}},
		{"negative storage request", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.Resources.Requests[corev1.ResourceStorage] = q("-1Gi")
			return c
		}, []expectedError{invalid(p + "[0].spec.resources.requests[storage]")}},
		{"storage still required with a data source", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.Resources.Requests = nil
			c[0].Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "golden"}
			return c
		}, []expectedError{required(p + "[0].spec.resources.requests[storage]")}},
		{"snapshot data source", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: ptr.To("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "snap-1"}
			c[0].Spec.DataSourceRef = &corev1.TypedObjectReference{APIGroup: ptr.To("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "snap-1"}
			return c
		}, nil},
		{"data source without name", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim"}
			return c
		}, []expectedError{required(p + "[0].spec.dataSource.name")}},
		{"core data source of another kind", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "Secret", Name: "s"}
			return c
		}, []expectedError{notSupported(p + "[0].spec.dataSource")}},
		{"dataSource differs from dataSourceRef", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "a"}
			c[0].Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "b"}
			return c
		}, []expectedError{invalid(p + "[0].spec.dataSource")}},
		{"bad volumeMode", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.VolumeMode = ptr.To(corev1.PersistentVolumeMode("Raw"))
			return c
		}, []expectedError{notSupported(p + "[0].spec.volumeMode")}},
		{"bad storageClassName", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.StorageClassName = ptr.To("Fast SSD")
			return c
		}, []expectedError{invalid(p + "[0].spec.storageClassName")}},
		{"empty storageClassName disables dynamic provisioning", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[0].Spec.StorageClassName = ptr.To("")
			return c
		}, nil},
		{"bad selector", func(c []corev1.PersistentVolumeClaim) []corev1.PersistentVolumeClaim {
			c[1].Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}
			return c
		}, []expectedError{invalid(p + "[1].spec.selector.matchExpressions[0].operator")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidatePersistentVolumeClaimTemplates(tc.mutate(validClaimTemplates()), field.NewPath("spec", "volumeClaimTemplates"))
			checkErrors(t, errs, tc.want)
		})
	}
}

func TestVolumeClaimTemplateNames(t *testing.T) {
	got := VolumeClaimTemplateNames(append(validClaimTemplates(), corev1.PersistentVolumeClaim{}))
	if !got.Equal(sets.New("data", "datalog")) {
		t.Errorf("got %v", sets.List(got))
	}
}
