package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

// chartDir is the app chart, relative to this package.
const chartDir = "chart"

const (
	testRepo   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-eks-test/flask-app"
	testDigest = "sha256:abababababababababababababababababababababababababababababababab"
)

// appRun is one run of NewApp under the shared mocks.
type appRun struct {
	m                 *pulumitest.Mocks
	appURL, configURL *pulumitest.Value
	classStandIn      string // URN of the ReleaseDependsOn stand-in
}

// runApp declares an App with a Kubernetes provider and a stand-in for the IngressClass the
// release must wait for.
func runApp(t *testing.T, mutate func(*pulumi.Context, *AppArgs), opts ...pulumi.RunOption) (*appRun, error) {
	t.Helper()
	r := &appRun{m: pulumitest.New("flask-eks", "test")}
	r.classStandIn = r.m.URN("", "pulumi:providers:kubernetes", "ingress-class-stand-in")
	err := pulumitest.Run(t, r.m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		gate, err := kubernetes.NewProvider(ctx, "ingress-class-stand-in", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		args := &AppArgs{
			Provider:  p,
			Namespace: "flask-app",
			ChartPath: chartDir,
			Settings: ChartSettings{
				Environment: "prod", ReleaseName: "flask-app", Replicas: 3, LogLevel: "INFO",
				APIBaseURL: "https://api.example.com", Ingress: ChartIngress{Enabled: true},
			},
			IngressClassName: pulumi.String("alb"),
			Image:            ImageRef{Repository: pulumi.String(testRepo), Digest: pulumi.String(testDigest)},
			Secrets: Secrets{
				SecretKey:  pulumi.ToSecret(pulumi.String("secret-key-value-0123456789")).(pulumi.StringOutput),
				DBPassword: pulumi.String("db-password-not-marked-secret"),
			},
			ReleaseDependsOn: []pulumi.Resource{gate},
		}
		if mutate != nil {
			mutate(ctx, args)
		}
		a, err := NewApp(ctx, "app", args)
		if err != nil {
			return err
		}
		r.appURL, r.configURL = pulumitest.Capture(a.AppURL), pulumitest.Capture(a.ConfigURL)
		return nil
	}, opts...)
	return r, err
}

func mustRunApp(t *testing.T, mutate func(*pulumi.Context, *AppArgs)) *appRun {
	t.Helper()
	r, err := runApp(t, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// values returns the release's values as the engine received them.
func (r *appRun) values(t *testing.T) resource.PropertyMap {
	t.Helper()
	return r.m.Only(t, "kubernetes:helm.sh/v3:Release").Raw["values"].ObjectValue()
}

func TestReleaseValues(t *testing.T) {
	r := mustRunApp(t, nil)
	rel := r.m.Only(t, "kubernetes:helm.sh/v3:Release").Raw
	if !rel["atomic"].BoolValue() || rel["skipAwait"].BoolValue() {
		t.Errorf("release atomic %v skipAwait %v, want an atomic release that waits", rel["atomic"], rel["skipAwait"])
	}
	v := r.values(t)
	image := v["image"].ObjectValue()
	if image["repository"].StringValue() != testRepo || image["digest"].StringValue() != testDigest {
		t.Errorf("image values = %v, want the repository and digest of the pushed image", image)
	}
	// The chart gets only the name of the component's Secret: Helm keeps values in its history.
	secretName := r.m.Only(t, "kubernetes:core/v1:Secret").ID
	if got := v["secrets"].ObjectValue()["existingSecret"].StringValue(); "flask-app/"+got != secretName {
		t.Errorf("secrets.existingSecret = %q, want the component's Secret %s", got, secretName)
	}
	if v.ContainsSecrets() {
		t.Errorf("release values hold a Pulumi secret: %v", v)
	}
	for _, leak := range []string{"secret-key-value", "db-password-not-marked-secret"} {
		if strings.Contains(fmt.Sprint(v.Mappable()), leak) {
			t.Errorf("release values contain %q", leak)
		}
	}
	if got := v["ingress"].ObjectValue()["className"].StringValue(); got != "alb" {
		t.Errorf("ingress.className = %q, want the class passed in", got)
	}
	// Behind the ALB the app trusts one X-Forwarded-For hop, for the access log's client address.
	if got := v["config"].ObjectValue()["TRUSTED_PROXY_HOPS"]; !got.IsNumber() || got.NumberValue() != 1 {
		t.Errorf("config.TRUSTED_PROXY_HOPS = %v, want 1 behind the ALB", got)
	}
}

func TestAppSecret(t *testing.T) {
	r := mustRunApp(t, nil)
	sec := r.m.Only(t, "kubernetes:core/v1:Secret")
	meta := sec.Raw["metadata"].ObjectValue()
	if _, named := meta["name"]; named {
		t.Errorf("the Secret is named %v; want it auto-named, so that a new value replaces it under a new name", meta["name"])
	}
	if !sec.Raw["immutable"].BoolValue() {
		t.Error("the Secret is mutable; a rotation must replace it, so that the pods roll")
	}
	// The data is secret in state, also the DB password that the caller did not mark.
	sd := sec.Raw["stringData"]
	if !sd.IsSecret() {
		t.Fatalf("stringData is not a Pulumi secret: %v", sd)
	}
	data := sd.SecretValue().Element.ObjectValue()
	for k, want := range map[string]string{"SECRET_KEY": "secret-key-value-0123456789", "DB_PASSWORD": "db-password-not-marked-secret"} {
		v := data[resource.PropertyKey(k)]
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsString() || v.StringValue() != want {
			t.Errorf("stringData.%s = %v, want the configured value", k, v)
		}
	}
	// The release reads the Secret's name, so it waits for the Secret.
	rel := r.m.Only(t, "kubernetes:helm.sh/v3:Release")
	if !slices.Contains(rel.PropertyDependencies["values"], sec.URN) {
		t.Errorf("release values do not depend on the Secret: %v", rel.PropertyDependencies)
	}
}

// TestExistingSecret: with a Secret made elsewhere, the component makes no Secret and hands the
// chart its name.
func TestExistingSecret(t *testing.T) {
	r := mustRunApp(t, func(ctx *pulumi.Context, a *AppArgs) {
		a.Secrets = Secrets{ExistingSecret: pulumi.String("flask-app-secrets")}
		a.Settings.ReloadOnChange = true
	})
	if n := len(r.m.ByType("kubernetes:core/v1:Secret")); n != 0 {
		t.Errorf("%d Secrets created although an existing one is used", n)
	}
	v := r.values(t)
	if got := v["secrets"].ObjectValue(); got["existingSecret"].StringValue() != "flask-app-secrets" || !got["reloadOnChange"].BoolValue() {
		t.Errorf("secrets values = %v, want the existing Secret, reloaded on change", got)
	}
}

// fakeSource stands in for External Secrets: it declares one object in the namespace it is
// given, so the test sees what the App hands it.
type fakeSource struct{ gotNamespace *corev1.Namespace }

func (f *fakeSource) SyncInto(ctx *pulumi.Context, name string, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (pulumi.StringInput, error) {
	f.gotNamespace = ns
	if _, err := corev1.NewConfigMap(ctx, name+"-external-secret-stand-in", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Namespace: ns.Metadata.Name()},
	}, opts...); err != nil {
		return nil, err
	}
	return pulumi.String("flask-app-secrets"), nil
}

// TestSecretSource: a SecretSource gets the App's namespace, declares its objects as the App's
// children, and the release takes its Secret and asks Reloader to roll the pods when its content
// changes, but does not wait for what makes it (the pods do); the App makes no Secret of its own.
func TestSecretSource(t *testing.T) {
	src := &fakeSource{}
	r := mustRunApp(t, func(_ *pulumi.Context, a *AppArgs) { a.Secrets = Secrets{Source: src} })
	if src.gotNamespace == nil {
		t.Fatal("SyncInto was not called with the namespace")
	}
	if n := len(r.m.ByType("kubernetes:core/v1:Secret")); n != 0 {
		t.Errorf("%d Secrets created although the source makes it", n)
	}
	standIn := r.m.Only(t, "kubernetes:core/v1:ConfigMap")
	app := r.m.URN("", "flask-eks:app:App", "app")
	ns := r.m.Only(t, "kubernetes:core/v1:Namespace")
	if standIn.Parent != app || !slices.Contains(standIn.Dependencies, ns.URN) {
		t.Errorf("the source's object: parent %s, dependencies %v; want the App's child, after its namespace", standIn.Parent, standIn.Dependencies)
	}
	v := r.values(t)
	if got := v["secrets"].ObjectValue(); got["existingSecret"].StringValue() != "flask-app-secrets" || !got["reloadOnChange"].BoolValue() {
		t.Errorf("secrets values = %v, want the synced Secret, reloaded on change", got)
	}
	rel := r.m.Only(t, "kubernetes:helm.sh/v3:Release")
	if pulumitest.DependsOn(r.m.Graph(), rel.URN, standIn.URN) {
		t.Errorf("the release waits for the synced Secret's maker, which only its pods need: %v", rel.Dependencies)
	}
}

func TestReleaseDependencies(t *testing.T) {
	r := mustRunApp(t, nil)
	g := r.m.Graph()
	rel := r.m.Only(t, "kubernetes:helm.sh/v3:Release")
	if !pulumitest.DependsOn(g, rel.URN, r.classStandIn) {
		t.Errorf("release does not wait for ReleaseDependsOn: %v", rel.Dependencies)
	}
	// Every Kubernetes object goes through the explicit provider and belongs to the App.
	provider := r.m.URN("", "pulumi:providers:kubernetes", "k8s")
	app := r.m.URN("", "flask-eks:app:App", "app")
	for _, n := range g {
		if n.Custom && strings.HasPrefix(n.Type, "kubernetes:") && (n.Provider != provider || n.Parent != app) {
			t.Errorf("%s %s: provider %q parent %q", n.Type, n.Name, n.Provider, n.Parent)
		}
	}
}

// TestNamespaceBaseline: the namespace enforces the restricted Pod Security Standard and denies
// all traffic that no policy of a workload admits.
func TestNamespaceBaseline(t *testing.T) {
	r := mustRunApp(t, nil)
	labels := r.m.Only(t, "kubernetes:core/v1:Namespace").Raw["metadata"].ObjectValue()["labels"].ObjectValue()
	for _, mode := range []string{"enforce", "warn", "audit"} {
		if got := labels[resource.PropertyKey("pod-security.kubernetes.io/"+mode)].StringValue(); got != "restricted" {
			t.Errorf("pod-security %s = %q, want restricted", mode, got)
		}
	}
	np := r.m.Only(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy").Raw
	spec := np["spec"].ObjectValue()
	if sel := spec["podSelector"].ObjectValue(); len(sel) != 0 {
		t.Errorf("default-deny selects %v, want every pod", sel)
	}
	if types := spec["policyTypes"].ArrayValue(); len(types) != 2 {
		t.Errorf("policyTypes %v, want Ingress and Egress", types)
	}
	if _, ok := spec["ingress"]; ok {
		t.Error("default-deny admits ingress")
	}
	if np["metadata"].ObjectValue()["namespace"].StringValue() != "flask-app" {
		t.Errorf("default-deny is in %v", np["metadata"])
	}
}

func TestAppURL(t *testing.T) {
	t.Run("from the configured host, known at preview", func(t *testing.T) {
		r := mustRunApp(t, func(_ *pulumi.Context, a *AppArgs) {
			a.Settings.Ingress = ChartIngress{Enabled: true, Host: "app.example.com", HTTPS: true}
		})
		if url, config := r.appURL.String(t), r.configURL.String(t); url != "https://app.example.com/" || config != url+"config" {
			t.Errorf("appUrl %q configUrl %q", url, config)
		}
	})
	t.Run("from the ALB's generated name", func(t *testing.T) {
		r := mustRunApp(t, nil)
		read := r.m.Only(t, "kubernetes:networking.k8s.io/v1:Ingress")
		if read.ID != "flask-app/flask-app" {
			t.Fatalf("the Ingress is not read back by the release's ID: %q", read.ID)
		}
		if url := r.appURL.String(t); !strings.HasPrefix(url, "http://k8s-flask-app-flask-app-") || !strings.HasSuffix(url, ".elb.amazonaws.com/") {
			t.Errorf("appUrl %q, want http:// on the ALB's hostname", url)
		}
	})
	t.Run("no Ingress", func(t *testing.T) {
		r := mustRunApp(t, func(_ *pulumi.Context, a *AppArgs) { a.Settings.Ingress = ChartIngress{}; a.IngressClassName = nil })
		if url := r.appURL.String(t); url != "" {
			t.Errorf("appUrl %q without an Ingress", url)
		}
		if n := len(r.m.ByType("kubernetes:networking.k8s.io/v1:Ingress")); n != 0 {
			t.Error("an Ingress is read back although there is none")
		}
	})
}

func TestPodIdentity(t *testing.T) {
	r := mustRunApp(t, func(_ *pulumi.Context, a *AppArgs) {
		a.PodIdentity = &PodIdentityArgs{ClusterName: pulumi.String("flask-eks-test"), PolicyArns: []string{
			"arn:aws:iam::123456789012:policy/app-bucket", "arn:aws:iam::123456789012:policy/app-extra",
		}}
	})
	role := r.m.Only(t, "aws:iam/role:Role").Raw
	var trust struct {
		Statement []struct {
			Principal struct{ Service string }
			Action    []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(role["assumeRolePolicy"].StringValue()), &trust); err != nil {
		t.Fatal(err)
	}
	if trust.Statement[0].Principal.Service != "pods.eks.amazonaws.com" || !slices.Equal(trust.Statement[0].Action, []string{"sts:AssumeRole", "sts:TagSession"}) {
		t.Errorf("trust policy = %+v", trust)
	}
	// Only this cluster's flask-app ServiceAccount in flask-app may assume the role.
	if want := map[string]string{
		"aws:RequestTag/eks-cluster-name":           "flask-eks-test",
		"aws:RequestTag/kubernetes-namespace":       "flask-app",
		"aws:RequestTag/kubernetes-service-account": "flask-app",
	}; !maps.Equal(trust.Statement[0].Condition["StringEquals"], want) {
		t.Errorf("trust policy conditions = %v, want %v", trust.Statement[0].Condition, want)
	}
	if n := len(r.m.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")); n != 2 {
		t.Errorf("%d policy attachments, want 2", n)
	}
	assoc := r.m.Only(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
	if in := assoc.Raw; in["namespace"].StringValue() != "flask-app" || in["serviceAccount"].StringValue() != "flask-app" {
		t.Errorf("association = %v, want the app's ServiceAccount", in)
	}
	// The pods must start with credentials: the release waits for the association.
	release := r.m.Only(t, "kubernetes:helm.sh/v3:Release")
	if !slices.Contains(release.Dependencies, assoc.URN) {
		t.Errorf("the release does not depend on the Pod Identity association: %v", release.Dependencies)
	}
	if none := mustRunApp(t, nil); len(none.m.ByType("aws:iam/role:Role")) != 0 {
		t.Error("a Pod Identity role exists although none was asked for")
	}
}

func TestArgsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*pulumi.Context, *AppArgs){
		"no provider":               func(_ *pulumi.Context, a *AppArgs) { a.Provider = nil },
		"no image":                  func(_ *pulumi.Context, a *AppArgs) { a.Image = ImageRef{} },
		"no secrets":                func(_ *pulumi.Context, a *AppArgs) { a.Secrets = Secrets{} },
		"both secret sources":       func(_ *pulumi.Context, a *AppArgs) { a.Secrets.ExistingSecret = pulumi.String("x") },
		"values and a source":       func(_ *pulumi.Context, a *AppArgs) { a.Secrets.Source = &fakeSource{} },
		"only one secret value":     func(_ *pulumi.Context, a *AppArgs) { a.Secrets.DBPassword = nil },
		"ingress without class":     func(_ *pulumi.Context, a *AppArgs) { a.IngressClassName = nil },
		"HTTPS without a host":      func(_ *pulumi.Context, a *AppArgs) { a.Settings.Ingress.HTTPS = true },
		"pod identity, no policies": func(_ *pulumi.Context, a *AppArgs) { a.PodIdentity = &PodIdentityArgs{ClusterName: pulumi.String("c")} },
	} {
		r, err := runApp(t, mutate)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if len(r.m.ByType("flask-eks:app:App")) != 0 {
			t.Errorf("%s: component registered before validation failed", name)
		}
	}
}

func TestImageFromRef(t *testing.T) {
	for ref, want := range map[string][3]string{
		"flask-app:dev":                        {"flask-app", "dev", ""},
		"localhost:5000/flask-app:dev":         {"localhost:5000/flask-app", "dev", ""},
		"localhost:5000/flask-app":             {"localhost:5000/flask-app", "", ""},
		"r.example.com/a/b@sha256:" + "ab":     {"r.example.com/a/b", "", "sha256:ab"},
		"r.example.com/a/b:v1@sha256:" + "cd":  {"r.example.com/a/b", "v1", "sha256:cd"},
		"registry.example.com:443/team/app:v2": {"registry.example.com:443/team/app", "v2", ""},
	} {
		got := ImageFromRef(ref)
		if got.Repository.(pulumi.String) != pulumi.String(want[0]) || got.Tag != want[1] || got.Digest.(pulumi.String) != pulumi.String(want[2]) {
			t.Errorf("ImageFromRef(%q) = %v %q %v, want %v", ref, got.Repository, got.Tag, got.Digest, want)
		}
	}
}

// TestChartDigest: a template-only edit changes the digest the release gets as a value, so the
// helm/v3 Release (which compares values and chart version) upgrades.
func TestChartDigest(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("chart")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	before, err := ChartDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	dep := filepath.Join(dir, "templates", "deployment.yaml")
	b, _ := os.ReadFile(dep)
	if err := os.WriteFile(dep, append(b, []byte("# a template-only edit\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _ := ChartDigest(dir); after == before {
		t.Errorf("a template edit kept the chart digest %s", before)
	}

	r := mustRunApp(t, nil)
	want, err := ChartDigest(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.values(t)["chartDigest"]; !got.IsString() || got.StringValue() != want {
		t.Errorf("release value chartDigest = %v, want %s", got, want)
	}
}
