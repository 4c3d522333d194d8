package app

import (
	"runtime/debug"
	"slices"
	"strings"

	"k8s.io/klog/v2"
)

// warnIfJSONv1 says so when the binary was built without
// GOEXPERIMENT=jsonv2 (a plain `go run`/`go build`): everything works, but
// JSON answers cost about twice the CPU (hack/go-env.sh).
func warnIfJSONv1() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, s := range info.Settings {
		if s.Key == "GOEXPERIMENT" && slices.Contains(strings.Split(s.Value, ","), "jsonv2") {
			return
		}
	}
	klog.InfoS("Built without GOEXPERIMENT=jsonv2: JSON responses take about twice the CPU; hack/ scripts build with it (hack/go-env.sh)")
}
