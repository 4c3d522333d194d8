// Package fuzzer fills internal policy.kruise.io objects with random values
// for the round-trip tests. Nothing of a PodUnavailableBudget is defaulted,
// so the hub needs no shaping: any value round-trips or conversion is wrong.
package fuzzer

import (
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy/v1beta1"
)

// Funcs returns the fuzzer functions for the policy.kruise.io internal types.
func Funcs(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{}
}

var pubOperations = []v1beta1.PubOperation{
	v1beta1.PubDeleteOperation, v1beta1.PubUpdateOperation, v1beta1.PubEvictOperation, v1beta1.PubResizeOperation,
}

// VersionedFuncs returns fuzzer functions for the served versions: they
// keep enum values within what validation accepts, since only valid objects
// are ever stored and converted.
func VersionedFuncs(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(op *v1beta1.PubOperation, c randfill.Continue) {
			*op = pubOperations[c.Intn(len(pubOperations))]
		},
	}
}
