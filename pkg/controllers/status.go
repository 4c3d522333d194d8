package controllers

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TimeAsStored returns a copy of t as the API server stores it: to the
// second (RFC 3339). A status computed now compares equal to the one read
// back only once its times are rounded so; nil stays nil.
func TimeAsStored(t *metav1.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	stored := t.Rfc3339Copy()
	return &stored
}
