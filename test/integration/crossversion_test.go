package integration

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1alpha1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// TestV1alpha1SpecSurvivesV1beta1Patch is the foundation issue's check: a
// CloneSet written at v1alpha1 reads back at v1alpha1 exactly as written
// after another client patched it through v1beta1, including with a field
// only v1beta1 has.
func TestV1alpha1SpecSurvivesV1beta1Patch(t *testing.T) {
	s := framework.Start(t, "")
	cs := s.Clientset(t)
	ctx := context.Background()
	alpha := cs.AppsV1alpha1().CloneSets(testNamespace)
	beta := cs.AppsV1beta1().CloneSets(testNamespace)

	written := &v1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: "alpha"},
		Spec: v1alpha1.CloneSetSpec{
			Replicas: ptr.To[int32](4),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "alpha"}},
			Template: typedCloneSet("alpha").Spec.Template,
			ScaleStrategy: v1alpha1.CloneSetScaleStrategy{
				DisablePVCReuse: true, PodsToDelete: []string{"alpha-x"}, MaxUnavailable: ptr.To(intstr.FromString("10%")),
			},
			UpdateStrategy: v1alpha1.CloneSetUpdateStrategy{
				Type:            v1alpha1.InPlaceOnlyCloneSetUpdateStrategyType,
				Partition:       ptr.To(intstr.FromString("50%")),
				MaxUnavailable:  ptr.To(intstr.FromInt32(2)),
				Paused:          true,
				ScatterStrategy: v1alpha1.UpdateScatterStrategy{{Key: "zone", Value: "a"}},
				PriorityStrategy: &v1alpha1.UpdatePriorityStrategy{
					OrderPriority: []v1alpha1.UpdatePriorityOrderTerm{{OrderedKey: "rank"}},
				},
				InPlaceUpdateStrategy: &v1alpha1.InPlaceUpdateStrategy{GracePeriodSeconds: 15},
			},
			Lifecycle: &v1alpha1.Lifecycle{PreDelete: &v1alpha1.LifecycleHook{FinalizersHandler: []string{"example.com/hold"}}},
		},
	}
	created, err := alpha.Create(ctx, written, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// A v1beta1 client turns on a field v1alpha1 does not have, and edits
	// the metadata.
	if _, err := beta.Patch(ctx, "alpha", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"touched":"v1beta1"}},"spec":{"scaleStrategy":{"excludePreparingDelete":true}}}`),
		metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	read, err := alpha.Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(created.Spec, read.Spec) {
		t.Fatalf("v1alpha1 spec changed after a v1beta1 patch:\n%s", cmp.Diff(created.Spec, read.Spec))
	}
	// v1alpha1 carries the v1beta1-only field in its stash annotation, and
	// a v1alpha1 client writing the object back keeps it.
	read.Labels["touched"] = "v1alpha1"
	if _, err := alpha.Update(ctx, read, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := beta.Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Spec.ScaleStrategy.ExcludePreparingDelete || b.Spec.ScaleStrategy.EnablePVCReuse {
		t.Fatalf("v1beta1 view lost data after a v1alpha1 update: %+v", b.Spec.ScaleStrategy)
	}
	if _, ok := b.Annotations["apiserver.kruise.io/v1beta1-fields"]; ok {
		t.Fatalf("the stash annotation leaked into v1beta1")
	}
	if b.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy != v1beta1.InPlaceOnlyCloneSetPodUpdateStrategyType {
		t.Fatalf("v1beta1 podUpdatePolicy = %q", b.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy)
	}
}

// TestCrossVersionFuzzThroughServer writes random valid CloneSets at one
// version, has a client of the other version read them and write them back
// (by update and by merge patch), and requires the first version to read
// back exactly what it wrote.
func TestCrossVersionFuzzThroughServer(t *testing.T) {
	s := framework.Start(t, "")
	cs := s.Clientset(t)
	ctx := context.Background()
	alpha := cs.AppsV1alpha1().CloneSets(testNamespace)
	beta := cs.AppsV1beta1().CloneSets(testNamespace)
	seed := rand.Int63()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)

	for i := 0; i < 60; i++ {
		name := fmt.Sprintf("fuzz-%d", i)
		if i%2 == 0 {
			created, err := beta.Create(ctx, randomV1beta1CloneSet(rng, name), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			viaAlpha, err := alpha.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			viaAlpha.Labels = map[string]string{"round": "trip"}
			if _, err := alpha.Update(ctx, viaAlpha, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("%s: v1alpha1 update: %v", name, err)
			}
			if _, err := alpha.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"annotations":{"patched":"v1alpha1"}}}`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := beta.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(created.Spec, got.Spec) {
				t.Fatalf("seed %d, %s: v1beta1 spec changed by a v1alpha1 round trip:\n%s", seed, name, cmp.Diff(created.Spec, got.Spec))
			}
		} else {
			created, err := alpha.Create(ctx, randomV1alpha1CloneSet(rng, name), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			viaBeta, err := beta.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			viaBeta.Labels = map[string]string{"round": "trip"}
			if _, err := beta.Update(ctx, viaBeta, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("%s: v1beta1 update: %v", name, err)
			}
			if _, err := beta.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"annotations":{"patched":"v1beta1"}}}`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := alpha.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(created.Spec, got.Spec) {
				t.Fatalf("seed %d, %s: v1alpha1 spec changed by a v1beta1 round trip:\n%s", seed, name, cmp.Diff(created.Spec, got.Spec))
			}
		}
	}
}

func randomIntOrPercent(rng *rand.Rand) *intstr.IntOrString {
	switch rng.Intn(3) {
	case 0:
		return nil
	case 1:
		return ptr.To(intstr.FromInt32(rng.Int31n(4)))
	}
	return ptr.To(intstr.FromString(fmt.Sprintf("%d%%", rng.Intn(101))))
}

func randomLifecycle(rng *rand.Rand) *v1beta1.Lifecycle {
	if rng.Intn(2) == 0 {
		return nil
	}
	return &v1beta1.Lifecycle{InPlaceUpdate: &v1beta1.LifecycleHook{MarkPodNotReady: rng.Intn(2) == 0, LabelsHandler: map[string]string{"hold": "yes"}}}
}

func randomV1beta1CloneSet(rng *rand.Rand, name string) *v1beta1.CloneSet {
	cs := typedCloneSet(name)
	cs.Spec.Replicas = ptr.To(rng.Int31n(5))
	cs.Spec.ScaleStrategy = v1beta1.CloneSetScaleStrategy{
		EnablePVCReuse:         rng.Intn(2) == 0,
		ExcludePreparingDelete: rng.Intn(2) == 0,
		MaxUnavailable:         randomIntOrPercent(rng),
	}
	policies := []v1beta1.CloneSetPodUpdateStrategyType{"", v1beta1.RecreateCloneSetPodUpdateStrategyType, v1beta1.InPlaceIfPossibleCloneSetPodUpdateStrategyType}
	rollingUpdate := &v1beta1.RollingUpdateCloneSetStrategy{
		PodUpdatePolicy: policies[rng.Intn(len(policies))],
		Partition:       randomIntOrPercent(rng),
		MaxUnavailable:  ptr.To(intstr.FromInt32(1 + rng.Int31n(3))),
		MaxSurge:        randomIntOrPercent(rng),
		Paused:          rng.Intn(2) == 0,
	}
	if rng.Intn(2) == 0 {
		rollingUpdate.ScatterStrategy = v1beta1.UpdateScatterStrategy{{Key: "zone", Value: fmt.Sprint(rng.Intn(3))}}
	}
	if rng.Intn(2) == 0 {
		rollingUpdate.InPlaceUpdateStrategy = &v1beta1.InPlaceUpdateStrategy{GracePeriodSeconds: rng.Int31n(30), ImagePreDownloadTimeoutSeconds: ptr.To(int32(60))}
	}
	types := []v1beta1.CloneSetUpdateStrategyType{"", v1beta1.RollingUpdateCloneSetUpdateStrategyType, v1beta1.OnDeleteCloneSetUpdateStrategyType}
	cs.Spec.UpdateStrategy = v1beta1.CloneSetUpdateStrategy{Type: types[rng.Intn(len(types))]}
	if rng.Intn(4) != 0 {
		cs.Spec.UpdateStrategy.RollingUpdate = rollingUpdate
	}
	cs.Spec.Lifecycle = randomLifecycle(rng)
	if rng.Intn(2) == 0 {
		cs.Spec.ProgressDeadlineSeconds = ptr.To(int32(600))
	}
	return cs
}

func randomV1alpha1CloneSet(rng *rand.Rand, name string) *v1alpha1.CloneSet {
	beta := typedCloneSet(name)
	cs := &v1alpha1.CloneSet{
		ObjectMeta: beta.ObjectMeta,
		Spec: v1alpha1.CloneSetSpec{
			Replicas: ptr.To(rng.Int31n(5)),
			Selector: beta.Spec.Selector,
			Template: beta.Spec.Template,
			ScaleStrategy: v1alpha1.CloneSetScaleStrategy{
				DisablePVCReuse: rng.Intn(2) == 0,
				MaxUnavailable:  randomIntOrPercent(rng),
			},
			MinReadySeconds: rng.Int31n(10),
		},
	}
	strategyTypes := []v1alpha1.CloneSetUpdateStrategyType{"", v1alpha1.RecreateCloneSetUpdateStrategyType,
		v1alpha1.InPlaceIfPossibleCloneSetUpdateStrategyType, v1alpha1.OnDeleteCloneSetUpdateStrategyType}
	cs.Spec.UpdateStrategy = v1alpha1.CloneSetUpdateStrategy{
		Type:           strategyTypes[rng.Intn(len(strategyTypes))],
		Partition:      randomIntOrPercent(rng),
		MaxUnavailable: ptr.To(intstr.FromInt32(1 + rng.Int31n(3))),
		MaxSurge:       randomIntOrPercent(rng),
		Paused:         rng.Intn(2) == 0,
	}
	if rng.Intn(2) == 0 {
		cs.Spec.UpdateStrategy.PriorityStrategy = &v1alpha1.UpdatePriorityStrategy{
			WeightPriority: []v1alpha1.UpdatePriorityWeightTerm{{Weight: 1 + rng.Int31n(100), MatchSelector: metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}}},
		}
	}
	if rng.Intn(2) == 0 {
		cs.Spec.Lifecycle = &v1alpha1.Lifecycle{PreNormal: &v1alpha1.LifecycleHook{FinalizersHandler: []string{"example.com/ready"}}}
	}
	return cs
}
