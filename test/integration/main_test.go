package integration

import (
	"flag"
	"os"
	"testing"

	"k8s.io/klog/v2"
)

func TestMain(m *testing.M) {
	// The server logs through klog; keep test output to what fails.
	klog.InitFlags(nil)
	_ = flag.Set("v", "0")
	_ = flag.Set("logtostderr", "false")
	_ = flag.Set("stderrthreshold", "FATAL")
	// KRUISE_TEST_SERVER_LOGS=1 shows the in-process servers' logs.
	if os.Getenv("KRUISE_TEST_SERVER_LOGS") == "" {
		klog.SetOutput(devNull{})
	} else {
		_ = flag.Set("stderrthreshold", "INFO")
	}
	os.Exit(m.Run())
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }
