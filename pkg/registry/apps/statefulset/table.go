package statefulset

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's StatefulSet CRD, in its order.
var tableConvertor = table.New(
	table.Column[*apps.StatefulSet]{Name: "DESIRED", Type: "integer", Description: "The desired number of pods.",
		Cell: func(sts *apps.StatefulSet) interface{} { return table.OptionalInt32(sts.Spec.Replicas) }},
	table.Column[*apps.StatefulSet]{Name: "CURRENT", Type: "integer", Description: "The number of currently all pods.",
		Cell: func(sts *apps.StatefulSet) interface{} { return int64(sts.Status.Replicas) }},
	table.Column[*apps.StatefulSet]{Name: "UPDATED", Type: "integer", Description: "The number of pods updated.",
		Cell: func(sts *apps.StatefulSet) interface{} { return int64(sts.Status.UpdatedReplicas) }},
	table.Column[*apps.StatefulSet]{Name: "READY", Type: "integer", Description: "The number of pods ready.",
		Cell: func(sts *apps.StatefulSet) interface{} { return int64(sts.Status.ReadyReplicas) }},
	table.Column[*apps.StatefulSet]{Name: "AGE", Type: "date", Description: "Time since the StatefulSet was created.",
		Cell: func(sts *apps.StatefulSet) interface{} { return table.Age(sts.CreationTimestamp) }},
	table.Column[*apps.StatefulSet]{Name: "CONTAINERS", Type: "string", Priority: 1, Description: "The containers of currently advanced statefulset.",
		Cell: func(sts *apps.StatefulSet) interface{} { return table.ContainerNames(&sts.Spec.Template) }},
	table.Column[*apps.StatefulSet]{Name: "IMAGES", Type: "string", Priority: 1, Description: "The images of currently advanced statefulset.",
		Cell: func(sts *apps.StatefulSet) interface{} { return table.ContainerImages(&sts.Spec.Template) }},
)
