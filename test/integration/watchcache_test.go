package integration

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/annotationstash"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

// TestListsServedFromWatchCache: every resource has a watch cache (the
// cacher decorates the store), and LISTs — the consistent one with
// resourceVersion "" as well as each page of a limit/continue walk over
// 1,000 CloneSets — are answered from it, not from etcd. The server's own
// counters say so: apiserver_cache_list_total counts LISTs the cache
// served, apiserver_watch_cache_consistent_read_total the consistent ones.
func TestListsServedFromWatchCache(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	client := s.Clientset(t)
	ns := "cache"
	const objects, pageSize = 1000, 100

	clonesets := client.AppsV1beta1().CloneSets(ns)
	names := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				if _, err := clonesets.Create(ctx, cacheCloneSet(fmt.Sprintf("cs-%04d", i)), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < objects; i++ {
		names <- i
	}
	close(names)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	before := cacheCounters(t, s)

	// One consistent LIST (resourceVersion ""), whole.
	list, err := clonesets.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != objects {
		t.Fatalf("LIST returned %d CloneSets, want %d", len(list.Items), objects)
	}

	// A consistent LIST in pages of pageSize.
	seen := map[string]bool{}
	pages := 0
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		page, err := clonesets.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Items) > pageSize {
			t.Fatalf("page %d has %d items, limit %d", pages, len(page.Items), pageSize)
		}
		for _, cs := range page.Items {
			if seen[cs.Name] {
				t.Fatalf("%s on two pages", cs.Name)
			}
			seen[cs.Name] = true
		}
		if page.Continue == "" {
			break
		}
		if pages > objects/pageSize+1 {
			t.Fatalf("more than %d pages", pages)
		}
		opts.Continue = page.Continue
	}
	if len(seen) != objects || pages != objects/pageSize {
		t.Fatalf("pagination gave %d CloneSets in %d pages, want %d in %d", len(seen), pages, objects, objects/pageSize)
	}

	after := cacheCounters(t, s)
	if got, want := after.cacheLists-before.cacheLists, float64(1+pages); got != want {
		t.Errorf("apiserver_cache_list_total for clonesets grew by %v over %v LISTs: not all served from the watch cache", got, want)
	}
	if after.consistentReads <= before.consistentReads {
		t.Errorf("apiserver_watch_cache_consistent_read_total (success, no fallback) did not grow: %v -> %v", before.consistentReads, after.consistentReads)
	}
}

// TestEveryResourceHasAWatchCache: a LIST of each of our resources is
// answered by its watch cache.
func TestEveryResourceHasAWatchCache(t *testing.T) {
	s := framework.Start(t, "")
	rc := s.Discovery(t).RESTClient()
	for _, r := range []struct{ group, resource string }{
		{"apps.kruise.io", "clonesets"}, {"apps.kruise.io", "statefulsets"}, {"apps.kruise.io", "workloadspreads"},
		{"apps.kruise.io", "imagepulljobs"}, {"apps.kruise.io", "imagelistpulljobs"}, {"apps.kruise.io", "nodeimages"},
		{"policy.kruise.io", "podunavailablebudgets"},
	} {
		// The cache may still be filling just after the start; a LIST
		// then goes to etcd.
		err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			before := cacheCountersFor(t, s, r.resource)
			if err := rc.Get().AbsPath("/apis", r.group, "v1beta1", r.resource).Do(ctx).Error(); err != nil {
				return false, err
			}
			return cacheCountersFor(t, s, r.resource).cacheLists > before.cacheLists, nil
		})
		if err != nil {
			t.Errorf("%s.%s: LIST not served from a watch cache: %v", r.resource, r.group, err)
		}
	}
}

type cacheCounts struct{ cacheLists, consistentReads float64 }

// cacheCounters reads the clonesets' watch cache counters from /metrics.
func cacheCounters(t *testing.T, s *framework.Server) cacheCounts {
	return cacheCountersFor(t, s, "clonesets")
}

// cacheCountersFor reads a resource's watch cache counters from /metrics.
func cacheCountersFor(t *testing.T, s *framework.Server, resource string) cacheCounts {
	t.Helper()
	body, err := s.Discovery(t).RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var c cacheCounts
	scanner := bufio.NewScanner(strings.NewReader(string(body)))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.Contains(line, `resource="`+resource+`"`) {
			continue
		}
		fields := strings.Fields(line)
		value, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, "apiserver_cache_list_total{"):
			c.cacheLists += value
		case strings.HasPrefix(line, "apiserver_watch_cache_consistent_read_total{") &&
			strings.Contains(line, `success="true"`) && strings.Contains(line, `fallback="false"`):
			c.consistentReads += value
		}
	}
	return c
}

func cacheCloneSet(name string) *appsv1beta1.CloneSet {
	return &appsv1beta1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1beta1.CloneSetSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1.25"}}},
			},
		},
	}
}

// TestConsistentGetFromWatchCache: a GET with resourceVersion "" is answered
// by the watch cache (etcd is only asked for its current revision), sees
// the latest write, and a missing object is 404.
func TestConsistentGetFromWatchCache(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	clonesets := s.Clientset(t).AppsV1beta1().CloneSets("default")
	created, err := clonesets.Create(ctx, cacheCloneSet("fresh"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := etcdRequests(t, s)
	for i := 0; i < 20; i++ {
		// Each GET sees the update just made.
		cs := created.DeepCopy()
		cs.Annotations = map[string]string{"n": strconv.Itoa(i)}
		updated, err := clonesets.Update(ctx, cs, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := clonesets.Get(ctx, "fresh", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.ResourceVersion != updated.ResourceVersion || got.Annotations["n"] != strconv.Itoa(i) {
			t.Fatalf("GET after update %d: resourceVersion %s, annotations %v; the update wrote %s", i, got.ResourceVersion, got.Annotations, updated.ResourceVersion)
		}
		created = got
	}
	if _, err := clonesets.Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("GET of a missing CloneSet: %v", err)
	}
	after := etcdRequests(t, s)
	// The updates read from etcd themselves (get); the GETs must not.
	if got := after["get"] - before["get"]; got > 20 {
		t.Errorf("%v etcd gets for 20 updates and 21 GETs: GETs went to etcd", got)
	}
	if got := after["getCurrentResourceVersion"] - before["getCurrentResourceVersion"]; got < 21 {
		t.Errorf("%v current-revision reads for 21 GETs", got)
	}
}

// etcdRequests counts the clonesets' etcd requests by operation.
func etcdRequests(t *testing.T, s *framework.Server) map[string]float64 {
	t.Helper()
	body, err := s.Discovery(t).RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "etcd_requests_total{") || !strings.Contains(line, `resource="clonesets"`) {
			continue
		}
		op := line[strings.Index(line, `operation="`)+len(`operation="`):]
		op = op[:strings.Index(op, `"`)]
		fields := strings.Fields(line)
		v, _ := strconv.ParseFloat(fields[len(fields)-1], 64)
		counts[op] += v
	}
	return counts
}

// TestConcurrentGetsLeaveTheCachedObjectIntact: GETs from the watch cache
// share the cached object's maps and slices instead of copying them, so
// nothing on a GET's way out may change them. Many concurrent GETs at
// v1alpha1 (whose conversion adds the annotation stash of what v1alpha1
// cannot express), at v1beta1, as a Table and of /scale, while the object
// is updated, must leave v1beta1 reading exactly what was written. Run
// with -race, this also catches a write to shared memory that leaves no
// trace in the object.
func TestConcurrentGetsLeaveTheCachedObjectIntact(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	client := s.Clientset(t)
	alpha := client.AppsV1alpha1().CloneSets("default")
	beta := client.AppsV1beta1().CloneSets("default")
	cs := cacheCloneSet("shared")
	// v1alpha1 has no field for this: its GETs carry it in the stash.
	cs.Spec.ScaleStrategy.ExcludePreparingDelete = true
	cs.Annotations = map[string]string{"written": "0"}
	if _, err := beta.Create(ctx, cs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tablePath := "/apis/apps.kruise.io/v1beta1/namespaces/default/clonesets/shared"
	raw := s.Discovery(t).RESTClient()

	const readers, rounds, updates = 8, 25, 20
	errs := make(chan error, readers+1)
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				viaAlpha, err := alpha.Get(ctx, "shared", metav1.GetOptions{})
				if err != nil {
					errs <- err
					return
				}
				if _, stashed := viaAlpha.Annotations[annotationstash.Key]; !stashed {
					errs <- fmt.Errorf("v1alpha1 GET without the stash annotation: %v", viaAlpha.Annotations)
					return
				}
				viaBeta, err := beta.Get(ctx, "shared", metav1.GetOptions{})
				if err != nil {
					errs <- err
					return
				}
				if err := checkSharedCloneSet(viaBeta); err != nil {
					errs <- err
					return
				}
				if err := raw.Get().AbsPath(tablePath).SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Do(ctx).Error(); err != nil {
					errs <- fmt.Errorf("table GET: %w", err)
					return
				}
				if _, err := beta.GetScale(ctx, "shared", metav1.GetOptions{}); err != nil {
					errs <- fmt.Errorf("scale GET: %w", err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= updates; i++ {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				current, err := beta.Get(ctx, "shared", metav1.GetOptions{})
				if err != nil {
					return err
				}
				current.Annotations = map[string]string{"written": strconv.Itoa(i)}
				_, err = beta.Update(ctx, current, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				errs <- fmt.Errorf("update %d: %w", i, err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := beta.Get(ctx, "shared", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSharedCloneSet(got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations["written"] != strconv.Itoa(updates) {
		t.Fatalf("after %d updates the GET reads annotations %v", updates, got.Annotations)
	}
}

// checkSharedCloneSet checks that a v1beta1 read of the CloneSet of
// TestConcurrentGetsLeaveTheCachedObjectIntact has what was written and
// nothing a v1alpha1 read added.
func checkSharedCloneSet(cs *appsv1beta1.CloneSet) error {
	if _, stashed := cs.Annotations[annotationstash.Key]; stashed || len(cs.Annotations) != 1 {
		return fmt.Errorf("v1beta1 GET has annotations %v, want only those written", cs.Annotations)
	}
	if !cs.Spec.ScaleStrategy.ExcludePreparingDelete {
		return fmt.Errorf("v1beta1 GET lost spec.scaleStrategy.excludePreparingDelete")
	}
	return nil
}
