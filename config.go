// The typed stack configuration: Config and its parts, as the program uses them. readConfig
// (configread.go) builds it from the raw values (configsource.go) and validates it whole before
// any resource is declared.

package main

import (
	"github.com/example/flask-eks/internal/estimate"
	"github.com/example/flask-eks/vpc"
)

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
	Nodes      NodesConfig
	// CostAssumptions are the usage the cost estimate cannot read from the graph (make
	// estimate); nothing that deploys reads them.
	CostAssumptions estimate.Usage

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
	// ExistingVpcID, when set, is a VPC made elsewhere (a network stack): the program creates
	// no network and deploys into it, its private and public subnets given by ID.
	ExistingVpcID    string
	PrivateSubnetIDs []string
	PublicSubnetIDs  []string
}

// existing reports whether the stack brings its own network.
func (n NetworkConfig) existing() bool { return n.ExistingVpcID != "" }

// ClusterConfig shapes the EKS control plane. KubeContext is for existing mode only.
type ClusterConfig struct {
	KubernetesVersion string
	// ServiceCidr is the cluster's service range; its first address is the `kubernetes`
	// Service's, which the network policies admit (netpol.APIServer).
	ServiceCidr          string
	EndpointPublicAccess bool
	PublicAccessCidrs    []string
	// APIAccessCidrs and APIAccessSecurityGroupIDs may reach the private endpoint on 443.
	APIAccessCidrs            []string
	APIAccessSecurityGroupIDs []string
	LogTypes                  []string
	// AdminPrincipalArns get cluster-admin, ViewerPrincipalArns read-only access including
	// Secrets (the drift roles: a refresh reads Helm's release records),
	// ViewOnlyPrincipalArns read-only access without Secrets (the preview roles). None lists
	// the principal that creates the cluster, DeployPrincipalArn: EKS gives it an admin entry
	// of its own.
	AdminPrincipalArns    []string
	ViewerPrincipalArns   []string
	ViewOnlyPrincipalArns []string
	DeployPrincipalArn    string
	KubeContext           string
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
	// SecretsBreakGlassPrincipalArn is the emergency administrator of the secret and its key.
	SecretsBreakGlassPrincipalArn string
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

// hosts are the host names the certificate covers: the app's, then Grafana's.
func (i IngressConfig) hosts() []string {
	out := []string{i.Domain}
	if i.GrafanaDomain != "" {
		out = append(out, i.GrafanaDomain)
	}
	return out
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

// The environments with rules of their own.
const (
	envProd  = "prod"
	envLocal = "local"
)
