package workloadspread

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// jsonPatch returns the JSON patch (RFC 6902) that turns a Pod into its
// mutated copy, one operation per changed field of metadata and spec (the
// only parts Inject changes): whole fields such as /spec/affinity or
// /metadata/annotations are replaced, which keeps the patch short and
// obviously right.
func jsonPatch(original, mutated *corev1.Pod) ([]byte, error) {
	before, err := sections(original)
	if err != nil {
		return nil, err
	}
	after, err := sections(mutated)
	if err != nil {
		return nil, err
	}
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value,omitempty"`
	}
	ops := []op{}
	for _, section := range []string{"metadata", "spec"} {
		b, a := before[section], after[section]
		keys := map[string]bool{}
		for k := range b {
			keys[k] = true
		}
		for k := range a {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			path := "/" + section + "/" + escape(k)
			av, inAfter := a[k]
			bv, inBefore := b[k]
			switch {
			case !inAfter:
				ops = append(ops, op{Op: "remove", Path: path})
			case !inBefore || !reflect.DeepEqual(av, bv):
				// "add" sets a member whether or not it exists.
				ops = append(ops, op{Op: "add", Path: path, Value: av})
			}
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return json.Marshal(ops)
}

// sections returns a Pod's metadata and spec as generic JSON objects.
func sections(pod *corev1.Pod) (map[string]map[string]any, error) {
	data, err := json.Marshal(struct {
		Metadata any `json:"metadata"`
		Spec     any `json:"spec"`
	}{pod.ObjectMeta, pod.Spec})
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// escape escapes a member name for a JSON pointer (RFC 6901).
func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
