//go:build unix

package kubetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

var (
	crdGK  = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// unservedKindWait bounds how long Apply and DryRunApply wait for a kind to become
// discoverable (a CRD established a moment ago) before returning the no-match error.
const unservedKindWait = 30 * time.Second

// ApplyFiles server-side applies every object in the YAML (multi-document) or JSON files, in
// order, like [ControlPlane.Apply], and then waits until each CustomResourceDefinition among
// them is Established, so that its kinds can be used right after. Any error fails the test.
// It gives up after 2 minutes.
func (cp *ControlPlane) ApplyFiles(t testing.TB, paths ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var crds []string
	for _, path := range paths {
		objs, err := readObjects(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		for _, obj := range objs {
			if _, err := cp.Apply(ctx, obj); err != nil {
				t.Fatalf("applying %s %q from %s: %v", obj.GetKind(), obj.GetName(), path, err)
			}
			if obj.GroupVersionKind().GroupKind() == crdGK {
				crds = append(crds, obj.GetName())
			}
		}
	}
	for _, name := range crds {
		if err := cp.waitEstablished(ctx, name); err != nil {
			t.Fatalf("CRD %s: %v", name, err)
		}
	}
	if len(crds) > 0 {
		cp.mapper.Reset() // new kinds: forget the cached discovery
	}
}

// Apply server-side applies one object with fieldValidation=Strict, forcing conflicts, as
// field manager [FieldManager], and returns the object as stored. A namespaced object without
// a namespace goes to "default". If the object's kind is not served yet (a CRD established a
// moment ago), it rediscovers and retries for up to 30 s. Otherwise it returns the API
// server's error as is, so that tests can assert on rejections (note that server-side apply
// reports an unknown field as a 500 "field not declared in schema", not as a 422).
func (cp *ControlPlane) Apply(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return cp.patch(ctx, obj, nil)
}

// DryRunApply is [ControlPlane.Apply] as a dry run (dryRun=All): the API server decodes,
// defaults, validates (strict field validation, schemas, admission) and answers as if it
// stored the object, but stores nothing. It returns the API server's error, nil if the
// object would be accepted. The object's namespace must exist.
func (cp *ControlPlane) DryRunApply(ctx context.Context, obj *unstructured.Unstructured) error {
	_, err := cp.patch(ctx, obj, []string{metav1.DryRunAll})
	return err
}

func (cp *ControlPlane) patch(ctx context.Context, obj *unstructured.Unstructured, dryRun []string) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	ri, err := cp.resourceFor(ctx, obj)
	if err != nil {
		return nil, err
	}
	force := true
	return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		FieldManager:    FieldManager,
		Force:           &force,
		FieldValidation: metav1.FieldValidationStrict,
		DryRun:          dryRun,
	})
}

// resourceFor maps obj's kind to its resource, in obj's namespace (default "default") when the
// kind is namespaced, waiting a little for a kind that is not discoverable yet.
func (cp *ControlPlane) resourceFor(ctx context.Context, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	deadline := time.Now().Add(unservedKindWait)
	for {
		mapping, err := cp.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) && time.Now().Before(deadline) {
			cp.mapper.Reset()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("kind %s is not served: %w", gvk, err)
			case <-time.After(200 * time.Millisecond):
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("mapping %s: %w", gvk, err)
		}
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			return cp.dyn.Resource(mapping.Resource), nil
		}
		ns := obj.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
		return cp.dyn.Resource(mapping.Resource).Namespace(ns), nil
	}
}

// waitEstablished waits for a CRD's Established condition to be True.
func (cp *ControlPlane) waitEstablished(ctx context.Context, name string) error {
	for {
		crd, err := cp.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not Established: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readObjects decodes every non-empty document of a YAML or JSON file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 64<<10)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue // an empty document, e.g. after a leading "---"
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetKind() == "" || obj.GetAPIVersion() == "" || obj.GetName() == "" {
			return nil, fmt.Errorf("document %d has no apiVersion, kind or metadata.name", len(objs)+1)
		}
		objs = append(objs, obj)
	}
}
