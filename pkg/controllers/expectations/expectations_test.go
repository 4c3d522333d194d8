package expectations

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
)

func TestScale(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	e := NewScaleWithClock(clk, time.Minute)
	const key = "ns/a"

	if ok, _ := e.Satisfied(key); !ok {
		t.Fatal("nothing expected: not satisfied")
	}
	e.Expect(key, Create, "p1", "p2")
	e.Expect(key, Delete, "p0")
	if ok, wait := e.Satisfied(key); ok || wait != time.Minute {
		t.Fatalf("satisfied %v, wait %v", ok, wait)
	}
	if got := e.Pending(key); !reflect.DeepEqual(got, map[Action][]string{Create: {"p1", "p2"}, Delete: {"p0"}}) {
		t.Fatalf("pending %v", got)
	}
	e.Observe(key, Create, "p1")
	e.Observe(key, Create, "unknown")
	e.Observe(key, Delete, "p2") // wrong action: not observed
	e.Observe("ns/b", Create, "p2")
	if ok, _ := e.Satisfied(key); ok {
		t.Fatal("satisfied with p2 and p0 pending")
	}
	e.Observe(key, Create, "p2")
	e.Observe(key, Delete, "p0")
	if ok, _ := e.Satisfied(key); !ok || e.Pending(key) != nil {
		t.Fatalf("all observed: pending %v", e.Pending(key))
	}

	// Expiry: the time counts from the first pending expectation.
	e.Expect(key, Create, "p3")
	clk.Step(40 * time.Second)
	e.Expect(key, Create, "p4")
	if ok, wait := e.Satisfied(key); ok || wait != 20*time.Second {
		t.Fatalf("satisfied %v, wait %v", ok, wait)
	}
	clk.Step(20 * time.Second)
	if ok, _ := e.Satisfied(key); !ok {
		t.Fatal("expired expectations still block")
	}
	if e.Pending(key) != nil {
		t.Fatal("expired expectations kept")
	}

	e.Expect(key, Delete, "p5")
	e.Delete(key)
	if ok, _ := e.Satisfied(key); !ok {
		t.Fatal("deleted expectations still block")
	}
}

func TestResourceVersions(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	r := NewResourceVersionsWithClock(clk, time.Minute)
	obj := func(rv string) *metav1.ObjectMeta { return &metav1.ObjectMeta{UID: "u1", ResourceVersion: rv} }

	if ok, _ := r.Satisfied(obj("5")); !ok {
		t.Fatal("nothing expected")
	}
	r.Expect(obj("10"))
	if ok, _ := r.Satisfied(obj("9")); ok {
		t.Fatal("an older copy satisfies")
	}
	r.Expect(obj("8")) // an older write does not lower the expectation
	if ok, _ := r.Satisfied(obj("9")); ok {
		t.Fatal("an older copy satisfies after an older write")
	}
	if ok, _ := r.Satisfied(obj("10")); !ok {
		t.Fatal("the written version does not satisfy")
	}
	if ok, _ := r.Satisfied(obj("9")); !ok {
		t.Fatal("observed expectations are kept")
	}

	r.Expect(obj("20"))
	r.Observe(obj("21"))
	if ok, _ := r.Satisfied(obj("3")); !ok {
		t.Fatal("observe does not fulfil")
	}

	// Unusable versions never block.
	r.Expect(obj(""))
	r.Expect(&metav1.ObjectMeta{ResourceVersion: "7"})
	if ok, _ := r.Satisfied(obj("1")); !ok {
		t.Fatal("an expectation without a version or UID blocks")
	}
	r.Expect(obj("30"))
	if ok, _ := r.Satisfied(obj("not-a-number")); !ok {
		t.Fatal("a malformed version blocks")
	}

	// Expiry and Forget.
	r.Expect(obj("40"))
	clk.Step(time.Minute)
	if ok, _ := r.Satisfied(obj("39")); !ok {
		t.Fatal("expired expectation blocks")
	}
	r.Expect(obj("50"))
	r.Forget(obj("1"))
	if ok, _ := r.Satisfied(obj("49")); !ok {
		t.Fatal("forgotten expectation blocks")
	}
}
