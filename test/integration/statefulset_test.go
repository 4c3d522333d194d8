package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// The StatefulSet entry joins the kinds every generic test runs over; it is
// added here rather than in kinds_test.go so that kinds added in parallel
// do not touch the same lines.
func init() {
	kinds = append(kinds, kind{
		name: "StatefulSet", resource: "statefulsets", group: "apps.kruise.io", namespaced: true, workload: true, scale: true,
		manifests: map[string]string{
			"v1alpha1": `
apiVersion: apps.kruise.io/v1alpha1
kind: StatefulSet
spec:
  replicas: 2
  serviceName: db
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      readinessGates: [{conditionType: InPlaceUpdateReady}]
      containers: [{name: main, image: "postgres:16", volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {podUpdatePolicy: InPlaceIfPossible, partition: 1, maxUnavailable: 2}
`,
			"v1beta1": `
apiVersion: apps.kruise.io/v1beta1
kind: StatefulSet
spec:
  replicas: 2
  serviceName: db
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      readinessGates: [{conditionType: InPlaceUpdateReady}]
      containers: [{name: main, image: "postgres:16", volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
  reserveOrdinals: [1, "4-5"]
  ordinals: {start: 1}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}
  scaleStrategy: {maxUnavailable: 1}
  lifecycle:
    preDelete: {finalizersHandler: [example.com/hold]}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {podUpdatePolicy: InPlaceIfPossible, partition: 1, maxUnavailable: 2}
`,
		},
		invalid: func(obj *unstructured.Unstructured) {
			setNested(obj, int64(-1), "spec", "replicas")
			setNested(obj, map[string]interface{}{"app": "other"}, "spec", "template", "metadata", "labels")
			setFirstContainerImage(obj, "")
		},
		invalidPaths: []string{"spec.replicas", "spec.template.metadata.labels", "spec.template.spec.containers[0].image"},
		specChange: func(obj *unstructured.Unstructured) {
			setNested(obj, int64(5), "spec", "revisionHistoryLimit")
		},
	})
}

// TestStatefulSetV1beta1FieldsSurviveV1alpha1Writes: what only v1beta1 can
// say, written by a v1beta1 client, survives a v1alpha1 client reading and
// writing the object back, and the v1alpha1 client's own edit wins.
func TestStatefulSetV1beta1FieldsSurviveV1alpha1Writes(t *testing.T) {
	s := framework.Start(t, "")
	cs := s.Clientset(t)
	ctx := context.Background()
	alpha := cs.AppsV1alpha1().StatefulSets(testNamespace)
	beta := cs.AppsV1beta1().StatefulSets(testNamespace)

	labels := map[string]string{"app": "zk"}
	written := &v1beta1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "zk"},
		Spec: v1beta1.StatefulSetSpec{
			Replicas:            ptr.To[int32](3),
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			ServiceName:         "zk",
			PodManagementPolicy: v1beta1.ParallelPodManagement,
			Template:            typedCloneSet("zk").Spec.Template,
			VolumeClaimUpdateStrategy: v1beta1.VolumeClaimUpdateStrategy{
				Type: v1beta1.OnPVCDeleteVolumeClaimUpdateStrategyType,
			},
			ReserveOrdinals: []intstr.IntOrString{intstr.FromInt32(0), intstr.FromString("3-4")},
			Lifecycle: &v1beta1.Lifecycle{InPlaceUpdate: &v1beta1.LifecycleHook{
				LabelsHandler: map[string]string{"example.com/drained": "true"}, MarkPodNotReady: true,
			}},
			ScaleStrategy: &v1beta1.StatefulSetScaleStrategy{MaxUnavailable: ptr.To(intstr.FromString("50%"))},
			PersistentVolumeClaimRetentionPolicy: &v1beta1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenScaled: v1beta1.DeletePersistentVolumeClaimRetentionPolicyType,
			},
			Ordinals: &v1beta1.StatefulSetOrdinals{Start: 10},
			UpdateStrategy: v1beta1.StatefulSetUpdateStrategy{
				Type: v1beta1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &v1beta1.RollingUpdateStatefulSetStrategy{
					MaxUnavailable:  ptr.To(intstr.FromInt32(2)),
					UnorderedUpdate: &v1beta1.UnorderedUpdateStrategy{},
				},
			},
		},
	}
	written.Spec.Template.Labels = labels
	created, err := beta.Create(ctx, written, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := created.Spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted != v1beta1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Fatalf("retention policy not defaulted: %+v", p)
	}

	// The controller reports status fields v1alpha1 does not have either.
	created.Status.Replicas = 3
	created.Status.UpdatedReadyReplicas = 2
	created.Status.VolumeClaims = []v1beta1.VolumeClaimStatus{{VolumeClaimName: "data", CompatibleReplicas: 3}}
	if created, err = beta.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	read, err := alpha.Get(ctx, "zk", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	read.Spec.Replicas = ptr.To[int32](5)
	if _, err := alpha.Update(ctx, read, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := alpha.Patch(ctx, "zk", types.MergePatchType, []byte(`{"metadata":{"labels":{"touched":"v1alpha1"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	got, err := beta.Get(ctx, "zk", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Replicas != 5 {
		t.Fatalf("the v1alpha1 edit was lost: replicas = %d", *got.Spec.Replicas)
	}
	want := created.Spec.DeepCopy()
	want.Replicas = ptr.To[int32](5)
	if !apiequality.Semantic.DeepEqual(*want, got.Spec) {
		t.Fatalf("v1beta1 spec changed after v1alpha1 writes:\n%s", cmp.Diff(*want, got.Spec))
	}
	if !apiequality.Semantic.DeepEqual(created.Status, got.Status) {
		t.Fatalf("v1beta1 status changed after v1alpha1 writes:\n%s", cmp.Diff(created.Status, got.Status))
	}
	if _, ok := got.Annotations["apiserver.kruise.io/v1beta1-fields"]; ok {
		t.Fatalf("the stash annotation leaked into v1beta1")
	}
}

// TestStatefulSetUpdateRules: only the fields upstream lets change may
// change, and an InPlaceOnly StatefulSet may only change images.
func TestStatefulSetUpdateRules(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	k := kindNamed(t, "StatefulSet")
	client := resourceClient(s.Dynamic(t), k, "v1beta1")
	if _, err := client.Create(ctx, k.object(t, "v1beta1", "rules"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	_, err := client.Patch(ctx, "rules", types.MergePatchType, []byte(`{"spec":{"serviceName":"other"}}`), metav1.PatchOptions{})
	expectInvalid(t, err, []string{"spec"})
	if !strings.Contains(err.Error(), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'") {
		t.Fatalf("message: %v", err)
	}

	if _, err := client.Patch(ctx, "rules", types.MergePatchType,
		[]byte(`{"spec":{"updateStrategy":{"rollingUpdate":{"podUpdatePolicy":"InPlaceOnly"}}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Patch(ctx, "rules", types.JSONPatchType,
		[]byte(`[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"postgres:17"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("image change with InPlaceOnly: %v", err)
	}
	_, err = client.Patch(ctx, "rules", types.JSONPatchType,
		[]byte(`[{"op":"add","path":"/spec/template/spec/containers/0/args","value":["-v"]}]`), metav1.PatchOptions{})
	expectInvalid(t, err, []string{"spec.template"})
	if !strings.Contains(err.Error(), "add /containers/0/args, currently only image update is allowed for InPlaceOnly") {
		t.Fatalf("message: %v", err)
	}
}

// TestStatefulSetScale drives /scale with the typed clientset.
func TestStatefulSetScale(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	k := kindNamed(t, "StatefulSet")
	if _, err := resourceClient(s.Dynamic(t), k, "v1alpha1").Create(ctx, k.object(t, "v1alpha1", "scaled"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	statefulsets := s.Clientset(t).AppsV1alpha1().StatefulSets(testNamespace)
	scale, err := statefulsets.GetScale(ctx, "scaled", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if scale.Spec.Replicas != 2 || scale.Status.Selector != "app=db" {
		t.Fatalf("scale %+v", scale)
	}
	scale.Spec.Replicas = 4
	if _, err := statefulsets.UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := statefulsets.Get(ctx, "scaled", metav1.GetOptions{})
	if err != nil || *got.Spec.Replicas != 4 {
		t.Fatalf("after scale: %v, %+v", err, got.Spec.Replicas)
	}
	if _, err := statefulsets.GetScale(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("scale of a missing StatefulSet: %v", err)
	}
}

func kindNamed(t *testing.T, name string) kind {
	t.Helper()
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	t.Fatalf("no kind %s", name)
	return kind{}
}
