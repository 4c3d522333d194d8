package cloneset

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's CloneSet CRD, in its order.
var tableConvertor = table.New(
	table.Column[*apps.CloneSet]{Name: "DESIRED", Type: "integer", Description: "The desired number of pods.",
		Cell: func(cs *apps.CloneSet) interface{} { return table.OptionalInt32(cs.Spec.Replicas) }},
	table.Column[*apps.CloneSet]{Name: "UPDATED", Type: "integer", Description: "The number of pods updated.",
		Cell: func(cs *apps.CloneSet) interface{} { return int64(cs.Status.UpdatedReplicas) }},
	table.Column[*apps.CloneSet]{Name: "UPDATED_READY", Type: "integer", Description: "The number of pods updated and ready.",
		Cell: func(cs *apps.CloneSet) interface{} { return int64(cs.Status.UpdatedReadyReplicas) }},
	table.Column[*apps.CloneSet]{Name: "UPDATED_AVAILABLE", Type: "integer", Description: "The number of pods updated and available.",
		Cell: func(cs *apps.CloneSet) interface{} { return int64(cs.Status.UpdatedAvailableReplicas) }},
	table.Column[*apps.CloneSet]{Name: "READY", Type: "integer", Description: "The number of pods ready.",
		Cell: func(cs *apps.CloneSet) interface{} { return int64(cs.Status.ReadyReplicas) }},
	table.Column[*apps.CloneSet]{Name: "TOTAL", Type: "integer", Description: "The number of currently all pods.",
		Cell: func(cs *apps.CloneSet) interface{} { return int64(cs.Status.Replicas) }},
	table.Column[*apps.CloneSet]{Name: "AGE", Type: "date", Description: "Time since the CloneSet was created.",
		Cell: func(cs *apps.CloneSet) interface{} { return table.Age(cs.CreationTimestamp) }},
	table.Column[*apps.CloneSet]{Name: "CONTAINERS", Type: "string", Priority: 1, Description: "The containers of currently cloneset.",
		Cell: func(cs *apps.CloneSet) interface{} { return table.ContainerNames(&cs.Spec.Template) }},
	table.Column[*apps.CloneSet]{Name: "IMAGES", Type: "string", Priority: 1, Description: "The images of currently cloneset.",
		Cell: func(cs *apps.CloneSet) interface{} { return table.ContainerImages(&cs.Spec.Template) }},
	table.Column[*apps.CloneSet]{Name: "SELECTOR", Type: "string", Priority: 1, Description: "The selector of currently cloneset.",
		Cell: func(cs *apps.CloneSet) interface{} { return cs.Status.LabelSelector }},
)
