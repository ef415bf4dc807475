//go:build integration

package externalsecrets

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/crdschema"
	"github.com/example/flask-eks/internal/kubetest"
)

// lastReloaded is the pod-template annotation Reloader's annotations strategy writes
// (internal/pkg/constants: ReloaderAnnotationPrefix + "/" + LastReloadedFromAnnotation).
const lastReloaded = "reloader.stakater.com/last-reloaded-from"

// reloaderRules are the rules chart-v2.2.16 grants Reloader in each watched namespace with the
// component's values (templates/_helpers.tpl reloader-namespaced-rules, with ignoreConfigMaps:
// true; rendered with ReloaderValues at that tag), plus events, which the chart's Role adds.
var reloaderRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list", "get", "watch"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "daemonsets", "statefulsets"}, Verbs: []string{"list", "get", "update", "patch"}},
	{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, Verbs: []string{"list", "get"}},
	{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "delete", "list", "get"}},
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
}

// reloaderSHA is Reloader's hash of a Secret's data (internal/pkg/util GetSHAfromSecret:
// sorted "key=value" joined by ";", SHA-1).
func reloaderSHA(data map[string][]byte) string {
	var kv []string
	for k, v := range data {
		kv = append(kv, k+"="+string(v))
	}
	sort.Strings(kv)
	sum := sha1.Sum([]byte(strings.Join(kv, ";")))
	return hex.EncodeToString(sum[:])
}

// TestIntegrationRotationRollsThePods proves that a new value reaches the pods without a
// `pulumi up`: on a real API server, with the app's Deployment rendered from app/chart as the
// App component configures it (existingSecret = the ExternalSecret's target, reloadOnChange),
// the real Reloader (built from its Go module) runs out of cluster with only the namespace
// Role its chart grants, and the Secret's data is then changed as ESO does on a refresh after
// a rotation in Secrets Manager. The Deployment's pod template must change (a rollout), with
// Reloader's annotation naming the Secret and the new data's hash; a refresh that rewrites the
// same data must not roll anything. The same control plane also admits the component's
// SecretStore and ExternalSecret under ESO's CRDs (strict, with their CEL rules).
func TestIntegrationRotationRollsThePods(t *testing.T) {
	bin := kubetest.ToolPaths(t, kubetest.ToolReloader).Reloader // built by .ci/build-tools reloader
	cp := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kube, err := kubernetes.NewForConfig(cp.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{appNamespace, ReloaderNamespace} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// ESO's objects, as the component declares them, against ESO's CRDs.
	cp.ApplyFiles(t, filepath.Join(crdDir(t), "external-secrets.io_secretstores.yaml"), filepath.Join(crdDir(t), "external-secrets.io_externalsecrets.yaml"))
	d := deploy(t, false)
	for _, typ := range []string{storeType, esType} {
		obj := &unstructured.Unstructured{Object: crdschema.DeepCopy(d.m.Only(t, typ).Inputs)}
		if err := cp.DryRunApply(ctx, obj); err != nil {
			t.Errorf("%s rejected by the API server: %v", obj.GetKind(), err)
		}
	}

	// The app's Deployment, rendered with the values the App passes for a Source.
	values := app.ChartValues(app.ChartSettings{Environment: "test", ReleaseName: "flask-app", APIBaseURL: "https://api.example.com", ReloadOnChange: true})
	values["image"].(map[string]any)["repository"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-app"
	values["image"].(map[string]any)["tag"] = "v1"
	values["secrets"].(map[string]any)["existingSecret"] = DefaultTargetName
	values["secrets"].(map[string]any)["reloadOnChange"] = true
	manifests, err := chartrender.Render("../../app/chart", values, "flask-app", appNamespace, "1.35.4") // the control plane's version
	if err != nil {
		t.Fatal(err)
	}
	var deployment string
	for _, m := range manifests {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(m.YAML), &obj.Object); err != nil {
			t.Fatal(err)
		}
		obj.SetNamespace(appNamespace)
		if _, err := cp.Apply(ctx, obj); err != nil {
			t.Fatalf("applying %s %s: %v", m.Kind, m.Name, err)
		}
		if m.Kind == "Deployment" {
			deployment = m.Name
			if got := obj.GetAnnotations()["secret.reloader.stakater.com/reload"]; got != DefaultTargetName {
				t.Fatalf("Deployment annotation secret.reloader.stakater.com/reload = %q, want %q", got, DefaultTargetName)
			}
		}
	}
	if deployment == "" {
		t.Fatal("the chart rendered no Deployment")
	}

	// The Secret as ESO writes it from the first value.
	secrets := kube.CoreV1().Secrets(appNamespace)
	first := map[string][]byte{"SECRET_KEY": []byte("first-key"), "DB_PASSWORD": []byte("first-password")}
	if _, err := secrets.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultTargetName, Labels: map[string]string{"reconcile.external-secrets.io/managed": "true"}},
		Type:       corev1.SecretTypeOpaque, Data: first,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	kubeconfig := scopedKubeconfig(ctx, t, cp, kube)
	logPath := startReloader(t, bin, kubeconfig)
	waitForLog(t, logPath, "Starting Controller to watch resource type: secrets", time.Minute)
	time.Sleep(2 * time.Second) // the informer's first list, after which changes are updates

	deployments := kube.AppsV1().Deployments(appNamespace)
	get := func() (int64, string) {
		dep, err := deployments.Get(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return dep.Generation, dep.Spec.Template.Annotations[lastReloaded]
	}
	gen0, ann := get()
	if ann != "" {
		t.Fatalf("reloaded before any change: %s", ann)
	}
	update := func(data map[string][]byte, label string) {
		s, err := secrets.Get(ctx, DefaultTargetName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Data = data
		s.Labels["refreshed"] = label
		if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitReload := func(want map[string][]byte) (int64, string) {
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			gen, ann := get()
			var src struct{ Type, Name, Namespace, Hash string }
			if ann != "" {
				if err := json.Unmarshal([]byte(ann), &src); err != nil {
					t.Fatalf("annotation %s: %v", ann, err)
				}
				if src.Hash == reloaderSHA(want) {
					if src.Name != DefaultTargetName || src.Namespace != appNamespace || !strings.EqualFold(src.Type, "SECRET") {
						t.Errorf("reloaded from %+v, want Secret %s/%s", src, appNamespace, DefaultTargetName)
					}
					return gen, ann
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		out, _ := os.ReadFile(logPath)
		t.Fatalf("the pod template never got the new data's hash %s; Reloader's log:\n%s", reloaderSHA(want), out)
		return 0, ""
	}

	// An ESO refresh that finds the same value rewrites nothing that matters: no rollout.
	start := time.Now()
	update(first, "1")
	// Rotation: a new value in Secrets Manager, written into the Secret by ESO's next refresh.
	second := map[string][]byte{"SECRET_KEY": []byte("rotated-key"), "DB_PASSWORD": []byte("rotated-password")}
	update(second, "2")
	gen1, ann1 := waitReload(second)
	t.Logf("rotation reached the pod template in %s: %s", time.Since(start).Round(time.Millisecond), ann1)
	if gen1 != gen0+1 {
		t.Errorf("generation %d -> %d: want exactly one rollout (the same-value refresh must not roll)", gen0, gen1)
	}
	// A second rotation rolls again.
	third := map[string][]byte{"SECRET_KEY": []byte("third-key"), "DB_PASSWORD": []byte("third-password")}
	update(third, "3")
	gen2, _ := waitReload(third)
	if gen2 != gen1+1 {
		t.Errorf("generation %d -> %d after the second rotation, want one more", gen1, gen2)
	}
}

// scopedKubeconfig gives Reloader the credentials its chart gives it: a ServiceAccount in its
// own namespace, bound to the chart's Role in the app's namespace only, with a token from the
// TokenRequest API.
func scopedKubeconfig(ctx context.Context, t *testing.T, cp *kubetest.ControlPlane, kube kubernetes.Interface) string {
	t.Helper()
	if _, err := kube.CoreV1().ServiceAccounts(ReloaderNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ReloaderServiceAccount}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.RbacV1().Roles(appNamespace).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reloader-reloader-role"}, Rules: reloaderRules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.RbacV1().RoleBindings(appNamespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "reloader-reloader-role-binding"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reloader-reloader-role"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: ReloaderServiceAccount, Namespace: ReloaderNamespace}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expiry := int64(3600)
	tr, err := kube.CoreV1().ServiceAccounts(ReloaderNamespace).CreateToken(ctx, ReloaderServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := clientcmd.Load([]byte(cp.Kubeconfig()))
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubetest"] = cluster
	cfg.AuthInfos["reloader"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["reloader"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: "reloader", Namespace: appNamespace}
	cfg.CurrentContext = "reloader"
	path := filepath.Join(t.TempDir(), "reloader.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	// The token really is scoped: no Secrets outside the app's namespace.
	scoped, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := kubernetes.NewForConfig(scoped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sk.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("Reloader's credentials list Secrets cluster-wide; the test would not prove the scoped Role suffices")
	}
	return path
}

// startReloader runs Reloader out of cluster with the arguments chart-v2.2.16 renders for
// ReloaderValues, except --namespaces (added in v1.4.21): v1.4.19's single-namespace mode
// (KUBERNETES_NAMESPACE) watches the same one namespace. It is stopped by the test's cleanup.
func startReloader(t *testing.T, bin, kubeconfig string) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "reloader.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--log-format=json", "--log-level=info",
		"--resources-to-ignore=configmaps", "--ignored-workload-types=jobs,cronjobs",
		"--reload-strategy=annotations")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "KUBERNETES_NAMESPACE="+appNamespace)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("---- Reloader's log ----\n%s", out)
		}
	})
	return logPath
}

func waitForLog(t *testing.T, path, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if strings.Contains(sc.Text(), want) {
					f.Close()
					return
				}
			}
			f.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := os.ReadFile(path)
	t.Fatalf("Reloader never logged %q:\n%s", want, out)
}
