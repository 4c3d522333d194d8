package revision

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

var parentKind = schema.GroupVersionKind{Group: "apps.kruise.io", Version: "v1beta1", Kind: "CloneSet"}

func parent() *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "parent-uid"}
}

func TestHashAndName(t *testing.T) {
	data := []byte(`{"spec":{"template":{"$patch":"replace"}}}`)
	cr := New(parent(), parentKind, map[string]string{"app": "web"}, data, 1, nil)

	// kube-controller-manager's hash: FNV-1 32 of the data, then of the
	// collision count in decimal, printed in decimal and made safe.
	h := fnv.New32()
	h.Write(data)
	if want := rand.SafeEncodeString(fmt.Sprint(h.Sum32())); Hash(cr, nil) != want || cr.Labels[HashLabel] != want || cr.Name != "web-"+want {
		t.Errorf("hash %s, label %s, name %s; want %s", Hash(cr, nil), cr.Labels[HashLabel], cr.Name, want)
	}
	h.Write([]byte("3"))
	if want := rand.SafeEncodeString(fmt.Sprint(h.Sum32())); Hash(cr, ptr.To[int32](3)) != want {
		t.Errorf("hash with collisions %s, want %s", Hash(cr, ptr.To[int32](3)), want)
	}
	if cr.Labels["app"] != "web" || cr.Revision != 1 || cr.Namespace != "ns" {
		t.Errorf("revision %+v", cr)
	}
	ref := metav1.GetControllerOf(cr)
	if ref == nil || ref.UID != "parent-uid" || ref.Kind != "CloneSet" || ref.APIVersion != "apps.kruise.io/v1beta1" {
		t.Errorf("owner %+v", ref)
	}
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if n := Name(string(long), "hash"); len(n) != 223+5 {
		t.Errorf("long name %d characters", len(n))
	}
}

func TestSortEqualNext(t *testing.T) {
	mk := func(name string, n int64, data string, created int64) *appsv1.ControllerRevision {
		return &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(created, 0))},
			Revision:   n, Data: runtime.RawExtension{Raw: []byte(data)},
		}
	}
	revs := []*appsv1.ControllerRevision{mk("c", 3, "x", 1), mk("b", 1, "y", 2), mk("a", 1, "x", 2), mk("d", 1, "z", 1)}
	Sort(revs)
	var names []string
	for _, r := range revs {
		names = append(names, r.Name)
	}
	if fmt.Sprint(names) != "[d a b c]" {
		t.Errorf("sorted %v", names)
	}
	if Next(revs) != 4 || Next(nil) != 1 {
		t.Errorf("next %d", Next(revs))
	}
	eq := FindEqual(revs, mk("n", 9, "x", 0))
	if len(eq) != 2 || eq[0].Name != "a" || eq[1].Name != "c" {
		t.Errorf("equal %v", eq)
	}
}

func newHistory(t *testing.T, objects ...runtime.Object) (*History, *fake.Clientset, func()) {
	client := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(client, 0)
	lister := factory.Apps().V1().ControllerRevisions().Lister()
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return NewHistory(client, lister), client, func() { cancel(); factory.Shutdown() }
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	p := parent()
	orphan := New(p, parentKind, map[string]string{"app": "web"}, []byte(`"orphan"`), 1, nil)
	orphan.OwnerReferences = nil
	foreign := New(&metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "other"}, parentKind,
		map[string]string{"app": "web"}, []byte(`"foreign"`), 1, nil)
	h, client, stop := newHistory(t, orphan, foreign)
	defer stop()

	listed, err := h.List(p, labels.SelectorFromSet(labels.Set{"app": "web"}))
	if err != nil || len(listed) != 1 || listed[0].Name != orphan.Name {
		t.Fatalf("listed %v, %v", listed, err)
	}
	adopted, err := h.Adopt(ctx, p, parentKind, listed[0])
	if err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(adopted); ref == nil || ref.UID != p.UID {
		t.Fatalf("adopted owner %+v", ref)
	}
	released, err := h.Release(ctx, p, adopted)
	if err != nil || len(released.OwnerReferences) != 0 {
		t.Fatalf("released %+v, %v", released, err)
	}

	// Create: the same data under an existing name is that revision; other
	// data bumps the collision count.
	cr := New(p, parentKind, nil, []byte(`"v1"`), 2, ptr.To[int32](0))
	collisions := int32(0)
	created, err := h.Create(ctx, p, cr, &collisions)
	if err != nil || created.Name != cr.Name || collisions != 0 {
		t.Fatalf("created %v, %v, collisions %d", created, err, collisions)
	}
	again, err := h.Create(ctx, p, cr, &collisions)
	if err != nil || again.Name != cr.Name || collisions != 0 {
		t.Fatalf("created again %v, %v, collisions %d", again, err, collisions)
	}
	squatted := cr.DeepCopy()
	squatted.Data.Raw = []byte(`"v2"`)
	squatted.Name = Name(p.Name, Hash(squatted, &collisions))
	if _, err := client.AppsV1().ControllerRevisions("ns").Create(ctx, &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: squatted.Name, Namespace: "ns"}, Data: runtime.RawExtension{Raw: []byte(`"else"`)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := h.Create(ctx, p, squatted, &collisions)
	if err != nil || collisions != 1 || got.Name == squatted.Name || got.Name != Name(p.Name, Hash(squatted, ptr.To[int32](1))) {
		t.Fatalf("collision: %v, %v, collisions %d", got, err, collisions)
	}

	renumbered, err := h.Renumber(ctx, created, 7, func(r *appsv1.ControllerRevision) {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations["k"] = "v"
	})
	if err != nil || renumbered.Revision != 7 || renumbered.Annotations["k"] != "v" {
		t.Fatalf("renumbered %+v, %v", renumbered, err)
	}
	stored, _ := client.AppsV1().ControllerRevisions("ns").Get(ctx, created.Name, metav1.GetOptions{})
	if stored.Revision != 7 {
		t.Fatalf("stored revision %d", stored.Revision)
	}

	// Prune keeps the live ones and the newest dead ones.
	var revs []*appsv1.ControllerRevision
	for i := range 5 {
		r := New(p, parentKind, nil, []byte(fmt.Sprintf(`"p%d"`, i)), int64(10+i), nil)
		r.UID = types.UID(fmt.Sprint("u", i))
		if _, err := client.AppsV1().ControllerRevisions("ns").Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		revs = append(revs, r)
	}
	live := func(r *appsv1.ControllerRevision) bool { return r.Name == revs[0].Name || r.Name == revs[4].Name }
	client.ClearActions()
	if err := h.Prune(ctx, revs, live, 1); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range client.Actions() {
		if a.GetVerb() == "delete" {
			deleted = append(deleted, a.(interface{ GetName() string }).GetName())
		}
	}
	if fmt.Sprint(deleted) != fmt.Sprint([]string{revs[1].Name, revs[2].Name}) {
		t.Fatalf("pruned %v", deleted)
	}
}

func TestPatches(t *testing.T) {
	adopt, err := AdoptPatch(parent(), parentKind, "child")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(adopt, &got)
	refs := got["metadata"].(map[string]any)["ownerReferences"].([]any)
	ref := refs[0].(map[string]any)
	if got["metadata"].(map[string]any)["uid"] != "child" || ref["uid"] != "parent-uid" || ref["controller"] != true || ref["blockOwnerDeletion"] != true {
		t.Errorf("adopt patch %s", adopt)
	}
	release, _ := ReleasePatch("parent-uid", "child")
	if string(release) != `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"parent-uid"}],"uid":"child"}}` {
		t.Errorf("release patch %s", release)
	}
}
