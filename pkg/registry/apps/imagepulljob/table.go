package imagepulljob

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's ImagePullJob CRD, in its order. Its v1alpha1
// version also has MESSAGE, which v1beta1 dropped; a table here is one per
// resource, whatever the version, so MESSAGE is kept for `-o wide`.
var tableConvertor = table.New(
	table.Column[*apps.ImagePullJob]{Name: "TOTAL", Type: "integer", Description: "Number of all nodes matched by this job",
		Cell: func(job *apps.ImagePullJob) interface{} { return int64(job.Status.Desired) }},
	table.Column[*apps.ImagePullJob]{Name: "ACTIVE", Type: "integer", Description: "Number of image pull task active",
		Cell: func(job *apps.ImagePullJob) interface{} { return int64(job.Status.Active) }},
	table.Column[*apps.ImagePullJob]{Name: "SUCCEED", Type: "integer", Description: "Number of image pull task succeeded",
		Cell: func(job *apps.ImagePullJob) interface{} { return int64(job.Status.Succeeded) }},
	table.Column[*apps.ImagePullJob]{Name: "FAILED", Type: "integer", Description: "Number of image pull tasks failed",
		Cell: func(job *apps.ImagePullJob) interface{} { return int64(job.Status.Failed) }},
	table.Column[*apps.ImagePullJob]{Name: "AGE", Type: "date", Description: "Time since the ImagePullJob was created.",
		Cell: func(job *apps.ImagePullJob) interface{} { return table.Age(job.CreationTimestamp) }},
	table.Column[*apps.ImagePullJob]{Name: "MESSAGE", Type: "string", Priority: 1, Description: "Summary of status when job is failed",
		Cell: func(job *apps.ImagePullJob) interface{} { return job.Status.Message }},
)
