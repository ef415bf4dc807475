package externalsecrets

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/app"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/pulumitest"
)

const (
	appNamespace = "flask-app"
	prefix       = "flask-eks-test"
	vpcCIDR      = "10.20.0.0/16"
	// serviceAddress is the `kubernetes` Service's address (main.go derives it from serviceCidr).
	serviceAddress = "172.20.0.1"
	chartType      = "kubernetes:helm.sh/v4:Chart"
	storeType      = "kubernetes:external-secrets.io/v1:SecretStore"
	esType         = "kubernetes:external-secrets.io/v1:ExternalSecret"
	policyType     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
)

// testPlacement is a pool's placement as main.go passes the platform pool's.
var testPlacement = kube.Placement{
	NodeSelector: map[string]string{"karpenter.sh/nodepool": "platform"},
	Tolerations:  []kube.Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"}},
}

// deployment is one run of the component with the real App consuming its Source, as main.go
// composes them.
type deployment struct {
	m       *pulumitest.Mocks
	outputs map[string]*pulumitest.Value
	e       *ExternalSecrets
}

func deploy(t *testing.T, protect bool) *deployment {
	t.Helper()
	m := pulumitest.New("flask-eks", "test")
	d := &deployment{m: m, outputs: map[string]*pulumitest.Value{}}
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		e, err := New(ctx, "external-secrets", &Args{
			Provider: p, ClusterName: pulumi.String(prefix), Region: pulumitest.Region, NamePrefix: prefix,
			RefreshInterval: "5m", APIServer: netpol.APIServer{ServiceAddress: serviceAddress, CIDRs: []string{vpcCIDR}}, Protect: protect,
			Placement:  testPlacement,
			Principals: testPrincipals,
		})
		if err != nil {
			return err
		}
		d.e = e
		d.outputs["secretArn"] = pulumitest.Capture(e.SecretArn)
		d.outputs["secretName"] = pulumitest.Capture(e.SecretName)
		d.outputs["keyArn"] = pulumitest.Capture(e.KeyArn)
		_, err = app.NewApp(ctx, "app", &app.AppArgs{
			Provider:  p,
			Namespace: appNamespace,
			ChartPath: "../../app/chart",
			Settings:  app.ChartSettings{Environment: "test", ReleaseName: "flask-app", APIBaseURL: "https://api.example.com"},
			Image:     app.ImageFromRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-app:v1"),
			Secrets:   app.Secrets{Source: e},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *deployment) chart(t *testing.T, name string) pulumitest.Node {
	t.Helper()
	return d.m.One(t, chartType, name)
}

type policyDoc struct {
	Statement []struct {
		Sid       string
		Effect    string
		Action    []string
		Resource  []string
		Principal map[string]any
		Condition map[string]map[string]string
	}
}

func parsePolicy(t *testing.T, s any) policyDoc {
	t.Helper()
	var p policyDoc
	str, ok := s.(string)
	if !ok {
		t.Fatalf("policy is %T (%v), not a JSON string", s, s)
	}
	if err := json.Unmarshal([]byte(str), &p); err != nil {
		t.Fatalf("policy %s: %v", str, err)
	}
	return p
}

// TestReadPolicyScope: the controller's own policy reads exactly this stack's secret (no
// wildcard, no writes, no listing); its Decrypt comes from the key policy alone
// (TestWhoReadsTheSecret), so the role's policy names no key.
func TestReadPolicyScope(t *testing.T) {
	d := deploy(t, false)
	secretArn := d.outputs["secretArn"].String(t)
	if !strings.Contains(secretArn, ":secret:"+prefix+"/app") {
		t.Fatalf("secret %s: not the stack's (mock ARN)", secretArn)
	}
	p := parsePolicy(t, d.m.Only(t, "aws:iam/rolePolicy:RolePolicy").Inputs["policy"])
	if len(p.Statement) != 1 {
		t.Fatalf("%d statements, want 1: %+v", len(p.Statement), p)
	}
	st := p.Statement[0]
	if st.Effect != "Allow" || !slices.Equal(st.Resource, []string{secretArn}) {
		t.Errorf("statement %s: %s on %v, want Allow on only %s", st.Sid, st.Effect, st.Resource, secretArn)
	}
	if want := []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}; !slices.Equal(st.Action, want) {
		t.Errorf("actions %v, want exactly %v (no writes, no listing, no key)", st.Action, want)
	}
}

func TestReadPolicyRefusesEmptyARNs(t *testing.T) {
	if _, err := ReadPolicy(""); err == nil {
		t.Error("a policy without a secret ARN must be refused (it would read as no resource at all)")
	}
}

// TestPodIdentity: the role trusts only EKS Pod Identity for this cluster, ESO's namespace and
// the ServiceAccount the chart is told to create; the association names the same pair; and the
// charts keep that name fixed.
func TestPodIdentity(t *testing.T) {
	d := deploy(t, false)
	role := d.m.Only(t, "aws:iam/role:Role")
	trust := parsePolicy(t, role.Inputs["assumeRolePolicy"])
	if len(trust.Statement) != 1 {
		t.Fatalf("trust policy %+v", trust)
	}
	st := trust.Statement[0]
	if st.Principal["Service"] != "pods.eks.amazonaws.com" || !slices.Equal(st.Action, []string{"sts:AssumeRole", "sts:TagSession"}) {
		t.Errorf("trust principal %v actions %v", st.Principal, st.Action)
	}
	wantCond := map[string]string{
		"aws:RequestTag/eks-cluster-name":           prefix,
		"aws:RequestTag/kubernetes-namespace":       OperatorNamespace,
		"aws:RequestTag/kubernetes-service-account": OperatorServiceAccount,
	}
	if fmt.Sprint(st.Condition["StringEquals"]) != fmt.Sprint(wantCond) {
		t.Errorf("trust conditions %v, want %v", st.Condition, wantCond)
	}
	assoc := d.m.Only(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation").Inputs
	if assoc["namespace"] != OperatorNamespace || assoc["serviceAccount"] != OperatorServiceAccount || assoc["clusterName"] != prefix {
		t.Errorf("association %v", assoc)
	}
	if !strings.HasSuffix(fmt.Sprint(assoc["roleArn"]), ":role/"+role.ID) {
		t.Errorf("association role %v, want the role %s", assoc["roleArn"], role.ID)
	}
	// The chart's controller runs as this ServiceAccount: release name = chart name, so the
	// namespace is ESO's, and the name is set explicitly (templates/_helpers.tpl
	// external-secrets.serviceAccountName: default(fullname) of serviceAccount.name).
	eso := d.chart(t, "external-secrets")
	sa := eso.Inputs["values"].(map[string]any)["serviceAccount"].(map[string]any)
	if sa["name"] != OperatorServiceAccount || sa["create"] != true {
		t.Errorf("ESO serviceAccount values %v, want created as %s", sa, OperatorServiceAccount)
	}
	if eso.Inputs["namespace"] != OperatorNamespace || eso.Inputs["name"] != OperatorChart.Name {
		t.Errorf("ESO release %v in %v, want %s in %s", eso.Inputs["name"], eso.Inputs["namespace"], OperatorChart.Name, OperatorNamespace)
	}
}

// TestOrder: association → ESO chart → SecretStore → ExternalSecret; the charts also wait for
// the app's namespace, where their Roles go. The app's release waits for none of them: only its
// pods need the Secret, so it installs beside the operator.
func TestOrder(t *testing.T) {
	d := deploy(t, false)
	nodes := d.m.Graph()
	assoc := d.m.Only(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation").URN
	version := d.m.Only(t, "aws:secretsmanager/secretVersion:SecretVersion").URN
	eso, reloader := d.chart(t, "external-secrets").URN, d.chart(t, "external-secrets-reloader").URN
	store, es := d.m.Only(t, storeType).URN, d.m.Only(t, esType).URN
	release := d.m.Only(t, "kubernetes:helm.sh/v3:Release").URN
	appNS := d.m.One(t, "kubernetes:core/v1:Namespace", "app").URN
	for _, c := range []struct {
		name     string
		from, to string
	}{
		{"ESO chart after the association", eso, assoc},
		{"ESO chart after the app namespace", eso, appNS},
		{"Reloader chart after the app namespace", reloader, appNS},
		{"SecretStore after the ESO chart", store, eso},
		{"ExternalSecret after the SecretStore", es, store},
		{"ExternalSecret after the secret's first value", es, version},
	} {
		if !pulumitest.DependsOn(nodes, c.from, c.to) {
			t.Errorf("%s: %s does not depend on %s", c.name, c.from, c.to)
		}
	}
	for _, to := range []string{es, store, eso, version} {
		if pulumitest.DependsOn(nodes, release, to) {
			t.Errorf("the app's release waits for %s, which only its pods need", to)
		}
	}
	if pulumitest.DependsOn(nodes, eso, store) || pulumitest.DependsOn(nodes, assoc, eso) {
		t.Error("the order is circular")
	}
	// The App's options reach the objects in its namespace; the charts stay the component's.
	appURN := d.m.Only(t, "flask-eks:app:App").URN
	if n := d.m.Only(t, esType); n.Parent != appURN {
		t.Errorf("ExternalSecret parent %s, want the App", n.Parent)
	}
	if n := d.chart(t, "external-secrets"); n.Parent != d.m.Only(t, "flask-eks:externalsecrets:ExternalSecrets").URN {
		t.Errorf("ESO chart parent %s, want the component", n.Parent)
	}
}

// TestNoSecretInTheOpen: the generated values exist only as secrets (the SecretVersion's
// input), never in plain inputs, chart values or the component's outputs.
func TestNoSecretInTheOpen(t *testing.T) {
	d := deploy(t, false)
	version := d.m.Only(t, "aws:secretsmanager/secretVersion:SecretVersion")
	if v := version.Raw["secretString"]; !v.ContainsSecrets() {
		t.Errorf("secretString %v is not a secret", v)
	}
	for _, pw := range d.m.ByType("random:index/randomPassword:RandomPassword") {
		if pw.Inputs["length"] != 32.0 || pw.Inputs["special"] != false {
			t.Errorf("password %s: %v", pw.Name, pw.Inputs)
		}
	}
	// The mock passwords start with "mockpw": Plain shows secrets as "[secret]", so any copy
	// that lost its secretness would show up here.
	for _, n := range d.m.Graph() {
		b, _ := json.Marshal(n.Inputs)
		if strings.Contains(string(b), "mockpw") {
			t.Errorf("%s %s carries a generated password in plain text", n.Type, n.Name)
		}
		if n.Type == chartType && n.Raw.ContainsSecrets() {
			t.Errorf("chart %s has secret values: Helm values never carry secrets", n.Name)
		}
	}
	for name, v := range d.outputs {
		if v.Secret() || strings.Contains(v.String(t), "mockpw") {
			t.Errorf("output %s is secret or holds a password: %q", name, v.String(t))
		}
	}
}

// TestSecretVersionIgnoresLaterValues: Pulumi writes the first value only; it ignores the
// value and the version stages afterwards, so a later `pulumi up` plans no change for a value
// rotated in Secrets Manager (what the engine then does is Pulumi's ignoreChanges contract).
func TestSecretVersionIgnoresLaterValues(t *testing.T) {
	d := deploy(t, false)
	v := d.m.Only(t, "aws:secretsmanager/secretVersion:SecretVersion")
	ignored := v.IgnoreChanges
	if !slices.Contains(ignored, "secretString") || !slices.Contains(ignored, "versionStages") {
		t.Errorf("SecretVersion ignoreChanges %v, want secretString and versionStages", ignored)
	}
	secretArn := d.outputs["secretArn"].String(t)
	if v.Inputs["secretId"] != secretArn {
		t.Errorf("version of %v, want the stack's secret %s", v.Inputs["secretId"], secretArn)
	}
}

// TestKeyAndSecret: the key rotates, the secret uses it, names follow the prefix, and prod
// protects both with the longest windows.
func TestKeyAndSecret(t *testing.T) {
	for _, protect := range []bool{false, true} {
		t.Run(fmt.Sprintf("protect=%v", protect), func(t *testing.T) {
			d := deploy(t, protect)
			key := d.m.Only(t, "aws:kms/key:Key")
			secret := d.m.Only(t, "aws:secretsmanager/secret:Secret")
			alias := d.m.Only(t, "aws:kms/alias:Alias")
			window := 7.0
			if protect {
				window = 30.0
			}
			if key.Inputs["enableKeyRotation"] != true || key.Inputs["deletionWindowInDays"] != window {
				t.Errorf("key %v", key.Inputs)
			}
			if secret.Inputs["kmsKeyId"] != d.outputs["keyArn"].String(t) || secret.Inputs["name"] != prefix+"/app" ||
				secret.Inputs["recoveryWindowInDays"] != window {
				t.Errorf("secret %v", secret.Inputs)
			}
			if alias.Inputs["name"] != "alias/"+prefix+"-app-secrets" || alias.Inputs["targetKeyId"] != key.ID {
				t.Errorf("alias %v, want it on key %s", alias.Inputs, key.ID)
			}
			if key.Protect != protect || secret.Protect != protect {
				t.Errorf("protect: key %v, secret %v, want %v", key.Protect, secret.Protect, protect)
			}
			if got := d.outputs["secretName"].String(t); got != prefix+"/app" {
				t.Errorf("secretName output %q", got)
			}
		})
	}
}

func dig(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: %s is not an object", path, p)
		}
		v = mm[p]
	}
	return v
}

// TestOperatorsScoped: both operators watch only the app's namespace, with Roles (no
// ClusterRoles for the controllers), restricted security contexts and requests.
func TestOperatorsScoped(t *testing.T) {
	d := deploy(t, false)
	eso := d.chart(t, "external-secrets").Inputs
	v := eso["values"].(map[string]any)
	for path, want := range map[string]any{
		"scopedNamespace":                                appNamespace,
		"scopedRBAC":                                     true,
		"processClusterStore":                            false,
		"processClusterExternalSecret":                   false,
		"processClusterPushSecret":                       false,
		"processPushSecret":                              false,
		"crds.createClusterSecretStore":                  false,
		"crds.createClusterExternalSecret":               false,
		"rbac.serviceAccountTokenCreate":                 false,
		"rbac.servicebindings.create":                    false,
		"webhook.port":                                   float64(WebhookPort),
		"securityContext.runAsNonRoot":                   true,
		"webhook.securityContext.enabled":                true,
		"certController.podSecurityContext.runAsNonRoot": true,
	} {
		if got := dig(t, v, strings.Split(path, ".")...); got != want {
			t.Errorf("ESO %s = %v, want %v", path, got, want)
		}
	}
	// Each "create" CRD flag that is off is paired with its process flag (values.yaml: "If set
	// to false you must also set process…: false").
	pairs := map[string]string{"createClusterSecretStore": "processClusterStore", "createClusterExternalSecret": "processClusterExternalSecret",
		"createClusterPushSecret": "processClusterPushSecret", "createPushSecret": "processPushSecret"}
	for c, p := range pairs {
		if dig(t, v, "crds", c) == false && v[p] != false {
			t.Errorf("crds.%s is false but %s is not", c, p)
		}
	}
	for _, comp := range [][]string{nil, {"webhook"}, {"certController"}} {
		sc := dig(t, v, append(comp, "securityContext")...).(map[string]any)
		if sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true || sc["runAsNonRoot"] != true ||
			fmt.Sprint(sc["capabilities"]) != "map[drop:[ALL]]" || fmt.Sprint(sc["seccompProfile"]) != "map[type:RuntimeDefault]" {
			t.Errorf("%v securityContext %v is not restricted", comp, sc)
		}
		if req := dig(t, v, append(comp, "resources", "requests")...).(map[string]any); req["cpu"] == nil || req["memory"] == nil {
			t.Errorf("%v has no requests", comp)
		}
	}

	r := d.chart(t, "external-secrets-reloader").Inputs
	if r["namespace"] != ReloaderNamespace || r["version"] != ReloaderChart.Version {
		t.Errorf("Reloader release in %v at %v", r["namespace"], r["version"])
	}
	rv := r["values"].(map[string]any)["reloader"].(map[string]any)
	if rv["watchGlobally"] != false || fmt.Sprint(rv["namespaces"]) != "["+appNamespace+"]" {
		t.Errorf("Reloader watches globally=%v namespaces=%v, want only %s", rv["watchGlobally"], rv["namespaces"], appNamespace)
	}
	if rv["reloadStrategy"] != "annotations" || rv["readOnlyRootFileSystem"] != true || rv["ignoreConfigMaps"] != true {
		t.Errorf("Reloader values %v", rv)
	}
	dep := rv["deployment"].(map[string]any)
	csc := dep["containerSecurityContext"].(map[string]any)
	psc := dep["securityContext"].(map[string]any)
	if csc["allowPrivilegeEscalation"] != false || fmt.Sprint(csc["capabilities"]) != "map[drop:[ALL]]" ||
		psc["runAsNonRoot"] != true || fmt.Sprint(psc["seccompProfile"]) != "map[type:RuntimeDefault]" {
		t.Errorf("Reloader security contexts pod %v container %v are not restricted", psc, csc)
	}
	if dig(t, dep, "resources", "requests", "memory") == nil {
		t.Error("Reloader has no requests")
	}
	// The app's Deployment asks Reloader for exactly this: the chart value that adds
	// secret.reloader.stakater.com/reload (rendered and checked in the integration test).
	release := d.m.Only(t, "kubernetes:helm.sh/v3:Release").Inputs
	secrets := dig(t, release, "values", "secrets").(map[string]any)
	if secrets["reloadOnChange"] != true || secrets["existingSecret"] != DefaultTargetName {
		t.Errorf("app release secrets values %v, want reloadOnChange and %s", secrets, DefaultTargetName)
	}
}

// TestNamespacesAndPolicies: restricted namespaces with default deny; only ESO's controller
// reaches AWS and the Pod Identity agent; the webhook admits the API server's networks on its
// port; Reloader reaches the API server only.
func TestNamespacesAndPolicies(t *testing.T) {
	d := deploy(t, false)
	for _, ns := range []string{OperatorNamespace, ReloaderNamespace} {
		found := false
		for _, n := range d.m.ByType("kubernetes:core/v1:Namespace") {
			if dig(t, n.Inputs, "metadata", "name") == ns {
				found = true
				if dig(t, n.Inputs, "metadata", "labels", "pod-security.kubernetes.io/enforce") != "restricted" {
					t.Errorf("namespace %s is not restricted", ns)
				}
			}
		}
		if !found {
			t.Errorf("no namespace %s", ns)
		}
	}
	byName := map[string]map[string]any{}
	for _, n := range d.m.ByType(policyType) {
		byName[fmt.Sprint(dig(t, n.Inputs, "metadata", "namespace"))+"/"+fmt.Sprint(dig(t, n.Inputs, "metadata", "name"))] = n.Inputs
	}
	for _, want := range []string{"external-secrets/default-deny", "reloader/default-deny"} {
		if byName[want] == nil {
			t.Errorf("no NetworkPolicy %s", want)
		}
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for _, ns := range []string{OperatorNamespace, ReloaderNamespace} {
		egress := js(byName[ns+"/egress"])
		if !strings.Contains(egress, vpcCIDR) || !strings.Contains(egress, `"cidr":"`+serviceAddress+`/32"`) ||
			strings.Contains(egress, "1.0.0.0/8") || strings.Contains(egress, "169.254.170.23") {
			t.Errorf("%s egress %s: want DNS and the API server (its Service's address and the VPC) only", ns, egress)
		}
	}
	ctrl := byName["external-secrets/controller-aws-egress"]
	if ctrl == nil {
		t.Fatal("no controller egress policy")
	}
	if got := dig(t, ctrl, "spec", "podSelector", "matchLabels"); fmt.Sprint(got) != fmt.Sprint(controllerPods) {
		t.Errorf("controller policy selects %v, want the controller pods %v", got, controllerPods)
	}
	c := js(ctrl)
	for _, want := range []string{`"cidr":"1.0.0.0/8"`, `"cidr":"208.0.0.0/4"`, `"port":443`, `"cidr":"169.254.170.23/32"`, `"port":80`} {
		if !strings.Contains(c, want) {
			t.Errorf("controller egress %s lacks %s", c, want)
		}
	}
	// The internet only: no private range, no 0.0.0.0/0 with an except the EKS agent may ignore.
	for _, unwanted := range []string{`"cidr":"0.0.0.0/0"`, `"cidr":"10.0.0.0/8"`, `"except"`} {
		if strings.Contains(c, unwanted) {
			t.Errorf("controller egress %s holds %s", c, unwanted)
		}
	}
	wh := byName["external-secrets/webhook-from-api-server"]
	if wh == nil {
		t.Fatal("no webhook ingress policy")
	}
	if fmt.Sprint(dig(t, wh, "spec", "podSelector", "matchLabels")) != fmt.Sprint(webhookPods) ||
		!strings.Contains(js(wh), `"cidr":"`+vpcCIDR+`"`) || !strings.Contains(js(wh), fmt.Sprintf(`"port":%d`, WebhookPort)) {
		t.Errorf("webhook ingress %s", js(wh))
	}
}

// TestStoreObjects: what SyncInto declares in the app's namespace, field by field (the CRD
// schema check is in schema_test.go).
func TestStoreObjects(t *testing.T) {
	d := deploy(t, false)
	store := d.m.Only(t, storeType).Inputs
	if dig(t, store, "metadata", "namespace") != appNamespace || dig(t, store, "kind") != "SecretStore" {
		t.Errorf("store %v", store)
	}
	aws := dig(t, store, "spec", "provider", "aws").(map[string]any)
	if aws["service"] != "SecretsManager" || aws["region"] != pulumitest.Region || aws["auth"] != nil || aws["role"] != nil {
		t.Errorf("store provider %v: want Secrets Manager in the region, the controller's own credentials", aws)
	}
	es := d.m.Only(t, esType).Inputs
	spec := es["spec"].(map[string]any)
	if spec["refreshInterval"] != "5m" || fmt.Sprint(spec["secretStoreRef"]) != "map[kind:SecretStore name:"+DefaultStoreName+"]" {
		t.Errorf("ExternalSecret spec %v", spec)
	}
	if fmt.Sprint(spec["target"]) != "map[creationPolicy:Owner deletionPolicy:Retain name:"+DefaultTargetName+"]" {
		t.Errorf("target %v", spec["target"])
	}
	keys := map[string]bool{}
	for _, item := range spec["data"].([]any) {
		it := item.(map[string]any)
		ref := it["remoteRef"].(map[string]any)
		if ref["key"] != prefix+"/app" || ref["property"] != it["secretKey"] {
			t.Errorf("data %v: want property %v of %s/app", it, it["secretKey"], prefix)
		}
		keys[it["secretKey"].(string)] = true
	}
	if len(keys) != 2 || !keys["SECRET_KEY"] || !keys["DB_PASSWORD"] {
		t.Errorf("keys %v, want SECRET_KEY and DB_PASSWORD", keys)
	}
	for _, obj := range []map[string]any{store, es} {
		if dig(t, obj, "metadata", "annotations", "pulumi.com/waitFor") != "condition=Ready" {
			t.Errorf("%v: pulumi up must wait for Ready", dig(t, obj, "metadata", "annotations"))
		}
	}
}

// TestStoreAlone: the cluster-side part without AWS or operators, as the integration tier
// uses it: SkipAwait instead of waiting, and defaults filled in.
func TestStoreAlone(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	var syncedName pulumi.StringInput
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		ns, err := corev1.NewNamespace(ctx, "ns", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("apps")}})
		if err != nil {
			return err
		}
		syncedName, err = Store{Region: "eu-central-1", RemoteKey: pulumi.String("x/app"), SkipAwait: true}.SyncInto(ctx, "app", ns)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	es := m.Only(t, esType).Inputs
	if dig(t, es, "metadata", "annotations", "pulumi.com/skipAwait") != "true" || dig(t, es, "metadata", "annotations", "pulumi.com/waitFor") != nil {
		t.Errorf("annotations %v, want skipAwait only", dig(t, es, "metadata", "annotations"))
	}
	if dig(t, es, "spec", "refreshInterval") != DefaultRefreshInterval || syncedName == nil {
		t.Errorf("refresh %v, synced name %v", dig(t, es, "spec", "refreshInterval"), syncedName)
	}
}

func TestRefusals(t *testing.T) {
	for name, s := range map[string]Store{
		"no region":     {RemoteKey: pulumi.String("k")},
		"no key":        {Region: "eu-west-1"},
		"bad interval":  {Region: "eu-west-1", RemoteKey: pulumi.String("k"), RefreshInterval: "hourly"},
		"zero interval": {Region: "eu-west-1", RemoteKey: pulumi.String("k"), RefreshInterval: "0s"},
	} {
		if _, err := s.withDefaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		_, err = New(ctx, "es", &Args{Provider: p, ClusterName: pulumi.String("c"), Region: "eu-west-1", NamePrefix: "p"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "CIDRs") || len(m.ByType("aws:kms/key:Key")) != 0 {
		t.Errorf("error %v; want a refusal before anything is declared", err)
	}
}

// TestSecondSyncRefused: the operators watch one namespace; a second consumer is an error,
// not a silent second install.
func TestSecondSyncRefused(t *testing.T) {
	m := pulumitest.New("flask-eks", "test")
	err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		e, err := New(ctx, "es", &Args{Provider: p, ClusterName: pulumi.String("c"), Region: "eu-west-1", NamePrefix: "p", APIServer: netpol.APIServer{ServiceAddress: serviceAddress, CIDRs: []string{vpcCIDR}}, Principals: testPrincipals})
		if err != nil {
			return err
		}
		for _, n := range []string{"a", "b"} {
			ns, err := corev1.NewNamespace(ctx, n, &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(n)}}, pulumi.Provider(p))
			if err != nil {
				return err
			}
			if _, err := e.SyncInto(ctx, n, ns, pulumi.Provider(p)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "already syncing") {
		t.Errorf("error %v, want the second SyncInto refused", err)
	}
	if n := len(m.ByType(chartType)); n != 2 {
		t.Errorf("%d charts, want ESO and Reloader once", n)
	}
}
