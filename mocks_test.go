package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"sigs.k8s.io/yaml"
)

const (
	mockAccount = "123456789012"
	mockProject = "flask-eks"
)

// node is one registered resource as the graph snapshot records it.
type node struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	ID           string         `json:"id"`
	Parent       string         `json:"parent"`
	Provider     string         `json:"provider"`
	Dependencies []string       `json:"dependencies"`
	Inputs       map[string]any `json:"inputs"`

	// providers is a component's provider map (package -> URN), which a remote component
	// such as pulumi-eks's Cluster hands to its children. Not part of the snapshot format.
	providers map[string]string
}

// recorder is the mock resource monitor for the whole program. It records every resource the
// program registers (components, custom resources, reads) and answers as AWS, EKS, ECR,
// Docker and Kubernetes would: realistic IDs and the outputs the program reads.
type recorder struct {
	stack  string
	region string

	mu    sync.Mutex
	nodes []node
	calls []string
}

func newRecorder(stack, region string) *recorder {
	if region == "" {
		region = "eu-west-1"
	}
	return &recorder{stack: stack, region: region}
}

// mockID derives a stable, realistic-looking ID from a prefix and a resource name.
func mockID(prefix, name string) string {
	sum := sha256.Sum256([]byte(prefix + "/" + name))
	return prefix + "-" + hex.EncodeToString(sum[:])[:17]
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, outputs := r.respond(args)
	state := args.Inputs.Copy()
	for k, v := range outputs {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	r.record(args, id)
	return id, state, nil
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, args.Token)
	r.mu.Unlock()
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":      r.region,
			"names":   []any{r.region + "a", r.region + "b", r.region + "c"},
			"zoneIds": []any{"euw1-az1", "euw1-az2", "euw1-az3"},
		}), nil
	case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
		return resource.PropertyMap{
			"id":            resource.NewStringProperty(r.region),
			"userName":      resource.NewStringProperty("AWS"),
			"password":      resource.MakeSecret(resource.NewStringProperty("mock-ecr-login-token")),
			"proxyEndpoint": resource.NewStringProperty(fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", mockAccount, r.region)),
			"expiresAt":     resource.NewStringProperty("2026-11-26T06:00:00Z"),
		}, nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// respond returns the ID and the provider-computed outputs of a resource.
func (r *recorder) respond(args pulumi.MockResourceArgs) (string, map[string]any) {
	in := args.Inputs
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	arn := func(service, rest string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, r.region, mockAccount, rest)
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
	case "eks:index:Cluster":
		return "", r.eksClusterOutputs(str("name"))
	case "aws:ecr/repository:Repository":
		name := str("name")
		return name, map[string]any{
			"arn":           arn("ecr", "repository/"+name),
			"registryId":    mockAccount,
			"repositoryUrl": fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", mockAccount, r.region, name),
		}
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		return "lifecycle-" + args.Name, map[string]any{"registryId": mockAccount}
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
		name := args.Name + "-" + hex.EncodeToString([]byte(args.Name))[:7]
		return name, map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:role/%s", mockAccount, name), "name": name}
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		return mockID("attachment", args.Name), nil
	case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		return mockID("a", args.Name), map[string]any{"associationId": mockID("a", args.Name)}
	case "kubernetes:helm.sh/v3:Release":
		ns, name := str("namespace"), str("name")
		return ns + "/" + name, map[string]any{"status": map[string]any{
			"name": name, "namespace": ns, "status": "deployed", "revision": 1,
			"chart": name, "version": "0.1.0", "appVersion": "1.0.0",
		}}
	case "kubernetes:networking.k8s.io/v1:Ingress":
		// A read of the chart's Ingress: the ALB controller has filled in the status.
		return args.ID, map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{
			map[string]any{"hostname": fmt.Sprintf("k8s-%s-%s.%s.elb.amazonaws.com", strings.ReplaceAll(args.ID, "/", "-"), mockID("", args.ID)[1:9], r.region)},
		}}}}
	}
	switch {
	case strings.HasPrefix(args.TypeToken, "pulumi:providers:"):
		return mockID("provider", args.Name), nil
	case strings.HasPrefix(args.TypeToken, "kubernetes:"):
		return kubernetesObject(args)
	case !args.Custom:
		return "", nil // a component
	}
	return mockID("id", args.Name), nil
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

// kubernetesID is what the Kubernetes provider uses as an ID: namespace/name or name.
func kubernetesID(in resource.PropertyMap) string {
	meta, ok := in["metadata"]
	if !ok || !meta.IsObject() {
		return ""
	}
	m := meta.ObjectValue()
	name := ""
	if v, ok := m["name"]; ok && v.IsString() {
		name = v.StringValue()
	}
	if v, ok := m["namespace"]; ok && v.IsString() && v.StringValue() != "" {
		return v.StringValue() + "/" + name
	}
	return name
}

// eksClusterOutputs are the outputs pulumi-eks's remote Cluster component returns, shaped
// like the real ones: a kubeconfig that authenticates with `aws eks get-token`, and the OIDC
// provider details.
func (r *recorder) eksClusterOutputs(name string) map[string]any {
	sum := sha256.Sum256([]byte(name))
	oidcID := strings.ToUpper(hex.EncodeToString(sum[:]))[:32]
	endpoint := fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", oidcID, r.region)
	issuer := fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", r.region, oidcID)
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
			"args":       []any{"--region", r.region, "eks", "get-token", "--cluster-name", name, "--output", "json"},
		}}}},
	}
	kubeconfigJSON, _ := json.Marshal(kubeconfig)
	return map[string]any{
		"kubeconfig":             kubeconfig,
		"kubeconfigJson":         string(kubeconfigJSON),
		"oidcIssuer":             strings.TrimPrefix(issuer, "https://"),
		"oidcProviderUrl":        issuer,
		"oidcProviderArn":        fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", mockAccount, strings.TrimPrefix(issuer, "https://")),
		"clusterSecurityGroupId": mockID("sg", name),
		"autoModeNodeRoleName":   name + "-auto-mode-node-role",
	}
}

// record turns a registration (or a read) into a node.
func (r *recorder) record(args pulumi.MockResourceArgs, id string) {
	n := node{Type: args.TypeToken, Name: args.Name, ID: id, Inputs: plain(args.Inputs)}
	deps := map[string]bool{}
	var parent, provider string
	if rpc := args.RegisterRPC; rpc != nil {
		parent, provider = rpc.GetParent(), rpc.GetProvider()
		n.providers = map[string]string{}
		for pkg, ref := range rpc.GetProviders() {
			n.providers[pkg] = ref[:strings.LastIndex(ref, "::")]
		}
		for _, d := range rpc.GetDependencies() {
			deps[d] = true
		}
		for _, pd := range rpc.GetPropertyDependencies() {
			for _, d := range pd.GetUrns() {
				deps[d] = true
			}
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
	n.URN = string(resource.NewURN(tokens.QName(r.stack), tokens.PackageName(mockProject), parentType, tokens.Type(args.TypeToken), args.Name))
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
	r.mu.Lock()
	r.nodes = append(r.nodes, n)
	r.mu.Unlock()
}

// plain converts property values to JSON-able values, with every secret replaced by
// "[secret]" so that the snapshot can be committed and reviewed.
func plain(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
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
		return plain(v.ObjectValue())
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

// graph returns the recorded nodes sorted by URN.
func (r *recorder) graph() []node {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]node(nil), r.nodes...)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// byType returns the nodes of one type.
func (r *recorder) byType(typ string) []node {
	var out []node
	for _, n := range r.graph() {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

// one returns the single node of a type and name, failing the test otherwise.
func (r *recorder) one(t *testing.T, typ, name string) node {
	t.Helper()
	for _, n := range r.byType(typ) {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no %s named %q among %d resources", typ, name, len(r.graph()))
	return node{}
}

// stackConfig reads Pulumi.<stack>.yaml into the form the engine passes to programs:
// strings as they are, everything else JSON-encoded. It returns aws:region too.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("Pulumi." + stack + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
	}
	out := map[string]string{}
	for k, v := range file.Config {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	return out
}

// secretConfigKeys are the keys a stack stores encrypted when set (`pulumi config set --secret`).
var secretConfigKeys = []string{"flask-eks:secretKey", "flask-eks:dbPassword"}

// runProgram runs the whole program under mocks with the given config and returns what it
// registered and the program's error. The secret keys count as set with --secret.
func runProgram(t *testing.T, stack string, config map[string]string) (*recorder, error) {
	t.Helper()
	return runProgramSecrets(t, stack, config, secretConfigKeys)
}

// runProgramSecrets is runProgram with the list of keys the stack stores encrypted.
func runProgramSecrets(t *testing.T, stack string, config map[string]string, secretKeys []string) (*recorder, error) {
	t.Helper()
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(pulumi.EnvConfig, string(b))
	var secret []string
	for _, k := range secretKeys {
		if _, ok := config[k]; ok {
			secret = append(secret, k)
		}
	}
	sk, _ := json.Marshal(secret)
	t.Setenv(pulumi.EnvConfigSecretKeys, string(sk))
	rec := newRecorder(stack, config["aws:region"])
	err = pulumi.RunErr(program, pulumi.WithMocks(mockProject, stack, rec))
	return rec, err
}
