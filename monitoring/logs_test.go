package monitoring

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

// Resource types the logs half declares.
const (
	tBucket    = "aws:s3/bucketV2:BucketV2"
	tPAB       = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tOwnership = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tSSE       = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tLifecycle = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	tPolicy    = "aws:s3/bucketPolicy:BucketPolicy"
	tRole      = "aws:iam/role:Role"
	tRolePol   = "aws:iam/rolePolicy:RolePolicy"
	tAssoc     = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
	tChartV4   = "kubernetes:helm.sh/v4:Chart"
	tRelease   = "kubernetes:helm.sh/v3:Release"
)

func withLogs(a *MonitoringArgs) {
	a.Logs = LogsSettings{
		Enabled: true, ClusterName: pulumi.String("flask-eks-test"), Region: "eu-west-1",
		NamePrefix: "flask-eks-test", RetentionDays: 30, StorageSize: "10Gi", Protect: true,
	}
}

func runLogs(t *testing.T, mutate func(*MonitoringArgs)) *monRun {
	t.Helper()
	return mustRun(t, func(a *MonitoringArgs) {
		withLogs(a)
		if mutate != nil {
			mutate(a)
		}
	})
}

// decodeStrict decodes a recorded Helm values property into out, refusing unknown keys, so a
// key the typed values do not model (a typo, or one never checked against the chart) fails.
func decodeStrict(t *testing.T, raw resource.PropertyValue, out any) {
	t.Helper()
	if raw.ContainsSecrets() {
		t.Fatal("chart values hold a secret")
	}
	pulumitest.DecodeStrict(t, raw.Mappable(), out)
}

func (r *monRun) lokiValues(t *testing.T) lokiValues {
	t.Helper()
	var v lokiValues
	decodeStrict(t, r.m.One(t, tChartV4, "monitoring-logs-loki").Raw["values"], &v)
	return v
}

func (r *monRun) alloyValues(t *testing.T) alloyValues {
	t.Helper()
	var v alloyValues
	decodeStrict(t, r.m.One(t, tChartV4, "monitoring-logs-alloy").Raw["values"], &v)
	return v
}

// TestLogsBucket: private, owner-enforced, SSE-S3, TLS only, chunks expiring one day after
// Loki's own retention, protected and not force-destroyed in prod.
func TestLogsBucket(t *testing.T) {
	r := runLogs(t, nil)
	bucket := r.m.Only(t, tBucket)
	if bucket.Inputs["bucketPrefix"] != "flask-eks-test-loki-" || bucket.Inputs["forceDestroy"] != false || !bucket.Protect {
		t.Errorf("bucket %v protect=%v, want prefix flask-eks-test-loki-, no force-destroy, protected", bucket.Inputs, bucket.Protect)
	}
	pab := r.m.Only(t, tPAB).Inputs
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab[k] != true {
			t.Errorf("public access block %s = %v", k, pab[k])
		}
	}
	if own := r.m.Only(t, tOwnership).Inputs["rule"].(map[string]any)["objectOwnership"]; own != "BucketOwnerEnforced" {
		t.Errorf("object ownership %v", own)
	}
	sse := r.m.Only(t, tSSE).Inputs["rules"].([]any)[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)
	if sse["sseAlgorithm"] != "AES256" {
		t.Errorf("default encryption %v, want SSE-S3", sse)
	}
	for _, n := range []pulumitest.Node{r.m.Only(t, tPAB), r.m.Only(t, tOwnership), r.m.Only(t, tSSE), r.m.Only(t, tLifecycle), r.m.Only(t, tPolicy)} {
		if n.Inputs["bucket"] != bucket.ID {
			t.Errorf("%s applies to %v, not the log bucket %s", n.Type, n.Inputs["bucket"], bucket.ID)
		}
	}

	// Lifecycle: only the tenant's chunk prefix expires, after retention + 1 day (Loki's
	// compactor deletes first); the other rule only aborts uploads.
	rules := r.m.Only(t, tLifecycle).Inputs["rules"].([]any)
	if len(rules) != 2 {
		t.Fatalf("lifecycle rules %v", rules)
	}
	expire := rules[0].(map[string]any)
	if expire["status"] != "Enabled" || expire["filter"].(map[string]any)["prefix"] != "fake/" ||
		expire["expiration"].(map[string]any)["days"] != float64(31) {
		t.Errorf("expiration rule %v, want fake/ after 31 days", expire)
	}
	abort := rules[1].(map[string]any)
	if _, ok := abort["expiration"]; ok || abort["abortIncompleteMultipartUpload"].(map[string]any)["daysAfterInitiation"] != float64(1) {
		t.Errorf("second rule %v, want only an abort of incomplete uploads", abort)
	}
	lv := r.lokiValues(t)
	if lv.Loki.LimitsConfig.RetentionPeriod != "720h" || lv.Loki.LimitsConfig.MaxQueryLookback != "720h" || !lv.Loki.Compactor.RetentionEnabled {
		t.Errorf("Loki retention %+v compactor %+v, want 720h enforced by the compactor", lv.Loki.LimitsConfig, lv.Loki.Compactor)
	}

	// The bucket policy grants nothing and refuses plain HTTP on the bucket and its objects.
	var doc struct {
		Statement []struct {
			Effect    string
			Principal any
			Action    any
			Resource  []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(r.m.Only(t, tPolicy).Inputs["policy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:s3:::" + bucket.ID
	if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Deny" || doc.Statement[0].Principal != "*" ||
		doc.Statement[0].Condition["Bool"]["aws:SecureTransport"] != "false" ||
		!slices.Equal(doc.Statement[0].Resource, []string{arn, arn + "/*"}) {
		t.Errorf("bucket policy %+v, want only a TLS-only deny on %s", doc, arn)
	}
}

func TestLogsBucketDevAndKMS(t *testing.T) {
	key := "arn:aws:kms:eu-west-1:123456789012:key/0f0e0d0c-1234-4abc-8def-0123456789ab"
	r := runLogs(t, func(a *MonitoringArgs) {
		a.Logs.Protect, a.Logs.ForceDestroy, a.Logs.KMSKeyArn = false, true, pulumi.String(key)
	})
	bucket := r.m.Only(t, tBucket)
	if bucket.Inputs["forceDestroy"] != true || bucket.Protect {
		t.Errorf("dev bucket %v protect=%v", bucket.Inputs, bucket.Protect)
	}
	rule := r.m.Only(t, tSSE).Inputs["rules"].([]any)[0].(map[string]any)
	sse := rule["applyServerSideEncryptionByDefault"].(map[string]any)
	if sse["sseAlgorithm"] != "aws:kms" || sse["kmsMasterKeyId"] != key || rule["bucketKeyEnabled"] != true {
		t.Errorf("encryption %v, want SSE-KMS with the key and a bucket key", rule)
	}
	if p := r.m.Only(t, tRolePol).Inputs["policy"].(string); !strings.Contains(p, key) || !strings.Contains(p, "kms:GenerateDataKey") {
		t.Errorf("Loki's policy %s does not let it use the key", p)
	}
}

// TestLokiAccessPolicy: the four S3 actions Loki needs, on this bucket and its objects only.
func TestLokiAccessPolicy(t *testing.T) {
	r := runLogs(t, nil)
	arn := "arn:aws:s3:::" + r.m.Only(t, tBucket).ID
	var doc struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	pol := r.m.Only(t, tRolePol)
	if err := json.Unmarshal([]byte(pol.Inputs["policy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("statement %+v", s)
		}
		for _, res := range s.Resource {
			got[res] = append(got[res], s.Action...)
		}
	}
	want := map[string][]string{arn: {"s3:ListBucket"}, arn + "/*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}}
	if !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("Loki may do %v, want exactly %v", got, want)
	}
	if role := r.m.Only(t, tRole); pol.Inputs["role"] != role.Inputs["name"] && pol.Inputs["role"] != role.ID {
		t.Errorf("the policy is on role %v", pol.Inputs["role"])
	}
}

// TestLokiPodIdentity: the association and the role's trust name the ServiceAccount the chart
// really creates, in the namespace Loki runs in.
func TestLokiPodIdentity(t *testing.T) {
	r := runLogs(t, nil)
	v := r.lokiValues(t)
	if !v.ServiceAccount.Create || v.ServiceAccount.Name != LokiServiceAccount {
		t.Fatalf("Loki's ServiceAccount %+v, want %q created", v.ServiceAccount, LokiServiceAccount)
	}
	assoc := r.m.Only(t, tAssoc).Inputs
	if assoc["namespace"] != "monitoring" || assoc["serviceAccount"] != LokiServiceAccount || assoc["clusterName"] != "flask-eks-test" {
		t.Errorf("association %v, want monitoring/%s on flask-eks-test", assoc, LokiServiceAccount)
	}
	trust := r.m.Only(t, tRole).Inputs["assumeRolePolicy"].(string)
	for _, want := range []string{`"aws:RequestTag/kubernetes-namespace":"monitoring"`, `"aws:RequestTag/kubernetes-service-account":"loki"`, `"pods.eks.amazonaws.com"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("trust policy %s lacks %s", trust, want)
		}
	}
	// The chart renders its objects in the namespace it is given: the association's.
	if ns := r.m.One(t, tChartV4, "monitoring-logs-loki").Inputs["namespace"]; ns != "monitoring" {
		t.Errorf("Loki chart namespace %v", ns)
	}
}

// TestLogsOrder: credentials, rule file, bucket and StorageClass before Loki; Loki before
// Alloy, but not before the kube-prometheus-stack release: Grafana's Loki data source is only
// configuration, so the two install side by side.
func TestLogsOrder(t *testing.T) {
	// The app's namespace stands in for the StorageClass the caller passes.
	r := runLogs(t, func(a *MonitoringArgs) { a.ReleaseDependsOn = []pulumi.Resource{a.App.Namespace} })
	g := r.m.Graph()
	loki := r.m.One(t, tChartV4, "monitoring-logs-loki")
	alloy := r.m.One(t, tChartV4, "monitoring-logs-alloy")
	for _, dep := range []pulumitest.Node{
		r.m.Only(t, tAssoc), r.m.One(t, "kubernetes:core/v1:ConfigMap", "monitoring-logs-loki-rules"),
		r.m.Only(t, tSSE), r.m.Only(t, tPolicy), r.m.Only(t, tLifecycle), r.m.One(t, "kubernetes:core/v1:Namespace", "app-ns"),
	} {
		if !pulumitest.DependsOn(g, loki.URN, dep.URN) {
			t.Errorf("Loki does not wait for %s %s", dep.Type, dep.Name)
		}
	}
	if !pulumitest.DependsOn(g, alloy.URN, loki.URN) {
		t.Error("Alloy does not wait for Loki")
	}
	if pulumitest.DependsOn(g, r.m.One(t, tRelease, "monitoring-kube-prometheus-stack").URN, loki.URN) {
		t.Error("the kube-prometheus-stack release waits for Loki, although Grafana's data source is only configuration")
	}
	if pulumitest.DependsOn(g, loki.URN, r.m.One(t, tRelease, "monitoring-kube-prometheus-stack").URN) {
		t.Error("Loki waits for the release: a cycle")
	}
	for _, n := range g {
		if n.Type == "flask-eks:monitoring:Logs" && n.Parent != r.m.URN("", "flask-eks:monitoring:Monitoring", "monitoring") {
			t.Errorf("the Logs component's parent is %q", n.Parent)
		}
	}
}

// TestLokiValues: monolithic with S3, nothing else running, restricted pods, the ruler on the
// mounted rule file sending to the stack's Alertmanager.
func TestLokiValues(t *testing.T) {
	r := runLogs(t, nil)
	v := r.lokiValues(t)
	if v.DeploymentMode != "Monolithic" || v.SingleBinary.Replicas != 1 || v.Read.Replicas+v.Write.Replicas+v.Backend.Replicas != 0 {
		t.Errorf("mode %q single %d read/write/backend %d/%d/%d", v.DeploymentMode, v.SingleBinary.Replicas, v.Read.Replicas, v.Write.Replicas, v.Backend.Replicas)
	}
	for name, on := range map[string]bool{"chunksCache": v.ChunksCache.Enabled, "resultsCache": v.ResultsCache.Enabled, "minio": v.Minio.Enabled,
		"gateway": v.Gateway.Enabled, "lokiCanary": v.LokiCanary.Enabled, "test": v.Test.Enabled, "sidecar.rules": v.Sidecar.Rules.Enabled} {
		if on {
			t.Errorf("%s is on", name)
		}
	}
	l := v.Loki
	if l.AuthEnabled || l.Analytics.ReportingEnabled || l.CommonConfig.ReplicationFactor != 1 {
		t.Errorf("auth %v reporting %v replication %d", l.AuthEnabled, l.Analytics.ReportingEnabled, l.CommonConfig.ReplicationFactor)
	}
	if p := l.SchemaConfig.Configs; len(p) != 1 || p[0].Store != "tsdb" || p[0].Schema != "v13" || p[0].ObjectStore != "s3" || p[0].Index.Period != "24h" {
		t.Errorf("schema %+v, want TSDB v13 on S3 (structured metadata needs v13)", p)
	}
	if l.Storage.Type != "s3" || l.Storage.BucketNames.Chunks != r.m.Only(t, tBucket).ID || l.Storage.S3.Region != "eu-west-1" {
		t.Errorf("storage %+v, want the stack's bucket", l.Storage)
	}
	if !l.LimitsConfig.AllowStructuredMetadata || l.Compactor.DeleteRequestStore != "s3" {
		t.Errorf("limits %+v compactor %+v", l.LimitsConfig, l.Compactor)
	}
	if l.RulerConfig.AlertmanagerURL != "http://kube-prometheus-stack-alertmanager.monitoring.svc:9093" ||
		l.RulerConfig.Storage.Type != "local" || l.RulerConfig.Storage.Local.Directory != "/etc/loki/rules" {
		t.Errorf("ruler %+v", l.RulerConfig)
	}
	sb := v.SingleBinary
	if len(sb.ExtraVolumes) != 1 || sb.ExtraVolumes[0].ConfigMap == nil || sb.ExtraVolumes[0].ConfigMap.Name != LokiRulesConfigMap ||
		len(sb.ExtraVolumeMounts) != 1 || sb.ExtraVolumeMounts[0].MountPath != "/etc/loki/rules/fake" || !sb.ExtraVolumeMounts[0].ReadOnly {
		t.Errorf("rules volume %+v %+v, want the ConfigMap read-only at the tenant's rule directory", sb.ExtraVolumes, sb.ExtraVolumeMounts)
	}
	if !sb.Persistence.Enabled || sb.Persistence.StorageClass != "gp3" || sb.Persistence.Size != "10Gi" || sb.Resources.Requests.CPU == "" {
		t.Errorf("persistence %+v resources %+v", sb.Persistence, sb.Resources)
	}
	checkRestricted(t, "loki", l.PodSecurityContext, l.ContainerSecurityContext)
	if v.Defaults.AutomountServiceAccountToken || v.ServiceAccount.AutomountServiceAccountToken {
		t.Error("Loki mounts a Kubernetes API token it never uses")
	}

	// The rule ConfigMap holds the rendered rule file under the app's name, where the
	// volume puts it.
	cm := r.m.One(t, "kubernetes:core/v1:ConfigMap", "monitoring-logs-loki-rules").Inputs
	if cm["metadata"].(map[string]any)["name"] != LokiRulesConfigMap || cm["metadata"].(map[string]any)["namespace"] != "monitoring" {
		t.Errorf("rules ConfigMap metadata %v", cm["metadata"])
	}
	if data := cm["data"].(map[string]any)["flask-app.yaml"]; data == nil || !strings.Contains(data.(string), "AppErrorLogRate") {
		t.Errorf("rules ConfigMap data %v", cm["data"])
	}
}

func checkRestricted(t *testing.T, what string, p podSecurityContext, c containerSecurityContext) {
	t.Helper()
	if !p.RunAsNonRoot || p.RunAsUser == 0 || p.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s pod security context %+v", what, p)
	}
	if c.AllowPrivilegeEscalation || !c.ReadOnlyRootFilesystem || !slices.Equal(c.Capabilities.Drop, []string{"ALL"}) || c.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s container security context %+v", what, c)
	}
}

// TestAlloyValues: a DaemonSet with no hostPath, restricted, with RBAC for pods and their logs
// only, no phoning home, and the configuration that ships to Loki.
func TestAlloyValues(t *testing.T) {
	r := runLogs(t, nil)
	v := r.alloyValues(t)
	if v.Controller.Type != "daemonset" || v.CRDs.Create || v.Alloy.EnableReporting || v.Alloy.Mounts.Varlog || v.Alloy.Mounts.Dockercontainers {
		t.Errorf("alloy %+v", v)
	}
	checkRestricted(t, "alloy", v.Global.PodSecurityContext, v.Alloy.SecurityContext)
	if len(v.Alloy.Mounts.Extra) != 1 || v.Alloy.Mounts.Extra[0].MountPath != v.Alloy.StoragePath ||
		len(v.Controller.Volumes.Extra) != 1 || v.Controller.Volumes.Extra[0].EmptyDir == nil {
		t.Errorf("storage path %q mounts %+v volumes %+v, want an emptyDir", v.Alloy.StoragePath, v.Alloy.Mounts.Extra, v.Controller.Volumes.Extra)
	}
	var granted []string
	for _, rule := range append(v.RBAC.Rules, v.RBAC.ClusterRules...) {
		if !slices.Equal(rule.APIGroups, []string{""}) || !slices.Equal(rule.Verbs, []string{"get", "list", "watch"}) {
			t.Errorf("RBAC rule %+v", rule)
		}
		granted = append(granted, rule.Resources...)
	}
	if !slices.Equal(granted, []string{"pods", "pods/log"}) {
		t.Errorf("Alloy may read %v, want pods and pods/log only", granted)
	}

	c := v.Alloy.ConfigMap.Content
	for _, want := range []string{
		`loki.source.kubernetes "pods"`,
		`field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)`,
		`url = "http://loki.monitoring.svc:3100/loki/api/v1/push"`,
	} {
		if !strings.Contains(c, want) {
			t.Errorf("the Alloy config lacks %s", want)
		}
	}
	if strings.Contains(c, "{{") || strings.Contains(c, "<<") || strings.Contains(c, "local.file_match") {
		t.Error("the Alloy config has template braces or reads files")
	}
	labels, metadata := alloyLabels(t, c)
	if !slices.Equal(labels, []string{"app", "container", "level", "namespace"}) {
		t.Errorf("stream labels %v, want app, container, level, namespace (bounded)", labels)
	}
	if !slices.Equal(metadata, []string{"duration_ms", "method", "pod", "route", "status"}) {
		t.Errorf("structured metadata %v", metadata)
	}
}

// TestGrafanaLokiDataSource: Loki is a data source of Grafana, with the uid the dashboard uses.
func TestGrafanaLokiDataSource(t *testing.T) {
	v := runLogs(t, nil).values(t)
	var loki []dataSource
	for _, ds := range v.Grafana.AdditionalDataSources {
		if ds.Type == "loki" {
			loki = append(loki, ds)
		}
	}
	if len(loki) != 1 || loki[0].UID != LokiDataSourceUID || loki[0].URL != "http://loki.monitoring.svc:3100" || loki[0].Access != "proxy" {
		t.Errorf("Loki data sources %+v", loki)
	}
	// The dashboard's Loki panels name that uid.
	a, err := renderAssets(assetParams{AppNamespace: "flask-app", AppName: "flask-app", AppLabel: "flask-app", Logs: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range decodeDashboard(t, []byte(a.dashboardJSON)).Panels {
		if p.Datasource.Type == "loki" {
			n++
			if p.Datasource.UID != LokiDataSourceUID {
				t.Errorf("panel %q uses Loki uid %q", p.Title, p.Datasource.UID)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d Loki panels, want the logs and the error-rate panel", n)
	}
}

// TestNoSecretInLogsValues: neither chart gets a credential; Loki's S3 access comes from Pod
// Identity.
func TestNoSecretInLogsValues(t *testing.T) {
	r := runLogs(t, nil)
	password := r.password.String(t)
	for _, name := range []string{"monitoring-logs-loki", "monitoring-logs-alloy"} {
		raw := r.m.One(t, tChartV4, name).Raw["values"]
		dump := fmt.Sprint(raw.Mappable())
		if raw.ContainsSecrets() || strings.Contains(dump, password) {
			t.Errorf("%s values hold a secret", name)
		}
		for _, k := range []string{"accessKeyId", "secretAccessKey", "access_key_id", "secret_access_key", "existingSecret"} {
			if strings.Contains(dump, k) {
				t.Errorf("%s values set %s", name, k)
			}
		}
	}
}

// TestLogsNetworkPolicies: Loki and Alloy are left out of the broad "stack" policy and get
// their own.
func TestLogsNetworkPolicies(t *testing.T) {
	r := runLogs(t, nil)
	policies := map[string]resource.PropertyMap{}
	for _, n := range r.m.ByType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		policies[n.Raw["metadata"].ObjectValue()["name"].StringValue()] = n.Raw["spec"].ObjectValue()
	}
	if got := slices.Sorted(maps.Keys(policies)); !slices.Equal(got, []string{"alertmanager-egress", "alloy", "default-deny", "grafana-from-alb", "loki", "stack"}) {
		t.Fatalf("policies %v", got)
	}
	stackSel := fmt.Sprint(policies["stack"]["podSelector"].Mappable())
	if !strings.Contains(stackSel, "NotIn") || !strings.Contains(stackSel, "loki") || !strings.Contains(stackSel, "alloy") {
		t.Errorf("stack selector %s, want every pod but Loki's and Alloy's", stackSel)
	}

	loki := policies["loki"]
	if sel := fmt.Sprint(loki["podSelector"].Mappable()); !strings.Contains(sel, "app.kubernetes.io/name:loki") {
		t.Errorf("loki policy selects %s", sel)
	}
	in := fmt.Sprint(loki["ingress"].Mappable())
	for _, want := range []string{"app.kubernetes.io/name:alloy", "app.kubernetes.io/name:grafana", "port:3100", "port:9095", "port:7946"} {
		if !strings.Contains(in, want) {
			t.Errorf("loki ingress %s lacks %s", in, want)
		}
	}
	if strings.Contains(in, "prometheus") || strings.Contains(in, "ipBlock") {
		t.Errorf("loki ingress %s admits more than Alloy, Grafana and itself", in)
	}
	out := fmt.Sprint(loki["egress"].Mappable())
	for _, want := range []string{"169.254.170.23/32", "port:80", "1.0.0.0/8", "port:443", "app.kubernetes.io/name:alertmanager", "port:9093"} {
		if !strings.Contains(out, want) {
			t.Errorf("loki egress %s lacks %s", out, want)
		}
	}

	alloy := policies["alloy"]
	if types := fmt.Sprint(alloy["policyTypes"].Mappable()); types != "[Egress]" {
		t.Errorf("alloy policy types %s: nothing connects to Alloy, default-deny covers ingress", types)
	}
	out = fmt.Sprint(alloy["egress"].Mappable())
	for _, want := range []string{"172.20.0.1/32", "10.30.0.0/16", "port:443", "app.kubernetes.io/name:loki", "port:3100"} {
		if !strings.Contains(out, want) {
			t.Errorf("alloy egress %s lacks %s", out, want)
		}
	}
	if strings.Contains(out, "0.0.0.0/0") || strings.Contains(out, "1.0.0.0/8") {
		t.Errorf("alloy egress %s reaches the internet", out)
	}
}

// TestLogsOff: without logs there is no bucket, no chart, no Loki data source or panel.
func TestLogsOff(t *testing.T) {
	r := mustRun(t, nil)
	for _, typ := range []string{tBucket, tChartV4, tAssoc, "flask-eks:monitoring:Logs"} {
		if n := len(r.m.ByType(typ)); n != 0 {
			t.Errorf("%d %s without logs", n, typ)
		}
	}
	for _, ds := range r.values(t).Grafana.AdditionalDataSources {
		if ds.Type == "loki" {
			t.Error("a Loki data source without Loki")
		}
	}
	dash := r.m.One(t, "kubernetes:core/v1:ConfigMap", "monitoring-dashboard").Inputs["data"].(map[string]any)["flask-app.json"].(string)
	if strings.Contains(dash, `"loki"`) {
		t.Error("the dashboard has Loki panels without Loki")
	}
	with := runLogs(t, nil)
	dash = with.m.One(t, "kubernetes:core/v1:ConfigMap", "monitoring-dashboard").Inputs["data"].(map[string]any)["flask-app.json"].(string)
	if !strings.Contains(dash, `"uid":"loki"`) {
		t.Error("the dashboard has no Loki panel with logs on")
	}
}

func TestLogsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*MonitoringArgs){
		"no cluster":             func(a *MonitoringArgs) { a.Logs.ClusterName = nil },
		"no region":              func(a *MonitoringArgs) { a.Logs.Region = "" },
		"no retention":           func(a *MonitoringArgs) { a.Logs.RetentionDays = 0 },
		"no volume":              func(a *MonitoringArgs) { a.Logs.StorageSize = "" },
		"upper-case prefix":      func(a *MonitoringArgs) { a.Logs.NamePrefix = "Flask" },
		"long prefix":            func(a *MonitoringArgs) { a.Logs.NamePrefix = strings.Repeat("a", 32) },
		"protected and forcible": func(a *MonitoringArgs) { a.Logs.ForceDestroy = true },
	} {
		r, err := runMonitoring(t, func(a *MonitoringArgs) { withLogs(a); mutate(a) })
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if len(r.m.Graph()) > 2 { // the test's own provider and app namespace
			t.Errorf("%s: %d resources declared before validation failed", name, len(r.m.Graph()))
		}
	}
}
