package protection

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
)

const label = "policy.kruise.io/delete-protection"

func meta(name, namespace, value string, deleting bool) map[string]interface{} {
	m := map[string]interface{}{"name": name}
	if namespace != "" {
		m["namespace"] = namespace
	}
	if value != "" {
		m["labels"] = map[string]interface{}{label: value, "app": "x"}
	}
	if deleting {
		m["deletionTimestamp"] = "2026-01-01T00:00:00Z"
	}
	return m
}

func deleteRequest(t *testing.T, group, version, resource, namespace string, obj map[string]interface{}) *admissionv1.AdmissionRequest {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := obj["metadata"].(map[string]interface{})["name"].(string)
	return &admissionv1.AdmissionRequest{
		UID:       "uid",
		Resource:  metav1.GroupVersionResource{Group: group, Version: version, Resource: resource},
		Namespace: namespace,
		Name:      name,
		Operation: admissionv1.Delete,
		OldObject: runtime.RawExtension{Raw: raw},
	}
}

func workloadObject(kind, value string, replicas *int32, deleting bool) map[string]interface{} {
	spec := map[string]interface{}{}
	if replicas != nil {
		spec["replicas"] = *replicas
	}
	return map[string]interface{}{"apiVersion": "apps/v1", "kind": kind, "metadata": meta("w", "ns", value, deleting), "spec": spec}
}

func newHandler(kube *fake.Clientset, objects ...runtime.Object) webhook.AdmitFunc {
	if kube == nil {
		kube = fake.NewClientset()
	}
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	admit, err := New(&webhook.Context{DeletionProtectionKubeClient: kube, MetadataClient: metadatafake.NewSimpleMetadataClient(scheme, objects...)})
	if err != nil {
		panic(err)
	}
	return admit
}

// expect checks a response: want "" means admitted, else denied with 403
// and exactly that message.
func expect(t *testing.T, resp *admissionv1.AdmissionResponse, want string) {
	t.Helper()
	if want == "" {
		if resp == nil || !resp.Allowed {
			t.Fatalf("denied (%+v), want admitted", resp.Result)
		}
		return
	}
	if resp.Allowed || resp.Result == nil {
		t.Fatalf("admitted, want denied with %q", want)
	}
	if resp.Result.Code != 403 || resp.Result.Message != want {
		t.Fatalf("denied with %d %q, want 403 %q", resp.Result.Code, resp.Result.Message, want)
	}
}

const (
	always    = "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Always"
	cascading = "forbidden by ResourcesProtectionDeletion for policy.kruise.io/delete-protection=Cascading"
)

func TestWorkloads(t *testing.T) {
	admit := newHandler(nil)
	for _, w := range []struct{ resource, kind string }{{"deployments", "Deployment"}, {"replicasets", "ReplicaSet"}, {"statefulsets", "StatefulSet"}} {
		cases := []struct {
			name     string
			value    string
			replicas *int32
			deleting bool
			want     string
		}{
			{"unlabelled", "", ptr.To[int32](3), false, ""},
			{"Always", "Always", ptr.To[int32](0), false, always},
			{"Cascading with replicas", "Cascading", ptr.To[int32](3), false, cascading + " and replicas 3>0"},
			{"Cascading at zero", "Cascading", ptr.To[int32](0), false, ""},
			{"Cascading without replicas", "Cascading", nil, false, ""},
			{"wrong value", "always", ptr.To[int32](3), false, ""},
			{"Always being deleted", "Always", ptr.To[int32](3), true, ""},
		}
		for _, tc := range cases {
			t.Run(w.kind+"/"+tc.name, func(t *testing.T) {
				req := deleteRequest(t, "apps", "v1", w.resource, "ns", workloadObject(w.kind, tc.value, tc.replicas, tc.deleting))
				expect(t, admit(context.Background(), req), tc.want)
			})
		}
	}
}

func TestServicesAndIngresses(t *testing.T) {
	admit := newHandler(nil)
	for _, r := range []struct{ group, version, resource, kind string }{{"", "v1", "services", "Service"}, {"networking.k8s.io", "v1", "ingresses", "Ingress"}} {
		cases := []struct {
			name, value string
			deleting    bool
			want        string
		}{
			{"unlabelled", "", false, ""},
			{"Always", "Always", false, always},
			// OpenKruise supports only Always for them.
			{"Cascading is ignored", "Cascading", false, ""},
			{"wrong value", "Never", false, ""},
			{"being deleted", "Always", true, ""},
		}
		for _, tc := range cases {
			t.Run(r.kind+"/"+tc.name, func(t *testing.T) {
				obj := map[string]interface{}{"apiVersion": r.version, "kind": r.kind, "metadata": meta("test-web", "ns", tc.value, tc.deleting), "spec": map[string]interface{}{}}
				expect(t, admit(context.Background(), deleteRequest(t, r.group, r.version, r.resource, "ns", obj)), tc.want)
			})
		}
	}
}

func pod(namespace, name string, phase corev1.PodPhase, deleting bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Status: corev1.PodStatus{Phase: phase}}
	if deleting {
		p.DeletionTimestamp = ptr.To(metav1.Now())
	}
	return p
}

func claim(namespace, name string, phase corev1.PersistentVolumeClaimPhase, deleting bool) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Status: corev1.PersistentVolumeClaimStatus{Phase: phase}}
	if deleting {
		c.DeletionTimestamp = ptr.To(metav1.Now())
	}
	return c
}

func namespaceObject(name, value string, deleting bool) map[string]interface{} {
	m := meta(name, "", value, deleting)
	m["uid"] = "uid-" + name
	return map[string]interface{}{"apiVersion": "v1", "kind": "Namespace", "metadata": m}
}

// storedNamespace is the Namespace the cluster holds under name, as
// namespaceObject describes it.
func storedNamespace(name, value string) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}}
	if value != "" {
		ns.Labels = map[string]string{label: value, "app": "x"}
	}
	return ns
}

func TestNamespaces(t *testing.T) {
	cases := []struct {
		name    string
		value   string
		objects []runtime.Object
		want    string
	}{
		{"unlabelled with pods", "", []runtime.Object{pod("p", "a", corev1.PodRunning, false)}, ""},
		{"Always, empty", "Always", nil, always},
		{"Cascading, empty", "Cascading", nil, ""},
		{"Cascading, running and pending pods", "Cascading", []runtime.Object{
			pod("p", "a", corev1.PodRunning, false), pod("p", "b", corev1.PodPending, false), pod("other", "c", corev1.PodRunning, false),
		}, cascading + " and active pods 2>0"},
		{"Cascading, only finished or deleted pods", "Cascading", []runtime.Object{
			pod("p", "a", corev1.PodSucceeded, false), pod("p", "b", corev1.PodFailed, false), pod("p", "c", corev1.PodRunning, true),
		}, ""},
		{"Cascading, pods before claims", "Cascading", []runtime.Object{
			pod("p", "a", corev1.PodRunning, false), claim("p", "c", corev1.ClaimBound, false),
		}, cascading + " and active pods 1>0"},
		{"Cascading, bound claims", "Cascading", []runtime.Object{
			claim("p", "a", corev1.ClaimBound, false), claim("p", "b", corev1.ClaimBound, false), claim("p", "c", corev1.ClaimPending, false),
			claim("p", "d", corev1.ClaimBound, true), claim("other", "e", corev1.ClaimBound, false),
		}, cascading + ` and "Bound" status pvc 2>0`},
		{"Cascading, claims not bound or being deleted", "Cascading", []runtime.Object{
			claim("p", "a", corev1.ClaimPending, false), claim("p", "b", corev1.ClaimLost, false), claim("p", "c", corev1.ClaimBound, true),
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			admit := newHandler(fake.NewClientset(append(tc.objects, storedNamespace("p", tc.value))...))
			// kube-apiserver sends a namespace's own name as its namespace.
			req := deleteRequest(t, "", "v1", "namespaces", "p", namespaceObject("p", tc.value, false))
			expect(t, admit(context.Background(), req), tc.want)
		})
	}

	t.Run("being deleted", func(t *testing.T) {
		admit := newHandler(fake.NewClientset(pod("p", "a", corev1.PodRunning, false)))
		expect(t, admit(context.Background(), deleteRequest(t, "", "v1", "namespaces", "p", namespaceObject("p", "Always", true))), "")
		expect(t, admit(context.Background(), deleteRequest(t, "", "v1", "namespaces", "p", namespaceObject("p", "Cascading", true))), "")
	})

	t.Run("finished Pods are left out by the server", func(t *testing.T) {
		kube := fake.NewClientset(storedNamespace("p", "Cascading"))
		var selectors []string
		kube.PrependReactor("list", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
			selectors = append(selectors, action.(clienttesting.ListAction).GetListRestrictions().Fields.String())
			return false, nil, nil
		})
		expect(t, newHandler(kube)(context.Background(), deleteRequest(t, "", "v1", "namespaces", "p", namespaceObject("p", "Cascading", false))), "")
		if want := fields.ParseSelectorOrDie("status.phase!=Succeeded,status.phase!=Failed").String(); len(selectors) != 1 || selectors[0] != want {
			t.Errorf("listed pods with field selectors %q, want [%q]", selectors, want)
		}
	})

	for _, resource := range []string{"pods", "persistentvolumeclaims"} {
		t.Run("cannot list "+resource, func(t *testing.T) {
			kube := fake.NewClientset(storedNamespace("p", "Cascading"))
			kube.PrependReactor("list", resource, func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, nil, errors.New("etcd is on fire")
			})
			want := map[string]string{
				"pods":                   "forbidden by ResourcesProtectionDeletion for list pods error: etcd is on fire",
				"persistentvolumeclaims": "forbidden by ResourcesProtectionDeletion for list pvc error: etcd is on fire",
			}[resource]
			expect(t, newHandler(kube)(context.Background(), deleteRequest(t, "", "v1", "namespaces", "p", namespaceObject("p", "Cascading", false))), want)
		})
	}
}

// TestForgedNamespaceReviews: a review that does not describe the
// namespace the cluster stores under its name (an anonymous caller asking
// what a namespace holds) is refused without listing anything.
func TestForgedNamespaceReviews(t *testing.T) {
	kube := fake.NewClientset(storedNamespace("p", "Cascading"), pod("p", "a", corev1.PodRunning, false))
	admit := newHandler(kube)

	forged := namespaceObject("p", "Cascading", false)
	forged["metadata"].(map[string]interface{})["uid"] = "someone-elses"
	resp := admit(context.Background(), deleteRequest(t, "", "v1", "namespaces", "p", forged))
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusBadRequest {
		t.Errorf("forged uid: got %+v, want a 400 denial", resp)
	}
	gone := namespaceObject("q", "Cascading", false)
	if resp := admit(context.Background(), deleteRequest(t, "", "v1", "namespaces", "q", gone)); !resp.Allowed {
		t.Errorf("a namespace the cluster no longer has: got %+v, want allowed (nothing left to protect)", resp)
	}
	for _, action := range kube.Actions() {
		if action.GetVerb() == "list" {
			t.Errorf("forged or stale reviews listed %s", action.GetResource().Resource)
		}
	}
	// The stored namespace's review is still counted.
	expect(t, admit(context.Background(), deleteRequest(t, "", "v1", "namespaces", "p", namespaceObject("p", "Cascading", false))), cascading+" and active pods 1>0")
}

var widgets = schema.GroupVersionResource{Group: "example.com", Version: "v2", Resource: "widgets"}

func widget(namespace, name string, deleting bool) *metav1.PartialObjectMetadata {
	w := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "example.com/v2", Kind: "Widget"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
	}
	if deleting {
		w.DeletionTimestamp = ptr.To(metav1.Now())
	}
	return w
}

func crdObject(value string, deleting bool) map[string]interface{} {
	m := meta("widgets.example.com", "", value, deleting)
	m["uid"] = "widgets-uid"
	return map[string]interface{}{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": m,
		"spec": map[string]interface{}{
			"group": "example.com", "scope": "Namespaced",
			"names": map[string]interface{}{"plural": "widgets", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []interface{}{
				map[string]interface{}{"name": "v1", "served": true, "storage": false},
				map[string]interface{}{"name": "v2", "served": true, "storage": true},
				map[string]interface{}{"name": "v3", "served": true, "storage": false},
			},
		},
	}
}

// crdHandler builds the handler with live, if not nil, as the CRD the
// cluster stores, and objects as what listing returns.
func crdHandler(live map[string]interface{}, objects ...runtime.Object) (webhook.AdmitFunc, *metadatafake.FakeMetadataClient) {
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	client := metadatafake.NewSimpleMetadataClient(scheme, objects...)
	var stored []runtime.Object
	if live != nil {
		stored = append(stored, &unstructured.Unstructured{Object: live})
	}
	dynamicClient := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{customResourceDefinitionsV1: "CustomResourceDefinitionList"}, stored...)
	admit, err := New(&webhook.Context{DeletionProtectionKubeClient: fake.NewClientset(), DynamicClient: dynamicClient, MetadataClient: client})
	if err != nil {
		panic(err)
	}
	return admit, client
}

func listedResources(client *metadatafake.FakeMetadataClient) []schema.GroupVersionResource {
	var listed []schema.GroupVersionResource
	for _, action := range client.Actions() {
		if action.GetVerb() == "list" {
			listed = append(listed, action.GetResource())
		}
	}
	return listed
}

func TestCustomResourceDefinitions(t *testing.T) {
	cases := []struct {
		name     string
		value    string
		deleting bool
		objects  []runtime.Object
		want     string
	}{
		{"unlabelled with objects", "", false, []runtime.Object{widget("a", "w", false)}, ""},
		{"Always, none", "Always", false, nil, always},
		{"Cascading, none", "Cascading", false, nil, ""},
		{"Cascading, objects in several namespaces", "Cascading", false, []runtime.Object{
			widget("a", "w1", false), widget("b", "w2", false), widget("b", "w3", true),
		}, cascading + " and active CRs 2>0"},
		{"Cascading, only objects being deleted", "Cascading", false, []runtime.Object{widget("a", "w1", true)}, ""},
		{"Cascading, being deleted", "Cascading", true, []runtime.Object{widget("a", "w1", false)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			admit, _ := crdHandler(crdObject(tc.value, tc.deleting), tc.objects...)
			req := deleteRequest(t, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", crdObject(tc.value, tc.deleting))
			expect(t, admit(context.Background(), req), tc.want)
		})
	}

	t.Run("listed at the storage version", func(t *testing.T) {
		admit, client := crdHandler(crdObject("Cascading", false))
		expect(t, admit(context.Background(), deleteRequest(t, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", crdObject("Cascading", false))), "")
		if listed := listedResources(client); len(listed) != 1 || listed[0] != widgets {
			t.Fatalf("listed %v, want %v", listed, widgets)
		}
	})

	// kube-apiserver's calls arrive unauthenticated: anyone reaching the
	// port can send a review, and its oldObject must not choose what the
	// handler lists.
	t.Run("forged oldObject", func(t *testing.T) {
		forged := crdObject("Cascading", false)
		forged["metadata"].(map[string]interface{})["uid"] = "forged-uid"
		forged["spec"] = map[string]interface{}{
			"group": "", "names": map[string]interface{}{"plural": "secrets", "listKind": "SecretList"},
			"versions": []interface{}{map[string]interface{}{"name": "v1", "served": true, "storage": true}},
		}
		admit, client := crdHandler(crdObject("Cascading", false))
		resp := admit(context.Background(), deleteRequest(t, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", forged))
		if resp.Allowed || resp.Result.Code != 400 || !strings.Contains(resp.Result.Message, `oldObject has uid "forged-uid"`) {
			t.Errorf("got %+v, want a 400 denial naming the uid", resp.Result)
		}
		if listed := listedResources(client); len(listed) != 0 {
			t.Errorf("listed %v for a forged review", listed)
		}
	})

	t.Run("the live CRD's resource is listed", func(t *testing.T) {
		// Same uid, but the review's spec names Secrets: the stored spec wins.
		forged := crdObject("Cascading", false)
		forged["spec"].(map[string]interface{})["group"] = ""
		forged["spec"].(map[string]interface{})["names"] = map[string]interface{}{"plural": "secrets", "listKind": "SecretList"}
		admit, client := crdHandler(crdObject("Cascading", false))
		expect(t, admit(context.Background(), deleteRequest(t, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", forged)), "")
		if listed := listedResources(client); len(listed) != 1 || listed[0] != widgets {
			t.Fatalf("listed %v, want only %v", listed, widgets)
		}
	})

	t.Run("no longer stored", func(t *testing.T) {
		admit, client := crdHandler(nil, widget("a", "w1", false))
		expect(t, admit(context.Background(), deleteRequest(t, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", crdObject("Cascading", false))), "")
		if listed := listedResources(client); len(listed) != 0 {
			t.Errorf("listed %v", listed)
		}
	})

	t.Run("cannot list", func(t *testing.T) {
		admit, client := crdHandler(crdObject("Cascading", false))
		client.PrependReactor("list", "*", func(clienttesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New(`widgets.example.com is forbidden: User "system:serviceaccount:kruise-system:kruise-apiserver" cannot list resource "widgets"`)
		})
		expect(t, admit(context.Background(), deleteRequest(t, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", crdObject("Cascading", false))),
			`failed to list CRs of example.com/v2, Kind=WidgetList: widgets.example.com is forbidden: User "system:serviceaccount:kruise-system:kruise-apiserver" cannot list resource "widgets"`)
	})
}

func TestOtherRequests(t *testing.T) {
	admit := newHandler(nil)
	t.Run("not a DELETE", func(t *testing.T) {
		req := deleteRequest(t, "", "v1", "services", "ns", map[string]interface{}{"metadata": meta("s", "ns", "Always", false)})
		req.Operation = admissionv1.Update
		expect(t, admit(context.Background(), req), "")
	})
	t.Run("another resource", func(t *testing.T) {
		expect(t, admit(context.Background(), deleteRequest(t, "", "v1", "configmaps", "ns", map[string]interface{}{"metadata": meta("c", "ns", "Always", false)})), "")
	})
	t.Run("no oldObject", func(t *testing.T) {
		req := deleteRequest(t, "", "v1", "services", "ns", map[string]interface{}{"metadata": meta("s", "ns", "Always", false)})
		req.OldObject = runtime.RawExtension{}
		resp := admit(context.Background(), req)
		if resp.Allowed || resp.Result.Code != 400 || resp.Result.Message != `DELETE of services "s": the request has no oldObject` {
			t.Fatalf("got %+v", resp.Result)
		}
	})
	t.Run("undecodable oldObject", func(t *testing.T) {
		req := deleteRequest(t, "apps", "v1", "deployments", "ns", map[string]interface{}{"metadata": meta("d", "ns", "Always", false), "spec": map[string]interface{}{"replicas": "three"}})
		resp := admit(context.Background(), req)
		if resp.Allowed || resp.Result.Code != 400 {
			t.Fatalf("got %+v", resp.Result)
		}
	})
}
