package nodeimage

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's NodeImage CRD, in its order.
var tableConvertor = table.New(
	table.Column[*apps.NodeImage]{Name: "DESIRED", Type: "integer", Description: "Number of all images on this node",
		Cell: func(ni *apps.NodeImage) interface{} { return int64(ni.Status.Desired) }},
	table.Column[*apps.NodeImage]{Name: "PULLING", Type: "integer", Description: "Number of image pull task active",
		Cell: func(ni *apps.NodeImage) interface{} { return int64(ni.Status.Pulling) }},
	table.Column[*apps.NodeImage]{Name: "SUCCEED", Type: "integer", Description: "Number of image pull task succeeded",
		Cell: func(ni *apps.NodeImage) interface{} { return int64(ni.Status.Succeeded) }},
	table.Column[*apps.NodeImage]{Name: "FAILED", Type: "integer", Description: "Number of image pull tasks failed",
		Cell: func(ni *apps.NodeImage) interface{} { return int64(ni.Status.Failed) }},
	table.Column[*apps.NodeImage]{Name: "AGE", Type: "date", Description: "Time since the NodeImage was created.",
		Cell: func(ni *apps.NodeImage) interface{} { return table.Age(ni.CreationTimestamp) }},
)
