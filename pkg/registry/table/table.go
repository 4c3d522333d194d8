// Package table builds the server-side tables `kubectl get` prints for our
// kinds from a list of typed columns, the way Kubernetes' own printers do,
// so no JSONPath is evaluated per request.
package table

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Column is one column after NAME: its definition and how to compute its
// cell from an object of the kind.
type Column[T runtime.Object] struct {
	Name        string
	Type        string // integer, string, date, boolean, number
	Description string
	// Priority 1 columns only show with `-o wide`.
	Priority int32
	Cell     func(obj T) interface{}
}

// Convertor turns objects of type T, and lists of them, into tables.
type Convertor[T runtime.Object] struct {
	definitions []metav1.TableColumnDefinition
	columns     []Column[T]
}

var _ rest.TableConvertor = &Convertor[runtime.Object]{}

var nameColumn = metav1.TableColumnDefinition{
	Name:        "Name",
	Type:        "string",
	Format:      "name",
	Description: metav1.ObjectMeta{}.SwaggerDoc()["name"],
}

// New returns a Convertor with a NAME column followed by columns.
func New[T runtime.Object](columns ...Column[T]) *Convertor[T] {
	c := &Convertor[T]{columns: columns, definitions: []metav1.TableColumnDefinition{nameColumn}}
	for _, column := range columns {
		c.definitions = append(c.definitions, metav1.TableColumnDefinition{
			Name:        column.Name,
			Type:        column.Type,
			Description: column.Description,
			Priority:    column.Priority,
		})
	}
	return c
}

// ConvertToTable implements rest.TableConvertor.
func (c *Convertor[T]) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	opts, _ := tableOptions.(*metav1.TableOptions)
	if opts == nil || !opts.NoHeaders {
		table.ColumnDefinitions = c.definitions
	}

	addRow := func(obj runtime.Object) error {
		typed, ok := obj.(T)
		if !ok {
			return fmt.Errorf("table: cannot print %T", obj)
		}
		accessor, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		cells := make([]interface{}, 0, len(c.columns)+1)
		cells = append(cells, accessor.GetName())
		for _, column := range c.columns {
			cells = append(cells, column.Cell(typed))
		}
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  cells,
			Object: runtime.RawExtension{Object: obj},
		})
		return nil
	}

	if meta.IsListType(object) {
		if err := meta.EachListItem(object, addRow); err != nil {
			return nil, err
		}
		if list, err := meta.ListAccessor(object); err == nil {
			table.ResourceVersion = list.GetResourceVersion()
			table.Continue = list.GetContinue()
			table.RemainingItemCount = list.GetRemainingItemCount()
		}
	} else {
		if err := addRow(object); err != nil {
			return nil, err
		}
		if accessor, err := meta.Accessor(object); err == nil {
			table.ResourceVersion = accessor.GetResourceVersion()
		}
	}
	return table, nil
}

// Age is the cell of an AGE column: how long ago t was, as kubectl prints it.
func Age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// OptionalInt32 is the cell of an optional integer: nil, which kubectl
// prints as <none>, when it is unset.
func OptionalInt32(v *int32) interface{} {
	if v == nil {
		return nil
	}
	return int64(*v)
}

// ContainerNames is the CONTAINERS cell of a workload: its template's
// container names, comma-separated.
func ContainerNames(template *corev1.PodTemplateSpec) string {
	names := make([]string, 0, len(template.Spec.Containers))
	for _, c := range template.Spec.Containers {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

// ContainerImages is the IMAGES cell of a workload.
func ContainerImages(template *corev1.PodTemplateSpec) string {
	images := make([]string, 0, len(template.Spec.Containers))
	for _, c := range template.Spec.Containers {
		images = append(images, c.Image)
	}
	return strings.Join(images, ",")
}
