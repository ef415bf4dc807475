//go:build integration

package eks

// A real `pulumi up` of the cluster's node control and tagged classes: the Pulumi engine and
// CLI, the kubernetes provider plugin, and a real kube-apiserver with the NodeClass stand-in,
// Karpenter v1.1.5's NodePool CRD (with its CEL rules) and the IngressClassParams stand-in.

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/example/flask-eks/internal/kubetest"
)

var (
	nodeClassesGVR = schema.GroupVersionResource{Group: "eks.amazonaws.com", Version: "v1", Resource: "nodeclasses"}
	nodePoolsGVR   = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodepools"}
	paramsGVR      = schema.GroupVersionResource{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"}
	storageGVR     = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	ingClassGVR    = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
)

// nodesProgram declares the Classes and the Nodes as NewCluster does, with IDs and ARNs of the
// shape AWS gives them; the stack config "owner" varies one tag.
func nodesProgram(kubeconfig string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		provider, err := kubernetes.NewProvider(ctx, "apiserver", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.ToSecret(pulumi.String(kubeconfig)).(pulumi.StringOutput),
		})
		if err != nil {
			return err
		}
		storage, err := kubernetes.NewProvider(ctx, "apiserver-storage", &kubernetes.ProviderArgs{
			Kubeconfig:            pulumi.ToSecret(pulumi.String(kubeconfig)).(pulumi.StringOutput),
			EnableServerSideApply: pulumi.BoolPtr(false),
		})
		if err != nil {
			return err
		}
		tags := map[string]string{"CostCenter": "platform-dev", "Owner": config.Require(ctx, "owner")}
		if _, err := NewClasses(ctx, "cluster", &ClassesArgs{
			Provider: provider, StorageProvider: storage, StorageClassName: "gp3", Tags: tags,
			ALBs: []ALBClass{{Name: "alb", Scheme: "internet-facing", GroupName: "flask-eks-it", Default: true}},
		}); err != nil {
			return err
		}
		_, err = NewNodes(ctx, "cluster", &NodesArgs{
			Provider:         provider,
			NodeClass:        testNodeClass(),
			RoleName:         pulumi.String("cluster-node-5f3a2c1"),
			SubnetIDs:        pulumi.ToStringArray([]string{"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"}),
			SecurityGroupIDs: pulumi.ToStringArray([]string{"sg-0123456789abcdef0"}),
			KMSKeyArn:        pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d"),
			Tags:             tags,
			App:              testAppPool(),
			Platform:         testPlatformPool(),
		})
		return err
	}
}

// TestIntegrationNodes: up → the objects as stored (the API server has validated them against
// the schemas, CEL rules included) → a preview with no changes → a changed tag, which replaces
// the StorageClass (its parameters are immutable) and updates the rest in place → no changes
// again → destroy, after which nothing is left.
func TestIntegrationNodes(t *testing.T) {
	cp := kubetest.Start(t)
	root := kubetest.RepoRoot(t)
	cp.ApplyFiles(t, nodeClassCRD(t), karpenterNodePoolCRD(t),
		filepath.Join(root, "testdata", "crds", "eks.amazonaws.com_ingressclassparams.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stopGC := cp.EmulateGarbageCollector(ctx, t, nodeClassesGVR, nodePoolsGVR, paramsGVR, storageGVR, ingClassGVR)
	defer stopGC()

	stack := kubetest.InlineStack(ctx, t, t.TempDir(), "integration-nodes", nodesProgram(cp.Kubeconfig()))
	set := func(owner string) {
		t.Helper()
		if err := stack.SetConfig(ctx, "owner", auto.ConfigValue{Value: owner}); err != nil {
			t.Fatal(err)
		}
	}
	up := func(what string) {
		t.Helper()
		res, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, what)))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %v", what, res.Summary.ResourceChanges)
	}
	set("platform-team")
	up("up")
	checkStored(ctx, t, cp, "platform-team")
	if steps := changes(ctx, t, stack); len(steps) != 0 {
		t.Errorf("preview after up plans %v; want no changes", steps)
	}

	set("data-team")
	if steps := changes(ctx, t, stack); !slices.Contains(steps, "replace kubernetes:storage.k8s.io/v1:StorageClass") {
		t.Errorf("a changed tag plans %v; want the StorageClass replaced", steps)
	}
	up("up with a changed tag")
	checkStored(ctx, t, cp, "data-team")
	if steps := changes(ctx, t, stack); len(steps) != 0 {
		t.Errorf("preview after the second up plans %v; want no changes", steps)
	}

	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(kubetest.Log(t, "destroy"))); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{nodeClassesGVR, "flask-eks-test"}, {nodePoolsGVR, AppPool}, {nodePoolsGVR, PlatformPool}, {storageGVR, "gp3"}, {paramsGVR, "alb"}} {
		if _, err := cp.Dynamic().Resource(o.gvr).Get(ctx, o.name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s %s after destroy: %v", o.gvr.Resource, o.name, err)
		}
	}
}

// checkStored reads back what the API server stored and checks the tags on every layer and
// the pools' capacity types.
func checkStored(ctx context.Context, t *testing.T, cp *kubetest.ControlPlane, owner string) {
	t.Helper()
	want := map[string]string{"CostCenter": "platform-dev", "Owner": owner}
	get := func(gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
		t.Helper()
		obj, err := cp.Dynamic().Resource(gvr).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s %s: %v", gvr.Resource, name, err)
		}
		return obj
	}
	nc := get(nodeClassesGVR, "flask-eks-test")
	if tags, _, _ := unstructured.NestedStringMap(nc.Object, "spec", "tags"); !maps.Equal(tags, want) {
		t.Errorf("stored NodeClass tags %v, want %v", tags, want)
	}
	params, _, _ := unstructured.NestedStringMap(get(storageGVR, "gp3").Object, "parameters")
	got := map[string]string{}
	for k, v := range params {
		if strings.HasPrefix(k, "tagSpecification_") {
			key, value, _ := strings.Cut(v, "=")
			got[key] = value
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("stored StorageClass tags %v, want %v", got, want)
	}
	list, _, _ := unstructured.NestedSlice(get(paramsGVR, "alb").Object, "spec", "tags")
	got = map[string]string{}
	for _, tag := range list {
		m := tag.(map[string]any)
		got[m["key"].(string)] = m["value"].(string)
	}
	if !maps.Equal(got, want) {
		t.Errorf("stored IngressClassParams tags %v, want %v", got, want)
	}
	for pool, capacity := range map[string][]string{AppPool: {CapacitySpot, CapacityOnDemand}, PlatformPool: {CapacityOnDemand}} {
		reqs, _, _ := unstructured.NestedSlice(get(nodePoolsGVR, pool).Object, "spec", "template", "spec", "requirements")
		var values []string
		for _, r := range reqs {
			if m := r.(map[string]any); m["key"] == LabelCapacityType {
				for _, v := range m["values"].([]any) {
					values = append(values, v.(string))
				}
			}
		}
		if !slices.Equal(values, capacity) {
			t.Errorf("stored NodePool %s capacity types %v, want %v", pool, values, capacity)
		}
	}
}

// changes runs a preview and returns its planned steps other than same and read, as "op type".
func changes(ctx context.Context, t *testing.T, stack auto.Stack) []string {
	t.Helper()
	evs := make(chan events.EngineEvent)
	var steps []string
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for e := range evs {
			if e.ResourcePreEvent == nil {
				continue
			}
			switch md := e.ResourcePreEvent.Metadata; md.Op {
			case apitype.OpSame, apitype.OpRead:
			case apitype.OpCreateReplacement, apitype.OpDeleteReplaced, apitype.OpReplace:
				if md.Op == apitype.OpReplace {
					steps = append(steps, "replace "+md.Type)
				}
			default:
				steps = append(steps, string(md.Op)+" "+md.Type)
			}
		}
	}()
	_, err := stack.Preview(ctx, optpreview.Diff(), optpreview.EventStreams(evs))
	<-collected
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	return steps
}
