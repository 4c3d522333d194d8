package workloadspread

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/registry/table"
)

// The columns of OpenKruise's WorkloadSpread CRD, in its order.
var tableConvertor = table.New(
	table.Column[*apps.WorkloadSpread]{Name: "WorkloadName", Type: "string", Description: "The name of the workload whose Pods are spread.",
		Cell: func(ws *apps.WorkloadSpread) interface{} {
			if ws.Spec.TargetReference == nil {
				return nil
			}
			return ws.Spec.TargetReference.Name
		}},
	table.Column[*apps.WorkloadSpread]{Name: "WorkloadKind", Type: "string", Description: "The kind of the workload whose Pods are spread.",
		Cell: func(ws *apps.WorkloadSpread) interface{} {
			if ws.Spec.TargetReference == nil {
				return nil
			}
			return ws.Spec.TargetReference.Kind
		}},
	table.Column[*apps.WorkloadSpread]{Name: "Adaptive", Type: "boolean", Description: "Whether use the adaptive reschedule strategy",
		Cell: func(ws *apps.WorkloadSpread) interface{} {
			return ws.Spec.ScheduleStrategy.Type == apps.AdaptiveWorkloadSpreadScheduleStrategyType
		}},
	table.Column[*apps.WorkloadSpread]{Name: "Age", Type: "date", Description: "Time since the WorkloadSpread was created.",
		Cell: func(ws *apps.WorkloadSpread) interface{} { return table.Age(ws.CreationTimestamp) }},
)
