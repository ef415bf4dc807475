// Package eks provides Cluster, an EKS cluster in Auto Mode built with pulumi-eks v3, the
// explicit Kubernetes provider every in-cluster object is created through, and Classes, the
// cluster-scoped StorageClass and ALB IngressClass that Auto Mode does not create itself.
package eks

import (
	"fmt"
	"strings"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	pulumieks "github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EKS access policies (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html).
const (
	// ClusterAdminPolicyArn grants cluster-admin.
	ClusterAdminPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
	// AdminViewPolicyArn grants get, list and watch on every resource, Secrets included ("Note
	// this includes Kubernetes Secrets"), unlike AmazonEKSViewPolicy. A `pulumi preview` needs
	// that: the Helm releases' state lives in helm.sh/release.v1 Secrets.
	AdminViewPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
	// ViewPolicyArn grants get, list and watch on most resources, like Kubernetes' user-facing
	// view role, and not on Secrets, which AmazonEKSAdminViewPolicy adds. Enough for a
	// `pulumi preview` without --refresh, which reads no Secret.
	ViewPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
)

// AccessEntryName is the stable key of a principal's access entry, derived from its ARN:
// "<account>-role-<name>" (a path folded into the name, punctuation into "-", lower case, as IAM
// names are unique regardless of case). Keying by ARN rather than list position means that
// reordering or shortening the config list never replaces another principal's entry.
func AccessEntryName(principalArn string) string {
	parts := strings.SplitN(principalArn, ":", 6)
	if len(parts) != 6 {
		return sanitize(principalArn)
	}
	return sanitize(parts[4] + "-" + parts[5])
}

func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// ClusterArgs configures a Cluster.
type ClusterArgs struct {
	// Name is the physical EKS cluster name. Set, not auto-named, so that it is known in
	// preview and stable across replacements of other resources.
	Name string
	// Version is the Kubernetes minor version, e.g. "1.35".
	Version string
	// ServiceCIDR is the cluster's Kubernetes service range (serviceIpv4Cidr), "" for the one
	// EKS picks. EKS fixes it at creation: a change replaces the cluster.
	ServiceCIDR string
	// Region is the cluster's region (the provider's), for the access log bucket policy.
	Region string
	// VpcID and PrivateSubnetIDs place the control plane ENIs and, through Auto Mode's
	// default NodeClass, every node and pod. Only private subnets are passed: pulumi-eks puts
	// every subnet it is given into the cluster, and Auto Mode's default NodeClass launches
	// nodes in the cluster's subnets, so passing public subnets could put nodes there. ALBs
	// find the public subnets by their kubernetes.io/role/elb tag instead.
	VpcID            pulumi.StringInput
	PrivateSubnetIDs pulumi.StringArrayInput
	// EgressReady must exist before anything runs in the cluster: nodes need NAT egress to join
	// and pull images, and Auto Mode launches nodes only for pending pods. The control plane
	// needs none, so the cluster does not wait for it: the Kubernetes provider does, and with
	// it every in-cluster object, which on destroy therefore goes before the routes and NAT
	// gateways. (The cluster still goes before its subnets, whose IDs it takes.)
	EgressReady []pulumi.Resource
	// EndpointPublicAccess and PublicAccessCidrs control the public API endpoint. Private
	// access is always on, so nodes reach the API server inside the VPC.
	EndpointPublicAccess bool
	PublicAccessCidrs    []string
	// APIAccessCidrs and APIAccessSecurityGroupIDs may reach the API server's private endpoint:
	// each gets a rule for TCP 443 on the cluster security group, which otherwise admits only
	// itself ("Accessing a private only API server" on
	// https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html: the connected
	// network's traffic must be allowed by the cluster security group).
	APIAccessCidrs            []string
	APIAccessSecurityGroupIDs []string
	// LogTypes are the control-plane log types sent to CloudWatch.
	LogTypes []string
	// AdminPrincipalArns get access entries with the cluster-admin policy, ViewerPrincipalArns
	// entries with the admin-view policy (read-only, Secrets included), ViewOnlyPrincipalArns
	// entries with the view policy (read-only, no Secrets). None may list the principal that
	// creates the cluster: pulumi-eks v3 always sets bootstrapClusterCreatorAdminPermissions,
	// so EKS gives the creator an admin entry of its own, and a second entry for it fails with
	// 409 ResourceInUseException (pulumi-eks#2373).
	AdminPrincipalArns    []string
	ViewerPrincipalArns   []string
	ViewOnlyPrincipalArns []string
	// StorageClassName names the default StorageClass; ALBs are the IngressClasses to create.
	// The cluster fills in each ALB's access log bucket.
	StorageClassName string
	ALBs             []ALBClass
	// AccessLogDays is how long the ALBs' access logs are kept in their bucket.
	AccessLogDays int
	// Tags are the stack's tags. The AWS provider's default tags reach only what Pulumi
	// creates; Auto Mode creates instances, volumes, network interfaces and load balancers
	// itself, and tags them with what the NodeClass, the StorageClass and the
	// IngressClassParams ask for, which is these.
	Tags map[string]string
	// BuiltInNodePools turns on Auto Mode's general-purpose and system pools beside the
	// program's own. They run on the built-in default NodeClass, which carries none of the
	// stack's tags. Off, pulumi-eks creates no node role either ("Create an EKS cluster with
	// both nodePools and nodeRoleArn values empty",
	// https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html), and the
	// program creates the NodeClass's role and its EC2 access entry itself. EKS does not let
	// the node role of the compute config change once set, so choose when creating the
	// cluster: switching later replaces the node role and every node.
	BuiltInNodePools bool
	// NodeClass, AppPool and PlatformPool configure the program's NodeClass and NodePools.
	NodeClass             NodeClassConfig
	AppPool, PlatformPool NodePoolConfig
	// Protect is for production: the cluster cannot be deleted by a plain `pulumi destroy`
	// (protect), volumes keep their EBS disks when their claims go, and the access log bucket
	// must be emptied by hand before it can be deleted.
	Protect bool
}

// Cluster is an EKS Auto Mode cluster with API authentication, access entries for its
// admins, an explicit Kubernetes provider, and the storage and ingress classes workloads use.
type Cluster struct {
	pulumi.ResourceState

	ClusterName      pulumi.StringOutput `pulumi:"clusterName"`
	Kubeconfig       pulumi.StringOutput `pulumi:"kubeconfig"` // secret
	OidcProviderArn  pulumi.StringOutput `pulumi:"oidcProviderArn"`
	OidcProviderURL  pulumi.StringOutput `pulumi:"oidcProviderUrl"`
	OidcIssuer       pulumi.StringOutput `pulumi:"oidcIssuer"`
	StorageClassName pulumi.StringOutput `pulumi:"storageClassName"`
	AccessLogsBucket pulumi.StringOutput `pulumi:"accessLogsBucket"`

	// Provider talks to this cluster with the kubeconfig pulumi-eks returns (never the
	// ambient one). Every in-cluster object uses it.
	Provider *kubernetes.Provider
	// Classes holds the StorageClass and IngressClasses, for dependencies.
	Classes *Classes
	// Nodes holds the NodeClass and the NodePools, for dependencies and placement.
	Nodes *Nodes
}

// NewCluster declares the pulumi-eks Cluster, the Kubernetes provider, and Classes.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("eks cluster %q: %w", name, err)
	}

	c := &Cluster{}
	if err := ctx.RegisterComponentResource("flask-eks:eks:Cluster", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering eks cluster %q: %w", name, err)
	}

	access := map[string]pulumieks.AccessEntryArgs{}
	grant := func(arns []string, policyName, policyArn string) {
		for _, arn := range arns {
			access[AccessEntryName(arn)] = pulumieks.AccessEntryArgs{
				PrincipalArn: pulumi.String(arn),
				AccessPolicies: map[string]pulumieks.AccessPolicyAssociationInput{
					policyName: pulumieks.AccessPolicyAssociationArgs{
						PolicyArn:   pulumi.String(policyArn),
						AccessScope: awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
					},
				},
			}
		}
	}
	grant(args.AdminPrincipalArns, "cluster-admin", ClusterAdminPolicyArn)
	grant(args.ViewerPrincipalArns, "admin-view", AdminViewPolicyArn)
	grant(args.ViewOnlyPrincipalArns, "view", ViewPolicyArn)

	// pulumi-eks is a remote component: it only gets the providers it is handed explicitly,
	// not those its parent inherited. Pass on ours, so its IAM roles, security groups and
	// the cluster itself use the same (tagged, regional) AWS provider as everything else;
	// the provider's default tags are then the one tagging mechanism, here as elsewhere.
	ro, err := pulumi.NewResourceOptions(opts...)
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: reading options: %w", name, err)
	}
	providers := ro.Providers
	if ro.Provider != nil {
		providers = append(providers, ro.Provider)
	}

	authMode := pulumieks.AuthenticationModeApi
	noPublicIP, corednsAddon := false, false
	var builtInPools []string
	if args.BuiltInNodePools {
		builtInPools = []string{"general-purpose", "system"}
	}
	// pulumi-eks creates the built-in pools' node role only when asked: EKS refuses a node
	// role without pools ("When Compute Config nodeRoleArn is not null or empty, nodePool
	// value(s) must be provided", aws-cdk#33894) and pools without one.
	createNodeRole := args.BuiltInNodePools
	cluster, err := pulumieks.NewCluster(ctx, name, &pulumieks.ClusterArgs{
		Name:    pulumi.String(args.Name),
		Version: pulumi.String(args.Version),
		// pulumi-eks v3.9.1 ClusterArgs.KubernetesServiceIpAddressRange (sdk/go/eks/cluster.go).
		KubernetesServiceIpAddressRange: serviceRange(args.ServiceCIDR),
		AuthenticationMode:              &authMode,
		AccessEntries:                   access,
		AutoMode: &pulumieks.AutoModeOptionsArgs{
			Enabled:        true,
			CreateNodeRole: &createNodeRole,
			ComputeConfig: &pulumieks.ClusterComputeConfigArgs{
				NodePools: pulumi.ToStringArray(builtInPools),
			},
		},
		VpcId:                        args.VpcID,
		PrivateSubnetIds:             args.PrivateSubnetIDs,
		NodeAssociatePublicIpAddress: &noPublicIP,
		EndpointPrivateAccess:        pulumi.Bool(true),
		EndpointPublicAccess:         pulumi.Bool(args.EndpointPublicAccess),
		PublicAccessCidrs:            publicCidrs(args),
		EnabledClusterLogTypes:       pulumi.ToStringArray(args.LogTypes),
		// An IAM OIDC provider lets tools that only speak IRSA get AWS access; the app itself
		// uses EKS Pod Identity, which needs none.
		CreateOidcProvider: pulumi.Bool(true),
		// pulumi-eks v3.9.1 creates the CoreDNS managed add-on even in Auto Mode
		// (pulumi-eks#1726). Auto Mode runs DNS itself, "CoreDNS running as a system service
		// directly on each node", and the CoreDNS deployment is only needed next to non-Auto
		// Mode nodes, which this cluster has none of
		// (https://docs.aws.amazon.com/eks/latest/userguide/auto-networking.html#dns-consider).
		CorednsAddonOptions: &pulumieks.CoreDnsAddonOptionsArgs{Enabled: &corednsAddon},
	}, pulumi.Parent(c), pulumi.Providers(providers...), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: creating EKS cluster: %w", name, err)
	}

	if err := apiAccessRules(ctx, name, cluster.ClusterSecurityGroupId, args, pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("eks cluster %q: %w", name, err)
	}

	kubeconfig := pulumi.ToSecret(cluster.KubeconfigJson).(pulumi.StringOutput)
	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig: kubeconfig,
	}, pulumi.Parent(c), pulumi.DependsOn(args.EgressReady))
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: creating Kubernetes provider: %w", name, err)
	}

	// The StorageClass's own provider: see ClassesArgs.StorageProvider.
	storageProvider, err := kubernetes.NewProvider(ctx, name+"-storage", &kubernetes.ProviderArgs{
		Kubeconfig:            kubeconfig,
		EnableServerSideApply: pulumi.BoolPtr(false),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: creating the StorageClass's Kubernetes provider: %w", name, err)
	}

	logs, err := newAccessLogsBucket(ctx, name+"-alb-logs", c, accessLogsArgs{
		Region: args.Region, RetentionDays: args.AccessLogDays, ForceDestroy: !args.Protect,
	})
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: %w", name, err)
	}
	albs := make([]ALBClass, len(args.ALBs))
	for i, alb := range args.ALBs {
		alb.AccessLogsBucket = logs.Bucket
		albs[i] = alb
	}
	classes, err := NewClasses(ctx, name, &ClassesArgs{
		Provider:         provider,
		StorageProvider:  storageProvider,
		StorageClassName: args.StorageClassName,
		ALBs:             albs,
		RetainVolumes:    args.Protect,
		NetworkPolicies:  true,
		Tags:             args.Tags,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: %w", name, err)
	}

	// The name is ours, so it is known in preview; tying it to the cluster's URN makes every
	// consumer depend on the cluster as if it had read the name from it.
	c.ClusterName = cluster.URN().ApplyT(func(pulumi.URN) string { return args.Name }).(pulumi.StringOutput)

	nodeIAM, err := newNodeAWS(ctx, name, c, nodeAWSArgs{
		ClusterName:  c.ClusterName,
		Cluster:      cluster,
		Name:         args.Name,
		ClusterReady: cluster.ClusterSecurityGroupId,
		OwnNodeRole:  !args.BuiltInNodePools,
		KeyAlias:     "alias/" + args.Name + "-node-volumes",
		Protect:      args.Protect,
	})
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: %w", name, err)
	}
	nodesArgs := &NodesArgs{
		Provider:  provider,
		NodeClass: args.NodeClass,
		// The built-in pools' role when they are on (EKS made its access entry), else ours.
		RoleName:         cluster.AutoModeNodeRoleName,
		SubnetIDs:        args.PrivateSubnetIDs,
		SecurityGroupIDs: pulumi.StringArray{cluster.ClusterSecurityGroupId},
		KMSKeyArn:        nodeIAM.KeyArn,
		Tags:             args.Tags,
		App:              args.AppPool,
		Platform:         args.PlatformPool,
		// Nodes may only launch once the cluster role may tag them as the NodeClass asks.
		DependsOn: []pulumi.Resource{nodeIAM.TagPolicy},
	}
	if !args.BuiltInNodePools {
		nodesArgs.RoleName = nodeIAM.RoleName
		nodesArgs.DependsOn = append(nodesArgs.DependsOn, nodeIAM.AccessEntry)
	}
	nodes, err := NewNodes(ctx, name, nodesArgs, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("eks cluster %q: %w", name, err)
	}

	c.Provider, c.Classes, c.Nodes = provider, classes, nodes
	c.AccessLogsBucket = logs.Bucket
	c.Kubeconfig = kubeconfig
	c.OidcProviderArn = cluster.OidcProviderArn
	c.OidcProviderURL = cluster.OidcProviderUrl
	c.OidcIssuer = cluster.OidcIssuer
	c.StorageClassName = classes.StorageClassName
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName":      c.ClusterName,
		"kubeconfig":       c.Kubeconfig,
		"oidcProviderArn":  c.OidcProviderArn,
		"oidcProviderUrl":  c.OidcProviderURL,
		"oidcIssuer":       c.OidcIssuer,
		"storageClassName": c.StorageClassName,
		"accessLogsBucket": c.AccessLogsBucket,
	}); err != nil {
		return nil, fmt.Errorf("eks cluster %q: registering outputs: %w", name, err)
	}
	return c, nil
}

func (a *ClusterArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("args are required")
	case a.Name == "" || a.Version == "":
		return fmt.Errorf("a cluster name and Kubernetes version are required")
	case a.VpcID == nil || a.PrivateSubnetIDs == nil:
		return fmt.Errorf("a VPC ID and private subnet IDs are required")
	case a.StorageClassName == "" || len(a.ALBs) == 0:
		return fmt.Errorf("a StorageClass name and at least one ALB class are required")
	case a.Region == "" || a.AccessLogDays < 1:
		return fmt.Errorf("the region and the access log retention are required")
	case a.EndpointPublicAccess && len(a.PublicAccessCidrs) == 0:
		return fmt.Errorf("public endpoint access needs at least one CIDR in PublicAccessCidrs")
	case !a.EndpointPublicAccess && len(a.APIAccessCidrs)+len(a.APIAccessSecurityGroupIDs) == 0:
		return fmt.Errorf("a private-only endpoint needs APIAccessCidrs or APIAccessSecurityGroupIDs: nothing else may reach it")
	}
	if err := ValidateTags(a.Tags); err != nil {
		return err
	}
	if err := a.NodeClass.Validate(); err != nil {
		return err
	}
	if err := a.AppPool.Validate(); err != nil {
		return fmt.Errorf("NodePool %s: %w", AppPool, err)
	}
	if err := a.PlatformPool.Validate(); err != nil {
		return fmt.Errorf("NodePool %s: %w", PlatformPool, err)
	}
	return validateALBs(a.ALBs)
}

// serviceRange is the service range to ask EKS for; nil lets EKS pick.
func serviceRange(cidr string) pulumi.StringPtrInput {
	if cidr == "" {
		return nil
	}
	return pulumi.String(cidr)
}

// publicCidrs is nil when the public endpoint is off: EKS rejects an allow-list for an
// endpoint that does not exist.
func publicCidrs(a *ClusterArgs) pulumi.StringArrayInput {
	if !a.EndpointPublicAccess {
		return nil
	}
	return pulumi.ToStringArray(a.PublicAccessCidrs)
}

// apiAccessRules admits the configured networks and security groups to the API server's
// endpoint (TCP 443) in the cluster security group: one rule per source, so that a change to one
// replaces only its rule.
func apiAccessRules(ctx *pulumi.Context, name string, sg pulumi.StringOutput, args *ClusterArgs, opts ...pulumi.ResourceOption) error {
	rule := func(suffix, description string, set func(*vpc.SecurityGroupIngressRuleArgs)) error {
		a := &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg,
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(443),
			ToPort:          pulumi.Int(443),
			Description:     pulumi.String(description),
		}
		set(a)
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-api-"+suffix, a, opts...); err != nil {
			return fmt.Errorf("admitting %s to the API endpoint: %w", suffix, err)
		}
		return nil
	}
	for _, cidr := range args.APIAccessCidrs {
		if err := rule(sanitize(cidr), "Kubernetes API from "+cidr, func(a *vpc.SecurityGroupIngressRuleArgs) { a.CidrIpv4 = pulumi.String(cidr) }); err != nil {
			return err
		}
	}
	for _, id := range args.APIAccessSecurityGroupIDs {
		if err := rule(id, "Kubernetes API from security group "+id, func(a *vpc.SecurityGroupIngressRuleArgs) { a.ReferencedSecurityGroupId = pulumi.String(id) }); err != nil {
			return err
		}
	}
	return nil
}
