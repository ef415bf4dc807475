//go:build integration

package main

// A real `pulumi up` of the program's Kubernetes half: the Pulumi engine and CLI, the real
// kubernetes provider plugin, and a real kube-apiserver with etcd (no nodes, no controllers).
// The inline program calls the same code main.go uses (eks.NewClasses and deployKubernetes),
// so what passes here is what a cluster is asked for.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientset "k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/addons/externalsecrets"
	"github.com/example/flask-eks/addons/keda"
	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/kubetest"
	"github.com/example/flask-eks/internal/modules"
	"github.com/example/flask-eks/internal/netpol"
)

const (
	itImage     = "registry.example.com/flask-app:it-1"
	itSecretKey = "integration-secret-key-0123456789"
	itDBPass    = "integration-db-password-0123456789"
)

// itConfig is the stack config of the integration stack: the dev stack's app settings,
// deployed as an existing cluster with a given image and secrets from config.
func itConfig(logLevel string) auto.ConfigMap {
	return auto.ConfigMap{
		"flask-eks:environment":       {Value: "dev"},
		"flask-eks:clusterMode":       {Value: "existing"},
		"flask-eks:kubeContext":       {Value: "unused-the-test-passes-its-own-provider"},
		"flask-eks:image":             {Value: itImage},
		"flask-eks:appReplicas":       {Value: "2"},
		"flask-eks:appMaxReplicas":    {Value: "4"},
		"flask-eks:logLevel":          {Value: logLevel},
		"flask-eks:apiBaseUrl":        {Value: "https://api.example.com"},
		"flask-eks:monitoringEnabled": {Value: "false"},
		"flask-eks:grafanaExposure":   {Value: "none"},
		"flask-eks:secretKey":         {Value: itSecretKey, Secret: true},
		"flask-eks:dbPassword":        {Value: itDBPass, Secret: true},
	}
}

// itTarget is what deployToEKS hands the Kubernetes half, on the test's API server: an
// explicit provider, the eks component's cluster-level classes, the configured image, and the
// app chart from chartPath (an absolute path, so that the program's chart digest and the
// provider's chart are the same files). No nodes run, so nothing waits for pods.
func itTarget(ctx *pulumi.Context, cfg *Config, kubeconfig, chartPath string) (kubeTarget, error) {
	provider, err := kubernetes.NewProvider(ctx, "apiserver", &kubernetes.ProviderArgs{
		Kubeconfig: pulumi.ToSecret(pulumi.String(kubeconfig)).(pulumi.StringOutput),
	})
	if err != nil {
		return kubeTarget{}, err
	}
	classes, err := eks.NewClasses(ctx, "cluster", &eks.ClassesArgs{
		Provider:         provider,
		StorageClassName: storageClassName,
		ALBs:             []eks.ALBClass{{Name: publicALBClass, Scheme: "internet-facing", GroupName: "flask-eks-it", Default: true}},
	})
	if err != nil {
		return kubeTarget{}, err
	}
	return kubeTarget{
		Provider:         provider,
		StorageClassName: storageClassName,
		Classes:          classes.Resources(),
		Image:            app.ImageFromRef(cfg.App.Image),
		IngressClass:     publicALBClass,
		ALBSourceCIDRs:   []string{"10.0.0.0/24", "10.0.1.0/24"},
		NodeCIDRs:        []string{"10.0.0.0/16"},
		APIServer:        netpol.APIServer{ServiceAddress: "10.96.0.1", CIDRs: []string{"10.0.0.0/16"}},
		SkipAwait:        true,
		ChartPath:        chartPath,
	}, nil
}

// kubernetesHalf is the inline program: the cluster-level classes of the eks component and
// the Kubernetes half of main.go (dev's shape: Pulumi-generated secrets, the chart's HPA).
func kubernetesHalf(kubeconfig, chartPath string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := readConfig(ctx.Project(), ctx.Stack(), contextConfig{ctx}, testToday())
		if err != nil {
			return err
		}
		target, err := itTarget(ctx, cfg, kubeconfig, chartPath)
		if err != nil {
			return err
		}
		w, err := deployKubernetes(ctx, cfg, target)
		if err != nil {
			return err
		}
		return workloadOutputs(cfg, w, pulumi.String(cfg.App.Image)).export(ctx)
	}
}

// addonHalf is the inline program of the prod shape: the same Kubernetes half, with the app's
// Secret made by External Secrets (its SecretStore and ExternalSecret) and the app scaled by a
// KEDA ScaledObject, wired as deployToEKS wires them. Neither controller runs on the test's API
// server, so nothing waits for them; KEDA is taken as installed (its CRDs are).
func addonHalf(kubeconfig, chartPath string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := readConfig(ctx.Project(), ctx.Stack(), contextConfig{ctx}, testToday())
		if err != nil {
			return err
		}
		// Config refuses keda without monitoring, whose Prometheus KEDA would query; the test's
		// API server has neither, and nothing here queries.
		cfg.App.KEDA = true
		target, err := itTarget(ctx, cfg, kubeconfig, chartPath)
		if err != nil {
			return err
		}
		target.SecretSource = &externalsecrets.Store{
			Region: "eu-west-1", RemoteKey: pulumi.String("flask-eks-integration/app"),
			RefreshInterval: cfg.App.SecretsRefreshInterval, SkipAwait: true,
		}
		w, err := deployKubernetes(ctx, cfg, target)
		if err != nil {
			return err
		}
		so, err := newScaledObject(ctx, cfg, target.Provider, keda.Existing(kedaPrometheus().URL), w)
		if err != nil {
			return err
		}
		out := workloadOutputs(cfg, w, pulumi.String(cfg.App.Image))
		out["appHpaName"] = so.HPAName
		return out.export(ctx)
	}
}

// TestIntegrationAddonObjects: up → the objects as stored → a preview with no changes →
// destroy, for the prod shape with External Secrets' and KEDA's objects, against their
// projects' published CRDs (strict: the API server validates them against those schemas).
func TestIntegrationAddonObjects(t *testing.T) {
	cp := kubetest.Start(t)
	crds, _ := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	crds = append(crds, modules.CRDFiles(t, modules.ExternalSecretsModule, "config/crds/bases", "external-secrets.io_*.yaml")...)
	crds = append(crds, modules.CRDFiles(t, modules.KEDAModule, "config/crd/bases", "keda.sh_*.yaml")...)
	cp.ApplyFiles(t, crds...)
	kube, err := clientset.NewForConfig(cp.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	stopGC := cp.EmulateGarbageCollector(ctx, t,
		schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
		schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"},
		schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		schema.GroupVersionResource{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"},
		schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "secretstores"},
		schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"},
		schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"},
	)
	defer stopGC()

	workDir, chartPath := itWorkspace(t)
	stack := kubetest.InlineStack(ctx, t, workDir, "integration-addons", addonHalf(cp.Kubeconfig(), chartPath))
	config := itConfig("INFO")
	delete(config, "flask-eks:secretKey")
	delete(config, "flask-eks:dbPassword")
	if err := stack.SetAllConfig(ctx, config); err != nil {
		t.Fatal(err)
	}
	up, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up")))
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Logf("up: %v", up.Summary.ResourceChanges)
	if up.Outputs["appHpaName"].Value != "keda-hpa-"+releaseName {
		t.Errorf("appHpaName = %v", up.Outputs["appHpaName"].Value)
	}

	const ns = "flask-app"
	dyn := cp.Dynamic()
	store, err := dyn.Resource(schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "secretstores"}).
		Namespace(ns).Get(ctx, externalsecrets.DefaultStoreName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the SecretStore: %v", err)
	}
	if svc, _, _ := unstructured.NestedString(store.Object, "spec", "provider", "aws", "service"); svc != "SecretsManager" {
		t.Errorf("SecretStore provider service %q, want SecretsManager", svc)
	}
	es, err := dyn.Resource(schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}).
		Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(es.Items) != 1 {
		t.Fatalf("the ExternalSecrets: %v (%d found)", err, len(es.Items))
	}
	target, _, _ := unstructured.NestedString(es.Items[0].Object, "spec", "target", "name")
	so, err := dyn.Resource(schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}).
		Namespace(ns).Get(ctx, releaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ScaledObject: %v", err)
	}
	if ref, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "name"); ref != releaseName {
		t.Errorf("ScaledObject targets %q, want the Deployment %s", ref, releaseName)
	}

	// The release uses the synced Secret by name, asks Reloader to roll the pods when it
	// changes, and leaves the replica count to KEDA: no HPA of the chart's, no Secret of Pulumi's.
	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, releaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Deployment: %v", err)
	}
	if got := dep.Annotations["secret.reloader.stakater.com/reload"]; got != target || target == "" {
		t.Errorf("Deployment reload annotation %q, want the ExternalSecret's target %q", got, target)
	}
	if !envFrom(dep, dep.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name, target) {
		t.Errorf("the Deployment does not load the Secret %s", target)
	}
	if hpas, err := kube.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{}); err != nil || len(hpas.Items) != 0 {
		t.Errorf("HPAs in %s: %v %d; want none but KEDA's (which its operator would create)", ns, err, len(hpas.Items))
	}
	if secrets, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=pulumi"}); err != nil || len(secrets.Items) != 0 {
		t.Errorf("Pulumi-made Secrets in %s: %v %d; want none (External Secrets makes it)", ns, err, len(secrets.Items))
	}

	steps := previewSteps(ctx, t, stack)
	if len(steps) != 0 {
		t.Errorf("preview after up plans %v; want no changes", describe(steps))
	}
	start := time.Now()
	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(kubetest.Log(t, "destroy"))); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	assertDestroyedWithin(t, time.Since(start))
	assertGone(ctx, t, cp, kube)
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}).
		Namespace(ns).Get(ctx, releaseName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ScaledObject after destroy: %v", err)
	}
}

// itWorkspace is a temporary project directory holding a copy of app/chart, which the test
// may edit. It returns the directory and the copy's absolute path, for kubeTarget.ChartPath.
func itWorkspace(t *testing.T) (dir, chartPath string) {
	t.Helper()
	dir = t.TempDir()
	chartPath = filepath.Join(dir, "chart")
	if err := os.CopyFS(chartPath, os.DirFS(filepath.Join("app", "chart"))); err != nil {
		t.Fatalf("copying app/chart: %v", err)
	}
	return dir, chartPath
}

func TestIntegrationKubernetesHalf(t *testing.T) {
	cp := kubetest.Start(t)
	crds, _ := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	cp.ApplyFiles(t, crds...)
	kube, err := clientset.NewForConfig(cp.RestConfig())
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	workDir, chartPath := itWorkspace(t)
	stack := kubetest.InlineStack(ctx, t, workDir, "integration", kubernetesHalf(cp.Kubeconfig(), chartPath))
	if err := stack.SetAllConfig(ctx, itConfig("DEBUG")); err != nil {
		t.Fatal(err)
	}

	// 1. up
	start := time.Now()
	up, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up")))
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	upTook := time.Since(start)
	t.Logf("up: %v created in %s", up.Summary.ResourceChanges, upTook.Round(time.Millisecond))
	if up.Outputs["imageRef"].Value != itImage {
		t.Errorf("imageRef output = %v", up.Outputs["imageRef"].Value)
	}

	// 2. the objects, as the API server stored them
	assertDeployed(ctx, t, cp, kube, "DEBUG", itDBPass)

	// 3. a second preview changes nothing
	start = time.Now()
	pre, err := stack.Preview(ctx)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	previewTook := time.Since(start)
	for op, n := range pre.ChangeSummary {
		if op != apitype.OpSame && op != apitype.OpRead && n > 0 {
			t.Errorf("preview after up plans %d %s; want no changes (summary %v)", n, op, pre.ChangeSummary)
		}
	}

	// 4. one config change: preview shows exactly that update, up applies it
	if err := stack.SetConfig(ctx, "flask-eks:logLevel", auto.ConfigValue{Value: "WARNING"}); err != nil {
		t.Fatal(err)
	}
	steps := previewSteps(ctx, t, stack)
	if len(steps) != 1 || steps[0].Op != apitype.OpUpdate || !strings.HasSuffix(steps[0].URN, "kubernetes:helm.sh/v3:Release::app") {
		t.Fatalf("preview plans %v; want exactly an update of the app release", describe(steps))
	}
	t.Logf("the release's planned diff: %v, detailed %v", steps[0].Diffs, slices.Sorted(maps.Keys(steps[0].DetailedDiff)))
	assertOnlyValueChanged(t, steps[0], "values.config.LOG_LEVEL")
	if _, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up 2"))); err != nil {
		t.Fatalf("up with the changed LOG_LEVEL: %v", err)
	}
	before := assertDeployed(ctx, t, cp, kube, "WARNING", itDBPass)

	// 5. a secret rotation: the Secret is replaced under a new name, the release points at it,
	// the pods roll (their checksum/secret annotation changes), and Helm's history stays clean.
	// Deleting the replaced Secret needs the stand-in garbage collector.
	stopGC := cp.EmulateGarbageCollector(ctx, t,
		schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, // the app component's Secret
		schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
		schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"},
		schema.GroupVersionResource{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"},
	)
	defer stopGC()
	const rotated = "integration-db-password-rotated"
	if err := stack.SetConfig(ctx, "flask-eks:dbPassword", auto.ConfigValue{Value: rotated, Secret: true}); err != nil {
		t.Fatal(err)
	}
	steps = previewSteps(ctx, t, stack)
	t.Logf("the rotation's plan: %v", describe(steps))
	var release []apitype.StepEventMetadata
	ops := map[apitype.OpType]bool{}
	for _, st := range steps {
		switch {
		case strings.HasSuffix(st.URN, "kubernetes:core/v1:Secret::app-secrets"):
			ops[st.Op] = true
		case strings.HasSuffix(st.URN, "kubernetes:helm.sh/v3:Release::app") && st.Op == apitype.OpUpdate:
			release = append(release, st)
		default:
			t.Errorf("the rotation plans %s %s", st.Op, st.URN)
		}
	}
	if !ops[apitype.OpCreateReplacement] || !ops[apitype.OpDeleteReplaced] {
		t.Errorf("the rotation plans %v for the Secret; want a create-before-delete replacement", describe(steps))
	}
	if len(release) != 1 {
		t.Fatalf("the rotation plans %v; want one update of the app release", describe(steps))
	}
	assertOnlyValueChanged(t, release[0], "values.secrets.existingSecret")
	if _, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up 3"))); err != nil {
		t.Fatalf("up with the rotated DB password: %v", err)
	}
	after := assertDeployed(ctx, t, cp, kube, "WARNING", rotated)
	if after.secret == before.secret {
		t.Errorf("the rotation kept Secret %s", after.secret)
	}
	if after.checksum == before.checksum {
		t.Errorf("the rotation kept the pods' checksum/secret %q: the pods would not roll", after.checksum)
	}
	if _, err := kube.CoreV1().Secrets("flask-app").Get(ctx, before.secret, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the replaced Secret %s: %v, want it deleted", before.secret, err)
	}
	assertHelmHistoryHasNoSecrets(ctx, t, kube, "flask-app", itSecretKey, itDBPass, rotated)

	// 6. a template-only chart edit (no value, no chart version changes) reaches the cluster:
	// the chart's digest is a release value, so the edit previews as an update of the release
	// whose only change is values.chartDigest, and up applies the edited template. Without the
	// digest the provider would see no difference at all and plan nothing.
	assertTemplateEditDeploys(ctx, t, stack, cp, kube, chartPath, "WARNING", rotated, after)

	// 7. destroy: the objects are gone
	start = time.Now()
	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(kubetest.Log(t, "destroy"))); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	destroyTook := time.Since(start)
	assertDestroyedWithin(t, destroyTook)
	assertGone(ctx, t, cp, kube)
	t.Logf("cycle: up %s, preview %s, destroy %s (control plane started in %s)",
		upTook.Round(time.Millisecond), previewTook.Round(time.Millisecond), destroyTook.Round(time.Millisecond), cp.StartDuration.Round(time.Millisecond))
}

// assertTemplateEditDeploys adds `enableServiceLinks: false` to the pod spec of the chart
// copy's Deployment template and checks that preview plans exactly one update, of the app
// release, changing only values.chartDigest, and that up stores the edited Deployment.
func assertTemplateEditDeploys(ctx context.Context, t *testing.T, stack auto.Stack, cp *kubetest.ControlPlane, kube *clientset.Clientset,
	chartPath, logLevel, dbPassword string, before deployed) {
	t.Helper()
	const ns = "flask-app"
	digestBefore, err := app.ChartDigest(chartPath)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, releaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Deployment: %v", err)
	}
	// Unset in a pod template means true (the API server defaults it in Pods, not in templates).
	if links := dep.Spec.Template.Spec.EnableServiceLinks; links != nil && !*links {
		t.Fatalf("before the edit, enableServiceLinks = %v; want it unset or true", ptrString(links))
	}
	if got := dep.Annotations["checksum/chart"]; got != digestBefore {
		t.Errorf("before the edit, the Deployment's checksum/chart = %q; want the chart digest %s", got, digestBefore)
	}

	// The edit: one line in the pod spec, next to the other pod-level fields.
	tmpl := filepath.Join(chartPath, "templates", "deployment.yaml")
	src, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	var edited []string
	inserted := 0
	for _, line := range lines {
		edited = append(edited, line)
		if trimmed := strings.TrimLeft(line, " "); strings.HasPrefix(trimmed, "serviceAccountName:") {
			indent := line[:len(line)-len(trimmed)]
			edited = append(edited, indent+"enableServiceLinks: false\n")
			inserted++
		}
	}
	if inserted != 1 {
		t.Fatalf("%s: found %d pod-spec serviceAccountName lines to insert after; want 1", tmpl, inserted)
	}
	if err := os.WriteFile(tmpl, []byte(strings.Join(edited, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	digestAfter, err := app.ChartDigest(chartPath)
	if err != nil {
		t.Fatal(err)
	}
	if digestAfter == digestBefore {
		t.Fatalf("the template edit left the chart digest at %s", digestBefore)
	}

	steps := previewSteps(ctx, t, stack)
	t.Logf("the template edit's plan: %v", describe(steps))
	if len(steps) != 1 || steps[0].Op != apitype.OpUpdate || !strings.HasSuffix(steps[0].URN, "kubernetes:helm.sh/v3:Release::app") {
		t.Fatalf("preview plans %v; want exactly an update of the app release", describe(steps))
	}
	t.Logf("the release's planned diff: %v, detailed %v", steps[0].Diffs, slices.Sorted(maps.Keys(steps[0].DetailedDiff)))
	// The only key: the edit reaches the release through the digest and nothing else, so the
	// plan would be empty without it.
	if keys := slices.Sorted(maps.Keys(steps[0].DetailedDiff)); len(keys) != 1 || keys[0] != "values.chartDigest" {
		t.Errorf("the release's detailed diff is %v; want exactly [values.chartDigest]", keys)
	}
	if _, err := stack.Up(ctx, optup.ProgressStreams(kubetest.Log(t, "up 4"))); err != nil {
		t.Fatalf("up with the edited template: %v", err)
	}

	dep, err = kube.AppsV1().Deployments(ns).Get(ctx, releaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Deployment: %v", err)
	}
	if links := dep.Spec.Template.Spec.EnableServiceLinks; links == nil || *links {
		t.Errorf("after the edit, enableServiceLinks = %v; want false: the template edit did not reach the cluster", ptrString(links))
	}
	if got := dep.Annotations["checksum/chart"]; got != digestAfter {
		t.Errorf("after the edit, the Deployment's checksum/chart = %q; want the new chart digest %s", got, digestAfter)
	}
	// Nothing else moved: the same Secret, the same config and secret checksums.
	now := assertDeployed(ctx, t, cp, kube, logLevel, dbPassword)
	if now != before {
		t.Errorf("the template edit changed the app's Secret or checksum: %+v, before %+v", now, before)
	}
}

func ptrString(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}

// previewSteps runs a preview with diffs and returns its planned steps other than same and read.
func previewSteps(ctx context.Context, t *testing.T, stack auto.Stack) []apitype.StepEventMetadata {
	t.Helper()
	evs := make(chan events.EngineEvent)
	var steps []apitype.StepEventMetadata
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for e := range evs {
			if e.ResourcePreEvent == nil {
				continue
			}
			switch e.ResourcePreEvent.Metadata.Op {
			case apitype.OpSame, apitype.OpRead, apitype.OpReadDiscard:
				// Reads change nothing. The Ingress read-back is discarded while the release it
				// takes its ID from is being updated, and done again by the up.
			default:
				steps = append(steps, e.ResourcePreEvent.Metadata)
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

// assertOnlyValueChanged fails unless the release update's diff is exactly the value key.
// The provider reports a detailed diff; without one, the changed property must be values alone.
func assertOnlyValueChanged(t *testing.T, update apitype.StepEventMetadata, key string) {
	t.Helper()
	if diff := update.DetailedDiff; len(diff) > 0 {
		if keys := slices.Sorted(maps.Keys(diff)); len(keys) != 1 || keys[0] != key {
			t.Errorf("the release's detailed diff is %v; want only %s", keys, key)
		}
	} else if !slices.Equal(update.Diffs, []string{"values"}) {
		t.Errorf("the release's diff is %v; want only values", update.Diffs)
	}
}

// describe lists planned steps as "op urn".
func describe(steps []apitype.StepEventMetadata) []string {
	var out []string
	for _, st := range steps {
		out = append(out, string(st.Op)+" "+st.URN)
	}
	return out
}

// deployed is what a rotation must change: the Secret the pods read, and their checksum of it.
type deployed struct{ secret, checksum string }

// assertDeployed checks what the API server stored after an up.
func assertDeployed(ctx context.Context, t *testing.T, cp *kubetest.ControlPlane, kube *clientset.Clientset, logLevel, dbPassword string) deployed {
	t.Helper()
	const ns, name = "flask-app", releaseName

	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Deployment: %v", err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != itImage {
		t.Errorf("container image = %q, want %q", c.Image, itImage)
	}
	// The probes go to the admin port, outside the request pool that slow clients can fill.
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port.String() != "admin" {
		t.Errorf("liveness probe = %+v, want GET /healthz on the admin port", c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port.String() != "admin" {
		t.Errorf("readiness probe = %+v, want GET /readyz on the admin port", c.ReadinessProbe)
	}
	// appMaxReplicas > appReplicas: the HPA owns the replica count.
	hpa, err := kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil || hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 4 || hpa.Spec.ScaleTargetRef.Name != name {
		t.Errorf("HPA: %v %+v", err, hpa)
	}

	ing, err := kube.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Ingress: %v", err)
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != publicALBClass {
		t.Errorf("ingressClassName = %v, want %s", ing.Spec.IngressClassName, publicALBClass)
	}
	for k, v := range map[string]string{
		"alb.ingress.kubernetes.io/target-type":      "ip",
		"alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
	} {
		if ing.Annotations[k] != v {
			t.Errorf("Ingress annotation %s = %q, want %q", k, ing.Annotations[k], v)
		}
	}
	// Auto Mode ignores these on the Ingress; the IngressClassParams carry them.
	for _, k := range []string{"alb.ingress.kubernetes.io/group.name", "alb.ingress.kubernetes.io/scheme"} {
		if v, ok := ing.Annotations[k]; ok {
			t.Errorf("Ingress annotation %s = %q; Auto Mode ignores it, the IngressClassParams must carry it", k, v)
		}
	}
	params, err := cp.Dynamic().Resource(schema.GroupVersionResource{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"}).
		Get(ctx, publicALBClass, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the IngressClassParams: %v", err)
	}
	if g, _, _ := unstructured.NestedString(params.Object, "spec", "group", "name"); g != "flask-eks-it" {
		t.Errorf("IngressClassParams spec.group.name = %q, want flask-eks-it", g)
	}
	if s, _, _ := unstructured.NestedString(params.Object, "spec", "scheme"); s != "internet-facing" {
		t.Errorf("IngressClassParams spec.scheme = %q, want internet-facing", s)
	}

	// The app's Secret is the component's own (auto-named, immutable), not one from the chart.
	secrets, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + releaseName})
	if err != nil || len(secrets.Items) != 1 {
		t.Fatalf("the app Secret: %v (%d found)", err, len(secrets.Items))
	}
	sec := secrets.Items[0]
	if got := slices.Sorted(maps.Keys(sec.Data)); !slices.Equal(got, []string{"DB_PASSWORD", "SECRET_KEY"}) {
		t.Errorf("Secret keys = %v", got)
	}
	if string(sec.Data["SECRET_KEY"]) != itSecretKey || string(sec.Data["DB_PASSWORD"]) != dbPassword {
		t.Error("Secret values are not the configured secrets")
	}
	if sec.Immutable == nil || !*sec.Immutable || sec.Labels["app.kubernetes.io/managed-by"] != "pulumi" {
		t.Errorf("Secret %s: immutable %v, managed-by %q; want the component's immutable Secret", sec.Name, sec.Immutable, sec.Labels["app.kubernetes.io/managed-by"])
	}

	cms, err := kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + releaseName})
	if err != nil || len(cms.Items) != 1 {
		t.Fatalf("the app ConfigMap: %v (%d found)", err, len(cms.Items))
	}
	cm := cms.Items[0]
	for _, k := range []string{"API_BASE_URL", "LOG_LEVEL", "MAX_CONNECTIONS", "GUNICORN_WORKERS", "GUNICORN_THREADS"} {
		if _, ok := cm.Data[k]; !ok {
			t.Errorf("ConfigMap has no %s: %v", k, cm.Data)
		}
	}
	for _, k := range []string{"SECRET_KEY", "DB_PASSWORD"} {
		if _, ok := cm.Data[k]; ok {
			t.Errorf("ConfigMap carries the secret %s", k)
		}
	}
	if cm.Data["LOG_LEVEL"] != logLevel {
		t.Errorf("LOG_LEVEL = %q, want %q", cm.Data["LOG_LEVEL"], logLevel)
	}
	if !envFrom(dep, cm.Name, sec.Name) {
		t.Errorf("the Deployment does not load ConfigMap %s and Secret %s", cm.Name, sec.Name)
	}
	assertHelmHistoryHasNoSecrets(ctx, t, kube, ns, itSecretKey, dbPassword)

	// Default-deny in the namespace, and the app's policy: the ALB's subnets reach the public
	// port, nothing reaches the admin port but the nodes (kubelet probes) and Prometheus.
	pols, err := kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("the NetworkPolicies: %v", err)
	}
	byName := map[string]bool{}
	for _, p := range pols.Items {
		byName[p.Name] = true
	}
	if len(pols.Items) < 2 {
		t.Errorf("NetworkPolicies in %s: %v; want the namespace's default-deny and the app's", ns, slices.Sorted(maps.Keys(byName)))
	}
	if !byName[name] {
		t.Errorf("no NetworkPolicy %s from the chart among %v", name, slices.Sorted(maps.Keys(byName)))
	}

	// The eks component's cluster-level classes.
	sc, err := kube.StorageV1().StorageClasses().Get(ctx, storageClassName, metav1.GetOptions{})
	if err != nil || sc.Provisioner != eks.EBSProvisioner || sc.Parameters["encrypted"] != "true" {
		t.Errorf("StorageClass: %v %+v", err, sc)
	}
	ic, err := kube.NetworkingV1().IngressClasses().Get(ctx, publicALBClass, metav1.GetOptions{})
	if err != nil || ic.Spec.Controller != eks.ALBController || ic.Spec.Parameters == nil || ic.Spec.Parameters.Kind != "IngressClassParams" {
		t.Errorf("IngressClass: %v %+v", err, ic)
	}
	return deployed{secret: sec.Name, checksum: dep.Spec.Template.Annotations["checksum/secret"]}
}

// assertHelmHistoryHasNoSecrets fails if a secret value is in one of Helm's release records: the
// Secrets of type helm.sh/release.v1 that keep every revision's values and rendered manifests
// (base64 of gzipped JSON), readable by anyone who may read Secrets in the namespace.
func assertHelmHistoryHasNoSecrets(ctx context.Context, t *testing.T, kube *clientset.Clientset, ns string, secrets ...string) {
	t.Helper()
	list, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=helm.sh/release.v1"})
	if err != nil || len(list.Items) == 0 {
		t.Fatalf("Helm's release records: %v (%d found)", err, len(list.Items))
	}
	for _, rec := range list.Items {
		gz, err := base64.StdEncoding.DecodeString(string(rec.Data["release"]))
		if err != nil {
			t.Fatalf("release record %s: %v", rec.Name, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("release record %s: %v", rec.Name, err)
		}
		record, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("release record %s: %v", rec.Name, err)
		}
		if !bytes.Contains(record, []byte(`"manifest"`)) {
			t.Fatalf("release record %s does not decode to a Helm release", rec.Name)
		}
		for _, s := range secrets {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
				if bytes.Contains(record, []byte(form)) {
					t.Errorf("Helm release record %s holds a secret value", rec.Name)
				}
			}
		}
	}
}

func envFrom(dep *appsv1.Deployment, cm, secret string) bool {
	var haveCM, haveSecret bool
	for _, c := range dep.Spec.Template.Spec.Containers {
		for _, e := range c.EnvFrom {
			haveCM = haveCM || e.ConfigMapRef != nil && e.ConfigMapRef.Name == cm
			haveSecret = haveSecret || e.SecretRef != nil && e.SecretRef.Name == secret
		}
	}
	return haveCM && haveSecret
}

// assertGone checks that destroy removed the app, its namespace and the classes.
// destroyBound is how long the real-API tier's `destroy` may take: about 3 s measured, so a
// destroy that waits out a timeout (a namespace stuck on a finalizer, a deletion waiting for
// something deleted in parallel) fails instead of passing late.
const destroyBound = 60 * time.Second

// assertDestroyedWithin fails a destroy that took longer than destroyBound.
func assertDestroyedWithin(t *testing.T, took time.Duration) {
	t.Helper()
	if took > destroyBound {
		t.Errorf("destroy took %s, more than the %s bound", took.Round(time.Second), destroyBound)
	}
}

func assertGone(ctx context.Context, t *testing.T, cp *kubetest.ControlPlane, kube *clientset.Clientset) {
	t.Helper()
	const ns = "flask-app"
	if _, err := kube.AppsV1().Deployments(ns).Get(ctx, releaseName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Deployment after destroy: %v", err)
	}
	if _, err := kube.NetworkingV1().Ingresses(ns).Get(ctx, releaseName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Ingress after destroy: %v", err)
	}
	if _, err := kube.StorageV1().StorageClasses().Get(ctx, storageClassName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("StorageClass after destroy: %v", err)
	}
	if _, err := kube.NetworkingV1().IngressClasses().Get(ctx, publicALBClass, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("IngressClass after destroy: %v", err)
	}
	if _, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s after destroy: %v", ns, err)
	}
	for _, gvr := range []schema.GroupVersionResource{{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"}} {
		if _, err := cp.Dynamic().Resource(gvr).Get(ctx, publicALBClass, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s after destroy: %v", gvr.Resource, err)
		}
	}
}

// TestIntegrationChartServerSideStrict renders the chart with the values the program passes
// for dev and for prod and has the API server validate every manifest strictly (server-side
// apply, dry run). A deliberately broken manifest must be rejected.
func TestIntegrationChartServerSideStrict(t *testing.T) {
	cp := kubetest.Start(t)
	crds, _ := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	cp.ApplyFiles(t, crds...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kube, err := clientset.NewForConfig(cp.RestConfig())
	if err != nil {
		t.Fatal(err)
	}

	server, err := kube.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver %s", server.GitVersion)
	for _, stackName := range []string{"dev", "prod"} {
		t.Run(stackName, func(t *testing.T) {
			manifests := renderStack(t, stackName, server.GitVersion)
			if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: stackName}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			kinds := map[string]bool{}
			for _, m := range manifests {
				obj := &unstructured.Unstructured{}
				if err := yaml.Unmarshal([]byte(m.YAML), &obj.Object); err != nil {
					t.Fatalf("%s: %v", m.Template, err)
				}
				obj.SetNamespace(stackName)
				if err := cp.DryRunApply(ctx, obj); err != nil {
					t.Errorf("%s %s (%s) rejected: %v", obj.GetKind(), obj.GetName(), m.Template, err)
				}
				kinds[obj.GetKind()] = true
			}
			// No Secret: the app component creates it and passes secrets.existingSecret.
			for _, k := range []string{"Deployment", "Service", "Ingress", "ConfigMap", "ServiceAccount", "NetworkPolicy"} {
				if !kinds[k] {
					t.Errorf("the %s render has no %s", stackName, k)
				}
			}
			// prod: KEDA owns the HPA (the chart renders none); three replicas get a PDB.
			if stackName == "prod" && (kinds["HorizontalPodAutoscaler"] || !kinds["PodDisruptionBudget"]) {
				t.Errorf("the prod render has an HPA of its own or lacks the PDB: %v", kinds)
			}

			// The same Deployment with one unknown field must be refused.
			for _, m := range manifests {
				if m.Kind != "Deployment" {
					continue
				}
				obj := &unstructured.Unstructured{}
				if err := yaml.Unmarshal([]byte(m.YAML), &obj.Object); err != nil {
					t.Fatal(err)
				}
				obj.SetNamespace(stackName)
				containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
				containers[0].(map[string]any)["cpuLimit"] = "1"
				if err := unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers"); err != nil {
					t.Fatal(err)
				}
				err := cp.DryRunApply(ctx, obj)
				if err == nil || !strings.Contains(err.Error(), "cpuLimit") {
					t.Errorf("a Deployment with the unknown field containers[0].cpuLimit: got %v, want a rejection naming it", err)
				}
			}
		})
	}
}

// renderStack renders the chart with the values the app component passes for a stack file,
// with the deploy-time values (image digest, Secret name, IngressClass) filled in as it does.
func renderStack(t *testing.T, stackName, kubeVersion string) []chartrender.Manifest {
	t.Helper()
	raw := stackConfig(t, stackName)
	cfg, err := readConfig("flask-eks", stackName, mapConfig{values: raw}, testToday())
	if err != nil {
		t.Fatal(err)
	}
	values := app.ChartValues(chartSettings(cfg, kubeTarget{IngressClass: publicALBClass, ALBSourceCIDRs: []string{"10.0.0.0/24"}, NodeCIDRs: []string{"10.0.0.0/16"}}))
	image := values["image"].(map[string]any)
	image["repository"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-eks-" + stackName + "/flask-app"
	image["digest"] = "sha256:" + strings.Repeat("0123456789abcdef", 4)
	values["secrets"].(map[string]any)["existingSecret"] = "app-secrets-1a2b3c4d"
	values["ingress"].(map[string]any)["className"] = publicALBClass
	manifests, err := chartrender.Render(chartPath, values, releaseName, stackName, kubeVersion)
	if err != nil {
		t.Fatalf("rendering the chart for %s: %v", stackName, err)
	}
	return manifests
}

// TestIntegrationStackFilesPassCLIValidation runs the real Pulumi CLI on every committed stack
// file: `pulumi stack init` and `pulumi preview` in a scratch project directory holding copies
// of Pulumi.yaml and Pulumi.<stack>.yaml, against a file backend. The CLI validates the stack
// config against the project's config schema (types, secrets, keys without a default) before
// it loads the language host; the Go language host is not installed here, so a preview that
// passes validation stops at "no language plugin 'pulumi-language-go'". The mock tests cannot
// see this step: they never run the CLI.
//
// Two negative controls prove the check can fail: the project file as it was before the fix
// (secretKey and dbPassword declared `secret: true` without a default: every stack without
// both secrets set is refused), and a stack file with a value of the wrong type.
func TestIntegrationStackFilesPassCLIValidation(t *testing.T) {
	tp := kubetest.ToolPaths(t, kubetest.ToolPulumi, kubetest.ToolPulumiKubernetes)
	project, err := os.ReadFile("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, stackName := range stacks {
		t.Run(stackName, func(t *testing.T) {
			out, err := cliPreview(t, tp, project, stackName, cliStackFile(t, stackName, nil))
			if strings.Contains(out, "validating stack config") {
				t.Fatalf("the CLI refuses Pulumi.%s.yaml:\n%s", stackName, out)
			}
			if err != nil && !strings.Contains(out, "no language plugin 'pulumi-language-go'") {
				t.Fatalf("preview failed before the language host (%v); want it to stop only at the missing Go language plugin:\n%s", err, out)
			}
		})
	}

	t.Run("control/project-before-fix", func(t *testing.T) {
		old := projectBeforeFix(t, project)
		ran := 0
		for _, stackName := range stacks {
			raw := stackConfig(t, stackName)
			if _, ok := raw["flask-eks:secretKey"]; ok {
				if _, ok := raw["flask-eks:dbPassword"]; ok {
					continue // the old project file accepts a stack with both secrets set
				}
			}
			ran++
			out, err := cliPreview(t, tp, old, stackName, cliStackFile(t, stackName, nil))
			if err == nil || !strings.Contains(out, "validating stack config") || !strings.Contains(out, "missing configuration values") {
				t.Errorf("stack %s with the project file from before the fix: %v; want it refused with "+
					"\"validating stack config\" and \"missing configuration values\":\n%s", stackName, err, out)
			}
		}
		if ran == 0 {
			t.Fatal("every stack sets both secrets; the control tests nothing")
		}
	})

	t.Run("control/wrong-type", func(t *testing.T) {
		file := cliStackFile(t, "dev", map[string]any{"flask-eks:azCount": "three"})
		out, err := cliPreview(t, tp, project, "dev", file)
		if err == nil || !strings.Contains(out, "validating stack config") ||
			!strings.Contains(out, "'flask-eks:azCount' must be of type 'integer'") {
			t.Errorf("a stack file with azCount \"three\": %v; want it refused with \"validating stack config\" "+
				"and \"'flask-eks:azCount' must be of type 'integer'\":\n%s", err, out)
		}
	})
}

// cliStackFile returns the content of Pulumi.<stack>.yaml for a scratch project: without its
// secretsprovider and encryptedkey lines (the scratch stack uses a passphrase; this checks
// config, not the secrets provider) and, when set is not nil, with those config keys set.
func cliStackFile(t *testing.T, stackName string, set map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile("Pulumi." + stackName + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if strings.HasPrefix(line, "secretsprovider:") || strings.HasPrefix(line, "encryptedkey:") {
			continue
		}
		kept = append(kept, line)
	}
	out := []byte(strings.Join(kept, ""))
	if set == nil {
		return out
	}
	var file map[string]any
	if err := yaml.Unmarshal(out, &file); err != nil {
		t.Fatalf("Pulumi.%s.yaml: %v", stackName, err)
	}
	cfg, _ := file["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
		file["config"] = cfg
	}
	maps.Copy(cfg, set)
	if out, err = yaml.Marshal(file); err != nil {
		t.Fatal(err)
	}
	return out
}

// projectBeforeFix returns Pulumi.yaml as it was before secretKey and dbPassword got their
// empty defaults: both declared `secret: true`, without a default. It fails the test unless
// the current file declares both with an empty default, which is what the control contrasts.
func projectBeforeFix(t *testing.T, project []byte) []byte {
	t.Helper()
	var file map[string]any
	if err := yaml.Unmarshal(project, &file); err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	cfg, _ := file["config"].(map[string]any)
	for _, key := range []string{"flask-eks:secretKey", "flask-eks:dbPassword"} {
		decl, _ := cfg[key].(map[string]any)
		if def, ok := decl["default"]; !ok || def != "" || decl["secret"] == true {
			t.Fatalf("Pulumi.yaml declares %s as %v; the control expects a non-secret key with default \"\"", key, decl)
		}
		delete(decl, "default")
		decl["secret"] = true
	}
	out, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cliPreview runs `pulumi stack init` and `pulumi preview` with the built CLI in a scratch
// project directory holding the given Pulumi.yaml and Pulumi.<stack>.yaml, with a file backend
// there, and returns preview's combined output and error. stack init must succeed.
func cliPreview(t *testing.T, tp kubetest.Tools, project []byte, stackName string, stackFile []byte) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stackName+".yaml"), stackFile, 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing of the caller's Pulumi setup (access token, backend, home) may leak in.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PULUMI_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PULUMI_HOME="+tp.PulumiHome,
		"PULUMI_BACKEND_URL=file://"+dir,
		"PULUMI_CONFIG_PASSPHRASE=integration-test-passphrase",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_IGNORE_AMBIENT_PLUGINS=true",
	)
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tp.PulumiCLI(), args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("stack", "init", stackName, "--secrets-provider", "passphrase", "--non-interactive"); err != nil {
		t.Fatalf("pulumi stack init %s: %v\n%s", stackName, err, out)
	}
	start := time.Now()
	out, err := run("preview", "--stack", stackName, "--non-interactive")
	t.Logf("pulumi preview --stack %s (%s, %v):\n%s", stackName, time.Since(start).Round(time.Millisecond), err, strings.TrimSpace(out))
	return out, err
}

// TestIntegrationReadmeLocalSteps runs the README's "Try it locally" steps that need no cluster
// with the real Pulumi CLI, in a scratch copy of the project with its own home directory:
// `pulumi login --local`, the passphrase, `pulumi stack init local`, and for `make up
// STACK=local` the preview it starts with, which must get past the CLI's stack checks and stop
// only at the missing Go language host. The kind, docker and kubectl steps must name what
// Pulumi.local.yaml configures (context, image) and what the chart makes (namespace, Service).
func TestIntegrationReadmeLocalSteps(t *testing.T) {
	tp := kubetest.ToolPaths(t, kubetest.ToolPulumi, kubetest.ToolPulumiKubernetes)
	steps := readmeLocalSteps(t)
	local := stackConfig(t, "local")
	cluster := strings.TrimPrefix(local["flask-eks:kubeContext"], "kind-")
	for _, want := range []string{
		"kind create cluster --name " + cluster,
		"docker build -t " + local["flask-eks:image"] + " app-src",
		"kind load docker-image " + local["flask-eks:image"] + " --name " + cluster,
		"make up STACK=local",
		"kubectl -n flask-app port-forward svc/" + releaseName + " 8080:80 &",
	} {
		if !slices.Contains(steps, want) {
			t.Errorf("the README's local steps lack %q (they are %q)", want, steps)
		}
	}

	dir, home := t.TempDir(), t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.local.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A Pulumi home of the test's own (login state), with the built plugins.
	pulumiHome := filepath.Join(home, ".pulumi")
	if err := os.MkdirAll(pulumiHome, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tp.PulumiHome, "plugins"), filepath.Join(pulumiHome, "plugins")); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "PULUMI_HOME=" + pulumiHome,
		"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true", "PULUMI_IGNORE_AMBIENT_PLUGINS=true"}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tp.PulumiCLI(), append(args, "--non-interactive")...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ran := 0
	for _, step := range steps {
		switch {
		case strings.HasPrefix(step, "export "):
			k, v, _ := strings.Cut(strings.TrimPrefix(step, "export "), "=")
			env = append(env, k+"="+strings.Trim(v, `'"`))
		case strings.HasPrefix(step, "pulumi "):
			ran++
			args := strings.Fields(step)[1:]
			if step == "pulumi login --local" {
				// --local is the file backend in the user's home directory, which the CLI
				// takes from the user database, not $HOME; the test's home stands in for it,
				// so that the machine's own ~/.pulumi stays untouched.
				args = []string{"login", "file://" + home}
			}
			if out, err := run(args...); err != nil {
				t.Fatalf("README step %q: %v\n%s", step, err, out)
			}
		case step == "make up STACK=local":
			ran++
			// make up runs `pulumi up --stack local`, which previews first.
			out, err := run("preview", "--stack", "local")
			if strings.Contains(out, "validating stack config") || err == nil || !strings.Contains(out, "no language plugin 'pulumi-language-go'") {
				t.Fatalf("README step %q: the CLI stopped before the language host (%v):\n%s", step, err, out)
			}
		}
	}
	if ran != 3 {
		t.Errorf("ran %d pulumi steps of the README, want login, stack init and up", ran)
	}
	if _, err := os.Stat(filepath.Join(home, ".pulumi", "stacks", "flask-eks", "local.json")); err != nil {
		t.Errorf("the login and stack init steps left no local stack in the home's .pulumi: %v", err)
	}
}

// readmeLocalSteps returns the command lines of the README's "Try it locally" block.
func readmeLocalSteps(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- local-steps:")
	if !ok {
		t.Fatal("README.md has no local-steps block")
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the README's local-steps block is not closed")
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}
