// Package validation validates the Kubernetes core/v1 types that OpenKruise
// workloads embed: pod templates (spec.template) and PersistentVolumeClaim
// templates (spec.volumeClaimTemplates).
//
// Kubernetes validates these with its internal validation package
// (k8s.io/kubernetes/pkg/apis/core/validation), which cannot be imported
// without pulling in k8s.io/kubernetes. This package re-implements the rules
// on the versioned v1 types, following the upstream rules, field paths and
// error types (field.Required for missing values, field.Invalid with the bad
// value, field.NotSupported with the allowed values of enums,
// field.Duplicate and field.Forbidden), so that a bad template is rejected
// with a 422 naming the field instead of being stored and failing later when
// the workload controller creates pods.
//
// Unlike upstream, validation runs on objects that have not been defaulted:
// enum fields that Kubernetes defaults (restartPolicy, dnsPolicy,
// imagePullPolicy, terminationMessagePolicy, protocol, httpGet scheme/path,
// probe thresholds, ...) are accepted when empty.
package validation
