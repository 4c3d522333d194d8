package imagelistpulljob

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's ImageListPullJob CRD, in its order.
var tableConvertor = table.New(
	table.Column[*apps.ImageListPullJob]{Name: "TOTAL", Type: "integer", Description: "Number of image pull job",
		Cell: func(job *apps.ImageListPullJob) interface{} { return int64(job.Status.Desired) }},
	table.Column[*apps.ImageListPullJob]{Name: "SUCCEEDED", Type: "integer", Description: "Number of image pull job succeeded",
		Cell: func(job *apps.ImageListPullJob) interface{} { return int64(job.Status.Succeeded) }},
	table.Column[*apps.ImageListPullJob]{Name: "COMPLETED", Type: "integer", Description: "Number of ImagePullJobs which are finished",
		Cell: func(job *apps.ImageListPullJob) interface{} { return int64(job.Status.Completed) }},
	table.Column[*apps.ImageListPullJob]{Name: "AGE", Type: "date", Description: "Time since the ImageListPullJob was created.",
		Cell: func(job *apps.ImageListPullJob) interface{} { return table.Age(job.CreationTimestamp) }},
)
