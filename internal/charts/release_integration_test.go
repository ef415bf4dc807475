//go:build integration

package charts

// A real `pulumi up` of a Release with the Pulumi CLI, the kubernetes provider plugin and a real
// kube-apiserver: a stack deployed with the SDK's helmv3.Release (what the program used before
// charts.Release) is taken over by charts.Release with no change planned or made, and both
// report the same status. This test alone imports the SDK's helm/v3 package; the program does not.

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	clientset "k8s.io/client-go/kubernetes"

	"github.com/example/flask-eks/internal/kubetest"
)

const itNamespace = "apps"

// TestIntegrationReleaseTakesOverSDKRelease: up with the SDK's Release → preview and up with
// charts.Release (same name and arguments) plan and make no change, keep revision 1 and report
// the same status → an upgrade through charts.Release changes the release in the cluster →
// destroy removes it.
func TestIntegrationReleaseTakesOverSDKRelease(t *testing.T) {
	cp := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": itNamespace}}}
	if _, err := cp.Apply(ctx, ns); err != nil {
		t.Fatal(err)
	}
	kube, err := clientset.NewForConfig(cp.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	chart := writeChart(t)

	stack := kubetest.InlineStack(ctx, t, t.TempDir(), "integration-release", releaseProgram(cp.Kubeconfig(), chart, "hello", false))
	if _, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up (SDK)"))); err != nil {
		t.Fatalf("up with the SDK's Release: %v", err)
	}
	sdkOut := outputs(ctx, t, stack)
	if got := greeting(ctx, t, kube); got != "hello" {
		t.Fatalf("after up with the SDK's Release: greeting %q, want hello", got)
	}

	stack.Workspace().SetProgram(releaseProgram(cp.Kubeconfig(), chart, "hello", true))
	pre, err := stack.Preview(ctx, optpreview.ProgressStreams(kubetest.Log(t, "preview (charts.Release)")))
	if err != nil {
		t.Fatalf("preview with charts.Release: %v", err)
	}
	assertNoChanges(t, "preview", pre.ChangeSummary)
	up, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up (charts.Release)")))
	if err != nil {
		t.Fatalf("up with charts.Release: %v", err)
	}
	if up.Summary.ResourceChanges != nil {
		changes := map[apitype.OpType]int{}
		for op, n := range *up.Summary.ResourceChanges {
			changes[apitype.OpType(op)] = n
		}
		assertNoChanges(t, "up", changes)
	}
	localOut := outputs(ctx, t, stack)
	if !reflect.DeepEqual(localOut, sdkOut) {
		t.Errorf("outputs with charts.Release\n%v\nwith the SDK's Release\n%v", localOut, sdkOut)
	}
	if st, _ := localOut["status"].(map[string]any); st["revision"] != 1.0 || st["status"] != "deployed" {
		t.Errorf("status after taking over = %v, want revision 1, deployed", st)
	}
	if localOut["name"] != "web" || localOut["namespace"] != itNamespace {
		t.Errorf("StatusName, StatusNamespace = %v, %v; want web, %s", localOut["name"], localOut["namespace"], itNamespace)
	}

	// A values change is a Helm upgrade: revision 2 in the cluster.
	stack.Workspace().SetProgram(releaseProgram(cp.Kubeconfig(), chart, "hi", true))
	if _, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "upgrade (charts.Release)"))); err != nil {
		t.Fatalf("upgrade with charts.Release: %v", err)
	}
	if got := greeting(ctx, t, kube); got != "hi" {
		t.Errorf("after the upgrade: greeting %q, want hi", got)
	}
	if st, _ := outputs(ctx, t, stack)["status"].(map[string]any); st["revision"] != 2.0 {
		t.Errorf("status after the upgrade = %v, want revision 2", st)
	}

	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(kubetest.Log(t, "destroy"))); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if cms, err := kube.CoreV1().ConfigMaps(itNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=web"}); err != nil || len(cms.Items) != 0 {
		t.Errorf("after destroy: ConfigMaps %v, err %v; want none", cms, err)
	}
}

// releaseProgram declares the same release of chart with either the SDK's helmv3.Release or
// charts.Release, and exports its status.
func releaseProgram(kubeconfig, chart, greeting string, local bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "apiserver", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.ToSecret(pulumi.String(kubeconfig)).(pulumi.StringOutput),
		})
		if err != nil {
			return err
		}
		values := pulumi.Map{"greeting": pulumi.String(greeting), "labels": pulumi.Map{"tier": pulumi.String("web")}}
		if !local {
			r, err := helmv3.NewRelease(ctx, "web", &helmv3.ReleaseArgs{
				Name: pulumi.String("web"), Chart: pulumi.String(chart), Namespace: pulumi.String(itNamespace), Values: values,
				Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), Timeout: pulumi.Int(120), MaxHistory: pulumi.Int(3),
			}, pulumi.Provider(p))
			if err != nil {
				return err
			}
			ctx.Export("status", r.Status)
			ctx.Export("name", r.Status.Name())
			ctx.Export("namespace", r.Status.Namespace())
			return nil
		}
		r, err := NewRelease(ctx, "web", &ReleaseArgs{
			Name: pulumi.String("web"), Chart: pulumi.String(chart), Namespace: pulumi.String(itNamespace), Values: values,
			Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), Timeout: pulumi.Int(120), MaxHistory: pulumi.Int(3),
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		ctx.Export("status", r.Status)
		ctx.Export("name", r.StatusName())
		ctx.Export("namespace", r.StatusNamespace())
		return nil
	}
}

// writeChart writes a one-ConfigMap chart into a temporary directory and returns its path.
func writeChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "web")
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  labels:
    app: {{ .Release.Name }}
    tier: {{ .Values.labels.tier }}
data:
  greeting: {{ .Values.greeting | quote }}
`,
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func greeting(ctx context.Context, t *testing.T, kube clientset.Interface) string {
	t.Helper()
	cm, err := kube.CoreV1().ConfigMaps(itNamespace).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the release's ConfigMap: %v", err)
	}
	return cm.Data["greeting"]
}

func outputs(ctx context.Context, t *testing.T, stack auto.Stack) map[string]any {
	t.Helper()
	out, err := stack.Outputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for k, v := range out {
		m[k] = v.Value
	}
	return m
}

func assertNoChanges(t *testing.T, what string, changes map[apitype.OpType]int) {
	t.Helper()
	for op, n := range changes {
		if op != apitype.OpSame && n != 0 {
			t.Errorf("%s with charts.Release after the SDK's Release: %d %s, want only %q (%v)", what, n, op, apitype.OpSame, changes)
		}
	}
}
