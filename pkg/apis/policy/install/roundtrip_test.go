package install

import (
	"math/rand"
	"testing"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/conversiontest"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	policyfuzzer "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/fuzzer"
)

// TestRoundTripTypes fuzzes every internal object, converts it to each
// served version, serializes, decodes (with defaulting) and converts back,
// and requires the result to equal what it started from, in JSON and in
// protobuf.
func TestRoundTripTypes(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	funcs := fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, policyfuzzer.Funcs)
	f := fuzzer.FuzzerFor(funcs, rand.NewSource(rand.Int63()), codecs)
	roundtrip.RoundTripTypes(t, scheme, codecs, f, nil)
}

// TestCrossVersionRoundTrip writes random objects at each version, reads
// them through every other version, writes that back unchanged and reads
// the result at the first version again: it must equal what was written.
func TestCrossVersionRoundTrip(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	funcs := fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, policyfuzzer.VersionedFuncs)
	f := fuzzer.FuzzerFor(funcs, rand.NewSource(rand.Int63()), codecs)
	conversiontest.CrossVersionRoundTrip(t, scheme, policy.GroupName, f, 200)
}
