package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/pulumitest"
)

var update = flag.Bool("update", false, "rewrite testdata/<stack>.graph.json from the current program")

// stacks are the committed stack files; each has a graph snapshot.
var stacks = []string{"dev", "prod", "local"}

// TestGraphSnapshots runs the whole program under mocks for every committed stack file and
// compares the registered resource graph with testdata/<stack>.graph.json. A reviewer reads
// the snapshot diff in a pull request to see what `pulumi up` would change, without cloud
// credentials. Run `go test -run TestGraphSnapshots -update .` to accept a change.
func TestGraphSnapshots(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, err := runProgram(t, stack, stackConfig(t, stack))
			if err != nil {
				t.Fatalf("program failed for stack %s: %v", stack, err)
			}
			got, err := json.MarshalIndent(rec.Graph(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", stack+".graph.json"), string(got)+"\n", "TestGraphSnapshots")
		})
	}
}

// TestChartCIValues keeps app/chart/ci/<stack>-values.yaml equal to the values the program
// passes the app chart for each stack; the app package renders every one of them strictly.
func TestChartCIValues(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, err := runProgram(t, stack, stackConfig(t, stack))
			if err != nil {
				t.Fatal(err)
			}
			want, err := chartCIValues(stack, rec.One(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("app", "chart", "ci", stack+"-values.yaml"), want, "TestChartCIValues")
		})
	}
}

// TestGraphIsDeterministic guards the snapshots themselves: three runs of each stack must dump
// the same bytes. (A dependency on one of the program's components stands for the children it
// has registered so far, which varies between runs: depend on its resources instead.)
func TestGraphIsDeterministic(t *testing.T) {
	for _, stack := range stacks {
		cfg := stackConfig(t, stack)
		var first []byte
		for i := 0; i < 3; i++ {
			rec, err := runProgram(t, stack, cfg)
			if err != nil {
				t.Fatal(err)
			}
			dump, _ := json.Marshal(rec.Graph())
			if i == 0 {
				first = dump
			} else if !bytes.Equal(first, dump) {
				t.Fatalf("%s: two runs gave different graphs:\n%s", stack, firstDiff(string(first), string(dump)))
			}
		}
	}
}

// TestSnapshotsHideSecrets checks that no generated or configured secret reaches a snapshot.
func TestSnapshotsHideSecrets(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["flask-eks:secretKey"] = "configured-secret-key-0123456789"
	rec, err := runProgram(t, "dev", cfg)
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(rec.Graph())
	for _, leak := range []string{"configured-secret-key", "mockpw", "mock-ecr-login-token"} {
		if bytes.Contains(dump, []byte(leak)) {
			t.Errorf("graph contains secret material %q", leak)
		}
	}
	if !bytes.Contains(dump, []byte(`"[secret]"`)) {
		t.Error("graph has no [secret] placeholder; secrets are not being marked")
	}
}

// golden compares a file the repository keeps in step with the program (a snapshot, generated
// values or docs) with what the program produces now, or rewrites it with -update. test names
// the test that regenerates it.
func golden(t *testing.T, path, want, test string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test -run %s -update .` to create it)", err, test)
	}
	if string(got) != want {
		t.Errorf("%s is out of date; review the change and run `go test -run %s -update .`\n%s", path, test, firstDiff(string(got), want))
	}
}

// firstDiff shows the first differing line of two texts with some context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  file:    %s\n  program: %s", i+1, x, y)
		}
	}
	return "(no line differs)"
}

// TestSecretsNeverGenerated: with External Secrets (prod), the program generates no secret of
// its own and writes no Kubernetes Secret for the app: Secrets Manager holds the values.
func TestSecretsNeverGenerated(t *testing.T) {
	rec, err := runProgram(t, "prod", stackConfig(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rec.Graph() {
		if n.Type == "random:index/randomPassword:RandomPassword" && strings.HasPrefix(n.Name, "app-") {
			t.Errorf("prod generates %s although Secrets Manager holds the app's secrets", n.Name)
		}
		if n.Type == "kubernetes:core/v1:Secret" && n.Parent == rec.URN("", "flask-eks:app:App", "app") {
			t.Errorf("the app component writes Secret %s although External Secrets makes it", n.Name)
		}
	}
	values := rec.One(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any)
	if s := values["secrets"].(map[string]any); s["existingSecret"] != "flask-app-secrets" || s["reloadOnChange"] != true {
		t.Errorf("app secrets values %v, want the synced flask-app-secrets, reloaded on change", s)
	}
}

func TestDependencies(t *testing.T) {
	rec, err := runProgram(t, "prod", stackConfig(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	g := rec.Graph()
	cluster := rec.One(t, "eks:index:Cluster", "cluster")
	release := rec.One(t, "kubernetes:helm.sh/v3:Release", "app")
	monRelease := rec.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	podMonitor := rec.One(t, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "monitoring-app-podmonitor")
	image := rec.One(t, "docker:index/image:Image", "image")
	ingressClass := rec.One(t, "kubernetes:networking.k8s.io/v1:IngressClass", "cluster-alb")
	storageClass := rec.One(t, "kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3")
	netpolSwitch := rec.One(t, "kubernetes:core/v1:ConfigMap", "cluster-network-policy")
	validation := rec.One(t, "aws:acm/certificateValidation:CertificateValidation", "certificate")
	params := rec.One(t, "kubernetes:eks.amazonaws.com/v1:IngressClassParams", "cluster-alb-params")
	externalDNS := rec.One(t, "kubernetes:helm.sh/v4:Chart", "external-dns")
	externalSecret := rec.One(t, "kubernetes:external-secrets.io/v1:ExternalSecret", "app-external-secret")
	eso := rec.One(t, "kubernetes:helm.sh/v4:Chart", "external-secrets")
	kedaChart := rec.One(t, "kubernetes:helm.sh/v4:Chart", "keda")
	scaledObject := rec.One(t, "kubernetes:keda.sh/v1alpha1:ScaledObject", "app-scaler")
	loki := rec.One(t, "kubernetes:helm.sh/v4:Chart", "monitoring-logs-loki")

	cases := []struct {
		name     string
		from, to pulumitest.Node
		want     bool
	}{
		{"app release waits for the IngressClass", release, ingressClass, true},
		{"app release waits for the StorageClass", release, storageClass, true},
		{"app release waits for NetworkPolicy enforcement", release, netpolSwitch, true},
		{"app release waits for the image", release, image, true},
		{"app release does not wait for monitoring", release, monRelease, false},
		{"the app's PodMonitor waits for monitoring's CRDs", podMonitor, monRelease, true},
		{"the app's PodMonitor waits for the app's namespace", podMonitor, rec.One(t, "kubernetes:core/v1:Namespace", "app"), true},
		{"monitoring release waits for the StorageClass", monRelease, storageClass, true},
		{"the ALB's certificate is validated before a listener uses it", params, validation, true},
		{"ExternalDNS waits for its Pod Identity association", externalDNS, rec.One(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "external-dns"), true},
		{"the app's ExternalSecret waits for the operator and its CRDs", externalSecret, eso, true},
		{"the operator waits for its Pod Identity association", eso, rec.One(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "external-secrets-controller"), true},
		// Only the app's pods need its Secret: the release installs beside the operator.
		{"app release does not wait for its ExternalSecret", release, externalSecret, false},
		{"app release does not wait for the operator", release, eso, false},
		{"the ScaledObject waits for KEDA", scaledObject, kedaChart, true},
		{"the ScaledObject waits for the app release", scaledObject, release, true},
		{"app release does not wait for KEDA", release, kedaChart, false},
		{"Grafana's Loki data source is configuration: monitoring installs beside Loki", monRelease, loki, false},
		{"Alloy waits for Loki", rec.One(t, "kubernetes:helm.sh/v4:Chart", "monitoring-logs-alloy"), loki, true},
		{"Loki waits for its Pod Identity association", loki, rec.One(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "monitoring-logs-loki"), true},
		{"app release does not wait for Loki", release, loki, false},
		{"image build does not wait for the cluster", image, cluster, false},
		// Teardown runs dependencies in reverse: the releases (whose Ingresses own the ALBs) go
		// before the cluster, and the cluster before its subnets.
		{"teardown: app release before cluster", release, cluster, true},
		{"teardown: monitoring release before cluster", monRelease, cluster, true},
		{"teardown: ExternalDNS before cluster", externalDNS, cluster, true},
		{"teardown: the ScaledObject before KEDA", scaledObject, kedaChart, true},
		{"teardown: the ExternalSecret before the operator", externalSecret, eso, true},
	}
	for _, c := range cases {
		if got := pulumitest.DependsOn(g, c.from.URN, c.to.URN); got != c.want {
			t.Errorf("%s: dependsOn(%s, %s) = %v, want %v", c.name, c.from.Name, c.to.Name, got, c.want)
		}
	}
}

// TestNetworkDependencies: in a stack that makes its own network (dev), the cluster waits for
// its private subnets but not for their egress: the control plane needs none. Nodes do, and
// Auto Mode launches them only for pending pods, so the Kubernetes provider, and with it every
// in-cluster object, waits for the NAT routes. Teardown runs the graph backwards: workloads go
// before the NAT gateways, the cluster before its subnets. The image waits for nothing of the
// network.
func TestNetworkDependencies(t *testing.T) {
	rec, err := runProgram(t, "dev", stackConfig(t, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	g := rec.Graph()
	cluster := rec.One(t, "eks:index:Cluster", "cluster")
	image := rec.One(t, "docker:index/image:Image", "image")
	k8sProvider := rec.One(t, "pulumi:providers:kubernetes", "cluster")
	natRoute := rec.One(t, "aws:ec2/route:Route", "network-private-eu-west-1c-default")
	natGateway := rec.One(t, "aws:ec2/natGateway:NatGateway", "network-eu-west-1a")
	privateSubnet := rec.One(t, "aws:ec2/subnet:Subnet", "network-private-eu-west-1a")
	release := rec.One(t, "kubernetes:helm.sh/v3:Release", "app")
	monRelease := rec.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	externalDNS := rec.One(t, "kubernetes:helm.sh/v4:Chart", "external-dns")
	for _, c := range []struct {
		name     string
		from, to pulumitest.Node
		want     bool
	}{
		{"the cluster does not wait for the private NAT routes", cluster, natRoute, false},
		{"the cluster does not wait for the NAT gateway", cluster, natGateway, false},
		{"cluster waits for private subnets", cluster, privateSubnet, true},
		{"the Kubernetes provider waits for the private NAT routes", k8sProvider, natRoute, true},
		{"the Kubernetes provider waits for the cluster", k8sProvider, cluster, true},
		{"app release waits for the private NAT routes", release, natRoute, true},
		{"teardown: app release before the NAT gateway", release, natGateway, true},
		{"teardown: monitoring release before the NAT gateway", monRelease, natGateway, true},
		{"teardown: ExternalDNS before the NAT gateway", externalDNS, natGateway, true},
		{"teardown: cluster before its subnets", cluster, privateSubnet, true},
		{"image build does not wait for the VPC", image, rec.One(t, "aws:ec2/vpc:Vpc", "network"), false},
	} {
		if got := pulumitest.DependsOn(g, c.from.URN, c.to.URN); got != c.want {
			t.Errorf("%s: dependsOn(%s, %s) = %v, want %v", c.name, c.from.Name, c.to.Name, got, c.want)
		}
	}
}

// TestChildrenAreParented checks that every resource belongs to a component, except the
// explicit providers and the generated app secrets, which belong to the stack.
func TestChildrenAreParented(t *testing.T) {
	for _, stack := range stacks {
		rec, err := runProgram(t, stack, stackConfig(t, stack))
		if err != nil {
			t.Fatal(err)
		}
		topLevel := map[string]bool{}
		for _, n := range rec.Graph() {
			if strings.HasSuffix(n.Parent, "::pulumi:pulumi:Stack::flask-eks-"+stack) {
				topLevel[n.Type+"::"+n.Name] = true
			}
		}
		want := map[string]bool{
			"flask-eks:app:App::app":                      true,
			"flask-eks:monitoring:Monitoring::monitoring": true,
		}
		if stack == "prod" {
			// The app's secrets come from Secrets Manager; KEDA scales it.
			maps.Copy(want, map[string]bool{
				"flask-eks:externalsecrets:ExternalSecrets::external-secrets": true,
				"flask-eks:keda:KEDA::keda":                                   true,
				"flask-eks:keda:ScaledObject::app-scaler":                     true,
			})
		} else {
			want["random:index/randomPassword:RandomPassword::app-secret-key"] = true
			want["random:index/randomPassword:RandomPassword::app-db-password"] = true
		}
		if stack == "local" {
			want["pulumi:providers:kubernetes::existing-cluster"] = true
		} else {
			if stack != "prod" { // prod brings its network (vpcId)
				want["flask-eks:vpc:Network::network"] = true
			}
			maps.Copy(want, map[string]bool{
				"pulumi:providers:aws::aws":                             true,
				"flask-eks:eks:Cluster::cluster":                        true,
				"flask-eks:app:Image::image":                            true,
				"flask-eks:dns:Certificate::certificate":                true,
				"flask-eks:dns:ExternalDNS::external-dns":               true,
				"flask-eks:metricsserver:MetricsServer::metrics-server": true,
			})
		}
		if !maps.Equal(topLevel, want) {
			t.Errorf("%s: top-level resources = %v, want %v", stack, slices.Sorted(maps.Keys(topLevel)), slices.Sorted(maps.Keys(want)))
		}
	}
}

// TestAWSResourcesUseTaggedProvider checks that every AWS resource and the pulumi-eks
// component use the explicit provider that carries the region and default tags.
func TestAWSResourcesUseTaggedProvider(t *testing.T) {
	rec, err := runProgram(t, "prod", stackConfig(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	p := rec.One(t, "pulumi:providers:aws", "aws")
	tags := p.Inputs["defaultTags"].(map[string]any)["tags"].(map[string]any)
	for k, v := range map[string]string{"Project": "flask-eks", "Environment": "prod", "Stack": "prod", "ManagedBy": "pulumi", "CostCenter": "platform-prod"} {
		if tags[k] != v {
			t.Errorf("default tag %s = %v, want %s", k, tags[k], v)
		}
	}
	if p.Inputs["region"] != "eu-west-1" {
		t.Errorf("provider region = %v", p.Inputs["region"])
	}
	n := 0
	for _, r := range rec.Graph() {
		if strings.HasPrefix(r.Type, "aws:") {
			n++
			if r.Provider != p.URN {
				t.Errorf("%s %s uses provider %q, want the tagged provider", r.Type, r.Name, r.Provider)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d AWS resources checked", n)
	}
	// pulumi-eks creates its AWS resources inside its remote component, with the provider
	// the component is handed.
	if got := rec.One(t, "eks:index:Cluster", "cluster").Providers["aws"]; got != p.URN {
		t.Errorf("pulumi-eks Cluster gets AWS provider %q, want the tagged provider", got)
	}
}

// TestKubernetesResourcesUseExplicitProvider checks that no Kubernetes object falls back to
// the ambient kubeconfig.
func TestKubernetesResourcesUseExplicitProvider(t *testing.T) {
	for _, stack := range stacks {
		rec, err := runProgram(t, stack, stackConfig(t, stack))
		if err != nil {
			t.Fatal(err)
		}
		// One provider for everything, and one more of the same cluster (the same kubeconfig)
		// with client-side apply for the StorageClass alone (eks.ClassesArgs.StorageProvider).
		// (In existing mode the program creates no classes, and one provider.)
		providers := rec.ByType("pulumi:providers:kubernetes")
		main, storage := providers[0], providers[0]
		switch {
		case len(providers) == 2:
			main, storage = providers[0], providers[1]
			if storage.Name != "cluster-storage" {
				main, storage = storage, main
			}
			if !main.Raw["kubeconfig"].DeepEquals(storage.Raw["kubeconfig"]) {
				t.Errorf("%s: the StorageClass's provider talks to another cluster", stack)
			}
		case len(providers) != 1 || len(rec.ByType("kubernetes:storage.k8s.io/v1:StorageClass")) != 0:
			t.Fatalf("%s: %d Kubernetes providers, want 2 (or 1 without a StorageClass)", stack, len(providers))
		}
		n := 0
		for _, r := range rec.Graph() {
			if strings.HasPrefix(r.Type, "kubernetes:") {
				n++
				want := main.URN
				if r.Type == "kubernetes:storage.k8s.io/v1:StorageClass" {
					want = storage.URN
				}
				if got := providerOf(r); got != want {
					t.Errorf("%s: %s %s uses provider %q, want %q", stack, r.Type, r.Name, got, want)
				}
			}
		}
		if n < 5 {
			t.Errorf("%s: only %d Kubernetes objects", stack, n)
		}
	}
}

// providerOf is the Kubernetes provider a node uses: its own, or, for a remote component such
// as a Helm Chart v4, the one it hands its children.
func providerOf(n pulumitest.Node) string {
	if n.Provider != "" {
		return n.Provider
	}
	return n.Providers["kubernetes"]
}

// TestLocalStack: the local stack deploys the same components into an existing cluster,
// with no AWS, EKS, ECR or Docker resource, the image from config and no Ingress.
func TestLocalStack(t *testing.T) {
	rec, err := runProgram(t, "local", stackConfig(t, "local"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rec.Graph() {
		for _, prefix := range []string{"aws:", "eks:", "docker:", "pulumi:providers:aws", "flask-eks:vpc:", "flask-eks:eks:", "flask-eks:dns:"} {
			if strings.HasPrefix(n.Type, prefix) {
				t.Errorf("local stack declares %s %s", n.Type, n.Name)
			}
		}
	}
	if ctx := rec.One(t, "pulumi:providers:kubernetes", "existing-cluster").Inputs["context"]; ctx != "kind-flask" {
		t.Errorf("provider context = %v, want kind-flask from kubeContext", ctx)
	}
	values := rec.One(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any)
	image := values["image"].(map[string]any)
	if image["repository"] != "flask-app" || image["tag"] != "dev" || image["digest"] != "" {
		t.Errorf("image values = %v, want flask-app:dev from the image key", image)
	}
	if values["ingress"].(map[string]any)["enabled"] != false || values["service"].(map[string]any)["type"] != "ClusterIP" {
		t.Errorf("ingress/service = %v %v", values["ingress"], values["service"])
	}
	if values["config"].(map[string]any)["REVEAL_SECRETS"] != true {
		t.Error("the local stack sets revealSecrets for debugging")
	}
	if len(rec.ByType("kubernetes:networking.k8s.io/v1:Ingress")) != 0 {
		t.Error("an Ingress is read back although the local stack has none")
	}
	mon := rec.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack")
	if ne := mon.Inputs["values"].(map[string]any)["nodeExporter"].(map[string]any); ne["enabled"] != false {
		t.Errorf("node exporter should be off in the local stack: %v", ne)
	}
}

// TestDomainAndTLS: with a domain, the certificate covers every host name and is validated in
// the configured zone, the ALB classes serve it, the Ingresses carry the hosts, and ExternalDNS
// may change only that zone. Without a domain, nothing of it exists.
func TestDomainAndTLS(t *testing.T) {
	rec, err := runProgram(t, "prod", stackConfig(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	cert := rec.One(t, "aws:acm/certificate:Certificate", "certificate")
	var sans []string
	for _, s := range cert.Inputs["subjectAlternativeNames"].([]any) {
		sans = append(sans, s.(string))
	}
	if cert.Inputs["domainName"] != "app.example.com" || !slices.Equal(sans, []string{"app.example.com", "grafana.example.com"}) ||
		cert.Inputs["validationMethod"] != "DNS" {
		t.Errorf("certificate %v, want DNS validation for app.example.com and grafana.example.com", cert.Inputs)
	}
	zoneID := pulumitest.ZoneID("example.com")
	records := rec.ByType("aws:route53/record:Record")
	if len(records) != 2 {
		t.Fatalf("%d validation records, want one per host name", len(records))
	}
	validation := rec.One(t, "aws:acm/certificateValidation:CertificateValidation", "certificate")
	for _, r := range records {
		if r.Inputs["zoneId"] != zoneID || r.Inputs["type"] != "CNAME" || !strings.HasPrefix(r.Inputs["name"].(string), "_") {
			t.Errorf("validation record %s = %v, want a CNAME in zone %s", r.Name, r.Inputs, zoneID)
		}
		if !slices.Contains(validation.Dependencies, r.URN) {
			t.Errorf("the validation does not wait for record %s", r.Name)
		}
	}
	// The IngressClasses serve the validated certificate; the Ingresses carry the hosts.
	for _, class := range []string{"cluster-alb-params", "cluster-alb-internal-params"} {
		spec := rec.One(t, "kubernetes:eks.amazonaws.com/v1:IngressClassParams", class).Inputs["spec"].(map[string]any)
		if arns, _ := spec["certificateARNs"].([]any); len(arns) != 1 || arns[0] != cert.ID || spec["sslPolicy"] != eks.TLSPolicy {
			t.Errorf("%s: certificateARNs %v sslPolicy %v, want the validated certificate %s", class, spec["certificateARNs"], spec["sslPolicy"], cert.ID)
		}
	}
	appValues := rec.One(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any)["ingress"].(map[string]any)
	if appValues["host"] != "app.example.com" || appValues["https"] != true || appValues["className"] != "alb" {
		t.Errorf("app ingress values %v, want HTTPS on app.example.com through class alb", appValues)
	}
	grafana := rec.One(t, "kubernetes:helm.sh/v3:Release", "monitoring-kube-prometheus-stack").Inputs["values"].(map[string]any)["grafana"].(map[string]any)
	ing := grafana["ingress"].(map[string]any)
	if hosts := ing["hosts"].([]any); len(hosts) != 1 || hosts[0] != "grafana.example.com" || ing["ingressClassName"] != "alb-internal" ||
		ing["annotations"].(map[string]any)["alb.ingress.kubernetes.io/ssl-redirect"] != "443" {
		t.Errorf("grafana ingress %v, want HTTPS on grafana.example.com through the internal class", ing)
	}
	if root := grafana["grafana.ini"].(map[string]any)["server"].(map[string]any)["root_url"]; root != "https://grafana.example.com/" {
		t.Errorf("grafana root_url %v, want its own host", root)
	}

	// ExternalDNS: records in this zone only, owned by this stack.
	var policy struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	inline := rec.One(t, "aws:iam/rolePolicy:RolePolicy", "external-dns")
	if err := json.Unmarshal([]byte(inline.Inputs["policy"].(string)), &policy); err != nil {
		t.Fatal(err)
	}
	for _, st := range policy.Statement {
		if slices.Contains(st.Action, "route53:ChangeResourceRecordSets") && !slices.Equal(st.Resource, []string{"arn:aws:route53:::hostedzone/" + zoneID}) {
			t.Errorf("ChangeResourceRecordSets on %v, want only zone %s", st.Resource, zoneID)
		}
	}
	values := rec.One(t, "kubernetes:helm.sh/v4:Chart", "external-dns").Inputs["values"].(map[string]any)
	if values["txtOwnerId"] != "flask-eks-prod" || fmt.Sprint(values["domainFilters"]) != "[example.com]" || values["policy"] != "sync" ||
		fmt.Sprint(values["extraArgs"].(map[string]any)["zone-id-filter"]) != "["+zoneID+"]" {
		t.Errorf("external-dns values %v, want owner flask-eks-prod, domain filter example.com and zone %s", values, zoneID)
	}

	// Without a domain: plain HTTP on the ALB's name, and no certificate or DNS at all.
	dev := stackConfig(t, "dev")
	for _, k := range []string{"flask-eks:domain", "flask-eks:grafanaDomain", "flask-eks:hostedZone"} {
		delete(dev, k)
	}
	bare, err := runProgram(t, "dev", dev)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range bare.Graph() {
		if strings.HasPrefix(n.Type, "aws:route53") || strings.HasPrefix(n.Type, "aws:acm") || strings.HasPrefix(n.Type, "flask-eks:dns:") {
			t.Errorf("without a domain the stack declares %s %s", n.Type, n.Name)
		}
	}
	if in := bare.One(t, "kubernetes:helm.sh/v3:Release", "app").Inputs["values"].(map[string]any)["ingress"].(map[string]any); in["https"] != false || in["host"] != "" {
		t.Errorf("app ingress without a domain: %v, want HTTP on any host", in)
	}
}
