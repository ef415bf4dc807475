package estimate

import (
	"fmt"
	"strings"
)

// Duration is how long one resource takes to create in a cold `pulumi up`, in minutes, and where
// the figure comes from. A zero says why the resource takes no meaningful time.
type Duration struct {
	Minutes float64
	Source  string
}

// Sources of the figures, named once.
const (
	// srcIssue marks a figure taken from the project's issue 22 ("typical durations"), where no
	// published figure exists: the durations a team observes on its own cold deploys.
	srcIssue = "issue 22's typical figure (observed on cold deploys; AWS publishes none)"
	// srcOneCall marks a resource made by one synchronous API call that returns when the
	// resource exists: seconds. No provider or AWS page publishes a figure.
	srcOneCall = "one synchronous API call (estimate: seconds; no published figure)"
	// srcKubeObject marks a Kubernetes object the provider creates and, for these kinds, does
	// not await beyond the API server's answer: pulumi-kubernetes awaits only the kinds in its
	// provider/pkg/await/awaiters.go (workloads, Services, Ingresses, PVCs, Jobs).
	srcKubeObject = "one Kubernetes API call, not awaited beyond the API server's answer (estimate: seconds)"
)

// Figures used more than once, in minutes.
const (
	awsCall  = 5.0 / 60
	kubeCall = 2.0 / 60
)

// durations is the table of typical creation times by resource type. Helm charts and releases
// are in chartDurations; this program's own components and providers take no time of their own
// (see Durations.For).
var durations = map[string]Duration{
	// Network. NAT gateways take minutes to become available; the rest is one call each.
	"aws:ec2/vpc:Vpc":                                           {awsCall, srcOneCall},
	"aws:ec2/subnet:Subnet":                                     {awsCall, srcOneCall},
	"aws:ec2/internetGateway:InternetGateway":                   {awsCall, srcOneCall},
	"aws:ec2/eip:Eip":                                           {awsCall, srcOneCall},
	"aws:ec2/natGateway:NatGateway":                             {2, srcIssue + "; the provider waits for the gateway's state \"available\" (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html)"},
	"aws:ec2/routeTable:RouteTable":                             {awsCall, srcOneCall},
	"aws:ec2/route:Route":                                       {awsCall, srcOneCall},
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       {awsCall, srcOneCall},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {awsCall, srcOneCall},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           {15.0 / 60, "a gateway endpoint: the provider waits for state \"available\" and the route-table entries (estimate: seconds)"},
	"eks:index:Cluster":                                         {10, srcIssue + "; AWS: \"cluster provisioning takes several minutes\" (https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html); pulumi-eks's component also adds the OIDC provider and access entries, seconds each"},
	"aws:eks/podIdentityAssociation:PodIdentityAssociation":     {awsCall, srcOneCall},
	"aws:eks/accessEntry:AccessEntry":                           {awsCall, srcOneCall},
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation":   {awsCall, srcOneCall},
	"aws:iam/role:Role":                                         {awsCall, srcOneCall},
	"aws:iam/rolePolicy:RolePolicy":                             {awsCall, srcOneCall},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":         {awsCall, srcOneCall},
	"aws:iam/policy:Policy":                                     {awsCall, srcOneCall},
	// DNS and TLS.
	"aws:acm/certificate:Certificate":                     {awsCall, srcOneCall + "; the certificate is requested, validation is the next resource"},
	"aws:acm/certificateValidation:CertificateValidation": {2, srcIssue + "; ACM validates once the CNAME resolves (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html)"},
	"aws:route53/record:Record":                           {1, "the provider waits for the change to be INSYNC; Route 53 propagates changes \"within 60 seconds\" (https://aws.amazon.com/route53/faqs/)"},
	// Storage, registry, keys and secrets: one call each.
	"aws:s3/bucketV2:BucketV2": {awsCall, srcOneCall},
	"aws:s3/bucket:Bucket":     {awsCall, srcOneCall},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       {awsCall, srcOneCall},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     {awsCall, srcOneCall},
	"aws:s3/bucketPolicy:BucketPolicy":                                                           {awsCall, srcOneCall},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     {awsCall, srcOneCall},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {awsCall, srcOneCall},
	"aws:ecr/repository:Repository":                                                              {awsCall, srcOneCall},
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                                                    {awsCall, srcOneCall},
	"aws:kms/key:Key":                                {awsCall, srcOneCall},
	"aws:kms/alias:Alias":                            {awsCall, srcOneCall},
	"aws:secretsmanager/secret:Secret":               {awsCall, srcOneCall},
	"aws:secretsmanager/secretVersion:SecretVersion": {awsCall, srcOneCall},
	"aws:secretsmanager/secretPolicy:SecretPolicy":   {awsCall, srcOneCall},
	// The image: a build of app-src and a push to ECR. It runs beside the network and cluster.
	"docker:index/image:Image": {3, "estimate: a cold build of the app's slim Python image and its push to ECR; varies with the builder's cache and bandwidth"},
	// Computed by the provider on the deploying machine: no cloud call.
	"random:index/randomPassword:RandomPassword": {0, "computed locally by the random provider; no cloud call"},
	// Kubernetes objects.
	"kubernetes:core/v1:Namespace":                        {kubeCall, srcKubeObject},
	"kubernetes:core/v1:ConfigMap":                        {kubeCall, srcKubeObject},
	"kubernetes:core/v1:Secret":                           {kubeCall, srcKubeObject},
	"kubernetes:core/v1:ServiceAccount":                   {kubeCall, srcKubeObject},
	"kubernetes:networking.k8s.io/v1:NetworkPolicy":       {kubeCall, srcKubeObject},
	"kubernetes:networking.k8s.io/v1:IngressClass":        {kubeCall, srcKubeObject},
	"kubernetes:networking.k8s.io/v1:Ingress":             {kubeCall, "a read of the chart's Ingress (one API call)"},
	"kubernetes:storage.k8s.io/v1:StorageClass":           {kubeCall, srcKubeObject},
	"kubernetes:eks.amazonaws.com/v1:IngressClassParams":  {kubeCall, srcKubeObject},
	"kubernetes:monitoring.coreos.com/v1:PodMonitor":      {kubeCall, srcKubeObject},
	"kubernetes:monitoring.coreos.com/v1:PrometheusRule":  {kubeCall, srcKubeObject},
	"kubernetes:external-secrets.io/v1:SecretStore":       {kubeCall, srcKubeObject},
	"kubernetes:external-secrets.io/v1:ExternalSecret":    {awsCall, "awaited until Ready (pulumi.com/waitFor): the running operator reads Secrets Manager and writes the Secret (estimate: seconds)"},
	"kubernetes:keda.sh/v1alpha1:ScaledObject":            {kubeCall, srcKubeObject},
	"kubernetes:karpenter.sh/v1:NodePool":                 {kubeCall, srcKubeObject},
	"kubernetes:eks.amazonaws.com/v1:NodeClass":           {kubeCall, srcKubeObject},
	"kubernetes:policy/v1:PodDisruptionBudget":            {kubeCall, srcKubeObject},
	"kubernetes:rbac.authorization.k8s.io/v1:Role":        {kubeCall, srcKubeObject},
	"kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {kubeCall, srcKubeObject},
}

// Helm installs, by chart. Each includes its pods' first Auto Mode nodes: Helm waits for the
// workloads to be ready, and Auto Mode launches nodes only for pending pods.
var chartDurations = map[string]Duration{
	"kube-prometheus-stack": {4, srcIssue + ": its atomic install waits for Prometheus, Alertmanager and Grafana, their volumes and the CRD upgrade job"},
}

// defaultChartDuration is any other chart or release.
var defaultChartDuration = Duration{1.5, srcIssue + ": a chart's install and its pods' readiness, with the first Auto Mode nodes (about a minute to launch and join)"}

// PodStart is how long pods that already have a node take to start once the Secret they mount
// exists: the kubelet retries the container, which then passes its readiness probe (estimate).
var PodStart = Duration{0.5, "estimate: the kubelet's retry of a pod waiting for its Secret, then the readiness probe"}

// Durations returns the typical creation time of a node, and false for a type the table does
// not know.
func Durations(n *Node) (Duration, bool) {
	switch {
	case n.Type == typeRelease || n.Type == typeChart:
		if notAwaited(n) {
			return Duration{kubeCall, "skipAwait: Pulumi creates the chart's objects and does not wait for its pods (one round of API calls)"}, true
		}
		return awaitedDuration(n), true
	case strings.HasPrefix(n.Type, providerTypePrefix):
		return Duration{0, "a provider instance: configured on the deploying machine, no cloud call"}, true
	case strings.HasPrefix(n.Type, programComponentPkg):
		return Duration{0, "a component of this program: it creates nothing itself; its children carry the time"}, true
	}
	d, ok := durations[n.Type]
	return d, ok
}

// awaitedDuration is how long a chart or release takes until its pods are ready: its whole
// install when Pulumi awaits it, and when its pods are ready when it does not (schedule.ready).
func awaitedDuration(n *Node) Duration {
	if d, ok := chartDurations[chartName(n)]; ok {
		return d
	}
	return defaultChartDuration
}

// notAwaited reports a chart or release declared with skipAwait: Pulumi is done with it once
// its objects exist, and its pods become ready later, beside whatever comes next.
func notAwaited(n *Node) bool {
	b, _ := lookupAs[bool](n.Inputs, "skipAwait")
	return b && (n.Type == typeRelease || n.Type == typeChart)
}

// chartName is the chart a Helm release or chart installs: the repository chart's name, or the
// path of a local chart.
func chartName(n *Node) string {
	return str(n.Inputs, "chart")
}

// durationsFor checks that every node has a duration.
func durationsFor(nodes []Node) (map[string]float64, error) {
	out := map[string]float64{}
	var missing []string
	for i := range nodes {
		d, ok := Durations(&nodes[i])
		if !ok {
			missing = append(missing, nodes[i].Type)
			continue
		}
		out[nodes[i].URN] = d.Minutes
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no typical duration for %s: add them to internal/estimate/durations.go with a source", strings.Join(unique(missing), ", "))
	}
	return out, nil
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
