package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

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
var environments = []string{"dev", "staging", "prod", "local"}

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
	Monitoring MonitoringConfig
}

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
	AdminPrincipalArns   []string
	KubeContext          string
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
	RevealSecrets         bool
	Image                 string // existing mode only
	IngressClassName      string // existing mode only; eks mode uses the cluster's ALB class
	ServiceType           string
	AlbGroupName          string
	CertificateArn        string
	PodIdentityPolicyArns []string
	// SecretKey and DBPassword come from `pulumi config set --secret`; unset ones are
	// generated with pulumi-random in main.go.
	SecretKey  secretValue
	DBPassword secretValue
}

// MonitoringConfig shapes kube-prometheus-stack.
type MonitoringConfig struct {
	Enabled               bool
	PrometheusRetention   string
	PrometheusStorageSize string
	GrafanaStorageSize    string
	NodeExporter          bool
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

// configSource looks up a raw config value by full key ("flask-eks:vpcCidr", "aws:region").
// Arrays and objects arrive JSON-encoded, as the Pulumi engine passes them to programs.
type configSource func(key string) (string, bool)

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
}

func (r *reader) fullKey(key string) string { return r.project + ":" + key }

func (r *reader) fail(key string, format string, args ...any) {
	r.problems = append(r.problems, r.fullKey(key)+": "+fmt.Sprintf(format, args...))
}

// raw returns the configured value or the schema default, JSON-encoded for non-strings.
func (r *reader) raw(key string) (string, bool) {
	if v, ok := r.src(r.fullKey(key)); ok {
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

func (r *reader) secret(key string) secretValue {
	v, ok := r.src(r.fullKey(key))
	if !ok || v == "" {
		return secretValue{}
	}
	if len(v) < 16 {
		// Never echo a secret, even a bad one.
		r.fail(key, "the secret is %d characters; accepted: at least 16 characters", len(v))
	}
	return secretValue{value: v, set: true}
}

// Patterns the validators use.
var (
	k8sVersionRe   = regexp.MustCompile(`^1\.(\d+)$`)
	dnsLabelRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	iamPrincipalRe = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]+$`)
	iamPolicyRe    = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$`)
	acmCertRe      = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$`)
	durationRe     = regexp.MustCompile(`^[1-9][0-9]*(h|d|w|y)$`)
	quantityRe     = regexp.MustCompile(`^[1-9][0-9]*(Mi|Gi|Ti)$`)
	regionRe       = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
	albGroupRe     = regexp.MustCompile(`^[a-z0-9]([-.a-z0-9]{0,61}[a-z0-9])?$`)
)

// minK8sMinor is the oldest Kubernetes minor version EKS Auto Mode supports.
const minK8sMinor = 29

var (
	logTypes         = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	requiredLogTypes = []string{"api", "audit", "authenticator"}
	logLevels        = []string{"DEBUG", "INFO", "WARNING", "ERROR"}
	serviceTypes     = []string{"ClusterIP", "NodePort", "LoadBalancer"}
	reservedTags     = []string{"Project", "Environment", "Stack", "ManagedBy"}
)

// readConfig reads and validates the whole stack configuration. On any problem it returns one
// error that lists every bad key with its value and what is accepted, and no Config.
func readConfig(project, stack string, src configSource) (*Config, error) {
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
	c.Tags = readTags(r, c)

	c.Network = NetworkConfig{
		VpcCidr: r.str("vpcCidr"),
		AzCount: r.integer("azCount", 2, 3),
		NatMode: vpc.NatMode(r.oneOf("natMode", []string{string(vpc.NatSingle), string(vpc.NatOnePerAZ)})),
	}
	if err := vpc.ValidateCIDR(c.Network.VpcCidr); err != nil {
		r.fail("vpcCidr", "%q %v", c.Network.VpcCidr, err)
	}

	c.Cluster = readCluster(r, c.Environment)
	c.Registry = RegistryConfig{
		KeepImages:  r.integer("ecrKeepImages", 1, 1000),
		ForceDelete: r.boolean("ecrForceDelete"),
	}
	c.App = readApp(r, c.Environment)
	c.Monitoring = readMonitoring(r)

	switch c.ClusterMode {
	case modeEKS:
		region, _ := src("aws:region")
		c.Region = region
		if !regionRe.MatchString(region) {
			r.problems = append(r.problems, fmt.Sprintf(
				"aws:region: %q is not an AWS region; accepted: a region such as eu-west-1 (required in clusterMode eks)", region))
		}
	case modeExisting:
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
	return c, nil
}

func readTags(r *reader, c *Config) map[string]string {
	tags := map[string]string{
		"Project":     c.Project,
		"Environment": c.Environment,
		"Stack":       c.Stack,
		"ManagedBy":   "pulumi",
	}
	for k, v := range r.object("tags") {
		switch {
		case slices.Contains(reservedTags, k):
			r.fail("tags", "key %q is set by the program; accepted: any other key", k)
		case k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:"):
			r.fail("tags", "key %q is not accepted; accepted: 1 to 128 characters, not starting with aws:", k)
		case len(v) > 256:
			r.fail("tags", "value of %q is %d characters; accepted: at most 256", k, len(v))
		default:
			tags[k] = v
		}
	}
	return tags
}

func readCluster(r *reader, env string) ClusterConfig {
	c := ClusterConfig{
		KubernetesVersion:    r.str("kubernetesVersion"),
		EndpointPublicAccess: r.boolean("endpointPublicAccess"),
		PublicAccessCidrs:    r.list("publicAccessCidrs"),
		LogTypes:             r.list("clusterLogTypes"),
		AdminPrincipalArns:   r.list("adminPrincipalArns"),
		KubeContext:          r.str("kubeContext"),
	}
	if m := k8sVersionRe.FindStringSubmatch(c.KubernetesVersion); m == nil {
		r.fail("kubernetesVersion", "%q is not a Kubernetes minor version; accepted: 1.%d or newer, written like \"1.33\"", c.KubernetesVersion, minK8sMinor)
	} else if minor, _ := strconv.Atoi(m[1]); minor < minK8sMinor {
		r.fail("kubernetesVersion", "%q is older than EKS Auto Mode supports; accepted: 1.%d or newer", c.KubernetesVersion, minK8sMinor)
	}
	for _, cidr := range c.PublicAccessCidrs {
		if _, n, err := net.ParseCIDR(cidr); err != nil || n.IP.To4() == nil || n.String() != cidr {
			r.fail("publicAccessCidrs", "%q is not an IPv4 network CIDR; accepted: CIDRs such as 203.0.113.0/24", cidr)
		} else if env == "prod" && c.EndpointPublicAccess && cidr == "0.0.0.0/0" {
			r.fail("publicAccessCidrs", "%q opens the prod API endpoint to the internet; accepted: specific CIDRs, or endpointPublicAccess false", cidr)
		}
	}
	if c.EndpointPublicAccess && len(c.PublicAccessCidrs) == 0 {
		r.fail("publicAccessCidrs", "is empty while endpointPublicAccess is true; accepted: at least one CIDR")
	}
	for _, t := range c.LogTypes {
		if !slices.Contains(logTypes, t) {
			r.fail("clusterLogTypes", "%q is not a log type; accepted values: %s", t, strings.Join(logTypes, ", "))
		}
	}
	for _, t := range requiredLogTypes {
		if !slices.Contains(c.LogTypes, t) {
			r.fail("clusterLogTypes", "%q is missing; accepted: a list that includes %s", t, strings.Join(requiredLogTypes, ", "))
		}
	}
	for _, arn := range c.AdminPrincipalArns {
		if !iamPrincipalRe.MatchString(arn) {
			r.fail("adminPrincipalArns", "%q is not an IAM role or user ARN; accepted: arn:aws:iam::<account>:role/<name> or :user/<name>", arn)
		}
	}
	return c
}

func readApp(r *reader, env string) AppConfig {
	a := AppConfig{
		Namespace:             r.str("appNamespace"),
		Replicas:              r.integer("appReplicas", 1, 100),
		MaxReplicas:           r.integer("appMaxReplicas", 1, 100),
		LogLevel:              r.oneOf("logLevel", logLevels),
		APIBaseURL:            r.str("apiBaseUrl"),
		MaxConnections:        r.integer("maxConnections", 1, 10000),
		GunicornWorkers:       r.integer("gunicornWorkers", 1, 16),
		GunicornThreads:       r.integer("gunicornThreads", 1, 64),
		RevealSecrets:         r.boolean("revealSecrets"),
		Image:                 r.str("image"),
		IngressClassName:      r.str("ingressClassName"),
		ServiceType:           r.oneOf("serviceType", serviceTypes),
		AlbGroupName:          r.str("albGroupName"),
		CertificateArn:        r.str("certificateArn"),
		PodIdentityPolicyArns: r.list("podIdentityPolicyArns"),
		SecretKey:             r.secret("secretKey"),
		DBPassword:            r.secret("dbPassword"),
	}
	if !dnsLabelRe.MatchString(a.Namespace) {
		r.fail("appNamespace", "%q is not a Kubernetes namespace name; accepted: a DNS label (lower case letters, digits, -; at most 63)", a.Namespace)
	}
	if a.MaxReplicas < a.Replicas {
		r.fail("appMaxReplicas", "%d is below appReplicas (%d); accepted: an integer >= appReplicas (equal turns autoscaling off)", a.MaxReplicas, a.Replicas)
	}
	if u, err := url.Parse(a.APIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail("apiBaseUrl", "%q is not an absolute URL; accepted: an http:// or https:// URL", a.APIBaseURL)
	}
	if a.RevealSecrets && env == "prod" {
		r.fail("revealSecrets", "true is refused in prod; accepted: false (REVEAL_SECRETS is a debugging aid)")
	}
	if a.IngressClassName != "" && !dnsLabelRe.MatchString(a.IngressClassName) {
		r.fail("ingressClassName", "%q is not an IngressClass name; accepted: a DNS label", a.IngressClassName)
	}
	if a.AlbGroupName != "" && !albGroupRe.MatchString(a.AlbGroupName) {
		r.fail("albGroupName", "%q is not an ALB group name; accepted: lower case letters, digits, - and ., at most 63", a.AlbGroupName)
	}
	if a.CertificateArn != "" && !acmCertRe.MatchString(a.CertificateArn) {
		r.fail("certificateArn", "%q is not an ACM certificate ARN; accepted: arn:aws:acm:<region>:<account>:certificate/<uuid>", a.CertificateArn)
	}
	for _, arn := range a.PodIdentityPolicyArns {
		if !iamPolicyRe.MatchString(arn) {
			r.fail("podIdentityPolicyArns", "%q is not an IAM policy ARN; accepted: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>", arn)
		}
	}
	return a
}

func readMonitoring(r *reader) MonitoringConfig {
	m := MonitoringConfig{
		Enabled:               r.boolean("monitoringEnabled"),
		PrometheusRetention:   r.str("prometheusRetention"),
		PrometheusStorageSize: r.str("prometheusStorageSize"),
		GrafanaStorageSize:    r.str("grafanaStorageSize"),
		NodeExporter:          r.boolean("nodeExporter"),
	}
	if !durationRe.MatchString(m.PrometheusRetention) {
		r.fail("prometheusRetention", "%q is not a retention; accepted: a whole number of h, d, w or y, such as 7d", m.PrometheusRetention)
	}
	for key, v := range map[string]string{"prometheusStorageSize": m.PrometheusStorageSize, "grafanaStorageSize": m.GrafanaStorageSize} {
		if !quantityRe.MatchString(v) {
			r.fail(key, "%q is not a volume size; accepted: a whole number of Mi, Gi or Ti, such as 20Gi", v)
		}
	}
	return m
}
