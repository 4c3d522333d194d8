package fieldpaths

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
)

var rules = map[string][]Rule{
	"v1alpha1": {
		{From: "spec.updateStrategy.rollingUpdate.podUpdatePolicy", To: "spec.updateStrategy.type"},
		{From: "spec.updateStrategy.rollingUpdate", To: "spec.updateStrategy"},
	},
}

func errorsAt(paths ...string) field.ErrorList {
	var errs field.ErrorList
	for _, p := range paths {
		errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: p})
	}
	return errs
}

func TestForRequestVersion(t *testing.T) {
	ctx := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{APIVersion: "v1alpha1"})
	got := ForRequestVersion(ctx, rules, errorsAt(
		"spec.updateStrategy.rollingUpdate.podUpdatePolicy",
		"spec.updateStrategy.rollingUpdate.maxSurge",
		"spec.updateStrategy.rollingUpdateX",
		"spec.replicas",
		"spec.updateStrategy.rollingUpdate.priorityStrategy.weightPriority[0].weight",
	))
	want := []string{
		"spec.updateStrategy.type",
		"spec.updateStrategy.maxSurge",
		"spec.updateStrategy.rollingUpdateX",
		"spec.replicas",
		"spec.updateStrategy.priorityStrategy.weightPriority[0].weight",
	}
	for i, err := range got {
		if err.Field != want[i] {
			t.Errorf("error %d: got %s, want %s", i, err.Field, want[i])
		}
	}
}

func TestForRequestVersionLeavesOtherVersions(t *testing.T) {
	for _, ctx := range []context.Context{
		context.Background(),
		genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{APIVersion: "v1beta1"}),
	} {
		got := ForRequestVersion(ctx, rules, errorsAt("spec.updateStrategy.rollingUpdate.maxSurge"))
		if got[0].Field != "spec.updateStrategy.rollingUpdate.maxSurge" {
			t.Errorf("rewrote to %s", got[0].Field)
		}
	}
}
