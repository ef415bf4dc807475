// Package pulumitest is the test kit for the program's components under pulumi.RunWithMocks:
// one mock resource monitor that answers as AWS, EKS, ECR, Route 53, ACM, Docker, Kubernetes and
// random would (realistic IDs, ARNs, digests, a kubeconfig that runs `aws eks get-token`), that
// records every registration with its parent, provider and dependencies, and helpers to run a
// program, capture an output's value and build URNs.
//
// The mock answers only with what the cloud computes; inputs come back as given. A test then
// asserts on what the program asked for (properties, parents, providers, dependencies) and on
// what it derived from the cloud's answers (URLs, references by ID or ARN).
package pulumitest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Defaults of a Mocks: the account and region every ARN and hostname is made in.
const (
	Account = "123456789012"
	Region  = "eu-west-1"
)

// Node is one registered resource (or read), as the graph snapshots record it.
type Node struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	ID           string         `json:"id"`
	Parent       string         `json:"parent"`
	Provider     string         `json:"provider"`
	Dependencies []string       `json:"dependencies"`
	Inputs       map[string]any `json:"inputs"`

	// Raw holds the inputs as the engine sent them, secrets and all, for assertions on
	// secretness and exact property values. Not part of the snapshot.
	Raw resource.PropertyMap `json:"-"`
	// Providers is a component's provider map (package -> provider URN), which a remote
	// component such as pulumi-eks's Cluster hands to its children. Not part of the snapshot.
	Providers map[string]string `json:"-"`
	// PropertyDependencies maps an input to the URNs it was computed from.
	PropertyDependencies map[string][]string `json:"-"`
	// Custom is false for components.
	Custom bool `json:"-"`
	// Protect, RetainOnDelete and IgnoreChanges are the resource options of those names.
	Protect, RetainOnDelete bool     `json:"-"`
	IgnoreChanges           []string `json:"-"`
	// Aliases are the URNs the resource's aliases resolve to, as the engine resolves them.
	Aliases []string `json:"-"`
}

// Mocks is the mock resource monitor. The zero value is not usable: call New.
type Mocks struct {
	Project, Stack, Region, Account string
	// Networks are VPCs the account already holds (a network stack's), which the getVpc and
	// getSubnet invokes describe as EC2 does; any other ID is not found, as in EC2.
	Networks []ExistingVPC

	mu    sync.Mutex
	nodes []Node
	calls []string
}

// ExistingVPC is a VPC made outside the stack under test, with its subnets.
type ExistingVPC struct {
	ID, CIDR string
	Subnets  []ExistingSubnet
}

// ExistingSubnet is a subnet of an ExistingVPC. Public ones carry kubernetes.io/role/elb=1,
// private ones kubernetes.io/role/internal-elb=1, unless Untagged.
type ExistingSubnet struct {
	ID, CIDR, AZ     string
	Public, Untagged bool
}

// New returns mocks for one run of project/stack in the default account and region.
func New(project, stack string) *Mocks {
	return &Mocks{Project: project, Stack: stack, Region: Region, Account: Account}
}

// mockID derives a stable, realistic-looking ID from a prefix and a resource name.
func mockID(prefix, name string) string {
	sum := sha256.Sum256([]byte(prefix + "/" + name))
	return prefix + "-" + hex.EncodeToString(sum[:])[:17]
}

// NewResource answers a registration (or a read) and records it.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, outputs := m.respond(args)
	state := args.Inputs.Copy()
	for k, v := range outputs {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	m.record(args, id)
	return id, state, nil
}

// Call answers an invoke as AWS would.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, args.Token)
	m.mu.Unlock()
	str := func(k string) string {
		if v, ok := args.Args[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":      m.Region,
			"names":   []any{m.Region + "a", m.Region + "b", m.Region + "c"},
			"zoneIds": []any{"euw1-az1", "euw1-az2", "euw1-az3"},
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": m.Account, "accountId": m.Account, "userId": "AROAEXAMPLE:deploy",
			"arn": fmt.Sprintf("arn:aws:sts::%s:assumed-role/deploy/session", m.Account),
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}), nil
	case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
		return resource.PropertyMap{
			"id":            resource.NewStringProperty(m.Region),
			"userName":      resource.NewStringProperty("AWS"),
			"password":      resource.MakeSecret(resource.NewStringProperty("mock-ecr-login-token")),
			"proxyEndpoint": resource.NewStringProperty(fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", m.Account, m.Region)),
			"expiresAt":     resource.NewStringProperty("2026-11-26T06:00:00Z"),
		}, nil
	case "aws:ec2/getVpc:getVpc":
		for _, v := range m.Networks {
			if v.ID == str("id") {
				return resource.NewPropertyMapFromMap(map[string]any{
					"id": v.ID, "cidrBlock": v.CIDR, "state": "available", "default": false,
					"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", m.Region, m.Account, v.ID), "ownerId": m.Account,
				}), nil
			}
		}
		// EC2's DescribeVpcs answer for an unknown ID, as the provider relays it.
		return nil, fmt.Errorf("reading EC2 VPC (%s): couldn't find resource", str("id"))
	case "aws:ec2/getSubnet:getSubnet":
		for _, v := range m.Networks {
			for _, s := range v.Subnets {
				if s.ID != str("id") {
					continue
				}
				tags := map[string]any{}
				switch {
				case s.Untagged:
				case s.Public:
					tags["kubernetes.io/role/elb"] = "1"
				default:
					tags["kubernetes.io/role/internal-elb"] = "1"
				}
				return resource.NewPropertyMapFromMap(map[string]any{
					"id": s.ID, "vpcId": v.ID, "cidrBlock": s.CIDR, "availabilityZone": s.AZ, "mapPublicIpOnLaunch": false,
					"state": "available", "tags": tags, "ownerId": m.Account,
					"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", m.Region, m.Account, s.ID),
				}), nil
			}
		}
		return nil, fmt.Errorf("reading EC2 Subnet (%s): couldn't find resource", str("id"))
	case "aws:eks/getCluster:getCluster":
		return m.eksCluster(str("name"))
	case "aws:route53/getZone:getZone":
		name, id := strings.TrimSuffix(str("name"), "."), str("zoneId")
		if id == "" {
			id = ZoneID(name)
		}
		if name == "" {
			name = "example.com"
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": id, "zoneId": id, "name": name + ".", "arn": "arn:aws:route53:::hostedzone/" + id,
			"privateZone": false,
		}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// respond returns the ID and the provider-computed outputs of a resource.
func (m *Mocks) respond(args pulumi.MockResourceArgs) (string, map[string]any) {
	in := args.Inputs
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	arn := func(service, rest string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, m.Region, m.Account, rest)
	}
	switch args.TypeToken {
	case "aws:ec2/vpc:Vpc":
		id := mockID("vpc", args.Name)
		return id, map[string]any{"arn": arn("ec2", "vpc/"+id)}
	case "aws:ec2/subnet:Subnet":
		id := mockID("subnet", args.Name)
		return id, map[string]any{"arn": arn("ec2", "subnet/"+id)}
	case "aws:ec2/internetGateway:InternetGateway":
		return mockID("igw", args.Name), nil
	case "aws:ec2/eip:Eip":
		return mockID("eipalloc", args.Name), map[string]any{"publicIp": "203.0.113.10"}
	case "aws:ec2/natGateway:NatGateway":
		return mockID("nat", args.Name), nil
	case "aws:ec2/routeTable:RouteTable":
		return mockID("rtb", args.Name), nil
	case "aws:ec2/route:Route":
		return "r-" + str("routeTableId") + "1080289494", nil
	case "aws:ec2/routeTableAssociation:RouteTableAssociation":
		return mockID("rtbassoc", args.Name), nil
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		return mockID("vpce", args.Name), nil
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
		id := mockID("sgr", args.Name)
		return id, map[string]any{"securityGroupRuleId": id, "arn": arn("ec2", "security-group-rule/"+id)}
	case "eks:index:Cluster":
		return "", m.eksClusterOutputs(args.Name, str("name"), in)
	case "aws:ecr/repository:Repository":
		name := str("name")
		return name, map[string]any{
			"arn":           arn("ecr", "repository/"+name),
			"registryId":    m.Account,
			"repositoryUrl": fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", m.Account, m.Region, name),
		}
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		return "lifecycle-" + args.Name, map[string]any{"registryId": m.Account}
	case "docker:index/image:Image":
		image := str("imageName")
		sum := sha256.Sum256([]byte(image))
		repo, _, _ := strings.Cut(image, ":src-")
		return image, map[string]any{
			"repoDigest":    repo + "@sha256:" + hex.EncodeToString(sum[:]),
			"baseImageName": image,
		}
	case "random:index/randomPassword:RandomPassword":
		sum := sha256.Sum256([]byte(args.Name))
		return "none", map[string]any{"result": resource.MakeSecret(resource.NewStringProperty("mockpw" + hex.EncodeToString(sum[:])[:26]))}
	case "aws:iam/role:Role":
		name := str("name")
		if name == "" {
			name = args.Name + "-" + hex.EncodeToString([]byte(args.Name))[:7]
		}
		return name, map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:role/%s", m.Account, name), "name": name}
	case "aws:iam/policy:Policy":
		name := str("name")
		if name == "" {
			name = args.Name + "-" + hex.EncodeToString([]byte(args.Name))[:7]
		}
		a := fmt.Sprintf("arn:aws:iam::%s:policy/%s", m.Account, name)
		return a, map[string]any{"arn": a, "name": name}
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicy:RolePolicy":
		return mockID("attachment", args.Name), nil
	case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		return mockID("a", args.Name), map[string]any{"associationId": mockID("a", args.Name), "associationArn": arn("eks", "podidentityassociation/"+mockID("a", args.Name))}
	case "aws:kms/key:Key":
		sum := sha256.Sum256([]byte(args.Name))
		id := hex.EncodeToString(sum[:])[:8] + "-1234-4abc-8def-0123456789ab"
		return id, map[string]any{"arn": arn("kms", "key/"+id), "keyId": id}
	case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
		name := str("bucket")
		if name == "" {
			name = args.Name + "-" + hex.EncodeToString([]byte(args.Name))[:7]
		}
		return name, map[string]any{"arn": "arn:aws:s3:::" + name, "bucket": name,
			"bucketRegionalDomainName": name + ".s3." + m.Region + ".amazonaws.com"}
	case "aws:secretsmanager/secret:Secret":
		name := str("name")
		a := arn("secretsmanager", "secret:"+name+"-AbCdEf")
		return a, map[string]any{"arn": a}
	case "aws:secretsmanager/secretVersion:SecretVersion":
		// PutSecretValue answers with a version ID (a UUID); the provider's ID is
		// "<secret ARN>|<version ID>".
		h := sha256.Sum256([]byte(args.Name))
		sum := hex.EncodeToString(h[:])
		version := sum[:8] + "-90ab-4cde-8f01-" + sum[8:20]
		return str("secretId") + "|" + version, map[string]any{"versionId": version, "arn": str("secretId")}
	case "aws:secretsmanager/secretPolicy:SecretPolicy":
		// The provider's ID is the secret's ARN.
		return str("secretArn"), nil
	case "aws:acm/certificate:Certificate":
		sum := sha256.Sum256([]byte(args.Name))
		id := arn("acm", "certificate/"+hex.EncodeToString(sum[:])[:8]+"-6b1d-4c7e-9a52-3e8d7b41f6a0")
		return id, map[string]any{"arn": id, "domainValidationOptions": m.validationOptions(in)}
	case "aws:acm/certificateValidation:CertificateValidation":
		return str("certificateArn"), nil
	case "aws:route53/record:Record":
		return str("zoneId") + "_" + str("name") + "_" + str("type"), map[string]any{"fqdn": strings.TrimSuffix(str("name"), ".")}
	case "kubernetes:helm.sh/v3:Release":
		ns, name := str("namespace"), str("name")
		return ns + "/" + name, map[string]any{"status": map[string]any{
			"name": name, "namespace": ns, "status": "deployed", "revision": 1,
			"chart": name, "version": "0.1.0", "appVersion": "1.0.0",
		}}
	case "kubernetes:networking.k8s.io/v1:Ingress":
		if args.ID != "" {
			// A read of a chart's Ingress: the ALB controller has filled in the status.
			return args.ID, map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{
				map[string]any{"hostname": fmt.Sprintf("k8s-%s-%s.%s.elb.amazonaws.com", strings.ReplaceAll(args.ID, "/", "-"), mockID("", args.ID)[1:9], m.Region)},
			}}}}
		}
	}
	switch {
	case strings.HasPrefix(args.TypeToken, "pulumi:providers:"):
		return mockID("provider", args.Name), nil
	case strings.HasPrefix(args.TypeToken, "kubernetes:") && args.ID != "":
		return args.ID, map[string]any{"metadata": readMetadata(args.ID)}
	case strings.HasPrefix(args.TypeToken, "kubernetes:"):
		return kubernetesObject(args)
	case !args.Custom:
		return "", nil // a component
	}
	return mockID("id", args.Name), nil
}

// validationOptions are the DNS validation records ACM asks for, one per name of a certificate.
func (m *Mocks) validationOptions(in resource.PropertyMap) []any {
	names := []string{}
	if v, ok := in["domainName"]; ok && v.IsString() {
		names = append(names, v.StringValue())
	}
	if v, ok := in["subjectAlternativeNames"]; ok && v.IsArray() {
		for _, e := range v.ArrayValue() {
			if e.IsString() && e.StringValue() != names[0] {
				names = append(names, e.StringValue())
			}
		}
	}
	var out []any
	for _, n := range names {
		sum := sha256.Sum256([]byte(n))
		token := hex.EncodeToString(sum[:])[:32]
		out = append(out, map[string]any{
			"domainName":          n,
			"resourceRecordName":  "_" + token + "." + n + ".",
			"resourceRecordType":  "CNAME",
			"resourceRecordValue": "_" + token[:16] + ".mhbtsbpdnt.acm-validations.aws.",
		})
	}
	return out
}

// kubernetesObject answers like the Kubernetes provider for a plain object. One without
// metadata.name is auto-named as the provider does, "<resource name>-<8 characters>", and the
// name is an output; the ID is namespace/name or name.
func kubernetesObject(args pulumi.MockResourceArgs) (string, map[string]any) {
	meta, ok := args.Inputs["metadata"]
	if !ok || !meta.IsObject() {
		return kubernetesID(args.Inputs), nil
	}
	if name, ok := meta.ObjectValue()["name"]; ok && name.IsString() && name.StringValue() != "" {
		return kubernetesID(args.Inputs), nil
	}
	named := meta.ObjectValue().Copy()
	named["name"] = resource.NewStringProperty(args.Name + "-" + mockID("", args.Name)[1:9])
	return kubernetesID(resource.PropertyMap{"metadata": resource.NewObjectProperty(named)}), map[string]any{"metadata": named.Mappable()}
}

// readMetadata is the metadata of an object read by its ID (namespace/name or name), as the
// Kubernetes provider returns it from the live object.
func readMetadata(id string) map[string]any {
	if ns, name, ok := strings.Cut(id, "/"); ok {
		return map[string]any{"name": name, "namespace": ns}
	}
	return map[string]any{"name": id}
}

// kubernetesID is what the Kubernetes provider uses as an ID: namespace/name or name.
func kubernetesID(in resource.PropertyMap) string {
	meta, ok := in["metadata"]
	if !ok || !meta.IsObject() {
		return ""
	}
	md := meta.ObjectValue()
	name := ""
	if v, ok := md["name"]; ok && v.IsString() {
		name = v.StringValue()
	}
	if v, ok := md["namespace"]; ok && v.IsString() && v.StringValue() != "" {
		return v.StringValue() + "/" + name
	}
	return name
}

// eksClusterOutputs are the outputs pulumi-eks's remote Cluster component returns, shaped
// like the real ones (pulumi-eks v3.9.1 nodejs/eks/cluster/cluster.ts): a kubeconfig that
// authenticates with `aws eks get-token`, the OIDC provider details, the security group EKS
// creates with an Auto Mode cluster, and the name of the built-in pools' node role, which
// pulumi-eks auto-names "<resource>-nodeRole-role-<7 hex>" and leaves empty when
// autoMode.createNodeRole is false.
func (m *Mocks) eksClusterOutputs(resourceName, name string, in resource.PropertyMap) map[string]any {
	sum := sha256.Sum256([]byte(name))
	oidcID := strings.ToUpper(hex.EncodeToString(sum[:]))[:32]
	endpoint := fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", oidcID, m.Region)
	issuer := fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", m.Region, oidcID)
	kubeconfig := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": "kubernetes", "cluster": map[string]any{
			"server": endpoint, "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1vY2sKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
		}}},
		"contexts":        []any{map[string]any{"name": "aws", "context": map[string]any{"cluster": "kubernetes", "user": "aws"}}},
		"current-context": "aws",
		"users": []any{map[string]any{"name": "aws", "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1",
			"command":    "aws",
			"args":       []any{"--region", m.Region, "eks", "get-token", "--cluster-name", name, "--output", "json"},
		}}}},
	}
	kubeconfigJSON, _ := json.Marshal(kubeconfig)
	return map[string]any{
		"kubeconfig":             kubeconfig,
		"kubeconfigJson":         string(kubeconfigJSON),
		"oidcIssuer":             strings.TrimPrefix(issuer, "https://"),
		"oidcProviderUrl":        issuer,
		"oidcProviderArn":        fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", m.Account, strings.TrimPrefix(issuer, "https://")),
		"clusterSecurityGroupId": mockID("sg", name),
		"autoModeNodeRoleName":   autoModeNodeRoleName(resourceName, in),
	}
}

func autoModeNodeRoleName(resourceName string, in resource.PropertyMap) string {
	if am, ok := in["autoMode"]; ok && am.IsObject() {
		if c, ok := am.ObjectValue()["createNodeRole"]; ok && c.IsBool() && !c.BoolValue() {
			return ""
		}
	}
	return autoName(resourceName + "-nodeRole-role")
}

// autoName is a Pulumi auto-name: the logical name and 7 hex characters.
func autoName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return name + "-" + hex.EncodeToString(sum[:])[:7]
}

// ClusterRoleName is the name of the cluster role pulumi-eks creates for its Cluster resource
// of that name, as the mock's aws:eks/getCluster reports it.
func ClusterRoleName(resourceName string) string { return autoName(resourceName + "-eksRole-role") }

// eksCluster answers aws:eks/getCluster for a cluster declared with pulumi-eks: its ARN and
// the ARN of the cluster role pulumi-eks created for it ("<resource>-eksRole-role-<7 hex>").
func (m *Mocks) eksCluster(name string) (resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if n.Type != "eks:index:Cluster" {
			continue
		}
		if v, ok := n.Raw["name"]; ok && v.IsString() && v.StringValue() == name {
			return resource.NewPropertyMapFromMap(map[string]any{
				"id":      name,
				"name":    name,
				"arn":     fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", m.Region, m.Account, name),
				"roleArn": fmt.Sprintf("arn:aws:iam::%s:role/%s", m.Account, ClusterRoleName(n.Name)),
				"status":  "ACTIVE",
			}), nil
		}
	}
	return nil, fmt.Errorf("ResourceNotFoundException: No cluster found for name: %s", name)
}

// record turns a registration (or a read) into a node.
func (m *Mocks) record(args pulumi.MockResourceArgs, id string) {
	n := Node{Type: args.TypeToken, Name: args.Name, ID: id, Inputs: Plain(args.Inputs), Raw: args.Inputs.Copy(),
		PropertyDependencies: map[string][]string{}, Custom: args.Custom}
	deps := map[string]bool{}
	var parent, provider string
	if rpc := args.RegisterRPC; rpc != nil {
		parent, provider = rpc.GetParent(), rpc.GetProvider()
		n.Providers = map[string]string{}
		for pkg, ref := range rpc.GetProviders() {
			n.Providers[pkg] = ref[:strings.LastIndex(ref, "::")]
		}
		for _, d := range rpc.GetDependencies() {
			deps[d] = true
		}
		for k, pd := range rpc.GetPropertyDependencies() {
			n.PropertyDependencies[k] = pd.GetUrns()
			for _, d := range pd.GetUrns() {
				deps[d] = true
			}
		}
		n.Protect, n.RetainOnDelete, n.IgnoreChanges = rpc.GetProtect(), rpc.GetRetainOnDelete(), rpc.GetIgnoreChanges()
		for _, a := range rpc.GetAliases() {
			n.Aliases = append(n.Aliases, m.aliasURN(a, args, parent))
		}
	} else if rpc := args.ReadRPC; rpc != nil {
		parent, provider = rpc.GetParent(), rpc.GetProvider()
		for _, d := range rpc.GetDependencies() {
			deps[d] = true
		}
	}
	parentType := tokens.Type("")
	if parent != "" && resource.URN(parent).QualifiedType() != resource.RootStackType {
		parentType = resource.URN(parent).QualifiedType()
	}
	n.URN = string(resource.NewURN(tokens.QName(m.Stack), tokens.PackageName(m.Project), parentType, tokens.Type(args.TypeToken), args.Name))
	n.Parent = parent
	// A provider reference is "<urn>::<id>"; the URN is what identifies it across runs.
	if i := strings.LastIndex(provider, "::"); i > 0 {
		provider = provider[:i]
	}
	n.Provider = provider
	n.Dependencies = []string{}
	for d := range deps {
		n.Dependencies = append(n.Dependencies, d)
	}
	sort.Strings(n.Dependencies)
	m.mu.Lock()
	m.nodes = append(m.nodes, n)
	m.mu.Unlock()
}

// aliasURN resolves an alias the way the engine does: a URN as it is; a spec with the
// resource's own name, type, stack, project and parent wherever it leaves them out.
func (m *Mocks) aliasURN(a *pulumirpc.Alias, args pulumi.MockResourceArgs, parent string) string {
	if u := a.GetUrn(); u != "" {
		return u
	}
	spec := a.GetSpec()
	name, typ, stack, project := spec.GetName(), spec.GetType(), spec.GetStack(), spec.GetProject()
	if name == "" {
		name = args.Name
	}
	if typ == "" {
		typ = args.TypeToken
	}
	if stack == "" {
		stack = m.Stack
	}
	if project == "" {
		project = m.Project
	}
	switch {
	case spec.GetNoParent():
		parent = ""
	case spec.GetParentUrn() != "":
		parent = spec.GetParentUrn()
	}
	parentType := ""
	if parent != "" && resource.URN(parent).QualifiedType() != resource.RootStackType {
		parentType = string(resource.URN(parent).QualifiedType())
	}
	return URN(project, stack, parentType, typ, name)
}

// Plain converts property values to JSON-able values, with every secret replaced by "[secret]"
// and every unknown by "[unknown]", so that a snapshot can be committed and reviewed.
func Plain(pm resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range pm {
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return "[secret]"
	case v.IsComputed():
		return "[unknown]"
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return "[secret]"
		}
		if !o.Known {
			return "[unknown]"
		}
		return plainValue(o.Element)
	case v.IsObject():
		return Plain(v.ObjectValue())
	case v.IsArray():
		arr := []any{}
		for _, e := range v.ArrayValue() {
			arr = append(arr, plainValue(e))
		}
		return arr
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsNull():
		return nil
	}
	return v.V
}

// Graph returns the recorded nodes sorted by URN.
func (m *Mocks) Graph() []Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Node(nil), m.nodes...)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// Calls returns the tokens of the invokes made, in order.
func (m *Mocks) Calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

// ByType returns the nodes of one type, sorted by URN.
func (m *Mocks) ByType(typ string) []Node {
	var out []Node
	for _, n := range m.Graph() {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

// One returns the single node of a type and name, failing the test otherwise.
func (m *Mocks) One(t testing.TB, typ, name string) Node {
	t.Helper()
	for _, n := range m.ByType(typ) {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no %s named %q among %d resources", typ, name, len(m.Graph()))
	return Node{}
}

// Only returns the single node of a type, failing the test if there are none or several.
func (m *Mocks) Only(t testing.TB, typ string) Node {
	t.Helper()
	ns := m.ByType(typ)
	if len(ns) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(ns), typ)
	}
	return ns[0]
}

// ZoneID is the ID the mock gives the public hosted zone of name (looked up by name).
func ZoneID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "Z" + strings.ToUpper(hex.EncodeToString(sum[:])[:20])
}

// URN is the URN the engine gives a resource of typ named name under a parent of parentType
// ("" for the stack) in project/stack.
func URN(project, stack, parentType, typ, name string) string {
	return string(resource.NewURN(tokens.QName(stack), tokens.PackageName(project), tokens.Type(parentType), tokens.Type(typ), name))
}

// URN is the package URN function for this run's project and stack.
func (m *Mocks) URN(parentType, typ, name string) string {
	return URN(m.Project, m.Stack, parentType, typ, name)
}

// DependsOn reports whether from depends on to in the graph, directly, through other
// dependencies, through its provider (and what configures it), or through a component it
// depends on (which means all of the component's children).
func DependsOn(nodes []Node, from, to string) bool {
	byURN := map[string]Node{}
	for _, n := range nodes {
		byURN[n.URN] = n
	}
	seen := map[string]bool{}
	var walk func(u string) bool
	walk = func(u string) bool {
		if seen[u] {
			return false
		}
		seen[u] = true
		n := byURN[u]
		edges := append([]string{}, n.Dependencies...)
		if n.Provider != "" {
			edges = append(edges, n.Provider)
		}
		for _, d := range edges {
			if d == to || walk(d) {
				return true
			}
			for _, c := range nodes {
				if c.Parent == d && (c.URN == to || walk(c.URN)) {
					return true
				}
			}
		}
		return false
	}
	return walk(from)
}
