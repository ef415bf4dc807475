package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"sigs.k8s.io/yaml"

	"github.com/example/flask-eks/addons/dns"
	"github.com/example/flask-eks/addons/externalsecrets"
	"github.com/example/flask-eks/addons/keda"
	"github.com/example/flask-eks/eks"
	"github.com/example/flask-eks/internal/validate"
	"github.com/example/flask-eks/vpc"
)

// projectYAML is Pulumi.yaml. Its config schema is the single source of truth for the keys the
// program reads and their defaults: the CLI applies those defaults in `pulumi up`, and
// readConfig applies the same ones when the program runs without the CLI (unit tests, the
// graph snapshot), so both paths see one set of values.
//
//go:embed Pulumi.yaml
var projectYAML []byte

// Environments accepted in the environment key.
var environments = []string{"dev", "staging", envProd, envLocal}

// Cluster modes accepted in the clusterMode key.
const (
	modeEKS      = "eks"
	modeExisting = "existing"
)

// Config is the whole stack configuration, typed and validated. readConfig builds it before
// the program declares any resource; nothing else reads Pulumi config.
type Config struct {
	Project     string
	Stack       string
	Environment string
	ClusterMode string // eks or existing
	Region      string // aws:region; required in eks mode
	// Tags go on every AWS resource through the AWS provider's default tags.
	Tags map[string]string

	Network    NetworkConfig
	Cluster    ClusterConfig
	Registry   RegistryConfig
	App        AppConfig
	Ingress    IngressConfig
	Monitoring MonitoringConfig

	// Warnings are accepted but questionable settings; the program logs them.
	Warnings []string
}

// maxNamePrefix is the longest namePrefix: an S3 bucket name made from it, a suffix such as
// "-loki-" and the 26 characters Pulumi appends to a bucketPrefix must fit in 63.
const maxNamePrefix = 31

// namePrefix names the physical resources of a stack: "flask-eks-dev".
func (c *Config) namePrefix() string { return c.Project + "-" + c.Stack }

// prod reports whether this is a prod stack, which protects what is expensive to lose and
// refuses settings the other stacks only warn about.
func (c *Config) prod() bool { return c.Environment == envProd }

// NetworkConfig shapes the VPC.
type NetworkConfig struct {
	VpcCidr string
	AzCount int
	NatMode vpc.NatMode
}

// ClusterConfig shapes the EKS control plane. KubeContext is for existing mode only.
type ClusterConfig struct {
	KubernetesVersion    string
	EndpointPublicAccess bool
	PublicAccessCidrs    []string
	LogTypes             []string
	// AdminPrincipalArns get cluster-admin, ViewerPrincipalArns read-only access including
	// Secrets (CI previews read Helm's release records). Neither lists the principal that
	// creates the cluster: EKS gives it an admin entry of its own.
	AdminPrincipalArns  []string
	ViewerPrincipalArns []string
	KubeContext         string
}

// RegistryConfig shapes the ECR repository.
type RegistryConfig struct {
	KeepImages  int
	ForceDelete bool
}

// AppConfig is what the app component and its chart need.
type AppConfig struct {
	Namespace             string
	Replicas              int
	MaxReplicas           int
	LogLevel              string
	APIBaseURL            string
	MaxConnections        int
	GunicornWorkers       int
	GunicornThreads       int
	MemoryMiB             int // the container's memory limit (and request)
	RevealSecrets         bool
	Image                 string // existing mode only
	PodIdentityPolicyArns []string
	// SecretKey and DBPassword come from `pulumi config set --secret`; unset ones are
	// generated with pulumi-random in main.go. Both stay unset with ExternalSecrets.
	SecretKey  secretValue
	DBPassword secretValue
	// ExternalSecrets keeps the app's secrets in AWS Secrets Manager, synced into the cluster by
	// External Secrets every SecretsRefreshInterval (a Go duration such as "5m").
	ExternalSecrets        bool
	SecretsRefreshInterval string
	// KEDA scales the app on its request rate (KEDATargetRPS requests per second per pod)
	// between Replicas and MaxReplicas, in place of the chart's CPU-based HPA.
	KEDA          bool
	KEDATargetRPS int
}

// IngressConfig is how the app and Grafana are reached: load balancers, host names and TLS.
type IngressConfig struct {
	// Domain is the app's host name; "" serves the app over HTTP on the ALB's generated name,
	// a mode for trying the program out.
	Domain string
	// GrafanaDomain is Grafana's host name, "" for none.
	GrafanaDomain string
	// HostedZone is the Route 53 zone (name or ID) that holds Domain and GrafanaDomain: the
	// program validates its ACM certificate there, and ExternalDNS writes the records.
	HostedZone string
	// CertificateArn overrides the ACM certificate the program would request: a certificate
	// managed elsewhere that covers both host names.
	CertificateArn string
	// GrafanaExposure is internal (an internal ALB), public (an internet-facing ALB limited to
	// GrafanaInboundCidrs, TLS only) or none (kubectl port-forward).
	GrafanaExposure     string
	GrafanaInboundCidrs []string
	// AccessLogDays is how long the ALBs' access logs are kept.
	AccessLogDays int
	// ClassName (existing mode only) is the cluster's own IngressClass, "" for no Ingress;
	// ServiceType is the app Service's type.
	ClassName   string
	ServiceType string
}

// TLS reports whether the ALBs serve HTTPS: with a certificate from the config, or one the
// program requests and validates in the hosted zone.
func (i IngressConfig) TLS() bool {
	return i.CertificateArn != "" || (i.Domain != "" && i.HostedZone != "")
}

// Grafana exposures.
const (
	grafanaInternal = "internal"
	grafanaPublic   = "public"
	grafanaNone     = "none"
)

// MonitoringConfig shapes kube-prometheus-stack.
type MonitoringConfig struct {
	Enabled               bool
	PrometheusRetention   string
	PrometheusStorageSize string
	GrafanaStorageSize    string
	NodeExporter          bool
	// AlertWebhookURL is a Slack or generic webhook receiver for Alertmanager; unset sends
	// alerts nowhere.
	AlertWebhookURL secretValue
	// Logs collects every pod's logs into Loki (stored in S3 for LogRetentionDays), next to the
	// metrics in Grafana.
	Logs             bool
	LogRetentionDays int
	LokiStorageSize  string
}

// secretValue holds a secret config value in memory. It never prints its value, so a stray
// %v or a test failure message cannot leak it.
type secretValue struct {
	value string
	set   bool
}

func (s secretValue) String() string   { return "[secret]" }
func (s secretValue) GoString() string { return "[secret]" }

// IsSet reports whether the stack configured the value.
func (s secretValue) IsSet() bool { return s.set }

// Reveal returns the plaintext, for wrapping straight into a Pulumi secret.
func (s secretValue) Reveal() string { return s.value }

// configSource is where readConfig finds the stack's raw values: the Pulumi context when the
// program runs, plain maps in tests.
type configSource interface {
	// Get returns a value by full key ("flask-eks:vpcCidr", "aws:region"). Arrays and objects
	// arrive JSON-encoded, as the Pulumi engine passes them to programs.
	Get(key string) (string, bool)
	// IsSecret reports whether the stack stores the key encrypted (`pulumi config set --secret`).
	IsSecret(key string) bool
}

// contextConfig reads the config of a running program.
type contextConfig struct{ ctx *pulumi.Context }

func (c contextConfig) Get(key string) (string, bool) { return c.ctx.GetConfig(key) }
func (c contextConfig) IsSecret(key string) bool      { return c.ctx.IsConfigSecret(key) }

// mapConfig is a configSource over a map of values and the set of keys stored as secrets.
type mapConfig struct {
	values  map[string]string
	secrets map[string]bool
}

func (m mapConfig) Get(key string) (string, bool) { v, ok := m.values[key]; return v, ok }
func (m mapConfig) IsSecret(key string) bool      { return m.secrets[key] }

// schemaKey is one key of Pulumi.yaml's config schema.
type schemaKey struct {
	Type        string `json:"type"`
	Description string `json:"description"`
	Default     any    `json:"default"`
	Secret      bool   `json:"secret"`
}

// projectSchema parses the config schema out of the embedded Pulumi.yaml.
func projectSchema() (name string, keys map[string]schemaKey, err error) {
	var p struct {
		Name   string               `json:"name"`
		Config map[string]schemaKey `json:"config"`
	}
	if err := yaml.Unmarshal(projectYAML, &p); err != nil {
		return "", nil, fmt.Errorf("parsing embedded Pulumi.yaml: %w", err)
	}
	return p.Name, p.Config, nil
}

// reader reads typed values for one project, applying Pulumi.yaml defaults and collecting
// every problem instead of stopping at the first, so one error names them all.
type reader struct {
	project  string
	src      configSource
	schema   map[string]schemaKey
	problems []string
	warnings []string
}

func (r *reader) fullKey(key string) string { return r.project + ":" + key }

func (r *reader) fail(key string, format string, args ...any) {
	r.problems = append(r.problems, r.fullKey(key)+": "+fmt.Sprintf(format, args...))
}

func (r *reader) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// raw returns the configured value or the schema default, JSON-encoded for non-strings.
func (r *reader) raw(key string) (string, bool) {
	if v, ok := r.src.Get(r.fullKey(key)); ok {
		return v, true
	}
	def, declared := r.schema[r.fullKey(key)]
	if !declared {
		// A programming error, not a user one: every key read must be declared.
		panic(fmt.Sprintf("config key %q is read but not declared in Pulumi.yaml", r.fullKey(key)))
	}
	switch d := def.Default.(type) {
	case nil:
		return "", false
	case string:
		return d, true
	default:
		b, _ := json.Marshal(d)
		return string(b), true
	}
}

func (r *reader) str(key string) string {
	v, _ := r.raw(key)
	return strings.TrimSpace(v)
}

func (r *reader) oneOf(key string, accepted []string) string {
	v := r.str(key)
	switch {
	case v == "":
		r.fail(key, "is not set; accepted values: %s", strings.Join(accepted, ", "))
	case !slices.Contains(accepted, v):
		r.fail(key, "%q is not accepted; accepted values: %s", v, strings.Join(accepted, ", "))
	}
	return v
}

func (r *reader) integer(key string, lo, hi int) int {
	v := r.str(key)
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(key, "%q is not an integer; accepted: an integer from %d to %d", v, lo, hi)
		return 0
	}
	if n < lo || n > hi {
		r.fail(key, "%d is out of range; accepted: an integer from %d to %d", n, lo, hi)
	}
	return n
}

func (r *reader) boolean(key string) bool {
	v := r.str(key)
	b, err := strconv.ParseBool(v)
	if err != nil || (v != "true" && v != "false") {
		r.fail(key, "%q is not a boolean; accepted values: true, false", v)
	}
	return b
}

func (r *reader) list(key string) []string {
	v := r.str(key)
	if v == "" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		r.fail(key, "%q is not a list of strings; accepted: a YAML list such as [a, b]", v)
		return nil
	}
	return out
}

func (r *reader) object(key string) map[string]string {
	v := r.str(key)
	if v == "" {
		return nil
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		r.fail(key, "%q is not a map of strings; accepted: a YAML map of string keys to string values", v)
		return nil
	}
	return out
}

// secret reads a secret key. Unset (or empty, the schema default) means generated. A value must
// be stored encrypted: `pulumi config set --secret`, never in plain text in the stack file.
func (r *reader) secret(key string) secretValue {
	v, ok := r.src.Get(r.fullKey(key))
	if !ok || v == "" {
		return secretValue{}
	}
	if !r.src.IsSecret(r.fullKey(key)) {
		// Never echo a secret, even a bad one.
		r.fail(key, "is stored in plain text; accepted: a value set with `pulumi config set --secret %s`, or none (then it is generated)", key)
	}
	if len(v) < 16 {
		r.fail(key, "the secret is %d characters; accepted: at least 16 characters", len(v))
	}
	return secretValue{value: v, set: true}
}

// mebibytes reads a memory quantity in Mi or Gi, within [lo, hi] MiB.
func (r *reader) mebibytes(key string, lo, hi int) int {
	v := r.str(key)
	n, ok := validate.MiB(v)
	if !ok || n < lo || n > hi {
		r.fail(key, "%q is not a memory size from %dMi to %dMi; accepted: a whole number of Mi or Gi, such as 256Mi", v, lo, hi)
		return 0
	}
	return n
}

// kubernetesVersion is one row of the EKS Kubernetes version calendar.
type kubernetesVersion struct {
	Minor           string
	StandardSupport string // last day of standard support, YYYY-MM-DD
	ExtendedSupport string // last day of extended support
}

// kubernetesVersions is the EKS release calendar, from "Understand the Kubernetes version
// lifecycle on EKS" (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html):
// 14 months of standard support after EKS releases a minor, then 12 months of extended support
// at an extra charge per cluster hour, after which EKS upgrades the cluster itself. 1.29 and older
// are left out: the chart's preStop uses the sleep action, GA in 1.30 (Chart.yaml's kubeVersion),
// and 1.29's extended support has ended. When EKS releases a new minor, add its row, and move the
// default in Pulumi.yaml once the charts this program installs support it.
var kubernetesVersions = []kubernetesVersion{
	{"1.30", "2025-07-23", "2026-07-23"},
	{"1.31", "2025-11-26", "2026-11-26"},
	{"1.32", "2026-03-23", "2027-03-23"},
	{"1.33", "2026-07-29", "2027-07-29"},
	{"1.34", "2026-12-02", "2027-12-02"},
	{"1.35", "2027-03-27", "2028-03-27"},
}

// minors lists the calendar's minor versions, for error messages.
func minors() string {
	var out []string
	for _, v := range kubernetesVersions {
		out = append(out, v.Minor)
	}
	return strings.Join(out, ", ")
}

// The environments with rules of their own.
const (
	envProd  = "prod"
	envLocal = "local"
)

var (
	logTypes         = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	requiredLogTypes = []string{"api", "audit", "authenticator"}
	logLevels        = []string{"DEBUG", "INFO", "WARNING", "ERROR"}
	serviceTypes     = []string{"ClusterIP", "NodePort", "LoadBalancer"}
	reservedTags     = []string{"Project", "Environment", "Stack", "ManagedBy"}
)

// tagHeadroom is how many tags the program and pulumi-eks add to a resource besides the default
// tags (Name, subnet role and tier tags, the cluster's own). User tags must leave room for them
// within AWS's 50 tags per resource.
const tagHeadroom = 6

// The app's memory model, measured with the app's gunicorn config on loopback under a wrk load
// of workers x threads connections (PSS of the master and its workers): 2x4 42 MiB, 2x64 72 MiB,
// 8x8 157 MiB, 16x4 180 MiB, 16x64 254 MiB (341 MiB seen in longer runs). The estimate below is
// above every measurement but one; it must stay within appMemoryHeadroom of the container limit,
// or the kernel OOM-kills workers under load.
const (
	appMemoryBaseMiB      = 30
	appMemoryPerWorkerMiB = 12
	appMemoryPerThreadMiB = 0.3
	appMemoryHeadroom     = 0.8
)

// appMemoryEstimate is the estimated memory of the app's pod in MiB.
func appMemoryEstimate(workers, threads int) int {
	return int(appMemoryBaseMiB + float64(workers)*(appMemoryPerWorkerMiB+float64(threads)*appMemoryPerThreadMiB) + 0.5)
}

// readConfig reads and validates the whole stack configuration. On any problem it returns one
// error that lists every bad key with its value and what is accepted, and no Config. today
// dates the Kubernetes version checks.
func readConfig(project, stack string, src configSource, today time.Time) (*Config, error) {
	schemaProject, schema, err := projectSchema()
	if err != nil {
		return nil, err
	}
	if schemaProject != project {
		return nil, fmt.Errorf("the program is built for project %q but runs as project %q", schemaProject, project)
	}
	r := &reader{project: project, src: src, schema: schema}

	c := &Config{Project: project, Stack: stack}
	c.Environment = r.oneOf("environment", environments)
	c.ClusterMode = r.oneOf("clusterMode", []string{modeEKS, modeExisting})
	if c.ClusterMode == modeEKS {
		region, _ := src.Get("aws:region")
		c.Region = region
		if !validate.Region(region) {
			r.problems = append(r.problems, fmt.Sprintf(
				"aws:region: %q is not an AWS region; accepted: a region such as eu-west-1 (required in clusterMode eks)", region))
		}
	}
	c.Tags = readTags(r, c)
	// The name prefix "<project>-<stack>" starts the names of S3 buckets (with a generated
	// suffix, 63 characters at most), IAM roles and the EKS cluster.
	if n := len(c.namePrefix()); n > maxNamePrefix {
		r.problems = append(r.problems, fmt.Sprintf(
			"stack %q: %q is %d characters; accepted: a stack name that keeps \"<project>-<stack>\" at %d characters or fewer (it starts the names of buckets, roles and the cluster)",
			c.Stack, c.namePrefix(), n, maxNamePrefix))
	}

	c.Network = NetworkConfig{
		VpcCidr: r.str("vpcCidr"),
		AzCount: r.integer("azCount", 2, 3),
		NatMode: vpc.NatMode(r.oneOf("natMode", []string{string(vpc.NatSingle), string(vpc.NatOnePerAZ)})),
	}
	if err := vpc.ValidateCIDR(c.Network.VpcCidr); err != nil {
		r.fail("vpcCidr", "%q %v", c.Network.VpcCidr, err)
	}

	c.Cluster = readCluster(r, c, today)
	c.Registry = RegistryConfig{
		KeepImages:  r.integer("ecrKeepImages", 1, 1000),
		ForceDelete: r.boolean("ecrForceDelete"),
	}
	c.App = readApp(r, c)
	c.Ingress = readIngress(r, c)
	c.Monitoring = readMonitoring(r)
	readAddons(r, c)

	if c.ClusterMode == modeExisting {
		if c.Cluster.KubeContext == "" {
			r.fail("kubeContext", "is empty; accepted: the name of a context in your kubeconfig (required in clusterMode existing)")
		}
		if c.App.Image == "" {
			r.fail("image", "is empty; accepted: an image reference such as flask-app:dev (required in clusterMode existing)")
		}
	}

	if len(r.problems) > 0 {
		sort.Strings(r.problems)
		return nil, errors.New("invalid stack config (nothing was deployed):\n  - " + strings.Join(r.problems, "\n  - "))
	}
	c.Warnings = r.warnings
	return c, nil
}

func readTags(r *reader, c *Config) map[string]string {
	tags := map[string]string{
		"Project":     c.Project,
		"Environment": c.Environment,
		"Stack":       c.Stack,
		"ManagedBy":   "pulumi",
	}
	user := r.object("tags")
	for _, k := range slices.Sorted(maps.Keys(user)) {
		v := user[k]
		if slices.Contains(reservedTags, k) {
			r.fail("tags", "key %q is set by the program; accepted: any other key", k)
		} else if why := validate.TagKey(k); why != "" {
			r.fail("tags", "key %q %s; accepted: an AWS tag key", k, why)
		} else if why := validate.TagValue(v); why != "" {
			r.fail("tags", "value %q of %q %s; accepted: an AWS tag value", v, k, why)
		} else {
			tags[k] = v
		}
	}
	if max := validate.MaxTagsPerResource - len(reservedTags) - tagHeadroom; len(user) > max {
		r.fail("tags", "has %d tags; accepted: at most %d (AWS allows %d per resource, the program sets %d and keeps %d for its own)",
			len(user), max, validate.MaxTagsPerResource, len(reservedTags), tagHeadroom)
	}
	return tags
}

func readCluster(r *reader, c *Config, today time.Time) ClusterConfig {
	cl := ClusterConfig{
		KubernetesVersion:    r.str("kubernetesVersion"),
		EndpointPublicAccess: r.boolean("endpointPublicAccess"),
		PublicAccessCidrs:    r.list("publicAccessCidrs"),
		LogTypes:             r.list("clusterLogTypes"),
		AdminPrincipalArns:   r.list("adminPrincipalArns"),
		ViewerPrincipalArns:  r.list("viewerPrincipalArns"),
		KubeContext:          r.str("kubeContext"),
	}
	readKubernetesVersion(r, c.Environment, cl.KubernetesVersion, today)
	for _, cidr := range cl.PublicAccessCidrs {
		p, ok := validate.IPv4Network(cidr)
		switch {
		case !ok:
			r.fail("publicAccessCidrs", "%q is not an IPv4 network CIDR; accepted: CIDRs such as 192.168.10.0/24 with no host bits", cidr)
		case c.prod() && cl.EndpointPublicAccess && p.Bits() < 16:
			// Catches 0.0.0.0/0 and every split of it (0.0.0.0/1 with 128.0.0.0/1, ...).
			r.fail("publicAccessCidrs", "%q is a /%d and opens the prod API endpoint to a large part of the internet; accepted: /16 or narrower CIDRs of your runners and offices, or endpointPublicAccess false", cidr, p.Bits())
		case c.prod() && cl.EndpointPublicAccess && validate.DocumentationRange(p):
			r.fail("publicAccessCidrs", "%q is an RFC 5737 documentation range that no client has, so the prod API would be unreachable; accepted: the egress CIDRs of your deploy runners and offices, or endpointPublicAccess false with a runner inside the VPC", cidr)
		}
	}
	if cl.EndpointPublicAccess && len(cl.PublicAccessCidrs) == 0 {
		r.fail("publicAccessCidrs", "is empty while endpointPublicAccess is true; accepted: at least one CIDR")
	}
	for _, t := range cl.LogTypes {
		if !slices.Contains(logTypes, t) {
			r.fail("clusterLogTypes", "%q is not a log type; accepted values: %s", t, strings.Join(logTypes, ", "))
		}
	}
	for _, t := range requiredLogTypes {
		if !slices.Contains(cl.LogTypes, t) {
			r.fail("clusterLogTypes", "%q is missing; accepted: a list that includes %s", t, strings.Join(requiredLogTypes, ", "))
		}
	}
	seen := map[string]string{}
	for _, list := range []struct {
		key  string
		arns []string
	}{{"adminPrincipalArns", cl.AdminPrincipalArns}, {"viewerPrincipalArns", cl.ViewerPrincipalArns}} {
		key := list.key
		for _, arn := range list.arns {
			if !validate.IAMPrincipalARN(arn) {
				r.fail(key, "%q is not an IAM role or user ARN; accepted: arn:aws:iam::<account>:role/<name> or :user/<name> (not an assumed-role session ARN)", arn)
				continue
			}
			// EKS allows one access entry per principal, and the entries are keyed by a name
			// derived from the ARN: a principal may appear once in both lists together.
			id := eks.AccessEntryName(arn)
			if prev, dup := seen[id]; dup {
				r.fail(key, "%q is listed twice (also in %s); accepted: each principal once, in adminPrincipalArns or viewerPrincipalArns", arn, prev)
				continue
			}
			seen[id] = key
		}
	}
	return cl
}

// readAddons checks the platform add-ons against each other and the cluster mode. prod turns all
// three on (Pulumi.prod.yaml); turning one off there is allowed, with a warning.
func readAddons(r *reader, c *Config) {
	a, m := &c.App, &c.Monitoring
	if d, err := time.ParseDuration(a.SecretsRefreshInterval); err != nil || d < time.Minute || d > 24*time.Hour {
		r.fail("secretsRefreshInterval", "%q is not a refresh interval; accepted: a Go duration from 1m to 24h, such as 5m or 1h (how long a new value in Secrets Manager takes to reach the pods)", a.SecretsRefreshInterval)
	}
	if a.ExternalSecrets {
		if c.ClusterMode == modeExisting {
			r.fail("externalSecrets", "true is set in clusterMode existing; accepted: false (External Secrets reads AWS Secrets Manager through EKS Pod Identity, which only clusterMode eks has)")
		}
		// Never echo the values: they are secrets.
		for key, v := range map[string]secretValue{"secretKey": a.SecretKey, "dbPassword": a.DBPassword} {
			if v.IsSet() {
				r.fail(key, "is set while externalSecrets is true; accepted: unset (`pulumi config rm %s`): the value lives in AWS Secrets Manager, set it there", key)
			}
		}
	}
	if a.KEDA {
		if !m.Enabled {
			r.fail("keda", "true needs monitoringEnabled; accepted: false, or monitoringEnabled true (KEDA scales on the request rate Prometheus scrapes from the app)")
		}
		if a.MaxReplicas <= a.Replicas {
			r.fail("keda", "true with appMaxReplicas %d not above appReplicas %d; accepted: false, or appMaxReplicas > appReplicas (the range KEDA scales in)", a.MaxReplicas, a.Replicas)
		}
	}
	if m.Logs {
		if c.ClusterMode == modeExisting {
			r.fail("logs", "true is set in clusterMode existing; accepted: false (Loki stores in an S3 bucket through EKS Pod Identity, which only clusterMode eks has)")
		}
		if !m.Enabled {
			r.fail("logs", "true needs monitoringEnabled; accepted: false, or monitoringEnabled true (Loki is Grafana's log data source)")
		}
	}
	if c.prod() {
		for _, addon := range []struct {
			key string
			on  bool
		}{{"externalSecrets", a.ExternalSecrets}, {"keda", a.KEDA}, {"logs", m.Logs}} {
			if !addon.on {
				r.warn("%s is off on a prod stack: prod runs every platform add-on unless there is a reason not to (docs/configuration.md)", addon.key)
			}
		}
	}
}

// readKubernetesVersion checks the version against the EKS calendar: listed, and for prod still
// in standard support; other stacks get a warning once standard support has ended.
func readKubernetesVersion(r *reader, env, minor string, today time.Time) {
	day := today.Format(time.DateOnly)
	for _, v := range kubernetesVersions {
		if v.Minor != minor {
			continue
		}
		switch {
		case day > v.ExtendedSupport:
			r.fail("kubernetesVersion", "%q left EKS extended support on %s; accepted: %s (see the EKS version calendar)", minor, v.ExtendedSupport, supportedMinors(today))
		case day > v.StandardSupport && env == envProd:
			r.fail("kubernetesVersion", "%q left EKS standard support on %s and costs the extended-support surcharge; accepted in prod: %s", minor, v.StandardSupport, supportedMinors(today))
		case day > v.StandardSupport:
			r.warn("kubernetesVersion %q left EKS standard support on %s: the cluster pays the extended-support surcharge until it is upgraded (in standard support: %s)", minor, v.StandardSupport, supportedMinors(today))
		}
		return
	}
	r.fail("kubernetesVersion", "%q is not a Kubernetes minor version this program supports; accepted: %s, written like \"1.35\"", minor, minors())
}

// supportedMinors lists the versions still in standard support on today.
func supportedMinors(today time.Time) string {
	var out []string
	for _, v := range kubernetesVersions {
		if today.Format(time.DateOnly) <= v.StandardSupport {
			out = append(out, v.Minor)
		}
	}
	return strings.Join(out, ", ")
}

// reservedNamespaces are namespaces the app may not take: Kubernetes' own, and those of the
// platform components this program installs.
func reservedNamespaces() []string {
	return []string{"default", "kube-system", "kube-public", "kube-node-lease", monitoringNamespace,
		externalsecrets.OperatorNamespace, externalsecrets.ReloaderNamespace, keda.Namespace, dns.ExternalDNSNamespace}
}

func readApp(r *reader, c *Config) AppConfig {
	a := AppConfig{
		Namespace:              r.str("appNamespace"),
		Replicas:               r.integer("appReplicas", 1, 100),
		MaxReplicas:            r.integer("appMaxReplicas", 1, 100),
		LogLevel:               r.oneOf("logLevel", logLevels),
		APIBaseURL:             r.str("apiBaseUrl"),
		MaxConnections:         r.integer("maxConnections", 1, 10000),
		GunicornWorkers:        r.integer("gunicornWorkers", 1, 16),
		GunicornThreads:        r.integer("gunicornThreads", 1, 64),
		MemoryMiB:              r.mebibytes("appMemory", 128, 4096),
		RevealSecrets:          r.boolean("revealSecrets"),
		Image:                  r.str("image"),
		PodIdentityPolicyArns:  r.list("podIdentityPolicyArns"),
		SecretKey:              r.secret("secretKey"),
		DBPassword:             r.secret("dbPassword"),
		ExternalSecrets:        r.boolean("externalSecrets"),
		SecretsRefreshInterval: r.str("secretsRefreshInterval"),
		KEDA:                   r.boolean("keda"),
		KEDATargetRPS:          r.integer("kedaTargetRequestsPerSecond", 1, 100000),
	}
	if !validate.DNSLabel(a.Namespace) {
		r.fail("appNamespace", "%q is not a Kubernetes namespace name; accepted: a DNS label (lower case letters, digits, -; at most 63)", a.Namespace)
	} else if slices.Contains(reservedNamespaces(), a.Namespace) {
		r.fail("appNamespace", "%q belongs to Kubernetes or to a platform component; accepted: a namespace of the app's own, not one of %s", a.Namespace, strings.Join(reservedNamespaces(), ", "))
	}
	if a.MaxReplicas < a.Replicas {
		r.fail("appMaxReplicas", "%d is below appReplicas (%d); accepted: an integer >= appReplicas (equal turns autoscaling off)", a.MaxReplicas, a.Replicas)
	}
	if u, err := url.Parse(a.APIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail("apiBaseUrl", "%q is not an absolute URL; accepted: an http:// or https:// URL", a.APIBaseURL)
	}
	if a.GunicornWorkers > 0 && a.GunicornThreads > 0 && a.MemoryMiB > 0 {
		need := appMemoryEstimate(a.GunicornWorkers, a.GunicornThreads)
		if limit := int(float64(a.MemoryMiB) * appMemoryHeadroom); need > limit {
			r.fail("gunicornWorkers", "%d workers x %d threads need about %d MiB, more than %d%% of appMemory %dMi; accepted: fewer workers or threads, or a larger appMemory (each worker about %d MiB)",
				a.GunicornWorkers, a.GunicornThreads, need, int(appMemoryHeadroom*100), a.MemoryMiB, appMemoryPerWorkerMiB)
		}
	}
	if a.RevealSecrets && c.Environment != envLocal {
		r.fail("revealSecrets", "true is refused on a %s stack; accepted: false (REVEAL_SECRETS is a debugging aid for the local stack only)", c.Environment)
	}
	for _, arn := range a.PodIdentityPolicyArns {
		if !validate.IAMPolicyARN(arn) {
			r.fail("podIdentityPolicyArns", "%q is not an IAM policy ARN; accepted: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>", arn)
		}
	}
	return a
}

func readIngress(r *reader, c *Config) IngressConfig {
	in := IngressConfig{
		Domain:              strings.ToLower(r.str("domain")),
		GrafanaDomain:       strings.ToLower(r.str("grafanaDomain")),
		HostedZone:          r.str("hostedZone"),
		CertificateArn:      r.str("certificateArn"),
		GrafanaExposure:     r.oneOf("grafanaExposure", []string{grafanaInternal, grafanaPublic, grafanaNone}),
		GrafanaInboundCidrs: r.list("grafanaInboundCidrs"),
		AccessLogDays:       r.integer("albAccessLogDays", 1, 3650),
		ClassName:           r.str("ingressClassName"),
		ServiceType:         r.oneOf("serviceType", serviceTypes),
	}
	for key, host := range map[string]string{"domain": in.Domain, "grafanaDomain": in.GrafanaDomain} {
		switch {
		case host == "":
		case strings.Contains(host, "*"):
			r.fail(key, "%q is a wildcard; accepted: the one host name the ALB serves, such as app.example.com (an Ingress rule and a DNS record need a host)", host)
		case !validate.Hostname(host):
			r.fail(key, "%q is not a host name; accepted: a fully qualified name such as app.example.com, without a trailing dot", host)
		case in.HostedZone != "" && !validate.HostedZoneID(in.HostedZone) && !validate.InZone(host, in.HostedZone):
			r.fail(key, "%q is not in hostedZone %q; accepted: a name in that zone, such as app.%s", host, in.HostedZone, strings.TrimSuffix(in.HostedZone, "."))
		case c.ClusterMode == modeExisting:
			r.fail(key, "%q is set in clusterMode existing; accepted: \"\" (host names, certificates and DNS are made for the ALBs of clusterMode eks)", host)
		}
	}
	if in.GrafanaDomain != "" && in.GrafanaDomain == in.Domain {
		r.fail("grafanaDomain", "%q is the app's domain; accepted: a host name of Grafana's own, such as grafana.example.com", in.GrafanaDomain)
	}
	if in.HostedZone != "" && !validate.HostedZoneID(in.HostedZone) && !validate.Hostname(strings.TrimSuffix(in.HostedZone, ".")) {
		r.fail("hostedZone", "%q is neither a zone name nor a zone ID; accepted: a name such as example.com, or an ID such as Z0123456789ABCDEFGHIJ", in.HostedZone)
	}
	if in.Domain != "" && in.HostedZone == "" && in.CertificateArn == "" {
		r.fail("domain", "%q is set, but there is no certificate for it; accepted: together with hostedZone (the program requests and validates the certificate there) or certificateArn (a certificate managed elsewhere)", in.Domain)
	}
	if in.GrafanaDomain != "" && in.Domain == "" {
		r.fail("grafanaDomain", "%q is set without domain; accepted: a Grafana host name together with the app's domain", in.GrafanaDomain)
	}
	if in.Domain == "" && in.CertificateArn != "" {
		r.fail("certificateArn", "is set without domain; accepted: a certificate together with the host name it covers (a certificate cannot match the ALB's generated name)")
	}
	if c.prod() && c.ClusterMode == modeEKS && in.Domain == "" {
		r.fail("domain", "is empty on a prod stack; accepted: the app's host name (prod serves HTTPS on its own domain; the ALB's generated name has no valid certificate)")
	}
	if in.CertificateArn != "" {
		region, ok := validate.ACMCertificateARN(in.CertificateArn)
		switch {
		case !ok:
			r.fail("certificateArn", "%q is not an ACM certificate ARN; accepted: arn:aws:acm:<region>:<account>:certificate/<uuid>", in.CertificateArn)
		case c.ClusterMode == modeEKS && region != c.Region:
			r.fail("certificateArn", "%q is in %s, but the ALBs are in aws:region %s; accepted: a certificate of %s (an ALB can only use certificates of its own region)", in.CertificateArn, region, c.Region, c.Region)
		}
	}
	if c.ClusterMode == modeExisting && in.GrafanaExposure != grafanaNone {
		r.fail("grafanaExposure", "%q is set in clusterMode existing; accepted: none (internal and public are ALBs of clusterMode eks; reach Grafana with kubectl port-forward)", in.GrafanaExposure)
	}
	switch in.GrafanaExposure {
	case grafanaPublic:
		if in.GrafanaDomain == "" || !in.TLS() {
			r.fail("grafanaExposure", "public needs grafanaDomain and a certificate; accepted: internal or none, or public with grafanaDomain and domain/hostedZone (Grafana is TLS-only whenever it is public)")
		}
		if len(in.GrafanaInboundCidrs) == 0 {
			r.fail("grafanaInboundCidrs", "is empty while grafanaExposure is public; accepted: the CIDRs that may reach Grafana, such as your office's 192.0.2.0/24 (0.0.0.0/0 is refused)")
		}
	default:
		if len(in.GrafanaInboundCidrs) > 0 {
			r.fail("grafanaInboundCidrs", "is set while grafanaExposure is %s; accepted: empty (only a public Grafana takes an allow-list)", in.GrafanaExposure)
		}
	}
	for _, cidr := range in.GrafanaInboundCidrs {
		if p, ok := validate.IPv4Network(cidr); !ok || p.Bits() < 8 {
			r.fail("grafanaInboundCidrs", "%q is not an IPv4 network CIDR of /8 or narrower; accepted: CIDRs such as 192.168.10.0/24 with no host bits", cidr)
		}
	}
	if in.ClassName != "" && !validate.DNSLabel(in.ClassName) {
		r.fail("ingressClassName", "%q is not an IngressClass name; accepted: a DNS label", in.ClassName)
	}
	return in
}

func readMonitoring(r *reader) MonitoringConfig {
	m := MonitoringConfig{
		Enabled:               r.boolean("monitoringEnabled"),
		PrometheusRetention:   r.str("prometheusRetention"),
		PrometheusStorageSize: r.str("prometheusStorageSize"),
		GrafanaStorageSize:    r.str("grafanaStorageSize"),
		NodeExporter:          r.boolean("nodeExporter"),
		AlertWebhookURL:       r.secret("alertWebhookUrl"),
		Logs:                  r.boolean("logs"),
		LogRetentionDays:      r.integer("logRetentionDays", 1, 3650),
		LokiStorageSize:       r.str("lokiStorageSize"),
	}
	if m.AlertWebhookURL.IsSet() {
		// Never echo the URL: a webhook URL is a credential.
		if u, err := url.Parse(m.AlertWebhookURL.Reveal()); err != nil || u.Scheme != "https" || u.Host == "" {
			r.fail("alertWebhookUrl", "is not an https:// URL; accepted: a Slack incoming-webhook URL or another https webhook")
		}
	}
	if !validate.Retention(m.PrometheusRetention) {
		r.fail("prometheusRetention", "%q is not a retention; accepted: a whole number of h, d, w or y, such as 7d", m.PrometheusRetention)
	}
	for key, v := range map[string]string{"prometheusStorageSize": m.PrometheusStorageSize, "grafanaStorageSize": m.GrafanaStorageSize, "lokiStorageSize": m.LokiStorageSize} {
		if !validate.VolumeSize(v) {
			r.fail(key, "%q is not a volume size; accepted: a whole number of Mi, Gi or Ti, such as 20Gi", v)
		}
	}
	return m
}
