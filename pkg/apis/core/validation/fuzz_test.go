package validation

import (
	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/randfill"
)

// interestingStrings steer random strings towards values that reach deeper
// branches: enum values, valid and invalid names, paths and quantities.
var interestingStrings = []string{
	"", " ", "a", "web", "data", "cache", "config", "Web_1", "..", "../x", "/abs", "a/../b", "x/y",
	"Always", "Never", "OnFailure", "IfNotPresent", "TCP", "UDP", "SCTP", "HTTP", "HTTPS",
	"Exists", "Equal", "In", "NotIn", "DoesNotExist", "Gt", "Lt", "NoSchedule", "NoExecute",
	"DoNotSchedule", "ScheduleAnyway", "Honor", "Ignore", "None", "ClusterFirst", "Default",
	"Bidirectional", "HostToContainer", "Enabled", "IfPossible", "Disabled", "Localhost", "RuntimeDefault",
	"Unmasked", "File", "FallbackToLogsOnError", "ReadWriteOnce", "ReadWriteOncePod", "Block", "Filesystem",
	"cpu", "memory", "hugepages-2Mi", "example.com/gpu", "requests.cpu", "limits.memory", "requests.hugepages-1Gi",
	"metadata.name", "metadata.labels['app']", "metadata.annotations['x']", "status.podIP", "spec.nodeName",
	"v1", "http", "kubernetes.io/hostname", "topology.kubernetes.io/zone", "PersistentVolumeClaim",
	"controller.kubernetes.io/pod-deletion-cost", "1", "-1", "10.0.0.1", "::1", "metadata.name['x']",
	"storage", "Restart", "RestartAllContainers", "NotRequired", "RestartContainer", "linux", "windows",
}

// configureFiller installs the value generators on f.
func configureFiller(f *randfill.Filler) *randfill.Filler {
	return f.NilChance(0.3).NumElements(0, 3).MaxDepth(12).Funcs(
		func(s *string, c randfill.Continue) {
			if c.Intn(4) == 0 {
				*s = c.String(12)
				return
			}
			*s = interestingStrings[c.Intn(len(interestingStrings))]
		},
		func(q *resource.Quantity, c randfill.Continue) {
			switch c.Intn(3) {
			case 0:
				*q = resource.Quantity{}
			case 1:
				*q = *resource.NewMilliQuantity(c.Int63n(4000)-2000, resource.DecimalSI)
			default:
				*q = *resource.NewQuantity(c.Int63n(1<<40)-(1<<39), resource.BinarySI)
			}
		},
		func(p *intstr.IntOrString, c randfill.Continue) {
			switch c.Intn(3) {
			case 0:
				*p = intstr.FromInt32(c.Int31n(70000) - 1000)
			case 1:
				*p = intstr.FromString(interestingStrings[c.Intn(len(interestingStrings))])
			default:
				// An out-of-range Type, as a corrupt object could carry.
				*p = intstr.IntOrString{Type: intstr.Type(c.Intn(5)), StrVal: c.String(5)}
			}
		},
		func(vs *corev1.VolumeSource, c randfill.Continue) { fillOneOf(vs, c) },
		func(vp *corev1.VolumeProjection, c randfill.Continue) { fillOneOf(vp, c) },
		func(n *int32, c randfill.Continue) { *n = c.Int31n(200) - 50 },
		func(n *int64, c randfill.Continue) { *n = c.Int63n(200) - 50 },
	)
}

// fillOneOf mostly sets exactly one of the pointer fields of a one-of struct
// (VolumeSource, VolumeProjection), and sometimes fills it freely.
func fillOneOf(obj interface{}, c randfill.Continue) {
	if c.Intn(4) == 0 {
		c.FillNoCustom(obj)
		return
	}
	v := reflect.ValueOf(obj).Elem()
	f := v.Field(c.Intn(v.NumField()))
	if f.Kind() != reflect.Pointer {
		c.FillNoCustom(obj)
		return
	}
	p := reflect.New(f.Type().Elem())
	c.Fill(p.Interface())
	f.Set(p)
}

// validateRandom runs every entry point on one random input and reports a
// panic as a test failure.
func validateRandom(t *testing.T, f *randfill.Filler) {
	t.Helper()
	var tmpl corev1.PodTemplateSpec
	var claims []corev1.PersistentVolumeClaim
	var opts PodValidationOptions
	f.Fill(&tmpl)
	f.Fill(&claims)
	f.Fill(&opts)
	if len(tmpl.Spec.Containers) == 0 {
		tmpl.Spec.Containers = make([]corev1.Container, 1)
		f.Fill(&tmpl.Spec.Containers[0])
	}
	// The valid template with random pieces swapped in reaches the checks
	// that sit behind earlier ones.
	mixed := validTemplate()
	mixed.Spec.Containers[0] = tmpl.Spec.Containers[0]
	mixed.Spec.Volumes = append(mixed.Spec.Volumes, tmpl.Spec.Volumes...)
	mixed.Spec.Affinity = tmpl.Spec.Affinity
	mixed.Spec.SecurityContext = tmpl.Spec.SecurityContext

	defer func() {
		if r := recover(); r != nil {
			data, _ := json.Marshal(tmpl)
			t.Fatalf("panic: %v\ntemplate: %s", r, data)
		}
	}()
	_ = ValidatePodTemplateSpec(&tmpl, field.NewPath("spec", "template"), opts)
	_ = ValidatePodSpec(&tmpl.Spec, field.NewPath("spec"), opts)
	_ = ValidatePersistentVolumeClaimTemplates(claims, field.NewPath("spec", "volumeClaimTemplates"))
	_ = ValidatePodTemplateSpec(mixed, field.NewPath("spec", "template"), PodValidationOptions{ExtraVolumeNames: sets.New("data")})
}

func TestRandomTemplatesDoNotPanic(t *testing.T) {
	iterations := 2000
	if testing.Short() {
		iterations = 300
	}
	f := configureFiller(randfill.NewWithSeed(20260721))
	for i := 0; i < iterations; i++ {
		validateRandom(t, f)
	}
}

func TestNilPointersDoNotPanic(t *testing.T) {
	// Every pointer set to a zero struct: the validators must not
	// dereference anything deeper without checking.
	f := randfill.NewWithSeed(1).NilChance(0).NumElements(1, 1).MaxDepth(20).Funcs(
		func(s *string, c randfill.Continue) { *s = "" },
		func(q *resource.Quantity, c randfill.Continue) { *q = resource.Quantity{} },
	)
	for i := 0; i < 5; i++ {
		validateRandom(t, f)
	}
	_ = ValidatePodTemplateSpec(nil, nil, PodValidationOptions{})
	_ = ValidatePodSpec(nil, nil, PodValidationOptions{})
	_ = ValidatePersistentVolumeClaimTemplates(nil, nil)
	_ = ValidatePodTemplateSpec(&corev1.PodTemplateSpec{}, nil, PodValidationOptions{})
}

// FuzzValidatePodTemplateSpec turns fuzzer bytes into random templates and
// claim templates; run it with
// go test -fuzz=FuzzValidatePodTemplateSpec ./pkg/apis/core/validation/
func FuzzValidatePodTemplateSpec(f *testing.F) {
	for _, seed := range [][]byte{nil, []byte("kruise"), {0xff, 0x00, 0x7f, 0x10, 0x20, 0x30, 0x40, 0x50}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		validateRandom(t, configureFiller(randfill.NewFromGoFuzz(data)))
	})
}
