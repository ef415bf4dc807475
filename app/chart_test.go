package app_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/internal/chartrender"
)

// chartDir is the app chart, relative to this package.
const chartDir = "chart"

// testKubeVersion is the Kubernetes version the chart is rendered for: the stacks' default.
const testKubeVersion = "v1.35.0"

const (
	testRelease   = "demo"
	testNamespace = "apps"
	testRepo      = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-app"
	testDigest    = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testCertArn   = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
)

// baseValues are the fewest values the chart renders with: the defaults plus the settings it
// requires (image.repository, config.API_BASE_URL and the two secrets).
func baseValues() map[string]any {
	return map[string]any{
		"image":   map[string]any{"repository": testRepo},
		"config":  map[string]any{"API_BASE_URL": "https://api.example.com"},
		"secrets": map[string]any{"SECRET_KEY": "test-secret-key", "DB_PASSWORD": "test-db-password"},
	}
}

// set stores val at a dotted path such as "ingress.enabled", creating intermediate maps.
func set(values map[string]any, dotted string, val any) map[string]any {
	keys := strings.Split(dotted, ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = val
	return values
}

// with returns baseValues with each "path=value" pair of kv set.
func with(kv ...any) map[string]any {
	v := baseValues()
	for i := 0; i < len(kv); i += 2 {
		set(v, kv[i].(string), kv[i+1])
	}
	return v
}

// render renders values and decodes every object strictly (Decode), failing the test on
// any error.
func render(t *testing.T, values map[string]any) *chartrender.Objects {
	t.Helper()
	manifests, err := chartrender.Render(chartDir, values, testRelease, testNamespace, testKubeVersion)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	o, err := chartrender.Decode(manifests)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// kinds lists the rendered kinds in order.
func kinds(o *chartrender.Objects) []string {
	var k []string
	for _, m := range o.Manifests {
		k = append(k, m.Kind)
	}
	return k
}

// renderErr renders values and returns the error, failing the test if rendering succeeds.
func renderErr(t *testing.T, values map[string]any) error {
	t.Helper()
	_, err := chartrender.Render(chartDir, values, testRelease, testNamespace, testKubeVersion)
	if err == nil {
		t.Fatal("Render succeeded, want an error")
	}
	return err
}

func TestDecodeStrictRejects(t *testing.T) {
	cases := map[string]chartrender.Manifest{
		"unknown kind":          {Kind: "CronJob", APIVersion: "batch/v1", YAML: "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: x\n"},
		"unexpected apiVersion": {Kind: "HorizontalPodAutoscaler", APIVersion: "autoscaling/v1", YAML: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: x\n"},
		"unknown field":         {Kind: "Service", APIVersion: "v1", YAML: "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  prots: []\n"},
		"duplicate field":       {Kind: "ConfigMap", APIVersion: "v1", YAML: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n"},
		"wrong type":            {Kind: "Deployment", APIVersion: "apps/v1", YAML: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: \"3\"\n"},
		"unknown CRD field":     {Kind: "PodMonitor", APIVersion: "monitoring.coreos.com/v1", YAML: "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: x\nspec:\n  endpoints: []\n"},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := chartrender.DecodeStrict(m); err == nil {
				t.Errorf("decodeStrict accepted:\n%s", m.YAML)
			}
		})
	}
}

func TestRenderRequiresSettings(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"chart defaults alone", nil, "set secrets.SECRET_KEY and secrets.DB_PASSWORD, or secrets.existingSecret"},
		{"one secret missing", with("secrets.DB_PASSWORD", ""), "set secrets.SECRET_KEY and secrets.DB_PASSWORD"},
		{"API_BASE_URL missing", with("config.API_BASE_URL", ""), "config.API_BASE_URL is required"},
		{"image.repository missing", with("image.repository", ""), "image.repository is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := renderErr(t, tc.values); !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestRenderArguments(t *testing.T) {
	if _, err := chartrender.Render(chartDir, baseValues(), "Not_A_Release", testNamespace, testKubeVersion); err == nil {
		t.Error("invalid release name accepted")
	}
	if _, err := chartrender.Render(chartDir, baseValues(), testRelease, "", testKubeVersion); err == nil {
		t.Error("empty namespace accepted")
	}
	v := baseValues()
	before := fmt.Sprint(v)
	if _, err := chartrender.Render(chartDir, v, testRelease, testNamespace, testKubeVersion); err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprint(v); after != before {
		t.Errorf("Render modified its values:\nbefore %s\nafter  %s", before, after)
	}
}

func TestDefaultsRender(t *testing.T) {
	o := render(t, baseValues())
	// Helm's install order; no Ingress, HPA, PDB (a single pod) or PodMonitor by default.
	want := []string{"NetworkPolicy", "ServiceAccount", "Secret", "ConfigMap", "Service", "Deployment"}
	if got := kinds(o); !slices.Equal(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
	for _, obj := range o.All {
		if obj.GetName() != "demo-flask-app" {
			t.Errorf("%T named %q, want demo-flask-app", obj, obj.GetName())
		}
	}
	if got := *o.Deployment.Spec.Replicas; got != 1 {
		t.Errorf("replicas %d, want 1", got)
	}
	if o.ServiceAccount.AutomountServiceAccountToken == nil || *o.ServiceAccount.AutomountServiceAccountToken {
		t.Error("ServiceAccount automountServiceAccountToken is not false")
	}
	if o.Service.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %s, want ClusterIP", o.Service.Spec.Type)
	}
}

func TestLint(t *testing.T) {
	cases := map[string]map[string]any{
		// helm lint with the bare defaults: lint mode turns the chart's required/fail checks into
		// log lines ("[INFO] Fail: ..."), which are not lint messages.
		"chart defaults": nil,
		"everything enabled": with(
			"ingress.enabled", true, "ingress.certificateArn", testCertArn, "ingress.https", true, "ingress.host", "app.example.com",
			"autoscaling.enabled", true, "podMonitor.enabled", true, "image.digest", testDigest, "secrets.reloadOnChange", true),
	}
	for name, values := range cases {
		t.Run(name, func(t *testing.T) {
			msgs := chartrender.Lint(chartDir, values, testNamespace)
			for _, m := range msgs {
				// The only INFO Helm emits for this chart: Chart.yaml has no icon, on purpose
				// (an icon URL is only used by chart repositories).
				if m.Severity == support.InfoSev && strings.Contains(m.Err.Error(), "icon is recommended") {
					continue
				}
				t.Errorf("lint: %s", m)
			}
		})
	}
	t.Run("schema violation", func(t *testing.T) {
		msgs := chartrender.Lint(chartDir, map[string]any{"replicas": 2}, testNamespace)
		found := false
		for _, m := range msgs {
			found = found || (m.Severity == support.ErrorSev && strings.Contains(m.Err.Error(), "replicas"))
		}
		if !found {
			t.Errorf("lint found no error for the unknown key replicas: %v", msgs)
		}
	})
}

func TestSchemaRejects(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   string // part of the schema error naming the offending value
	}{
		{"top-level typo", with("replicas", 2), "'replicas'"},
		{"nested typo", with("image.digset", testDigest), "'digset'"},
		{"typo in ingress", with("ingress.classname", "alb"), "'classname'"},
		{"replicaCount 0", with("replicaCount", 0), "/replicaCount"},
		{"replicaCount as string", with("replicaCount", "3"), "/replicaCount"},
		{"bad LOG_LEVEL", with("config.LOG_LEVEL", "VERBOSE"), "/config/LOG_LEVEL"},
		{"LOG_LEVEL the app ignores", with("config.LOG_LEVEL", "CRITICAL"), "/config/LOG_LEVEL"},
		{"MAX_CONNECTIONS as string", with("config.MAX_CONNECTIONS", "many"), "/config/MAX_CONNECTIONS"},
		{"REVEAL_SECRETS as string", with("config.REVEAL_SECRETS", "yes"), "/config/REVEAL_SECRETS"},
		{"REVEAL_SECRETS in prod", with("environment", "prod", "config.REVEAL_SECRETS", true), "/config/REVEAL_SECRETS"},
		{"multiproc dir outside /tmp", with("config.PROMETHEUS_MULTIPROC_DIR", "/var/prometheus"), "/config/PROMETHEUS_MULTIPROC_DIR"},
		{"API_BASE_URL not a URL", with("config.API_BASE_URL", "api.example.com"), "/config/API_BASE_URL"},
		{"short digest", with("image.digest", "sha256:abc"), "/image/digest"},
		{"tag in repository", with("image.repository", testRepo+":latest"), "/image/repository"},
		{"ALB group on the Ingress", with("ingress.groupName", "public"), "'groupName'"},
		{"bad certificate ARN", with("ingress.certificateArn", "arn:aws:iam::123456789012:role/x"), "/ingress/certificateArn"},
		{"wildcard host", with("ingress.host", "*.example.com"), "/ingress/host"},
		{"bad whenUnsatisfiable", with("topologySpread.whenUnsatisfiable", "Never"), "/topologySpread/whenUnsatisfiable"},
		{"bad scrape interval", with("podMonitor.interval", "30 seconds"), "/podMonitor/interval"},
		{"root pod", with("podSecurityContext.runAsNonRoot", false), "/podSecurityContext/runAsNonRoot"},
		{"writable root filesystem", with("securityContext.readOnlyRootFilesystem", false), "/securityContext/readOnlyRootFilesystem"},
		{"privilege escalation", with("securityContext.allowPrivilegeEscalation", true), "/securityContext/allowPrivilegeEscalation"},
		{"capabilities kept", with("securityContext.capabilities", map[string]any{"drop": []any{"NET_RAW"}}), "/securityContext/capabilities/drop"},
		{"capabilities added", with("securityContext.capabilities", map[string]any{"drop": []any{"ALL"}, "add": []any{"NET_ADMIN"}}), "/securityContext/capabilities/add"},
		{"unconfined seccomp", with("securityContext.seccompProfile", map[string]any{"type": "Unconfined"}), "/securityContext/seccompProfile/type"},
		{"privileged port", with("ports.http", 80), "/ports/http"},
		{"bad service type", with("service.type", "ExternalName"), "/service/type"},
		{"non-string annotation", with("ingress.annotations", map[string]any{"a": 1}), "/ingress/annotations/a"},
		{"bad memory quantity", with("resources.limits.memory", "lots"), "/resources/limits/memory"},
		{"bad ephemeral storage quantity", with("resources.limits.ephemeralStorage", "a lot"), "/resources/limits/ephemeralStorage"},
		{"ephemeral storage spelled as the Kubernetes key", with("resources.requests.ephemeral-storage", "1Gi"), "ephemeral-storage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := renderErr(t, tc.values).Error()
			if !strings.Contains(err, "values don't meet the specifications of the schema") {
				t.Errorf("not a schema error: %s", err)
			}
			if !strings.Contains(err, tc.want) {
				t.Errorf("schema error does not mention %s:\n%s", tc.want, err)
			}
		})
	}
	// Controls: the same keys with good values render.
	render(t, with("environment", "dev", "config.REVEAL_SECRETS", true, "config.LOG_LEVEL", "DEBUG",
		"image.digest", testDigest, "ingress.certificateArn", testCertArn, "podMonitor.interval", "1m30s",
		"resources.limits.memory", "1Gi", "resources.requests.cpu", 0.5))
}

func TestTemplateChecks(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"grace period too short", with("shutdown.terminationGracePeriodSeconds", 40), "terminationGracePeriodSeconds (40) must exceed preStopSleepSeconds + gunicornGracefulTimeoutSeconds (40)"},
		{"graceful timeout too long", with("shutdown.gunicornGracefulTimeoutSeconds", 60), "must exceed preStopSleepSeconds + gunicornGracefulTimeoutSeconds (75)"},
		{"HPA min above max", with("autoscaling.enabled", true, "autoscaling.minReplicas", 5, "autoscaling.maxReplicas", 3), "must not exceed autoscaling.maxReplicas"},
		{"HPA without CPU request", with("autoscaling.enabled", true, "resources.requests.cpu", ""), "needs resources.requests.cpu"},
		{"PDB without a bound", with("replicaCount", 2, "podDisruptionBudget.maxUnavailable", ""), "needs minAvailable or maxUnavailable"},
		{"HTTPS without a host", with("ingress.enabled", true, "ingress.https", true), "ingress.https needs ingress.host"},
		{"two autoscalers", with("autoscaling.enabled", true, "autoscaling.external", true), "exactly one HPA may target the Deployment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := renderErr(t, tc.values); !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestDeployment(t *testing.T) {
	o := render(t, with("replicaCount", 2))
	d := o.Deployment
	spec := d.Spec.Template.Spec

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxUnavailable.String() != "0" || ru.MaxSurge.String() != "25%" {
		t.Errorf("strategy %+v, want RollingUpdate maxUnavailable 0 maxSurge 25%%", d.Spec.Strategy)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("selector %v does not match pod labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
	}

	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != testRepo+":0.1.0" {
		t.Errorf("image %q, want repository:appVersion", c.Image)
	}
	if len(c.Ports) != 2 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 || c.Ports[1].Name != "admin" || c.Ports[1].ContainerPort != 9090 {
		t.Errorf("ports %+v, want http 8080 and admin 9090", c.Ports)
	}
	if o.ConfigMap.Data["PORT"] != "8080" || o.ConfigMap.Data["ADMIN_PORT"] != "9090" {
		t.Errorf("the app's ports PORT %q ADMIN_PORT %q, want the container ports", o.ConfigMap.Data["PORT"], o.ConfigMap.Data["ADMIN_PORT"])
	}
	// Probes go to the admin port, which slow public clients cannot starve.
	checkProbe := func(name string, p *corev1.Probe, path string) {
		t.Helper()
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "admin" {
			t.Errorf("%s probe %+v, want GET %s on port admin", name, p, path)
		}
	}
	if d.Spec.MinReadySeconds != 20 {
		t.Errorf("minReadySeconds %d, want 20: a rollout must not outrun the ALB's target registration", d.Spec.MinReadySeconds)
	}
	checkProbe("liveness", c.LivenessProbe, "/healthz")
	checkProbe("readiness", c.ReadinessProbe, "/readyz")
	checkProbe("startup", c.StartupProbe, "/healthz")

	if got := c.Resources.Requests.Cpu().String(); got != "100m" {
		t.Errorf("cpu request %s, want 100m", got)
	}
	if got := c.Resources.Requests.Memory().String(); got != "128Mi" {
		t.Errorf("memory request %s, want 128Mi", got)
	}
	if got := c.Resources.Limits.Memory().String(); got != "256Mi" {
		t.Errorf("memory limit %s, want 256Mi", got)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		t.Error("CPU limit set, want none by default")
	}
	// The kubelet evicts a pod past its ephemeral-storage limit, so a pod's logs and /tmp cannot
	// fill the node's disk; the request lets the scheduler place it where the space is.
	if got := c.Resources.Requests.StorageEphemeral().String(); got != "128Mi" {
		t.Errorf("ephemeral-storage request %s, want 128Mi", got)
	}
	if got, tmp := c.Resources.Limits.StorageEphemeral(), spec.Volumes; got.String() != "256Mi" {
		t.Errorf("ephemeral-storage limit %s, want 256Mi", got)
	} else {
		for _, v := range tmp {
			if v.EmptyDir != nil && v.EmptyDir.Medium == "" && v.EmptyDir.SizeLimit != nil && v.EmptyDir.SizeLimit.Cmp(*got) >= 0 {
				t.Errorf("emptyDir %s's sizeLimit %s leaves no room under the ephemeral-storage limit %s for the logs", v.Name, v.EmptyDir.SizeLimit, got)
			}
		}
	}

	psc := spec.SecurityContext
	if psc == nil || !isTrue(psc.RunAsNonRoot) || !is(psc.RunAsUser, 10001) || !is(psc.RunAsGroup, 10001) ||
		!is(psc.FSGroup, 10001) || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", psc)
	}
	csc := c.SecurityContext
	if csc == nil || !isTrue(csc.RunAsNonRoot) || !is(csc.RunAsUser, 10001) || !isTrue(csc.ReadOnlyRootFilesystem) ||
		csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) != 0 ||
		csc.SeccompProfile == nil || csc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v", csc)
	}

	if len(spec.Volumes) != 1 || spec.Volumes[0].EmptyDir == nil || spec.Volumes[0].EmptyDir.SizeLimit.String() != "64Mi" {
		t.Errorf("volumes %+v, want one emptyDir with sizeLimit 64Mi", spec.Volumes)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/tmp" || c.VolumeMounts[0].Name != spec.Volumes[0].Name {
		t.Errorf("volumeMounts %+v, want the emptyDir at /tmp", c.VolumeMounts)
	}

	var keys []string
	for _, tsc := range spec.TopologySpreadConstraints {
		keys = append(keys, tsc.TopologyKey)
		if tsc.WhenUnsatisfiable != corev1.ScheduleAnyway || tsc.MaxSkew != 1 {
			t.Errorf("topology spread %s: %s maxSkew %d, want ScheduleAnyway 1", tsc.TopologyKey, tsc.WhenUnsatisfiable, tsc.MaxSkew)
		}
		if s, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector); err != nil || !s.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("topology spread %s selector does not match the pods", tsc.TopologyKey)
		}
	}
	if !slices.Equal(keys, []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"}) {
		t.Errorf("topology keys %v", keys)
	}

	if len(c.EnvFrom) != 2 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != o.ConfigMap.Name ||
		c.EnvFrom[1].SecretRef == nil || c.EnvFrom[1].SecretRef.Name != o.Secret.Name {
		t.Errorf("envFrom %+v, want ConfigMap %s then Secret %s", c.EnvFrom, o.ConfigMap.Name, o.Secret.Name)
	}

	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != 15 {
		t.Fatalf("preStop %+v, want sleep 15s", c.Lifecycle)
	}
	graceful, err := strconv.ParseInt(o.ConfigMap.Data["GUNICORN_GRACEFUL_TIMEOUT"], 10, 64)
	if err != nil {
		t.Fatalf("GUNICORN_GRACEFUL_TIMEOUT: %v", err)
	}
	if tgps := spec.TerminationGracePeriodSeconds; tgps == nil || *tgps <= c.Lifecycle.PreStop.Sleep.Seconds+graceful {
		t.Errorf("terminationGracePeriodSeconds %v must exceed preStop sleep %ds + GUNICORN_GRACEFUL_TIMEOUT %ds",
			tgps, c.Lifecycle.PreStop.Sleep.Seconds, graceful)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("pod automountServiceAccountToken is not false")
	}
	if spec.ServiceAccountName != o.ServiceAccount.Name {
		t.Errorf("serviceAccountName %q, ServiceAccount %q", spec.ServiceAccountName, o.ServiceAccount.Name)
	}
	for _, k := range []string{"checksum/config", "checksum/secret"} {
		if len(d.Spec.Template.Annotations[k]) != 64 {
			t.Errorf("pod annotation %s = %q, want a sha256", k, d.Spec.Template.Annotations[k])
		}
	}
}

func TestDeploymentOptions(t *testing.T) {
	t.Run("image by digest", func(t *testing.T) {
		c := render(t, with("image.digest", testDigest, "image.tag", "ignored")).Deployment.Spec.Template.Spec.Containers[0]
		if c.Image != testRepo+"@"+testDigest {
			t.Errorf("image %q, want repository@digest", c.Image)
		}
	})
	t.Run("image by tag", func(t *testing.T) {
		c := render(t, with("image.tag", "v2")).Deployment.Spec.Template.Spec.Containers[0]
		if c.Image != testRepo+":v2" {
			t.Errorf("image %q", c.Image)
		}
	})
	t.Run("no startup probe, CPU limit, memory tmp", func(t *testing.T) {
		spec := render(t, with("probes.startup.enabled", false, "resources.limits.cpu", "1",
			"tmpVolume.medium", "Memory", "tmpVolume.sizeLimit", "")).Deployment.Spec.Template.Spec
		c := spec.Containers[0]
		if c.StartupProbe != nil {
			t.Error("startup probe rendered while disabled")
		}
		if got := c.Resources.Limits.Cpu().String(); got != "1" {
			t.Errorf("cpu limit %s, want 1", got)
		}
		ed := spec.Volumes[0].EmptyDir
		if ed == nil || ed.Medium != corev1.StorageMediumMemory || ed.SizeLimit != nil {
			t.Errorf("emptyDir %+v, want Memory without sizeLimit", ed)
		}
	})
	t.Run("shutdown timing", func(t *testing.T) {
		o := render(t, with("shutdown.preStopSleepSeconds", 5, "shutdown.gunicornGracefulTimeoutSeconds", 50,
			"shutdown.terminationGracePeriodSeconds", 90))
		spec := o.Deployment.Spec.Template.Spec
		if got := spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds; got != 5 {
			t.Errorf("preStop sleep %d, want 5", got)
		}
		if got := o.ConfigMap.Data["GUNICORN_GRACEFUL_TIMEOUT"]; got != "50" {
			t.Errorf("GUNICORN_GRACEFUL_TIMEOUT %q, want 50", got)
		}
		if got := spec.TerminationGracePeriodSeconds; got == nil || *got != 90 {
			t.Errorf("terminationGracePeriodSeconds %v, want 90", got)
		}
	})
	t.Run("hard topology spread", func(t *testing.T) {
		for _, tsc := range render(t, with("topologySpread.whenUnsatisfiable", "DoNotSchedule")).Deployment.Spec.Template.Spec.TopologySpreadConstraints {
			if tsc.WhenUnsatisfiable != corev1.DoNotSchedule {
				t.Errorf("%s: %s", tsc.TopologyKey, tsc.WhenUnsatisfiable)
			}
		}
	})
	t.Run("topology spread off", func(t *testing.T) {
		if tsc := render(t, with("topologySpread.enabled", false)).Deployment.Spec.Template.Spec.TopologySpreadConstraints; len(tsc) != 0 {
			t.Errorf("constraints %v", tsc)
		}
	})
	t.Run("token mounted on request", func(t *testing.T) {
		o := render(t, with("serviceAccount.automountServiceAccountToken", true))
		if !isTrue(o.Deployment.Spec.Template.Spec.AutomountServiceAccountToken) || !isTrue(o.ServiceAccount.AutomountServiceAccountToken) {
			t.Error("automountServiceAccountToken not true on pod and ServiceAccount")
		}
	})
	t.Run("existing service account", func(t *testing.T) {
		o := render(t, with("serviceAccount.create", false, "serviceAccount.name", "shared-sa"))
		if o.ServiceAccount != nil {
			t.Error("ServiceAccount rendered with create=false")
		}
		if got := o.Deployment.Spec.Template.Spec.ServiceAccountName; got != "shared-sa" {
			t.Errorf("serviceAccountName %q", got)
		}
	})
	t.Run("pod labels and annotations cannot replace the chart's", func(t *testing.T) {
		tpl := render(t, with(
			"podLabels", map[string]any{"team": "web", "app.kubernetes.io/name": "other"},
			"podAnnotations", map[string]any{"example.com/a": "b", "checksum/config": "forged"},
		)).Deployment.Spec.Template
		if tpl.Labels["team"] != "web" || tpl.Labels["app.kubernetes.io/name"] != "flask-app" {
			t.Errorf("pod labels %v", tpl.Labels)
		}
		if tpl.Annotations["example.com/a"] != "b" || tpl.Annotations["checksum/config"] == "forged" {
			t.Errorf("pod annotations %v", tpl.Annotations)
		}
	})
}

func TestConfigMap(t *testing.T) {
	o := render(t, with("config.LOG_LEVEL", "DEBUG", "config.MAX_CONNECTIONS", 50, "image.tag", "v9"))
	want := map[string]string{
		"API_BASE_URL":              "https://api.example.com",
		"LOG_LEVEL":                 "DEBUG",
		"MAX_CONNECTIONS":           "50",
		"GUNICORN_WORKERS":          "2",
		"GUNICORN_THREADS":          "4",
		"REVEAL_SECRETS":            "false",
		"APP_VERSION":               "v9", // defaults to image.tag
		"PROMETHEUS_MULTIPROC_DIR":  "/tmp/prometheus",
		"GUNICORN_GRACEFUL_TIMEOUT": "25",
		"TRUSTED_PROXY_HOPS":        "0",
		"PORT":                      "8080",
		"ADMIN_PORT":                "9090",
	}
	if !maps.Equal(o.ConfigMap.Data, want) {
		t.Errorf("ConfigMap data %v, want %v", o.ConfigMap.Data, want)
	}
	if got := render(t, baseValues()).ConfigMap.Data["APP_VERSION"]; got != "0.1.0" {
		t.Errorf("APP_VERSION %q, want the chart appVersion", got)
	}
	if got := render(t, with("config.APP_VERSION", "1.2.3", "image.tag", "v9")).ConfigMap.Data["APP_VERSION"]; got != "1.2.3" {
		t.Errorf("APP_VERSION %q, want config.APP_VERSION", got)
	}
	s := o.Secret
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["SECRET_KEY"]) != "test-secret-key" ||
		string(s.Data["DB_PASSWORD"]) != "test-db-password" || len(s.Data) != 2 {
		t.Errorf("Secret type %s data keys %v", s.Type, slices.Sorted(maps.Keys(s.Data)))
	}
}

func TestChecksumsRollPods(t *testing.T) {
	annotations := func(v map[string]any) map[string]string {
		return render(t, v).Deployment.Spec.Template.Annotations
	}
	base := annotations(baseValues())
	if again := annotations(baseValues()); !maps.Equal(base, again) {
		t.Fatalf("checksums differ between identical renders: %v vs %v", base, again)
	}
	cases := []struct {
		name                 string
		values               map[string]any
		configDiff, secretDf bool
	}{
		{"config value", with("config.LOG_LEVEL", "DEBUG"), true, false},
		{"another config value", with("config.GUNICORN_WORKERS", 3), true, false},
		{"secret value", with("secrets.DB_PASSWORD", "rotated"), false, true},
		{"existing secret", with("secrets.existingSecret", "external"), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := annotations(tc.values)
			if d := got["checksum/config"] != base["checksum/config"]; d != tc.configDiff {
				t.Errorf("checksum/config changed=%v, want %v", d, tc.configDiff)
			}
			if d := got["checksum/secret"] != base["checksum/secret"]; d != tc.secretDf {
				t.Errorf("checksum/secret changed=%v, want %v", d, tc.secretDf)
			}
		})
	}
	a := annotations(with("secrets.existingSecret", "external-a"))
	b := annotations(with("secrets.existingSecret", "external-b"))
	if a["checksum/secret"] == b["checksum/secret"] {
		t.Error("checksum/secret does not follow the existing Secret's name")
	}
}

func TestExistingSecret(t *testing.T) {
	v := with("secrets.existingSecret", "flask-secrets")
	set(v, "secrets.SECRET_KEY", "")
	set(v, "secrets.DB_PASSWORD", "")
	o := render(t, v)
	if o.Secret != nil {
		t.Error("Secret rendered although existingSecret is set")
	}
	envFrom := o.Deployment.Spec.Template.Spec.Containers[0].EnvFrom
	if len(envFrom) != 2 || envFrom[1].SecretRef == nil || envFrom[1].SecretRef.Name != "flask-secrets" {
		t.Errorf("envFrom %+v, want secretRef flask-secrets", envFrom)
	}
	if envFrom[1].SecretRef.Optional != nil && *envFrom[1].SecretRef.Optional {
		t.Error("secretRef is optional")
	}
	// existingSecret wins over inline values, which are then not rendered anywhere.
	o = render(t, with("secrets.existingSecret", "flask-secrets"))
	if o.Secret != nil {
		t.Error("Secret rendered although existingSecret is set")
	}
	for _, m := range o.Manifests {
		if strings.Contains(m.YAML, "test-db-password") || strings.Contains(m.YAML, "dGVzdC1kYi1wYXNzd29yZA") {
			t.Errorf("inline secret value rendered into the %s although existingSecret is set", m.Kind)
		}
	}
}

func TestIngress(t *testing.T) {
	const (
		pfx          = "alb.ingress.kubernetes.io/"
		httpOnly     = `[{"HTTP":80}]`
		httpAndHTTPS = `[{"HTTP":80},{"HTTPS":443}]`
	)
	// The chart's own annotations: IP targets, a fast health check on the public port, and a
	// short deregistration delay; scheme, group and certificate come from the IngressClass.
	base := map[string]string{
		pfx + "target-type": "ip", pfx + "healthcheck-path": "/readyz",
		pfx + "healthcheck-interval-seconds": "5", pfx + "healthcheck-timeout-seconds": "4",
		pfx + "healthy-threshold-count": "2", pfx + "unhealthy-threshold-count": "2",
		pfx + "target-group-attributes": "deregistration_delay.timeout_seconds=30",
	}
	plus := func(extra map[string]string) map[string]string {
		out := maps.Clone(base)
		maps.Copy(out, extra)
		return out
	}
	cases := []struct {
		name   string
		values map[string]any
		host   string
		want   map[string]string
	}{
		{"HTTP only", with("ingress.enabled", true), "", plus(map[string]string{pfx + "listen-ports": httpOnly})},
		{"HTTPS on a host, certificate from the class", with("ingress.enabled", true, "ingress.https", true, "ingress.host", "app.example.com"),
			"app.example.com", plus(map[string]string{pfx + "listen-ports": httpAndHTTPS, pfx + "ssl-redirect": "443"})},
		{"HTTPS with the certificate on the Ingress", with("ingress.enabled", true, "ingress.https", true, "ingress.host", "app.example.com", "ingress.certificateArn", testCertArn),
			"app.example.com", plus(map[string]string{pfx + "listen-ports": httpAndHTTPS, pfx + "ssl-redirect": "443", pfx + "certificate-arn": testCertArn})},
		{"extra annotations merged over the chart's", with("ingress.enabled", true, "ingress.annotations", map[string]any{
			pfx + "healthcheck-interval-seconds": "10", pfx + "wafv2-acl-arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1",
		}), "", plus(map[string]string{pfx + "listen-ports": httpOnly, pfx + "healthcheck-interval-seconds": "10",
			pfx + "wafv2-acl-arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1"})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := render(t, tc.values)
			ing := o.Ingress
			if ing == nil {
				t.Fatal("no Ingress")
			}
			if !maps.Equal(ing.Annotations, tc.want) {
				t.Errorf("annotations\n got %v\nwant %v", ing.Annotations, tc.want)
			}
			for k := range ing.Annotations {
				// Auto Mode ignores Ingress-level groups; the group is set on the IngressClass.
				if strings.HasPrefix(k, pfx+"group.") || k == pfx+"scheme" {
					t.Errorf("annotation %s belongs in IngressClassParams", k)
				}
			}
			var ports []map[string]int
			if err := json.Unmarshal([]byte(ing.Annotations[pfx+"listen-ports"]), &ports); err != nil {
				t.Errorf("listen-ports is not JSON: %v", err)
			}
			if ing.Spec.IngressClassName != nil {
				t.Errorf("ingressClassName %q, want none when ingress.className is empty", *ing.Spec.IngressClassName)
			}
			checkIngressBackend(t, ing, o.Service, tc.host)
		})
	}
	t.Run("class", func(t *testing.T) {
		o := render(t, with("ingress.enabled", true, "ingress.className", "alb"))
		if o.Ingress.Spec.IngressClassName == nil || *o.Ingress.Spec.IngressClassName != "alb" {
			t.Errorf("ingressClassName %v, want alb", o.Ingress.Spec.IngressClassName)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		if o := render(t, baseValues()); o.Ingress != nil {
			t.Error("Ingress rendered while disabled")
		}
	})
}

// checkIngressBackend asserts one rule for host, path / (Prefix), to svc's port named http.
func checkIngressBackend(t *testing.T, ing *networkingv1.Ingress, svc *corev1.Service, host string) {
	t.Helper()
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != host || ing.Spec.Rules[0].HTTP == nil || len(ing.Spec.Rules[0].HTTP.Paths) != 1 {
		t.Fatalf("rules %+v, want one rule for host %q", ing.Spec.Rules, host)
	}
	p := ing.Spec.Rules[0].HTTP.Paths[0]
	if p.Path != "/" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
		t.Errorf("path %q type %v, want / Prefix", p.Path, p.PathType)
	}
	b := p.Backend.Service
	if b == nil || b.Name != svc.Name || b.Port.Name != "http" || !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == "http" }) {
		t.Errorf("backend %+v does not reach Service %s port http", p.Backend, svc.Name)
	}
}

func TestService(t *testing.T) {
	for _, typ := range []string{"ClusterIP", "NodePort", "LoadBalancer"} {
		svc := render(t, with("service.type", typ)).Service
		if string(svc.Spec.Type) != typ {
			t.Errorf("type %s, want %s", svc.Spec.Type, typ)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].Port != 80 || svc.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("ports %+v, want http 80 -> http", svc.Spec.Ports)
		}
	}
}

func TestReplicasHPAAndPDB(t *testing.T) {
	cases := []struct {
		name           string
		values         map[string]any
		replicas       int32 // 0: spec.replicas must be absent
		hpa            [3]int32
		minAvail, maxU string // "" when absent; both "" and no PDB expected when pdb is false
		pdb            bool
	}{
		{"one replica: no PDB", baseValues(), 1, [3]int32{}, "", "", false},
		{"three replicas", with("replicaCount", 3), 3, [3]int32{}, "", "1", true},
		{"PDB disabled", with("replicaCount", 3, "podDisruptionBudget.enabled", false), 3, [3]int32{}, "", "", false},
		{"PDB minAvailable percentage", with("replicaCount", 3, "podDisruptionBudget.minAvailable", "50%"), 3, [3]int32{}, "50%", "", true},
		{"PDB minAvailable numeric string", with("replicaCount", 3, "podDisruptionBudget.minAvailable", "2"), 3, [3]int32{}, "2", "", true},
		{"HPA 3..10", with("autoscaling.enabled", true, "autoscaling.minReplicas", 3, "autoscaling.maxReplicas", 10, "replicaCount", 5), 0, [3]int32{3, 10, 70}, "", "1", true},
		{"HPA from 1: no PDB", with("autoscaling.enabled", true, "autoscaling.minReplicas", 1, "replicaCount", 4), 0, [3]int32{1, 10, 70}, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := render(t, tc.values)
			d := o.Deployment
			if tc.replicas == 0 {
				if d.Spec.Replicas != nil {
					t.Errorf("replicas %d set, want it absent with an HPA", *d.Spec.Replicas)
				}
			} else if d.Spec.Replicas == nil || *d.Spec.Replicas != tc.replicas {
				t.Errorf("replicas %v, want %d", d.Spec.Replicas, tc.replicas)
			}

			if (tc.hpa == [3]int32{}) != (o.HPA == nil) {
				t.Fatalf("HPA rendered=%v, want %v", o.HPA != nil, tc.hpa != [3]int32{})
			}
			if h := o.HPA; h != nil {
				m := h.Spec.Metrics
				if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != tc.hpa[0] || h.Spec.MaxReplicas != tc.hpa[1] ||
					len(m) != 1 || m[0].Resource == nil || m[0].Resource.Name != corev1.ResourceCPU ||
					m[0].Resource.Target.AverageUtilization == nil || *m[0].Resource.Target.AverageUtilization != tc.hpa[2] {
					t.Errorf("HPA spec %+v, want min/max/cpu %v", h.Spec, tc.hpa)
				}
				if r := h.Spec.ScaleTargetRef; r.Kind != "Deployment" || r.APIVersion != "apps/v1" || r.Name != d.Name {
					t.Errorf("scaleTargetRef %+v", r)
				}
			}

			if tc.pdb != (o.PDB != nil) {
				t.Fatalf("PDB rendered=%v, want %v", o.PDB != nil, tc.pdb)
			}
			if p := o.PDB; p != nil {
				if got := intOrStr(p.Spec.MinAvailable); got != tc.minAvail {
					t.Errorf("minAvailable %q, want %q", got, tc.minAvail)
				}
				if got := intOrStr(p.Spec.MaxUnavailable); got != tc.maxU {
					t.Errorf("maxUnavailable %q, want %q", got, tc.maxU)
				}
				if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.String() == "2" && p.Spec.MinAvailable.Type != intstr.Int {
					t.Error(`minAvailable "2" rendered as a string; the API wants an integer`)
				}
				sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
				if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					t.Errorf("PDB selector does not match the pods")
				}
			}
		})
	}
}

func TestPodMonitor(t *testing.T) {
	if render(t, baseValues()).PodMonitor != nil {
		t.Error("PodMonitor rendered by default")
	}
	o := render(t, with("podMonitor.enabled", true, "podMonitor.interval", "15s",
		"podMonitor.labels", map[string]any{"release": "kube-prometheus-stack"}))
	pm := o.PodMonitor
	if pm.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("labels %v lack the extra label", pm.Labels)
	}
	sel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set(o.Deployment.Spec.Template.Labels)) {
		t.Errorf("selector %v does not match the pods' labels %v", pm.Spec.Selector, o.Deployment.Spec.Template.Labels)
	}
	other := maps.Clone(o.Deployment.Spec.Template.Labels) // same chart, other release
	other["app.kubernetes.io/instance"] = "other"
	if sel.Matches(labels.Set(other)) {
		t.Error("selector also matches another release's pods")
	}
	if !slices.Equal(pm.Spec.NamespaceSelector.MatchNames, []string{testNamespace}) {
		t.Errorf("namespaceSelector %+v", pm.Spec.NamespaceSelector)
	}
	if len(pm.Spec.PodMetricsEndpoints) != 1 {
		t.Fatalf("endpoints %+v", pm.Spec.PodMetricsEndpoints)
	}
	// The metrics are on the admin port, which the Service does not expose.
	ep := pm.Spec.PodMetricsEndpoints[0]
	if ep.Port == nil || *ep.Port != "admin" || ep.Path != "/metrics" || ep.Interval != "15s" {
		t.Errorf("endpoint %+v, want port admin path /metrics interval 15s", ep)
	}
	for _, p := range o.Service.Spec.Ports {
		if p.TargetPort.String() == "admin" || p.TargetPort.IntValue() == 9090 {
			t.Errorf("the Service exposes the admin port: %+v", p)
		}
	}
}

// TestNetworkPolicy: the public port only from httpFrom, the admin port only from Prometheus,
// egress only to DNS and the listed rules.
func TestNetworkPolicy(t *testing.T) {
	alb := []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.20.192.0/22"}}}
	o := render(t, with("networkPolicy.httpFrom", alb))
	np := o.NetworkPolicy
	if np == nil {
		t.Fatal("no NetworkPolicy by default")
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || !sel.Matches(labels.Set(o.Deployment.Spec.Template.Labels)) || sel.Empty() {
		t.Errorf("podSelector %v does not select exactly the app's pods", np.Spec.PodSelector)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policyTypes %v", np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("ingress rules %+v, want the public port and the admin port", np.Spec.Ingress)
	}
	http, admin := np.Spec.Ingress[0], np.Spec.Ingress[1]
	if len(http.Ports) != 1 || http.Ports[0].Port.String() != "http" || len(http.From) != 1 || http.From[0].IPBlock == nil || http.From[0].IPBlock.CIDR != "10.20.192.0/22" {
		t.Errorf("public port rule %+v, want port http from the ALB subnets only", http)
	}
	if len(admin.Ports) != 1 || admin.Ports[0].Port.String() != "admin" || len(admin.From) != 1 ||
		admin.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" ||
		admin.From[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != "prometheus" {
		t.Errorf("admin port rule %+v, want port admin from Prometheus in monitoring only", admin)
	}
	if len(np.Spec.Egress) != 3 || len(np.Spec.Egress[0].Ports) != 2 || np.Spec.Egress[0].Ports[0].Port.IntValue() != 53 || len(np.Spec.Egress[0].To) != 0 {
		t.Errorf("egress %+v, want DNS to any resolver, then the configured rules", np.Spec.Egress)
	}
	if https := np.Spec.Egress[1]; https.To[0].IPBlock.CIDR != "0.0.0.0/0" || !slices.Contains(https.To[0].IPBlock.Except, "169.254.169.254/32") || https.Ports[0].Port.IntValue() != 443 {
		t.Errorf("HTTPS egress %+v, want 443 anywhere but the instance metadata service", https)
	}
	// Without httpFrom, the public port is open to every source (clusters without an ALB).
	if from := render(t, baseValues()).NetworkPolicy.Spec.Ingress[0].From; len(from) != 0 {
		t.Errorf("public port sources %v, want all", from)
	}
	if render(t, with("networkPolicy.enabled", false)).NetworkPolicy != nil {
		t.Error("NetworkPolicy rendered although disabled")
	}
}

// TestReloadOnChange: with an in-place-updated Secret (External Secrets), Reloader is asked to
// roll the pods on changes to exactly that Secret.
func TestReloadOnChange(t *testing.T) {
	v := with("secrets.existingSecret", "flask-app-secrets", "secrets.reloadOnChange", true)
	d := render(t, v).Deployment
	if got := d.Annotations["secret.reloader.stakater.com/reload"]; got != "flask-app-secrets" {
		t.Errorf("reloader annotation %q, want the Secret's name", got)
	}
	if _, ok := render(t, baseValues()).Deployment.Annotations["secret.reloader.stakater.com/reload"]; ok {
		t.Error("reloader annotation set although reloadOnChange is off")
	}
}

func TestRecommendedLabels(t *testing.T) {
	o := render(t, with("replicaCount", 2, "ingress.enabled", true, "autoscaling.enabled", true,
		"podMonitor.enabled", true, "image.tag", "v1.2.3"))
	if got := len(o.All); got != 10 {
		t.Fatalf("rendered %d objects (%v), want all 10 kinds", got, kinds(o))
	}
	want := map[string]string{
		"app.kubernetes.io/name":       "flask-app",
		"app.kubernetes.io/instance":   testRelease,
		"app.kubernetes.io/version":    "v1.2.3",
		"app.kubernetes.io/component":  "web",
		"app.kubernetes.io/part-of":    "flask-eks",
		"app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart":                "flask-app-0.1.0",
	}
	check := func(what string, got map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: label %s=%q, want %q", what, k, got[k], v)
			}
		}
	}
	for _, obj := range o.All {
		check(fmt.Sprintf("%T %s", obj, obj.GetName()), obj.GetLabels())
	}
	check("pod template", o.Deployment.Spec.Template.Labels)
}

func TestNameOverrides(t *testing.T) {
	o := render(t, with("fullnameOverride", "web", "nameOverride", "site"))
	for _, obj := range o.All {
		if obj.GetName() != "web" {
			t.Errorf("%T named %q, want fullnameOverride", obj, obj.GetName())
		}
		if obj.GetLabels()["app.kubernetes.io/name"] != "site" {
			t.Errorf("%T name label %q, want nameOverride", obj, obj.GetLabels()["app.kubernetes.io/name"])
		}
	}
	// A release name containing the chart name is used alone.
	m, err := chartrender.Render(chartDir, baseValues(), "flask-app-dev", testNamespace, testKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	if m[0].Name != "flask-app-dev" {
		t.Errorf("name %q, want flask-app-dev", m[0].Name)
	}
}

// TestChartDirectoryHoldsOnlyTheChart: what `helm package` reads from app/chart (after
// .helmignore) is the whole directory, and holds no Go code or test data.
func TestChartDirectoryHoldsOnlyTheChart(t *testing.T) {
	ch, err := chartrender.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	for _, f := range ch.Raw {
		loaded = append(loaded, f.Name)
	}
	var onDisk []string
	err = filepath.WalkDir(chartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(loaded)
	sort.Strings(onDisk)
	if !slices.Equal(loaded, onDisk) {
		t.Errorf("helm loads %v, the directory holds %v", loaded, onDisk)
	}
	for _, n := range onDisk {
		if strings.HasSuffix(n, ".go") || strings.HasPrefix(n, "testdata/") {
			t.Errorf("the chart directory holds %s", n)
		}
	}
}

func intOrStr(v *intstr.IntOrString) string {
	if v == nil {
		return ""
	}
	return v.String()
}

func isTrue(b *bool) bool { return b != nil && *b }

func is(p *int64, want int64) bool { return p != nil && *p == want }

// TestCIValuesRender renders the chart with every ci/<stack>-values.yaml (the values the program
// passes for each stack, kept in step by the root package's TestChartCIValues) and decodes every
// object strictly.
func TestCIValuesRender(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("ci values files %v (%v), want one per stack", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var values map[string]any
			if err := yaml.Unmarshal(raw, &values); err != nil {
				t.Fatal(err)
			}
			o := render(t, values)
			if o.Deployment == nil || o.NetworkPolicy == nil || o.Secret != nil {
				t.Errorf("rendered %v; want a Deployment and a NetworkPolicy, and no Secret (the program passes an existing one)", kinds(o))
			}
		})
	}
}
