package podunavailablebudget

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/policy"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's PodUnavailableBudget CRD, in its order. The
// CRD has no AGE column, so neither has this table.
var tableConvertor = table.New(
	table.Column[*policy.PodUnavailableBudget]{Name: "Allowed", Type: "integer", Description: "UnavailableAllowed number of pod unavailable that are currently allowed",
		Cell: func(pub *policy.PodUnavailableBudget) interface{} { return int64(pub.Status.UnavailableAllowed) }},
	table.Column[*policy.PodUnavailableBudget]{Name: "Current", Type: "integer", Description: "CurrentAvailable current number of available pods",
		Cell: func(pub *policy.PodUnavailableBudget) interface{} { return int64(pub.Status.CurrentAvailable) }},
	table.Column[*policy.PodUnavailableBudget]{Name: "Desired", Type: "integer", Description: "DesiredAvailable minimum desired number of available pods",
		Cell: func(pub *policy.PodUnavailableBudget) interface{} { return int64(pub.Status.DesiredAvailable) }},
	table.Column[*policy.PodUnavailableBudget]{Name: "Total", Type: "integer", Description: "TotalReplicas total number of pods counted by this budget",
		Cell: func(pub *policy.PodUnavailableBudget) interface{} { return int64(pub.Status.TotalReplicas) }},
)
