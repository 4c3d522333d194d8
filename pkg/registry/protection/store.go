// Package protection makes a generic registry store honour the
// policy.kruise.io/delete-protection label on DELETE and DELETECOLLECTION.
// It sits in the storage layer, under every client: the check runs on the
// object as stored, inside the store's delete, after admission.
package protection

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/deletionprotection"
)

// Store is a generic registry store whose deletes are protected.
type Store struct {
	*genericregistry.Store
	// Cascade returns what an object holds that Cascading protects (see
	// deletionprotection.Cascade); nil when the kind has no such notion.
	Cascade func(obj runtime.Object) deletionprotection.Cascade
}

// Wrap returns store with protected deletes.
func Wrap(store *genericregistry.Store, cascade func(obj runtime.Object) deletionprotection.Cascade) *Store {
	return &Store{Store: store, Cascade: cascade}
}

// Delete refuses, with 403 Forbidden naming the label, to delete a protected object.
func (s *Store) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	return s.Store.Delete(ctx, name, s.guard(deleteValidation, nil), options)
}

// DeleteCollection deletes every selected object that is not protected and,
// if any were kept, fails with 403 Forbidden listing them and why: callers
// such as the namespace controller report that message, so a namespace
// held in Terminating says what holds it.
func (s *Store) DeleteCollection(ctx context.Context, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions, listOptions *metainternalversion.ListOptions) (runtime.Object, error) {
	kept := &keptObjects{}
	deleted, err := s.Store.DeleteCollection(ctx, s.guard(deleteValidation, kept), options, listOptions)
	if err != nil {
		return nil, err
	}
	if kept.empty() {
		return deleted, nil
	}
	return nil, apierrors.NewForbidden(s.DefaultQualifiedResource, "",
		fmt.Errorf("deletecollection kept %s", kept.describe()))
}

func (s *Store) guard(next rest.ValidateObjectFunc, kept *keptObjects) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		accessor, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		var cascade deletionprotection.Cascade
		if s.Cascade != nil {
			cascade = s.Cascade(obj)
		}
		reason, err := deletionprotection.Check(accessor, cascade)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		if reason != "" {
			if kept != nil {
				// A NotFound is the one error the store's DeleteCollection
				// workers step over and carry on after; any other stops
				// the collection half-way, leaving what follows a
				// protected object undeleted. The kept list says the rest.
				kept.add(accessor.GetName(), reason)
				return apierrors.NewNotFound(s.DefaultQualifiedResource, accessor.GetName())
			}
			return apierrors.NewForbidden(s.DefaultQualifiedResource, accessor.GetName(), errors.New(reason))
		}
		if next == nil {
			return nil
		}
		return next(ctx, obj)
	}
}

type keptObjects struct {
	mu      sync.Mutex
	reasons map[string]string
}

func (k *keptObjects) add(name, reason string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.reasons == nil {
		k.reasons = map[string]string{}
	}
	k.reasons[name] = reason
}

func (k *keptObjects) empty() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.reasons) == 0
}

func (k *keptObjects) describe() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	names := make([]string, 0, len(k.reasons))
	for name := range k.reasons {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%q (%s)", name, k.reasons[name]))
	}
	noun := "object"
	if len(names) > 1 {
		noun = "objects"
	}
	return fmt.Sprintf("%d protected %s: %s", len(names), noun, strings.Join(parts, "; "))
}
