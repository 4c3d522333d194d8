package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTimeAsStored(t *testing.T) {
	if TimeAsStored(nil) != nil {
		t.Fatal("nil became a time")
	}
	in := metav1.NewTime(time.Date(2026, 11, 28, 12, 0, 5, 999_000_000, time.UTC))
	got := TimeAsStored(&in)
	if want := time.Date(2026, 11, 28, 12, 0, 5, 0, time.UTC); !got.Time.Equal(want) {
		t.Fatalf("got %v, want %v", got.Time, want)
	}
	if got == &in || in.Nanosecond() == 0 {
		t.Fatal("the time given was changed instead of copied")
	}
}
