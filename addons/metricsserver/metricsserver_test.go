package metricsserver

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/modules"
	"github.com/example/flask-eks/internal/pulumitest"
)

const (
	componentType = "flask-eks:metricsserver:MetricsServer"
	chartType     = "kubernetes:helm.sh/v4:Chart"
	namespaceType = "kubernetes:core/v1:Namespace"
)

// testPlacement is a pool's placement as main.go passes the platform pool's.
var testPlacement = kube.Placement{
	NodeSelector: map[string]string{"karpenter.sh/nodepool": "platform"},
	Tolerations:  []kube.Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"}},
}

// chartDir is Chart's chart at its release tag, from the module proxy (modules.MetricsServerModule).
func chartDir(t testing.TB) string {
	t.Helper()
	return modules.ChartDir(t, modules.MetricsServerModule, "charts/"+Chart.Name, Chart.Name, Chart.Version)
}

// TestChartIsPinnedInKubeSystemAfterItsDependencies runs New as main.go does and checks the
// chart resource: the pinned chart and repository, kube-system (read, never created), the
// explicit provider, the component as parent, and the wait for what it depends on.
func TestChartIsPinnedInKubeSystemAfterItsDependencies(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		classes, err := corev1.NewNamespace(ctx, "classes", &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("stand-in")},
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		_, err = New(ctx, "metrics-server", &Args{Provider: p, DependsOn: []pulumi.Resource{classes}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	component := m.URN("", componentType, "metrics-server")
	chart := m.Only(t, chartType)
	if chart.Parent != component {
		t.Errorf("chart parent %q, want %q", chart.Parent, component)
	}
	if !strings.HasSuffix(chart.Provider, "::k8s") && !strings.Contains(chart.Provider, "::k8s::") {
		t.Errorf("chart provider %q, want the explicit provider k8s", chart.Provider)
	}
	for key, want := range map[string]any{
		"chart": Chart.Name, "version": Chart.Version, "name": Chart.Name, "namespace": Namespace,
		"repositoryOpts": map[string]any{"repo": Chart.Repo},
	} {
		if got := chart.Inputs[key]; !equalJSON(t, got, want) {
			t.Errorf("chart %s = %v, want %v", key, got, want)
		}
	}
	classes := m.One(t, namespaceType, "classes")
	if !pulumitest.DependsOn(m.Graph(), chart.URN, classes.URN) {
		t.Errorf("chart does not wait for its DependsOn")
	}
	var reads int
	for _, n := range m.ByType(namespaceType) {
		if n.Name == "metrics-server-kube-system" {
			reads++
			if n.Custom && n.ID != Namespace {
				t.Errorf("kube-system read with ID %q", n.ID)
			}
		}
	}
	if reads != 1 {
		t.Errorf("kube-system read %d times, want once", reads)
	}
}

// TestNewWithoutProviderFails checks that metrics-server is never installed through an ambient
// kubeconfig: the component refuses to start, before registering anything.
func TestNewWithoutProviderFails(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "metrics-server", &Args{})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "explicit Kubernetes provider") {
		t.Fatalf("err = %v, want the missing-provider error", err)
	}
	if n := len(m.Graph()); n != 0 {
		t.Errorf("%d resources registered, want none", n)
	}
}

// TestRenderedChartIsHighlyAvailable renders the chart at the pinned tag with the component's
// values and checks what the API server would get: two replicas that may not share a node (the
// anti-affinity must select the Deployment's own pods, or it is a no-op), a budget over the
// same pods that lets one go at a time, a rolling update of one at a time, requests, and the
// placement's node selector and tolerations.
func TestRenderedChartIsHighlyAvailable(t *testing.T) {
	manifests, err := chartrender.Render(chartDir(t), chartValues(testPlacement), Chart.Name, Namespace, "v1.35.0")
	if err != nil {
		t.Fatal(err)
	}
	var deploy *appsv1.Deployment
	var pdb *policyv1.PodDisruptionBudget
	for _, mf := range manifests {
		switch mf.Kind {
		case "Deployment":
			obj, err := chartrender.DecodeStrict(mf)
			if err != nil {
				t.Fatal(err)
			}
			deploy = obj.(*appsv1.Deployment)
		case "PodDisruptionBudget":
			obj, err := chartrender.DecodeStrict(mf)
			if err != nil {
				t.Fatal(err)
			}
			pdb = obj.(*policyv1.PodDisruptionBudget)
		}
	}
	if deploy == nil || pdb == nil {
		t.Fatalf("rendered Deployment %v, PodDisruptionBudget %v; want both", deploy != nil, pdb != nil)
	}
	podLabels := labels.Set(deploy.Spec.Template.Labels)
	if deploy.Spec.Replicas == nil || *deploy.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", deploy.Spec.Replicas)
	}
	if s := deploy.Spec.Strategy.RollingUpdate; s == nil || s.MaxUnavailable == nil || s.MaxUnavailable.IntValue() != 1 {
		t.Errorf("rolling update %+v, want maxUnavailable 1", s)
	}
	aff := deploy.Spec.Template.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("affinity %+v, want one required pod anti-affinity term", aff)
	}
	term := aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
	if term.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("anti-affinity topology key %q, want kubernetes.io/hostname", term.TopologyKey)
	}
	sel, err := apimetav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(podLabels) {
		t.Errorf("anti-affinity selector %v does not select the pods %v", sel, podLabels)
	}
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
		t.Errorf("budget maxUnavailable %v minAvailable %v, want 1 and unset", pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable)
	}
	if sel, err := apimetav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(podLabels) {
		t.Errorf("budget selector %v does not select the pods %v (%v)", pdb.Spec.Selector, podLabels, err)
	}
	if spec := deploy.Spec.Template.Spec; !maps.Equal(spec.NodeSelector, testPlacement.NodeSelector) ||
		len(spec.Tolerations) != 1 || spec.Tolerations[0] != testPlacement.Tolerations[0].Core() {
		t.Errorf("node selector %v, tolerations %v; want the placement's", spec.NodeSelector, spec.Tolerations)
	}
	req := deploy.Spec.Template.Spec.Containers[0].Resources.Requests
	if req.Cpu().String() != "100m" || req.Memory().String() != "200Mi" {
		t.Errorf("requests %v, want cpu 100m, memory 200Mi", req)
	}
}

// TestChartValuesExist checks every key the component sets against the chart's values.yaml at
// the pinned tag: the chart has no values.schema.json, so a misspelt key would be ignored
// without a word. Below affinity, updateStrategy and resources go Kubernetes objects of free
// form.
func TestChartValuesExist(t *testing.T) {
	ch, err := chartrender.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	freeForm := func(path string) bool {
		return slices.ContainsFunc([]string{"affinity.", "updateStrategy.", "resources.", "nodeSelector."},
			func(prefix string) bool { return strings.HasPrefix(path, prefix) })
	}
	values := chartValues(testPlacement)
	if unknown := chartrender.UnknownValues(values, ch.Values, freeForm); len(unknown) != 0 {
		t.Errorf("values not in the chart's values.yaml: %v", unknown)
	}
	// A misspelt key fails the check.
	for path, typo := range map[string]string{"tolerations": "toleration", "nodeSelector": "nodeSelectors"} {
		v, err := chartrender.WithKeyRenamed(values, []string{path}, typo)
		if err != nil {
			t.Fatal(err)
		}
		if unknown := chartrender.UnknownValues(v, ch.Values, freeForm); !slices.Equal(unknown, []string{typo}) {
			t.Errorf("with %s: unknown %v, want only it", typo, unknown)
		}
	}
}

// equalJSON compares two plain values as JSON.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
