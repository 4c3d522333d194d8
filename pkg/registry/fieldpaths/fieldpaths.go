// Package fieldpaths holds the field-path plumbing the registry strategies
// share: the reset fields of server-side apply per served version, and
// reporting validation errors, found on the hub, at the path of the version
// the client used.
package fieldpaths

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// ServedVersions are the versions every kind of ours is served at.
var ServedVersions = []string{"v1alpha1", "v1beta1"}

// ResetFields returns, for each served version of group, the set of paths a
// strategy resets, for the field manager of server-side apply.
func ResetFields(group string, paths ...fieldpath.Path) map[fieldpath.APIVersion]*fieldpath.Set {
	out := make(map[fieldpath.APIVersion]*fieldpath.Set, len(ServedVersions))
	for _, version := range ServedVersions {
		out[fieldpath.APIVersion(group+"/"+version)] = fieldpath.NewSet(paths...)
	}
	return out
}

// Rule moves an error path starting with From (a dotted hub path) to To.
type Rule struct {
	From string
	To   string
}

// ForRequestVersion rewrites the paths of errs for the API version of the
// request in ctx, using the first matching rule of rulesByVersion for each
// error. Errors found on the hub name hub paths; where a version lays a
// field out differently, its clients should see the path they wrote.
func ForRequestVersion(ctx context.Context, rulesByVersion map[string][]Rule, errs field.ErrorList) field.ErrorList {
	info, ok := genericapirequest.RequestInfoFrom(ctx)
	if !ok {
		return errs
	}
	rules := rulesByVersion[info.APIVersion]
	if len(rules) == 0 {
		return errs
	}
	for _, err := range errs {
		for _, rule := range rules {
			if err.Field == rule.From {
				err.Field = rule.To
				break
			}
			if rest, ok := strings.CutPrefix(err.Field, rule.From); ok && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "[")) {
				err.Field = rule.To + rest
				break
			}
		}
	}
	return errs
}
