package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// servedKinds is what `kubectl api-resources` must show: resource, short
// names, namespaced, kind, group.
var servedKinds = []struct {
	resource, shortNames, group, kind string
	namespaced                        bool
}{
	{"clonesets", "clone", "apps.kruise.io", "CloneSet", true},
	{"statefulsets", "sts,asts", "apps.kruise.io", "StatefulSet", true},
	{"workloadspreads", "ws", "apps.kruise.io", "WorkloadSpread", true},
	{"imagepulljobs", "", "apps.kruise.io", "ImagePullJob", true},
	{"imagelistpulljobs", "", "apps.kruise.io", "ImageListPullJob", true},
	{"nodeimages", "", "apps.kruise.io", "NodeImage", false},
	{"podunavailablebudgets", "pub", "policy.kruise.io", "PodUnavailableBudget", true},
}

// TestAPIResources checks what kubectl discovers through kube-apiserver.
func TestAPIResources(t *testing.T) {
	for _, group := range []string{"apps.kruise.io", "policy.kruise.io"} {
		out := kubectl(t, "api-resources", "--api-group="+group, "-o", "wide")
		for _, k := range servedKinds {
			if k.group != group {
				continue
			}
			line := lineStartingWith(out, k.resource+" ")
			if line == "" {
				t.Fatalf("api-resources --api-group=%s lacks %s:\n%s", group, k.resource, out)
			}
			fields := strings.Fields(line)
			want := []string{k.resource}
			if k.shortNames != "" {
				want = append(want, k.shortNames)
			}
			want = append(want, group+"/v1beta1", map[bool]string{true: "true", false: "false"}[k.namespaced], k.kind)
			if strings.Join(fields[:len(want)], " ") != strings.Join(want, " ") {
				t.Fatalf("api-resources line %q, want it to start with %q", line, strings.Join(want, " "))
			}
			if !strings.Contains(line, "kruise") || !strings.Contains(line, "deletecollection") {
				t.Fatalf("api-resources line %q lacks the kruise category or verbs", line)
			}
		}
	}
}

// TestAggregatedDiscovery checks kube-apiserver's aggregated discovery
// document (what kubectl 1.30+ reads) for our groups.
func TestAggregatedDiscovery(t *testing.T) {
	config := rest.CopyConfig(cluster.AdminConfig)
	scheme := runtime.NewScheme()
	if err := apidiscoveryv2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	config.GroupVersion = &schema.GroupVersion{}
	config.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.RESTClientFor(config)
	if err != nil {
		t.Fatal(err)
	}
	body, err := rc.Get().AbsPath("/apis").
		SetHeader("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList").
		DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var list apidiscoveryv2.APIGroupDiscoveryList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	found := map[string]apidiscoveryv2.APIResourceDiscovery{}
	for _, g := range list.Items {
		for _, v := range g.Versions {
			if v.Version != "v1beta1" {
				continue
			}
			for _, r := range v.Resources {
				found[g.Name+"/"+r.Resource] = r
			}
		}
	}
	for _, k := range servedKinds {
		r, ok := found[k.group+"/"+k.resource]
		if !ok {
			t.Fatalf("aggregated discovery lacks %s.%s", k.resource, k.group)
		}
		if strings.Join(r.ShortNames, ",") != k.shortNames || strings.Join(r.Categories, ",") != "kruise" {
			t.Fatalf("aggregated discovery of %s: shortNames %v categories %v", k.resource, r.ShortNames, r.Categories)
		}
	}
}

// TestGetKruiseAndExplain checks the category and OpenAPI through kubectl.
func TestGetKruiseAndExplain(t *testing.T) {
	ns := namespace(t)
	kubectlIn(t, cloneSetManifest("by-category", 1), "apply", "-n", ns, "-f", "-")
	out := kubectl(t, "get", "kruise", "-n", ns)
	expectContains(t, "kubectl get kruise", out, "cloneset.apps.kruise.io/by-category")

	out = kubectl(t, "explain", "clonesets.spec.updateStrategy")
	expectContains(t, "explain at v1beta1", out, "rollingUpdate")
	out = kubectl(t, "explain", "clonesets.spec.updateStrategy", "--api-version=apps.kruise.io/v1alpha1")
	expectContains(t, "explain at v1alpha1", out, "partition")
	out = kubectl(t, "explain", "podunavailablebudgets.spec.protectOperations")
	expectContains(t, "explain of a PUB field", out, "protectOperations")
}

func lineStartingWith(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
