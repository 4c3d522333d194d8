package integration

import (
	"fmt"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// kind describes one served kind for the tests that run over every kind.
type kind struct {
	name       string // Kind
	resource   string // plural
	group      string
	namespaced bool
	// workload kinds have spec.replicas, which Cascading protection and
	// /scale use.
	workload bool
	scale    bool
	// manifests are minimal valid objects at each served version.
	manifests map[string]string
	// invalid breaks a valid object; the server must answer 422 naming
	// every path in invalidPaths (at the version written).
	invalid      func(obj *unstructured.Unstructured)
	invalidPaths []string
	// specChange changes the spec in a valid way.
	specChange func(obj *unstructured.Unstructured)
	// distinct, when set, makes an object's spec its own, for kinds that
	// refuse two objects selecting the same things.
	distinct func(obj *unstructured.Unstructured)
	// statusCounter is an integer status field the status tests write
	// (status.observedGeneration when nil).
	statusCounter []string
	// normalize, when set, puts a manifest and what the server returns into
	// the same canonical form before comparing them, for kinds the server
	// canonicalizes (NodeImage sorts each image's tags, as OpenKruise does).
	normalize func(obj map[string]interface{})
}

func (k kind) statusPath() []string {
	if k.statusCounter != nil {
		return k.statusCounter
	}
	return []string{"status", "observedGeneration"}
}

var versions = []string{"v1alpha1", "v1beta1"}

func (k kind) gvr(version string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: k.group, Version: version, Resource: k.resource}
}

func (k kind) object(t *testing.T, version, name string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(k.manifests[version]), &obj.Object); err != nil {
		t.Fatalf("%s %s manifest: %v", k.name, version, err)
	}
	obj.SetName(name)
	if k.distinct != nil {
		k.distinct(obj)
	}
	return obj
}

func setNested(obj *unstructured.Unstructured, value interface{}, path ...string) {
	if err := unstructured.SetNestedField(obj.Object, value, path...); err != nil {
		panic(err)
	}
}

var kinds = []kind{
	{
		name: "CloneSet", resource: "clonesets", group: "apps.kruise.io", namespaced: true, workload: true, scale: true,
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: apps.kruise.io/v1alpha1
kind: CloneSet
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main, image: "nginx:1.25"}]
  updateStrategy: {type: InPlaceIfPossible, partition: 1, maxUnavailable: 1}
`,
			"v1beta1": `
apiVersion: apps.kruise.io/v1beta1
kind: CloneSet
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main, image: "nginx:1.25"}]
  scaleStrategy: {excludePreparingDelete: true}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {podUpdatePolicy: InPlaceIfPossible, partition: 1, maxUnavailable: 1}
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			setNested(obj, int64(-1), "spec", "replicas")
			setNested(obj, map[string]interface{}{"app": "other"}, "spec", "template", "metadata", "labels")
			setFirstContainerImage(obj, "")
		},
		invalidPaths: []string{"spec.replicas", "spec.template.metadata.labels", "spec.template.spec.containers[0].image"},
		specChange: func(obj *unstructured.Unstructured) {
			setNested(obj, int64(7), "spec", "minReadySeconds")
		},
	},
	{
		name: "PodUnavailableBudget", resource: "podunavailablebudgets", group: "policy.kruise.io", namespaced: true,
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: policy.kruise.io/v1alpha1
kind: PodUnavailableBudget
spec:
  selector: {matchLabels: {app: web}}
  maxUnavailable: 1
`,
			"v1beta1": `
apiVersion: policy.kruise.io/v1beta1
kind: PodUnavailableBudget
spec:
  targetRef: {apiVersion: apps.kruise.io/v1beta1, kind: CloneSet, name: web}
  minAvailable: 50%
  protectOperations: [DELETE, EVICT]
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			unstructured.RemoveNestedField(obj.Object, "spec", "minAvailable")
			setNested(obj, "150%", "spec", "maxUnavailable")
			unstructured.RemoveNestedField(obj.Object, "spec", "targetRef")
			setNested(obj, map[string]interface{}{"bad key!": "x"}, "spec", "selector", "matchLabels")
		},
		invalidPaths: []string{"spec.maxUnavailable", "spec.selector.matchLabels"},
		specChange: func(obj *unstructured.Unstructured) {
			unstructured.RemoveNestedField(obj.Object, "spec", "minAvailable")
			setNested(obj, int64(2), "spec", "maxUnavailable")
		},
		distinct: func(obj *unstructured.Unstructured) {
			if _, ok, _ := unstructured.NestedMap(obj.Object, "spec", "selector"); ok {
				setNested(obj, map[string]interface{}{"app": obj.GetName()}, "spec", "selector", "matchLabels")
			}
			if _, ok, _ := unstructured.NestedMap(obj.Object, "spec", "targetRef"); ok {
				setNested(obj, obj.GetName(), "spec", "targetRef", "name")
			}
		},
	},
	{
		name: "ImagePullJob", resource: "imagepulljobs", group: "apps.kruise.io", namespaced: true,
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: apps.kruise.io/v1alpha1
kind: ImagePullJob
spec:
  image: nginx:1.25
  parallelism: 2
  completionPolicy: {type: Always, activeDeadlineSeconds: 1200}
`,
			"v1beta1": `
apiVersion: apps.kruise.io/v1beta1
kind: ImagePullJob
spec:
  image: nginx:1.25
  selector: {matchLabels: {pool: web}}
  completionPolicy: {type: Never}
  imagePullPolicy: Always
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			setNested(obj, "", "spec", "image")
			setNested(obj, "10%", "spec", "parallelism")
		},
		invalidPaths:  []string{"spec.image", "spec.parallelism"},
		statusCounter: []string{"status", "desired"},
		specChange: func(obj *unstructured.Unstructured) {
			setNested(obj, int64(5), "spec", "parallelism")
		},
	},
	{
		name: "ImageListPullJob", resource: "imagelistpulljobs", group: "apps.kruise.io", namespaced: true,
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: apps.kruise.io/v1alpha1
kind: ImageListPullJob
spec:
  images: [nginx:1.25, busybox:1.36]
  completionPolicy: {type: Always}
`,
			"v1beta1": `
apiVersion: apps.kruise.io/v1beta1
kind: ImageListPullJob
spec:
  images: [nginx:1.25, redis:7]
  parallelism: 3
  completionPolicy: {type: Always, ttlSecondsAfterFinished: 300}
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			setNested(obj, []interface{}{"nginx:1.25", "nginx:1.25"}, "spec", "images")
			unstructured.RemoveNestedField(obj.Object, "spec", "completionPolicy")
		},
		invalidPaths:  []string{"spec.images[1]", "spec.completionPolicy"},
		statusCounter: []string{"status", "desired"},
		specChange: func(obj *unstructured.Unstructured) {
			setNested(obj, []interface{}{"nginx:1.26"}, "spec", "images")
		},
	},
	{
		name: "NodeImage", resource: "nodeimages", group: "apps.kruise.io",
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: apps.kruise.io/v1alpha1
kind: NodeImage
spec:
  images:
    nginx:
      tags:
      - tag: "1.25"
        version: 0
        createdAt: "2026-11-01T00:00:00Z"
        pullPolicy: {ttlSecondsAfterFinished: 600}
`,
			"v1beta1": `
apiVersion: apps.kruise.io/v1beta1
kind: NodeImage
spec:
  images:
    nginx:
      pullSecrets: [{namespace: default, name: regcred, mode: batch}]
      tags:
      - tag: "1.26"
        version: 1
        createdAt: "2026-11-01T00:00:00Z"
        pullPolicy: {ttlSecondsAfterFinished: 600}
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			setNested(obj, []interface{}{
				map[string]interface{}{"tag": "a", "version": int64(-1), "createdAt": "2026-11-01T00:00:00Z"},
			}, "spec", "images", "nginx", "tags")
		},
		invalidPaths:  []string{"spec.images[nginx].tags[0].version", "spec.images[nginx].tags[0].pullPolicy.ttlSecondsAfterFinished"},
		statusCounter: []string{"status", "desired"},
		normalize:     sortNodeImageTags,
		specChange: func(obj *unstructured.Unstructured) {
			setNested(obj, map[string]interface{}{"tags": []interface{}{
				map[string]interface{}{"tag": "latest", "version": int64(0), "createdAt": "2026-11-02T00:00:00Z", "pullPolicy": map[string]interface{}{"ttlSecondsAfterFinished": int64(60)}},
			}}, "spec", "images", "busybox")
		},
	},
	{
		name: "WorkloadSpread", resource: "workloadspreads", group: "apps.kruise.io", namespaced: true,
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: apps.kruise.io/v1alpha1
kind: WorkloadSpread
spec:
  targetRef: {apiVersion: apps.kruise.io/v1alpha1, kind: CloneSet, name: web}
  subsets:
  - name: zone-a
    requiredNodeSelectorTerm:
      matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a]}]
    maxReplicas: 3
  - name: zone-b
    preferredNodeSelectorTerms:
    - weight: 10
      preference:
        matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [b]}]
`,
			"v1beta1": `
apiVersion: apps.kruise.io/v1beta1
kind: WorkloadSpread
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  scheduleStrategy: {type: Adaptive, adaptive: {rescheduleCriticalSeconds: 30}}
  subsets:
  - name: on-demand
    requiredNodeSelector:
      matchExpressions: [{key: pool, operator: In, values: [on-demand]}]
    maxReplicas: 50%
    patch: {metadata: {labels: {pool: on-demand}}}
  - name: spot
    tolerations: [{key: spot, operator: Exists, effect: NoSchedule}]
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			setNested(obj, "Pod", "spec", "targetRef", "kind")
			setNested(obj, []interface{}{}, "spec", "subsets")
		},
		invalidPaths: []string{"spec.targetRef.kind", "spec.subsets"},
		specChange: func(obj *unstructured.Unstructured) {
			subsets, _, _ := unstructured.NestedSlice(obj.Object, "spec", "subsets")
			subsets[0].(map[string]interface{})["name"] = "renamed"
			setNested(obj, subsets, "spec", "subsets")
		},
		distinct: func(obj *unstructured.Unstructured) {
			setNested(obj, obj.GetName(), "spec", "targetRef", "name")
		},
	},
}

func setFirstContainerImage(obj *unstructured.Unstructured, image string) {
	containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]interface{})["image"] = image
	setNested(obj, containers, "spec", "template", "spec", "containers")
}

func sortNodeImageTags(obj map[string]interface{}) {
	images, _, _ := unstructured.NestedMap(obj, "spec", "images")
	for name := range images {
		tags, _, _ := unstructured.NestedSlice(obj, "spec", "images", name, "tags")
		sort.Slice(tags, func(i, j int) bool {
			return fmt.Sprint(tags[i].(map[string]interface{})["tag"]) < fmt.Sprint(tags[j].(map[string]interface{})["tag"])
		})
		_ = unstructured.SetNestedSlice(obj, tags, "spec", "images", name, "tags")
	}
}
