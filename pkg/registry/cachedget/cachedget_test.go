package cachedget

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/request"
)

func TestReadOnlyGet(t *testing.T) {
	clonesets := schema.GroupResource{Group: "apps.kruise.io", Resource: "clonesets"}
	get := func(group, resource, subresource string) *request.RequestInfo {
		return &request.RequestInfo{IsResourceRequest: true, Verb: "get", APIGroup: group, Resource: resource, Subresource: subresource, Name: "web"}
	}
	for _, tc := range []struct {
		name string
		info *request.RequestInfo
		want bool
	}{
		{"GET of the object", get("apps.kruise.io", "clonesets", ""), true},
		{"GET of its status", get("apps.kruise.io", "clonesets", "status"), true},
		{"GET of its scale", get("apps.kruise.io", "clonesets", "scale"), true},
		{"GET of another subresource", get("apps.kruise.io", "clonesets", "eviction"), false},
		{"GET of another resource", get("apps.kruise.io", "workloadspreads", ""), false},
		{"GET of the same resource name in another group", get("apps", "clonesets", ""), false},
		{"DELETE", &request.RequestInfo{IsResourceRequest: true, Verb: "delete", APIGroup: "apps.kruise.io", Resource: "clonesets", Name: "web"}, false},
		{"UPDATE", &request.RequestInfo{IsResourceRequest: true, Verb: "update", APIGroup: "apps.kruise.io", Resource: "clonesets", Name: "web"}, false},
		{"PATCH of the scale", &request.RequestInfo{IsResourceRequest: true, Verb: "patch", APIGroup: "apps.kruise.io", Resource: "clonesets", Subresource: "scale", Name: "web"}, false},
		{"non-resource request", &request.RequestInfo{Verb: "get", Path: "/healthz"}, false},
		{"no request", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.info != nil {
				ctx = request.WithRequestInfo(ctx, tc.info)
			}
			if got := readOnlyGet(ctx, clonesets); got != tc.want {
				t.Errorf("readOnlyGet = %v, want %v", got, tc.want)
			}
		})
	}
}
