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
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
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
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientset "k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/app/chart"
	"github.com/example/flask-eks/eks"
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
		"flask-eks:albGroupName":      {Value: "flask-eks-it"},
		"flask-eks:monitoringEnabled": {Value: "false"},
		"flask-eks:secretKey":         {Value: itSecretKey, Secret: true},
		"flask-eks:dbPassword":        {Value: itDBPass, Secret: true},
	}
}

// kubernetesHalf is the inline program: the cluster-level classes of the eks component and
// the Kubernetes half of main.go, through an explicit provider for the test's API server.
func kubernetesHalf(kubeconfig string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := readConfig(ctx.Project(), ctx.Stack(), contextConfig{ctx}, time.Now())
		if err != nil {
			return err
		}
		provider, err := kubernetes.NewProvider(ctx, "apiserver", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.ToSecret(pulumi.String(kubeconfig)).(pulumi.StringOutput),
		})
		if err != nil {
			return err
		}
		classes, err := eks.NewClasses(ctx, "cluster", &eks.ClassesArgs{
			Provider: provider, StorageClassName: storageClassName, IngressClassName: ingressClassName, Scheme: "internet-facing",
		})
		if err != nil {
			return err
		}
		w, err := deployKubernetes(ctx, cfg, kubeTarget{
			Provider:         provider,
			IngressClassName: classes.IngressClassName,
			StorageClassName: classes.StorageClassName,
			Classes:          []pulumi.Resource{classes.StorageClass, classes.IngressClass},
			// The stand-in CRDs are installed; monitoring itself needs the chart repository.
			ServiceMonitor: true,
			// No nodes: pods never become ready.
			SkipAwait: true,
		})
		if err != nil {
			return err
		}
		w.export(ctx)
		return nil
	}
}

// itWorkspace is a temporary project directory. The kubernetes provider resolves the
// chart path ./app/chart from there, so it links the repository's app directory.
func itWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	repoApp, err := filepath.Abs("app")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(repoApp, filepath.Join(dir, "app")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIntegrationKubernetesHalf(t *testing.T) {
	tp := toolPaths(t)
	cp := startControlPlane(t)
	crds, _ := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	cp.applyFiles(t, crds...)
	kube, err := clientset.NewForConfig(cp.restConfig())
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	pulumiCmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{
		// Root is the directory above bin/pulumi.
		Root: filepath.Dir(tp.PulumiCLIDir), SkipVersionCheck: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	backend := "file://" + t.TempDir()
	env := map[string]string{
		"PULUMI_HOME":                                 tp.PulumiHome,
		"PULUMI_CONFIG_PASSPHRASE":                    "integration-test-passphrase",
		"PULUMI_BACKEND_URL":                          backend,
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_IGNORE_AMBIENT_PLUGINS":               "true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "integration", "flask-eks", kubernetesHalf(cp.Kubeconfig),
		auto.Pulumi(pulumiCmd),
		auto.WorkDir(itWorkspace(t)),
		auto.EnvVars(env),
		auto.SecretsProvider("passphrase"),
		auto.Project(workspace.Project{
			Name:    "flask-eks",
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: backend},
		}),
	)
	if err != nil {
		t.Fatalf("creating the stack: %v", err)
	}
	if err := stack.SetAllConfig(ctx, itConfig("DEBUG")); err != nil {
		t.Fatal(err)
	}

	// 1. up
	start := time.Now()
	up, err := stack.Up(ctx, optup.ProgressStreams(testWriter{t, "up"}))
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
	if _, err := stack.Up(ctx, optup.ProgressStreams(testWriter{t, "up 2"})); err != nil {
		t.Fatalf("up with the changed LOG_LEVEL: %v", err)
	}
	before := assertDeployed(ctx, t, cp, kube, "WARNING", itDBPass)

	// 5. a secret rotation: the Secret is replaced under a new name, the release points at it,
	// the pods roll (their checksum/secret annotation changes), and Helm's history stays clean.
	// Deleting the replaced Secret needs the stand-in garbage collector.
	stopGC := emulateGarbageCollector(ctx, t, cp)
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
	if _, err := stack.Up(ctx, optup.ProgressStreams(testWriter{t, "up 3"})); err != nil {
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

	// 6. destroy: the objects are gone
	start = time.Now()
	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(testWriter{t, "destroy"})); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	destroyTook := time.Since(start)
	assertGone(ctx, t, cp, kube)
	t.Logf("cycle: up %s, preview %s, destroy %s (control plane started in %s)",
		upTook.Round(time.Millisecond), previewTook.Round(time.Millisecond), destroyTook.Round(time.Millisecond), cp.StartDuration.Round(time.Millisecond))
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
func assertDeployed(ctx context.Context, t *testing.T, cp *controlPlane, kube *clientset.Clientset, logLevel, dbPassword string) deployed {
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
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe = %+v, want GET /healthz", c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe = %+v, want GET /readyz", c.ReadinessProbe)
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
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != ingressClassName {
		t.Errorf("ingressClassName = %v, want %s", ing.Spec.IngressClassName, ingressClassName)
	}
	for k, v := range map[string]string{
		"alb.ingress.kubernetes.io/target-type":      "ip",
		"alb.ingress.kubernetes.io/scheme":           "internet-facing",
		"alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
		"alb.ingress.kubernetes.io/group.name":       "flask-eks-it",
	} {
		if ing.Annotations[k] != v {
			t.Errorf("Ingress annotation %s = %q, want %q", k, ing.Annotations[k], v)
		}
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

	// The ServiceMonitor selects the app's Service and scrapes its named port.
	svc, err := kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Service: %v", err)
	}
	sm, err := cp.dynamicClient().Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ServiceMonitor: %v", err)
	}
	match, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if len(match) == 0 || !labels.SelectorFromSet(match).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not match the Service labels %v", match, svc.Labels)
	}
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(eps) != 1 || eps[0].(map[string]any)["port"] != svc.Spec.Ports[0].Name || eps[0].(map[string]any)["path"] != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %v do not scrape /metrics on Service port %q", eps, svc.Spec.Ports[0].Name)
	}

	// The eks component's cluster-level classes.
	sc, err := kube.StorageV1().StorageClasses().Get(ctx, storageClassName, metav1.GetOptions{})
	if err != nil || sc.Provisioner != eks.EBSProvisioner || sc.Parameters["encrypted"] != "true" {
		t.Errorf("StorageClass: %v %+v", err, sc)
	}
	ic, err := kube.NetworkingV1().IngressClasses().Get(ctx, ingressClassName, metav1.GetOptions{})
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

// emulateGarbageCollector stands in for the two kube-controller-manager loops a delete
// needs and this API server lacks. The kubernetes provider deletes with foreground
// propagation, which parks an object behind the foregroundDeletion finalizer until the
// garbage collector has removed its dependents; and a namespace stays Terminating until the
// namespace controller empties and finalizes it. None of the objects here has dependents or
// content left at that point (Helm deleted the release's objects), so the stand-in removes
// the finalizer and finalizes the namespace, as the controllers would. It stops when the
// returned function is called.
func emulateGarbageCollector(ctx context.Context, t *testing.T, cp *controlPlane) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	gvrs := []schema.GroupVersionResource{
		{Version: "v1", Resource: "namespaces"},
		{Version: "v1", Resource: "secrets"}, // the app component's Secret
		{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"},
		{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"},
	}
	kube, err := clientset.NewForConfig(cp.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, gvr := range gvrs {
				list, err := cp.dynamicClient().Resource(gvr).List(ctx, metav1.ListOptions{})
				if err != nil {
					continue
				}
				for _, obj := range list.Items {
					if obj.GetDeletionTimestamp() == nil {
						continue
					}
					if fin := obj.GetFinalizers(); slices.Contains(fin, metav1.FinalizerDeleteDependents) {
						obj.SetFinalizers(slices.DeleteFunc(fin, func(f string) bool { return f == metav1.FinalizerDeleteDependents }))
						_, _ = cp.dynamicClient().Resource(gvr).Namespace(obj.GetNamespace()).Update(ctx, &obj, metav1.UpdateOptions{})
					}
					if gvr.Resource == "namespaces" {
						ns, err := kube.CoreV1().Namespaces().Get(ctx, obj.GetName(), metav1.GetOptions{})
						if err == nil && len(ns.Spec.Finalizers) > 0 {
							ns.Spec.Finalizers = nil
							_, _ = kube.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
						}
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// assertGone checks that destroy removed the app, its namespace and the classes.
func assertGone(ctx context.Context, t *testing.T, cp *controlPlane, kube *clientset.Clientset) {
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
	if _, err := kube.NetworkingV1().IngressClasses().Get(ctx, ingressClassName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("IngressClass after destroy: %v", err)
	}
	if _, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s after destroy: %v", ns, err)
	}
	for _, gvr := range []schema.GroupVersionResource{{Group: "eks.amazonaws.com", Version: "v1", Resource: "ingressclassparams"}} {
		if _, err := cp.dynamicClient().Resource(gvr).Get(ctx, ingressClassName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s after destroy: %v", gvr.Resource, err)
		}
	}
}

// TestIntegrationChartServerSideStrict renders the chart with the values the program passes
// for dev and for prod and has the API server validate every manifest strictly (server-side
// apply, dry run). A deliberately broken manifest must be rejected.
func TestIntegrationChartServerSideStrict(t *testing.T) {
	cp := startControlPlane(t)
	crds, _ := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	cp.applyFiles(t, crds...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kube, err := clientset.NewForConfig(cp.restConfig())
	if err != nil {
		t.Fatal(err)
	}

	for _, stackName := range []string{"dev", "prod"} {
		t.Run(stackName, func(t *testing.T) {
			manifests := renderStack(t, stackName)
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
				if err := dryRunApply(ctx, cp, obj); err != nil {
					t.Errorf("%s %s (%s) rejected: %v", obj.GetKind(), obj.GetName(), m.Template, err)
				}
				kinds[obj.GetKind()] = true
			}
			// No Secret: the app component creates it and passes secrets.existingSecret.
			for _, k := range []string{"Deployment", "Service", "Ingress", "ConfigMap", "ServiceAccount", "ServiceMonitor"} {
				if !kinds[k] {
					t.Errorf("the %s render has no %s", stackName, k)
				}
			}
			if stackName == "prod" && (!kinds["HorizontalPodAutoscaler"] || !kinds["PodDisruptionBudget"]) {
				t.Errorf("the prod render lacks the HPA or PDB: %v", kinds)
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
				err := dryRunApply(ctx, cp, obj)
				if err == nil || !strings.Contains(err.Error(), "cpuLimit") {
					t.Errorf("a Deployment with the unknown field containers[0].cpuLimit: got %v, want a rejection naming it", err)
				}
			}
		})
	}
}

// renderStack renders the chart with the values the app component passes for a stack file,
// with the deploy-time values (image digest, Secret name, IngressClass) filled in as it does.
func renderStack(t *testing.T, stackName string) []chart.Manifest {
	t.Helper()
	raw := stackConfig(t, stackName)
	cfg, err := readConfig("flask-eks", stackName, mapConfig{values: raw}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	values := app.ChartValues(chartSettings(cfg, kubeTarget{IngressClassName: pulumi.String(ingressClassName), ServiceMonitor: true}))
	image := values["image"].(map[string]any)
	image["repository"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-eks-" + stackName + "/flask-app"
	image["digest"] = "sha256:" + strings.Repeat("0123456789abcdef", 4)
	values["secrets"].(map[string]any)["existingSecret"] = "app-secrets-1a2b3c4d"
	values["ingress"].(map[string]any)["className"] = ingressClassName
	manifests, err := chart.Render(values, releaseName, stackName)
	if err != nil {
		t.Fatalf("rendering the chart for %s: %v", stackName, err)
	}
	return manifests
}

// dryRunApply server-side applies obj as a dry run with strict field validation.
func dryRunApply(ctx context.Context, cp *controlPlane, obj *unstructured.Unstructured) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	gvk := obj.GroupVersionKind()
	mapping, err := cp.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("mapping %s: %w", gvk, err)
	}
	ri := cp.dynamicClient().Resource(mapping.Resource)
	force := true
	opts := metav1.PatchOptions{FieldManager: "flask-eks-it", Force: &force, FieldValidation: metav1.FieldValidationStrict, DryRun: []string{metav1.DryRunAll}}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		_, err = ri.Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
	} else {
		_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
	}
	return err
}

// testWriter sends Pulumi's progress output to the test log, line by line.
type testWriter struct {
	t      *testing.T
	prefix string
}

func (w testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			w.t.Logf("%s | %s", w.prefix, line)
		}
	}
	return len(p), nil
}
