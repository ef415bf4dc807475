//go:build unix

package main

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/addons/keda"
	"github.com/example/flask-eks/addons/metricsserver"
	"github.com/example/flask-eks/internal/chartrender"
	"github.com/example/flask-eks/internal/modules"
	"github.com/example/flask-eks/internal/pulumitest"
	"github.com/example/flask-eks/monitoring"
)

// TestNetpolExport writes, per stack, testdata/netpol/<stack>.json: everything the EKS network
// policy controller would see of the program's network policies once deployed.
//
//   - every NetworkPolicy the program declares (the mock graph's inputs), and every one the charts
//     render with the values the program passes them: the app chart's own, and KEDA's and
//     metrics-server's (rendered from the module proxy). The other charts render none with our
//     values (notRendered says why, citing the chart at its tag);
//   - the namespaces, labelled kubernetes.io/metadata.name as the API server labels them;
//   - a stand-in pod for every workload, with the labels and container ports its chart gives its
//     pods, and an address in the first private subnet; Services with their selectors and ports,
//     and the `kubernetes` Service at the first address of the service range;
//   - the addresses a flow of the contract names: the API server's Service address and its
//     network interfaces in the VPC, the cluster DNS address, a node, the ALBs' subnets.
//
// `go test -run TestNetpolExport -update .` rewrites the files after an intended change.
func TestNetpolExport(t *testing.T) {
	for _, stack := range contractStacks {
		t.Run(stack, func(t *testing.T) {
			rec, err := runProgram(t, stack, stackConfig(t, stack))
			if err != nil {
				t.Fatalf("program failed for stack %s: %v", stack, err)
			}
			exp := exportNetpol(t, stack, rec)
			b, err := json.MarshalIndent(exp, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "netpol", stack+".json"), string(b)+"\n", "TestNetpolExport")
		})
	}
}

// netpolExport is the file's format; internal/netpol/enforce reads it.
type netpolExport struct {
	Stack string `json:"stack"`
	// ServiceCIDR is the cluster's service range; VPCCIDR, PublicSubnets and PrivateSubnets are
	// the program's network.
	ServiceCIDR    string   `json:"serviceCidr"`
	VPCCIDR        string   `json:"vpcCidr"`
	PublicSubnets  []string `json:"publicSubnets"`
	PrivateSubnets []string `json:"privateSubnets"`
	// Addresses are the places a flow can name, by their contract name.
	Addresses map[string]string `json:"addresses"`

	Namespaces      []corev1.Namespace `json:"namespaces"`
	NetworkPolicies []exportedPolicy   `json:"networkPolicies"`
	Pods            []corev1.Pod       `json:"pods"`
	Services        []corev1.Service   `json:"services"`
	// NotRendered lists the charts whose pods are stand-ins from their templates, with why they
	// render no NetworkPolicy with the program's values.
	NotRendered []notRenderedChart `json:"notRendered"`
}

type exportedPolicy struct {
	// Origin is "program" or "chart <name> <version>".
	Origin string                     `json:"origin"`
	Policy networkingv1.NetworkPolicy `json:"policy"`
}

type notRenderedChart struct {
	Chart           string `json:"chart"`
	Version         string `json:"version"`
	Namespace       string `json:"namespace"`
	NetworkPolicies string `json:"networkPolicies"`
}

// sourceAnnotation says where a stand-in's labels and ports come from.
const sourceAnnotation = "contract.flask-eks/source"

func exportNetpol(t *testing.T, stack string, rec *pulumitest.Mocks) *netpolExport {
	t.Helper()
	exp := &netpolExport{Stack: stack}
	if vpcID := stackConfig(t, stack)["flask-eks:vpcId"]; vpcID != "" {
		// A brought network: as EC2 describes it (committedNetworks).
		for _, v := range committedNetworks {
			if v.ID != vpcID {
				continue
			}
			exp.VPCCIDR = v.CIDR
			for _, s := range v.Subnets {
				if s.Public {
					exp.PublicSubnets = append(exp.PublicSubnets, s.CIDR)
				} else {
					exp.PrivateSubnets = append(exp.PrivateSubnets, s.CIDR)
				}
			}
		}
		if exp.VPCCIDR == "" {
			t.Fatalf("no committed network %s", vpcID)
		}
	} else {
		exp.VPCCIDR = rec.Only(t, "aws:ec2/vpc:Vpc").Inputs["cidrBlock"].(string)
		for _, n := range rec.ByType("aws:ec2/subnet:Subnet") {
			cidr := n.Inputs["cidrBlock"].(string)
			switch tier, _ := lookup(n.Inputs, "tags.tier"); tier {
			case "public":
				exp.PublicSubnets = append(exp.PublicSubnets, cidr)
			case "private":
				exp.PrivateSubnets = append(exp.PrivateSubnets, cidr)
			default:
				t.Fatalf("subnet %s has tier %v", n.Name, tier)
			}
		}
	}
	sort.Strings(exp.PublicSubnets)
	sort.Strings(exp.PrivateSubnets)
	// The service range the program asks EKS for (serviceCidr).
	exp.ServiceCIDR, _ = rec.Only(t, "eks:index:Cluster").Inputs["kubernetesServiceIpAddressRange"].(string)
	if exp.ServiceCIDR == "" {
		t.Fatal("the cluster sets no service range: EKS would pick one, and the policies could not name the API server's Service address")
	}

	services := addressesFrom(t, exp.ServiceCIDR, 1)
	nodes := addressesFrom(t, exp.PrivateSubnets[0], 10)
	pods := addressesFrom(t, exp.PrivateSubnets[0], 100)
	exp.Addresses = map[string]string{
		// The `kubernetes` Service is the range's first address, cluster DNS its tenth (the
		// kubelet's clusterDNS on EKS nodes).
		"api-server-service": services(0),
		"cluster-dns":        services(9),
		// EKS places the control plane's network interfaces in the cluster's subnets (the
		// private ones here); the API server sends from them to webhooks, and is reached at them.
		"api-server-endpoint": nodes(0),
		"control-plane":       nodes(1),
		"node":                nodes(2),
		// The app's ALB is internet-facing, in the public subnets; an internal ALB (Grafana's)
		// is in the private ones.
		"alb-public":   addressesFrom(t, exp.PublicSubnets[0], 10)(0),
		"alb-internal": nodes(3),
		// An address on the internet (RFC 5737 TEST-NET-3, standing for any public address).
		"internet": "203.0.113.20",
	}

	// Namespaces: those the program creates, and those it only uses.
	nsNames := map[string]bool{"default": true, "kube-system": true}
	for _, n := range rec.ByType("kubernetes:core/v1:Namespace") {
		var ns corev1.Namespace
		if _, ok := n.Inputs["metadata"]; !ok {
			continue // a read of an existing namespace (kube-system)
		}
		pulumitest.DecodeStrict(t, map[string]any{"metadata": n.Inputs["metadata"]}, &ns)
		nsNames[ns.Name] = true
		exp.Namespaces = append(exp.Namespaces, ns)
	}
	for _, name := range []string{"default", "kube-system"} {
		exp.Namespaces = append(exp.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	}
	for i := range exp.Namespaces {
		ns := &exp.Namespaces[i]
		ns.APIVersion, ns.Kind = "v1", "Namespace"
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		// The API server sets it on every namespace
		// (https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name).
		ns.Labels["kubernetes.io/metadata.name"] = ns.Name
	}
	sort.Slice(exp.Namespaces, func(i, j int) bool { return exp.Namespaces[i].Name < exp.Namespaces[j].Name })

	// The program's policies.
	for _, n := range rec.ByType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		var np networkingv1.NetworkPolicy
		pulumitest.DecodeStrict(t, map[string]any{"metadata": n.Inputs["metadata"], "spec": n.Inputs["spec"]}, &np)
		np.APIVersion, np.Kind = "networking.k8s.io/v1", "NetworkPolicy"
		exp.NetworkPolicies = append(exp.NetworkPolicies, exportedPolicy{Origin: "program", Policy: np})
	}

	// The charts: rendered where the chart is on the module proxy, stand-ins elsewhere.
	type release struct{ chart, version, name, namespace string }
	for _, typ := range []string{"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"} {
		for _, n := range rec.ByType(typ) {
			version, _ := n.Inputs["version"].(string)
			r := release{chart: n.Inputs["chart"].(string), version: version, name: n.Inputs["name"].(string), namespace: n.Inputs["namespace"].(string)}
			dir := renderableChart(t, r.chart, r.version)
			if dir == "" {
				si, ok := standIns[r.chart]
				if !ok {
					t.Fatalf("chart %s %s is neither rendered nor described in standIns", r.chart, r.version)
				}
				if si.version != r.version {
					t.Fatalf("standIns describe %s %s, the program installs %s: re-read the chart at its new tag", r.chart, si.version, r.version)
				}
				exp.NotRendered = append(exp.NotRendered, notRenderedChart{Chart: r.chart, Version: r.version, Namespace: r.namespace, NetworkPolicies: si.networkPolicies})
				exp.Pods = append(exp.Pods, si.podsFor(stack, r.namespace)...)
				exp.Services = append(exp.Services, si.servicesIn(r.namespace)...)
				continue
			}
			values, _ := n.Inputs["values"].(map[string]any)
			manifests, err := chartrender.Render(dir, values, r.name, r.namespace, "v1.35.0")
			if err != nil {
				t.Fatalf("rendering %s: %v", r.chart, err)
			}
			origin := strings.TrimSpace("chart " + r.chart + " " + r.version)
			for _, m := range manifests {
				collectRendered(t, exp, origin, r.namespace, m)
			}
		}
	}
	for _, p := range exp.NetworkPolicies {
		if !nsNames[p.Policy.Namespace] {
			t.Fatalf("policy %s/%s is in a namespace the export does not know", p.Policy.Namespace, p.Policy.Name)
		}
	}

	// The kubernetes Service: no selector (its endpoints are the control plane's interfaces).
	exp.Services = append(exp.Services, corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(443),
		}}},
	})

	sort.SliceStable(exp.NetworkPolicies, func(i, j int) bool {
		a, b := exp.NetworkPolicies[i].Policy, exp.NetworkPolicies[j].Policy
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	sort.SliceStable(exp.Pods, func(i, j int) bool {
		return exp.Pods[i].Namespace+"/"+exp.Pods[i].Name < exp.Pods[j].Namespace+"/"+exp.Pods[j].Name
	})
	sort.SliceStable(exp.Services, func(i, j int) bool {
		return exp.Services[i].Namespace+"/"+exp.Services[i].Name < exp.Services[j].Namespace+"/"+exp.Services[j].Name
	})
	for i := range exp.Pods {
		p := &exp.Pods[i]
		p.APIVersion, p.Kind = "v1", "Pod"
		p.Status.Phase = corev1.PodRunning
		p.Status.HostIP = exp.Addresses["node"]
		if p.Spec.HostNetwork {
			p.Status.PodIP = exp.Addresses["node"]
		} else {
			p.Status.PodIP = pods(i)
		}
	}
	for i := range exp.Services {
		s := &exp.Services[i]
		s.APIVersion, s.Kind = "v1", "Service"
		// The API server's defaults for a Service port: protocol TCP, targetPort the port
		// (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceSpec).
		for j := range s.Spec.Ports {
			sp := &s.Spec.Ports[j]
			if sp.Protocol == "" {
				sp.Protocol = corev1.ProtocolTCP
			}
			if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal == 0 {
				sp.TargetPort = intstr.FromInt32(sp.Port)
			}
		}
		switch {
		case s.Namespace == "default" && s.Name == "kubernetes":
			s.Spec.ClusterIP = exp.Addresses["api-server-service"]
		case s.Spec.ClusterIP == corev1.ClusterIPNone:
		default:
			s.Spec.ClusterIP = services(100 + i)
		}
	}
	return exp
}

// addressesFrom returns the addresses of prefix from its network address plus offset on.
func addressesFrom(t *testing.T, prefix string, offset int) func(int) string {
	t.Helper()
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		t.Fatal(err)
	}
	return func(i int) string {
		a := p.Masked().Addr()
		for range offset + i {
			a = a.Next()
		}
		if !p.Contains(a) {
			t.Fatalf("%s has no address %d", prefix, offset+i)
		}
		return a.String()
	}
}

// renderableChart is the directory of a chart that the tests render from the module proxy, ""
// for one they do not.
func renderableChart(t *testing.T, chart, version string) string {
	t.Helper()
	switch {
	case chart == chartPath:
		return chartPath
	case chart == keda.ChartPin.Name && version == keda.ChartPin.Version:
		return modules.ChartDir(t, modules.KEDAChartsModule, keda.ChartPin.Name, keda.ChartPin.Name, keda.ChartPin.Version)
	case chart == metricsserver.Chart.Name && version == metricsserver.Chart.Version:
		return modules.ChartDir(t, modules.MetricsServerModule, "charts/"+metricsserver.Chart.Name, metricsserver.Chart.Name, metricsserver.Chart.Version)
	}
	return ""
}

// collectRendered adds a rendered chart's NetworkPolicies, Services, and a stand-in pod per
// workload (its pod template's labels and ports) to exp.
func collectRendered(t *testing.T, exp *netpolExport, origin, namespace string, m chartrender.Manifest) {
	t.Helper()
	decode := func(out any) {
		if err := yaml.Unmarshal([]byte(m.YAML), out); err != nil {
			t.Fatalf("%s: %v", m.Template, err)
		}
	}
	var template *corev1.PodTemplateSpec
	switch m.Kind {
	case "NetworkPolicy":
		var np networkingv1.NetworkPolicy
		decode(&np)
		if np.Namespace == "" {
			np.Namespace = namespace
		}
		exp.NetworkPolicies = append(exp.NetworkPolicies, exportedPolicy{Origin: origin, Policy: np})
	case "Service":
		var s corev1.Service
		decode(&s)
		if s.Namespace == "" {
			s.Namespace = namespace
		}
		s.Labels, s.Annotations = nil, nil
		s.Annotations = map[string]string{sourceAnnotation: origin + " " + m.Template}
		exp.Services = append(exp.Services, s)
	case "Deployment":
		var d appsv1.Deployment
		decode(&d)
		template = &d.Spec.Template
	case "StatefulSet":
		var s appsv1.StatefulSet
		decode(&s)
		template = &s.Spec.Template
	case "DaemonSet":
		var d appsv1.DaemonSet
		decode(&d)
		template = &d.Spec.Template
	}
	if template == nil {
		return
	}
	exp.Pods = append(exp.Pods, standInPod(m.Name, namespace, template.Labels, template.Spec.HostNetwork,
		origin+" "+m.Template, containerPorts(template.Spec.Containers)...))
}

func containerPorts(cs []corev1.Container) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, c := range cs {
		out = append(out, c.Ports...)
	}
	return out
}

// standInPod is a pod as the resolver reads it: labels, container ports, host network.
func standInPod(name, namespace string, labels map[string]string, hostNetwork bool, source string, ports ...corev1.ContainerPort) corev1.Pod {
	for i := range ports {
		if ports[i].Protocol == "" {
			ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels, Annotations: map[string]string{sourceAnnotation: source}},
		Spec:       corev1.PodSpec{HostNetwork: hostNetwork, Containers: []corev1.Container{{Name: "main", Ports: ports}}},
	}
}

func port(name string, n int32) corev1.ContainerPort {
	return corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: corev1.ProtocolTCP}
}

// chartStandIns describe the pods and Services of a chart that the tests cannot render (it is not
// on the module proxy), read from its templates at the pinned tag.
type chartStandIns struct {
	version string
	// networkPolicies says why the chart renders none with the program's values.
	networkPolicies string
	pods            []chartPod
	services        []chartService
}

type chartPod struct {
	name   string
	labels map[string]string
	ports  []corev1.ContainerPort
	host   bool
	source string
	// stacks limits the pod to some stacks (node-exporter is a toggle); nil is every stack.
	stacks []string
	// namespace is where the chart puts the pod when not in the release's namespace (a
	// subchart's namespaceOverride); "" is the release's.
	namespace string
}

type chartService struct {
	name     string
	selector map[string]string
	ports    []corev1.ServicePort
	source   string
}

func (c chartStandIns) podsFor(stack, namespace string) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range c.pods {
		if p.stacks != nil && !slices.Contains(p.stacks, stack) {
			continue
		}
		ns := namespace
		if p.namespace != "" {
			ns = p.namespace
		}
		out = append(out, standInPod(p.name, ns, p.labels, p.host, p.source, slices.Clone(p.ports)...))
	}
	return out
}

func (c chartStandIns) servicesIn(namespace string) []corev1.Service {
	var out []corev1.Service
	for _, s := range c.services {
		out = append(out, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: namespace, Annotations: map[string]string{sourceAnnotation: s.source}},
			Spec:       corev1.ServiceSpec{Selector: s.selector, Ports: s.ports},
		})
	}
	return out
}

func servicePort(n int32, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Port: n, Protocol: corev1.ProtocolTCP, TargetPort: target}
}

// Where the stand-ins come from: the charts' templates at the pinned tags.
const (
	kpsTag     = "https://github.com/prometheus-community/helm-charts/blob/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack/"
	promOp     = "https://github.com/prometheus-operator/prometheus-operator/blob/v0.93.1/"
	grafTag    = "https://github.com/grafana-community/helm-charts/blob/grafana-12.11.1/charts/grafana/"
	ksmTag     = "https://github.com/prometheus-community/helm-charts/blob/kube-state-metrics-8.4.0/charts/kube-state-metrics/"
	nodeExpTag = "https://github.com/prometheus-community/helm-charts/blob/prometheus-node-exporter-4.56.1/charts/prometheus-node-exporter/"
	lokiTag    = "https://github.com/grafana-community/helm-charts/blob/loki-18.11.0/charts/loki/"
	alloyTag   = "https://github.com/grafana/alloy/blob/helm-chart/1.11.1/operations/helm/charts/alloy/"
	esoTag     = "https://github.com/external-secrets/external-secrets/blob/helm-chart-2.9.0/deploy/charts/external-secrets/"
	reloTag    = "https://github.com/stakater/Reloader/blob/chart-v2.2.16/deployments/kubernetes/chart/reloader/"
	ednsTag    = "https://github.com/kubernetes-sigs/external-dns/blob/external-dns-helm-chart-1.21.1/charts/external-dns/"
)

// The kube-prometheus-stack release's common labels (templates/_helpers.tpl
// "kube-prometheus-stack.labels", selector-relevant part) for release kube-prometheus-stack.
var kpsLabels = map[string]string{"release": "kube-prometheus-stack", "app.kubernetes.io/instance": "kube-prometheus-stack", "app.kubernetes.io/part-of": "kube-prometheus-stack"}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// standIns are the charts the tests do not render, by chart name.
var standIns = map[string]chartStandIns{
	"kube-prometheus-stack": {
		version: "88.5.3",
		networkPolicies: "none: alertmanager.networkPolicy.enabled, prometheusOperator.networkPolicy.enabled (which also gates the admission Jobs' policies) and prometheus.networkPolicy.enabled default to false in " + kpsTag +
			"values.yaml, as do the subcharts' networkPolicy.enabled (grafana " + grafTag + "values.yaml, kube-state-metrics, prometheus-node-exporter); the program sets none of them",
		pods: []chartPod{
			{name: "prometheus-operator", labels: with(kpsLabels, "app", "kube-prometheus-stack-operator",
				"app.kubernetes.io/name", "kube-prometheus-stack-prometheus-operator", "app.kubernetes.io/component", "prometheus-operator"),
				ports: []corev1.ContainerPort{port("https", 10250)}, source: kpsTag + "templates/prometheus-operator/_prometheus-operator.tpl, deployment.yaml (tls.internalPort 10250)"},
			{name: "prometheus", labels: map[string]string{"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "kube-prometheus-stack-prometheus",
				"operator.prometheus.io/name": "kube-prometheus-stack-prometheus", "prometheus": "kube-prometheus-stack-prometheus"},
				ports: []corev1.ContainerPort{port("http-web", 9090)}, source: promOp + "pkg/prometheus/server/statefulset.go (the operator labels the pods it creates)"},
			{name: "alertmanager", labels: map[string]string{"app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": "kube-prometheus-stack-alertmanager",
				"alertmanager": "kube-prometheus-stack-alertmanager"},
				ports: []corev1.ContainerPort{port("http-web", 9093)}, source: promOp + "pkg/alertmanager/statefulset.go"},
			{name: "grafana", labels: map[string]string{"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "kube-prometheus-stack"},
				ports: []corev1.ContainerPort{port("grafana", 3000)}, source: grafTag + "templates/_helpers.tpl grafana.selectorLabels, _pod.tpl"},
			{name: "kube-state-metrics", labels: map[string]string{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-prometheus-stack"},
				ports: []corev1.ContainerPort{port("http", 8080)}, source: ksmTag + "templates/_helpers.tpl kube-state-metrics.selectorLabels"},
			{name: "node-exporter", labels: map[string]string{"app.kubernetes.io/name": "prometheus-node-exporter", "app.kubernetes.io/instance": "kube-prometheus-stack"},
				ports: []corev1.ContainerPort{port("http-metrics", 9100)}, host: true, namespace: monitoring.NodeExporterNamespace,
				source: nodeExpTag + "templates/daemonset.yaml (hostNetwork; namespaceOverride)"},
			{name: "admission-create", labels: with(kpsLabels, "app", "kube-prometheus-stack-admission-create"),
				source: kpsTag + "templates/prometheus-operator/admission-webhooks/job-patch/job-createSecret.yaml (a pre-install hook Job)"},
			{name: "admission-patch", labels: with(kpsLabels, "app", "kube-prometheus-stack-admission-patch"),
				source: kpsTag + "templates/prometheus-operator/admission-webhooks/job-patch/job-patchWebhook.yaml (a post-install hook Job)"},
			{name: "crds-upgrade", labels: with(kpsLabels, "app", "kube-prometheus-stack-operator",
				"app.kubernetes.io/name", "kube-prometheus-stack-prometheus-operator", "app.kubernetes.io/component", "crds-upgrade"),
				source: kpsTag + "charts/crds/templates/_helpers.tpl crd.upgradeJob.labels, upgrade/job.yaml (a pre-upgrade hook Job)"},
		},
		services: []chartService{
			{name: "kube-prometheus-stack-prometheus", selector: map[string]string{"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "kube-prometheus-stack-prometheus"},
				ports: []corev1.ServicePort{servicePort(9090, intstr.FromInt32(9090))}, source: kpsTag + "templates/prometheus/service.yaml"},
			{name: "kube-prometheus-stack-alertmanager", selector: map[string]string{"app.kubernetes.io/name": "alertmanager", "alertmanager": "kube-prometheus-stack-alertmanager"},
				ports: []corev1.ServicePort{servicePort(9093, intstr.FromInt32(9093))}, source: kpsTag + "templates/alertmanager/service.yaml"},
			{name: "kube-prometheus-stack-operator", selector: map[string]string{"app": "kube-prometheus-stack-operator", "release": "kube-prometheus-stack"},
				ports: []corev1.ServicePort{servicePort(443, intstr.FromString("https"))}, source: kpsTag + "templates/prometheus-operator/service.yaml"},
			{name: "kube-prometheus-stack-grafana", selector: map[string]string{"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "kube-prometheus-stack"},
				ports: []corev1.ServicePort{servicePort(80, intstr.FromInt32(3000))}, source: grafTag + "templates/service.yaml"},
			{name: "kube-prometheus-stack-kube-state-metrics", selector: map[string]string{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-prometheus-stack"},
				ports: []corev1.ServicePort{servicePort(8080, intstr.FromString("http"))}, source: ksmTag + "templates/service.yaml"},
		},
	},
	"loki": {
		version:         "18.11.0",
		networkPolicies: "none: networkPolicy.enabled defaults to false in " + lokiTag + "values.yaml; the program does not set it",
		pods: []chartPod{{name: "loki", labels: map[string]string{"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "loki", "app.kubernetes.io/component": "single-binary"},
			ports:  []corev1.ContainerPort{port("http-metrics", 3100), port("grpc", 9095), port("http-memberlist", 7946)},
			source: lokiTag + "templates/single-binary/statefulset.yaml"}},
		services: []chartService{{name: "loki", selector: map[string]string{"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "loki", "app.kubernetes.io/component": "single-binary"},
			ports: []corev1.ServicePort{servicePort(3100, intstr.FromString("http-metrics"))}, source: lokiTag + "templates/single-binary/service.yaml"}},
	},
	"alloy": {
		version:         "1.11.1",
		networkPolicies: "none: networkPolicy.enabled defaults to false in " + alloyTag + "values.yaml; the program does not set it",
		pods: []chartPod{{name: "alloy", labels: map[string]string{"app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": "alloy"},
			ports: []corev1.ContainerPort{port("http-metrics", 12345)}, source: alloyTag + "templates/_helpers.tpl alloy.selectorLabels, controllers/daemonset.yaml"}},
	},
	"external-secrets": {
		version:         "2.9.0",
		networkPolicies: "none: networkPolicy.enabled, webhook.networkPolicy.enabled and certController.networkPolicy.enabled default to false in " + esoTag + "values.yaml; the program sets none",
		pods: []chartPod{
			{name: "external-secrets", labels: map[string]string{"app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": "external-secrets"},
				source: esoTag + "templates/_helpers.tpl external-secrets.selectorLabels"},
			{name: "external-secrets-webhook", labels: map[string]string{"app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": "external-secrets"},
				ports: []corev1.ContainerPort{port("webhook", 10250)}, source: esoTag + "templates/webhook-deployment.yaml (webhook.port, set to 10250)"},
			{name: "external-secrets-cert-controller", labels: map[string]string{"app.kubernetes.io/name": "external-secrets-cert-controller", "app.kubernetes.io/instance": "external-secrets"},
				source: esoTag + "templates/_helpers.tpl external-secrets-cert-controller.selectorLabels"},
		},
		services: []chartService{{name: "external-secrets-webhook", selector: map[string]string{"app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": "external-secrets"},
			ports: []corev1.ServicePort{servicePort(443, intstr.FromString("webhook"))}, source: esoTag + "templates/webhook-service.yaml"}},
	},
	"reloader": {
		version:         "2.2.16",
		networkPolicies: "none: reloader.netpol.enabled defaults to false in " + reloTag + "values.yaml; the program does not set it",
		pods: []chartPod{{name: "reloader", labels: map[string]string{"app": "reloader-reloader", "release": "reloader", "app.kubernetes.io/name": "reloader", "app.kubernetes.io/instance": "reloader"},
			source: reloTag + "templates/_helpers.tpl reloader-labels.chart"}},
	},
	"external-dns": {
		version:         "1.21.1",
		networkPolicies: "none: the chart has no NetworkPolicy template (" + ednsTag + "templates)",
		pods: []chartPod{{name: "external-dns", labels: map[string]string{"app.kubernetes.io/name": "external-dns", "app.kubernetes.io/instance": "external-dns"},
			ports: []corev1.ContainerPort{port("http", 7979)}, source: ednsTag + "templates/_helpers.tpl external-dns.selectorLabels"}},
	},
}

// TestNetpolExportCoversEveryChart guards the stand-in table: a chart the program installs must
// be rendered or described, and a description must name why the chart renders no policy.
func TestNetpolExportCoversEveryChart(t *testing.T) {
	for name, si := range standIns {
		if si.version == "" || !strings.HasPrefix(si.networkPolicies, "none: ") || len(si.pods) == 0 {
			t.Errorf("standIns[%s] is incomplete: %+v", name, si)
		}
		for _, p := range si.pods {
			if !strings.HasPrefix(p.source, "https://") {
				t.Errorf("standIns[%s] pod %s cites no source", name, p.name)
			}
		}
	}
}
