package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	testRepoURL    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-eks-test/flask-app"
	testSecretName = "app-secrets-1a2b3c4d"
)

// appMocks answers like ECR, Docker, Helm and the Kubernetes API for an App, and records.
type appMocks struct {
	mu        sync.Mutex
	resources []pulumi.MockResourceArgs
	invokes   []string
}

func (m *appMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	m.resources = append(m.resources, args)
	m.mu.Unlock()
	out := args.Inputs.Copy()
	id := ""
	switch args.TypeToken {
	case "aws:ecr/repository:Repository":
		id = args.Inputs["name"].StringValue()
		out["repositoryUrl"] = resource.NewStringProperty(testRepoURL)
		out["registryId"] = resource.NewStringProperty("123456789012")
	case "docker:index/image:Image":
		id = args.Inputs["imageName"].StringValue()
		out["repoDigest"] = resource.NewStringProperty(testRepoURL + "@sha256:" + strings.Repeat("ab", 32))
	case "kubernetes:helm.sh/v3:Release":
		id = "flask-app/flask-app"
		out["status"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{
			"name": args.Inputs["name"].StringValue(), "namespace": args.Inputs["namespace"].StringValue(), "status": "deployed",
		}))
	case "kubernetes:networking.k8s.io/v1:Ingress":
		id = args.ID
		out = resource.NewPropertyMapFromMap(map[string]any{"status": map[string]any{"loadBalancer": map[string]any{
			"ingress": []any{map[string]any{"hostname": "k8s-flaskeks-0123456789.eu-west-1.elb.amazonaws.com"}},
		}}})
	case "kubernetes:core/v1:Secret":
		// Auto-named by the provider: "<resource name>-<8 characters>".
		meta := out["metadata"].ObjectValue().Copy()
		meta["name"] = resource.NewStringProperty(testSecretName)
		out["metadata"] = resource.NewObjectProperty(meta)
		id = meta["namespace"].StringValue() + "/" + testSecretName
	case "aws:iam/role:Role":
		id = args.Name
		out["arn"] = resource.NewStringProperty("arn:aws:iam::123456789012:role/" + args.Name)
		out["name"] = resource.NewStringProperty(args.Name)
	default:
		if args.Custom {
			id = args.Name + "-id"
		}
	}
	return id, out, nil
}

func (m *appMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.invokes = append(m.invokes, args.Token)
	m.mu.Unlock()
	if args.Token != "aws:ecr/getAuthorizationToken:getAuthorizationToken" {
		return nil, fmt.Errorf("unexpected invoke %s", args.Token)
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"userName": "AWS", "password": "ecr-token-value", "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
	}), nil
}

func (m *appMocks) one(t *testing.T, typ string) pulumi.MockResourceArgs {
	t.Helper()
	var found []pulumi.MockResourceArgs
	for _, r := range m.resources {
		if r.TypeToken == typ {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(found), typ)
	}
	return found[0]
}

func (m *appMocks) count(typ string) int {
	n := 0
	for _, r := range m.resources {
		if r.TypeToken == typ {
			n++
		}
	}
	return n
}

// urnOf is the URN the mock monitor gives r.
func urnOf(r pulumi.MockResourceArgs) string {
	parentType := ""
	if p := r.RegisterRPC.GetParent(); p != "" && resource.URN(p).QualifiedType() != resource.RootStackType {
		parentType = string(resource.URN(p).QualifiedType()) + "$"
	}
	return "urn:pulumi:test::flask-eks::" + parentType + r.TypeToken + "::" + r.Name
}

// buildContext writes a minimal build context and returns its path.
func buildContext(t *testing.T) string {
	dir := t.TempDir()
	for name, body := range map[string]string{"Dockerfile": "FROM scratch\n", "app/__init__.py": "x = 1\n"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type run struct {
	mocks *appMocks
	app   *App
	deps  []pulumi.Resource // the ReleaseDependsOn stand-ins
}

// runApp declares an App with a Kubernetes provider and a ConfigMap standing in for the
// IngressClass the release must wait for.
func runApp(t *testing.T, mutate func(*AppArgs)) (*run, error) {
	t.Helper()
	r := &run{mocks: &appMocks{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		gate, err := kubernetes.NewProvider(ctx, "ingress-class-stand-in", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		r.deps = []pulumi.Resource{gate}
		args := &AppArgs{
			Provider:  p,
			Namespace: "flask-app",
			ChartPath: "chart", // the package directory is the test's working directory
			Settings: ChartSettings{
				Environment: "prod", ReleaseName: "flask-app", Replicas: 3, LogLevel: "INFO",
				APIBaseURL: "https://api.example.com", IngressEnabled: true, AlbGroupName: "shared",
			},
			IngressClassName: pulumi.String("alb"),
			SecretKey:        pulumi.ToSecret(pulumi.String("secret-key-value-0123456789")).(pulumi.StringOutput),
			DBPassword:       pulumi.String("db-password-not-marked-secret"),
			ReleaseDependsOn: r.deps,
			Build: &BuildArgs{
				RepositoryName: "flask-eks-test/flask-app", Context: buildContext(t), Platform: "linux/amd64", KeepImages: 15,
			},
		}
		if mutate != nil {
			mutate(args)
		}
		r.app, err = NewApp(ctx, "app", args)
		return err
	}, pulumi.WithMocks("flask-eks", "test", r.mocks))
	return r, err
}

func mustRun(t *testing.T, mutate func(*AppArgs)) *run {
	t.Helper()
	r, err := runApp(t, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestECRRepository(t *testing.T) {
	for _, force := range []bool{false, true} {
		r := mustRun(t, func(a *AppArgs) { a.Build.ForceDelete = force })
		repo := r.mocks.one(t, "aws:ecr/repository:Repository").Inputs
		if repo["name"].StringValue() != "flask-eks-test/flask-app" || repo["imageTagMutability"].StringValue() != "IMMUTABLE" {
			t.Errorf("repository = %v", repo)
		}
		if !repo["imageScanningConfiguration"].ObjectValue()["scanOnPush"].BoolValue() {
			t.Error("scan on push is off")
		}
		enc := repo["encryptionConfigurations"].ArrayValue()
		if len(enc) != 1 || enc[0].ObjectValue()["encryptionType"].StringValue() != "KMS" {
			t.Errorf("encryption = %v", enc)
		}
		if repo["forceDelete"].BoolValue() != force {
			t.Errorf("forceDelete = %v, want %v", repo["forceDelete"], force)
		}
	}
	r := mustRun(t, nil)
	var policy struct {
		Rules []struct {
			Selection struct {
				TagStatus   string `json:"tagStatus"`
				CountType   string `json:"countType"`
				CountNumber int    `json:"countNumber"`
			} `json:"selection"`
			Action struct{ Type string } `json:"action"`
		} `json:"rules"`
	}
	lp := r.mocks.one(t, "aws:ecr/lifecyclePolicy:LifecyclePolicy").Inputs
	if err := json.Unmarshal([]byte(lp["policy"].StringValue()), &policy); err != nil {
		t.Fatal(err)
	}
	if len(policy.Rules) != 1 || policy.Rules[0].Selection.CountNumber != 15 || policy.Rules[0].Selection.CountType != "imageCountMoreThan" ||
		policy.Rules[0].Selection.TagStatus != "any" || policy.Rules[0].Action.Type != "expire" {
		t.Errorf("lifecycle policy = %+v", policy)
	}
	if lp["repository"].StringValue() != "flask-eks-test/flask-app" {
		t.Errorf("lifecycle policy is on %v", lp["repository"])
	}
}

func TestImageBuild(t *testing.T) {
	ctxDir := ""
	r := mustRun(t, func(a *AppArgs) { ctxDir = a.Build.Context })
	img := r.mocks.one(t, "docker:index/image:Image").Inputs
	tag, err := ContentTag(ctxDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := img["imageName"].StringValue(); got != testRepoURL+":"+tag {
		t.Errorf("imageName = %s, want %s:%s", got, testRepoURL, tag)
	}
	build := img["build"].ObjectValue()
	if build["context"].StringValue() != ctxDir || build["dockerfile"].StringValue() != ctxDir+"/Dockerfile" {
		t.Errorf("build context = %v", build)
	}
	if build["platform"].StringValue() != "linux/amd64" {
		t.Errorf("platform = %v", build["platform"])
	}
	if build["args"].ObjectValue()["APP_VERSION"].StringValue() != tag {
		t.Errorf("build args = %v", build["args"])
	}
	reg := img["registry"].ObjectValue()
	if reg["server"].StringValue() != testRepoURL || reg["username"].StringValue() != "AWS" {
		t.Errorf("registry = %v", reg)
	}
	if !reg["password"].IsSecret() {
		t.Error("registry password is not secret")
	}
	if !slices.Contains(r.mocks.invokes, "aws:ecr/getAuthorizationToken:getAuthorizationToken") {
		t.Error("registry credentials do not come from ecr.GetAuthorizationToken")
	}
}

func TestContentTag(t *testing.T) {
	dir := buildContext(t)
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tag := func() string {
		t.Helper()
		tag, err := ContentTag(dir)
		if err != nil {
			t.Fatal(err)
		}
		return tag
	}
	write(".dockerignore", "# allow-list\n*\n!app/\n**/__pycache__\n")
	base := tag()
	if !strings.HasPrefix(base, "src-") || len(base) != len("src-")+12 {
		t.Fatalf("tag %q", base)
	}
	// Outside the image: no new tag.
	write("README.md", "docs")
	write("tests/test_x.py", "def test(): pass")
	write("app/__pycache__/x.pyc", "junk")
	write(".env", "SECRET_KEY=x")
	if got := tag(); got != base {
		t.Errorf("files Docker ignores changed the tag: %s -> %s", base, got)
	}
	// Inside the image: a new tag each time.
	seen := map[string]bool{base: true}
	for _, change := range [][2]string{{"app/__init__.py", "x = 2\n"}, {"app/new.py", ""}, {"Dockerfile", "FROM scratch\nUSER 1\n"}} {
		write(change[0], change[1])
		got := tag()
		if seen[got] {
			t.Errorf("changing %s kept tag %s", change[0], got)
		}
		seen[got] = true
	}
	// A mode change rebuilds the image (pulumi-docker hashes modes), so it must change the tag:
	// ECR's IMMUTABLE tags would refuse the rebuilt image under the old one.
	if err := os.Chmod(filepath.Join(dir, "app", "__init__.py"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := tag(); seen[got] {
		t.Errorf("chmod +x app/__init__.py kept tag %s", got)
	}
	write(".dockerignore", "app/*.py\n")
	if _, err := ContentTag(dir); err == nil {
		t.Error("an unsupported .dockerignore pattern was accepted")
	}
}

// TestContentTagOfAppSrc runs ContentTag on a copy of the real build context: the docs and
// tests around the app do not change the image tag, the app's code does.
func TestContentTagOfAppSrc(t *testing.T) {
	src, dst := filepath.Join("..", "app-src"), t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	before, err := ContentTag(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"README.md", "tests/test_app.py", "bench/bench.sh", "compose.yaml"} {
		if err := os.WriteFile(filepath.Join(dst, f), []byte("changed"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := ContentTag(dst); after != before {
		t.Errorf("README, tests, bench or compose changed the image tag: %s -> %s", before, after)
	}
	if err := os.WriteFile(filepath.Join(dst, "gunicorn.conf.py"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _ := ContentTag(dst); after == before {
		t.Error("a change to gunicorn.conf.py kept the image tag")
	}
}

// values returns the release's values as the mock saw them.
func values(t *testing.T, r *run) resource.PropertyMap {
	return r.mocks.one(t, "kubernetes:helm.sh/v3:Release").Inputs["values"].ObjectValue()
}

func TestReleaseValues(t *testing.T) {
	r := mustRun(t, nil)
	rel := r.mocks.one(t, "kubernetes:helm.sh/v3:Release").Inputs
	if rel["chart"].StringValue() != "chart" || rel["namespace"].StringValue() != "flask-app" || rel["name"].StringValue() != "flask-app" {
		t.Errorf("release = chart %v namespace %v name %v", rel["chart"], rel["namespace"], rel["name"])
	}
	if !rel["atomic"].BoolValue() || rel["skipAwait"].BoolValue() {
		t.Errorf("release atomic %v skipAwait %v", rel["atomic"], rel["skipAwait"])
	}
	v := values(t, r)
	image := v["image"].ObjectValue()
	if image["repository"].StringValue() != testRepoURL || image["digest"].StringValue() != "sha256:"+strings.Repeat("ab", 32) {
		t.Errorf("image values = %v, want the repository and digest of the pushed image", image)
	}
	// The chart gets only the name of the component's Secret: Helm keeps values in its history.
	if secrets := v["secrets"].ObjectValue(); len(secrets) != 1 || secrets["existingSecret"].StringValue() != testSecretName {
		t.Errorf("secrets values = %v, want only existingSecret %q", secrets, testSecretName)
	}
	if v.ContainsSecrets() {
		t.Errorf("release values hold a Pulumi secret: %v", v)
	}
	for _, leak := range []string{"secret-key-value", "db-password-not-marked-secret"} {
		if strings.Contains(fmt.Sprint(v.Mappable()), leak) {
			t.Errorf("release values contain %q", leak)
		}
	}
	if got := v["ingress"].ObjectValue()["className"].StringValue(); got != "alb" {
		t.Errorf("ingress.className = %q", got)
	}
	if got := v["ingress"].ObjectValue()["groupName"].StringValue(); got != "shared" {
		t.Errorf("ingress.groupName = %q", got)
	}
	if got := v["config"].ObjectValue()["APP_VERSION"].StringValue(); !strings.HasPrefix(got, "src-") {
		t.Errorf("APP_VERSION = %q, want the content tag", got)
	}
}

func TestAppSecret(t *testing.T) {
	r := mustRun(t, nil)
	sec := r.mocks.one(t, "kubernetes:core/v1:Secret")
	in := sec.Inputs
	meta := in["metadata"].ObjectValue()
	if _, named := meta["name"]; named {
		t.Errorf("the Secret is named %v; want it auto-named, so that a new value replaces it under a new name", meta["name"])
	}
	if meta["namespace"].StringValue() != "flask-app" {
		t.Errorf("Secret namespace = %v", meta["namespace"])
	}
	if got := meta["labels"].ObjectValue()["app.kubernetes.io/instance"].StringValue(); got != "flask-app" {
		t.Errorf("Secret instance label = %q, want the release name", got)
	}
	if !in["immutable"].BoolValue() || in["type"].StringValue() != "Opaque" {
		t.Errorf("Secret immutable %v type %v, want an immutable Opaque Secret", in["immutable"], in["type"])
	}
	// The data is secret in state, also the DB password that the caller did not mark.
	sd := in["stringData"]
	if !sd.IsSecret() {
		t.Fatalf("stringData is not a Pulumi secret: %v", sd)
	}
	data := sd.SecretValue().Element.ObjectValue()
	if len(data) != 2 {
		t.Errorf("Secret keys = %v, want SECRET_KEY and DB_PASSWORD", data)
	}
	for k, want := range map[string]string{"SECRET_KEY": "secret-key-value-0123456789", "DB_PASSWORD": "db-password-not-marked-secret"} {
		v := data[resource.PropertyKey(k)]
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsString() || v.StringValue() != want {
			t.Errorf("stringData.%s = %v, want %q", k, v, want)
		}
	}
	if sec.RegisterRPC.GetParent() != "urn:pulumi:test::flask-eks::flask-eks:app:App::app" {
		t.Errorf("Secret parent = %s", sec.RegisterRPC.GetParent())
	}
	// The release reads the Secret's name, so it waits for the Secret.
	rel := r.mocks.one(t, "kubernetes:helm.sh/v3:Release")
	if !slices.Contains(rel.RegisterRPC.GetPropertyDependencies()["values"].GetUrns(), urnOf(sec)) {
		t.Errorf("release values do not depend on the Secret: %v", rel.RegisterRPC.GetPropertyDependencies())
	}
}

func TestReleaseDependencies(t *testing.T) {
	r := mustRun(t, nil)
	rel := r.mocks.one(t, "kubernetes:helm.sh/v3:Release")
	img := r.mocks.one(t, "docker:index/image:Image")
	deps := rel.RegisterRPC.GetDependencies()
	for _, pd := range rel.RegisterRPC.GetPropertyDependencies() {
		deps = append(deps, pd.GetUrns()...)
	}
	if !slices.Contains(deps, urnOf(img)) {
		t.Errorf("release does not depend on the image: %v", deps)
	}
	if !slices.Contains(deps, "urn:pulumi:test::flask-eks::pulumi:providers:kubernetes::ingress-class-stand-in") {
		t.Errorf("release does not wait for ReleaseDependsOn: %v", deps)
	}
	// The image waits for nothing in the cluster: it builds while the cluster comes up.
	for _, d := range img.RegisterRPC.GetDependencies() {
		if strings.Contains(d, "kubernetes") || strings.Contains(d, "Namespace") {
			t.Errorf("image depends on %s", d)
		}
	}
	for _, x := range r.mocks.resources {
		if x.Custom && strings.HasPrefix(x.TypeToken, "kubernetes:") && !strings.HasPrefix(x.RegisterRPC.GetProvider(), "urn:pulumi:test::flask-eks::pulumi:providers:kubernetes::k8s::") {
			t.Errorf("%s %s does not use the explicit provider: %q", x.TypeToken, x.Name, x.RegisterRPC.GetProvider())
		}
		if x.Custom && x.RegisterRPC.GetParent() != "urn:pulumi:test::flask-eks::flask-eks:app:App::app" && !strings.HasPrefix(x.TypeToken, "pulumi:providers:") {
			t.Errorf("%s %s parent = %s", x.TypeToken, x.Name, x.RegisterRPC.GetParent())
		}
	}
}

func TestAppURLFromIngress(t *testing.T) {
	r := mustRun(t, func(a *AppArgs) {
		a.Settings.CertificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f3c2a9e-6b1d-4c7e-9a52-3e8d7b41f6a0"
	})
	var read pulumi.MockResourceArgs
	for _, x := range r.mocks.resources {
		if x.ReadRPC != nil {
			read = x
		}
	}
	if read.TypeToken != "kubernetes:networking.k8s.io/v1:Ingress" || read.ID != "flask-app/flask-app" {
		t.Fatalf("the Ingress is not read back by ID: %s %q", read.TypeToken, read.ID)
	}
	url, config := await(r.app.AppURL), await(r.app.ConfigURL)
	if url != "https://k8s-flaskeks-0123456789.eu-west-1.elb.amazonaws.com/" || config != url+"config" {
		t.Errorf("appUrl %q configUrl %q", url, config)
	}
	if d := await(r.app.ImageDigest); d != "sha256:"+strings.Repeat("ab", 32) {
		t.Errorf("imageDigest %q", d)
	}
	if u := await(r.app.RepositoryURL); u != testRepoURL {
		t.Errorf("repositoryUrl %q", u)
	}
}

func TestGivenImageSkipsAWS(t *testing.T) {
	r := mustRun(t, func(a *AppArgs) {
		a.Build = nil
		a.Image = "localhost:5000/flask-app:dev"
		a.Settings.IngressEnabled = false
		a.IngressClassName = nil
		a.SkipAwait = true
	})
	for _, typ := range []string{"aws:ecr/repository:Repository", "docker:index/image:Image", "aws:iam/role:Role"} {
		if n := r.mocks.count(typ); n != 0 {
			t.Errorf("%d %s with a given image", n, typ)
		}
	}
	image := values(t, r)["image"].ObjectValue()
	if image["repository"].StringValue() != "localhost:5000/flask-app" || image["tag"].StringValue() != "dev" || image["digest"].StringValue() != "" {
		t.Errorf("image values = %v", image)
	}
	rel := r.mocks.one(t, "kubernetes:helm.sh/v3:Release").Inputs
	if !rel["skipAwait"].BoolValue() || rel["atomic"].BoolValue() {
		t.Errorf("skipAwait %v atomic %v", rel["skipAwait"], rel["atomic"])
	}
	if r.mocks.count("kubernetes:networking.k8s.io/v1:Ingress") != 0 || await(r.app.AppURL) != "" {
		t.Error("an Ingress was read although the Ingress is disabled")
	}
}

func TestPodIdentity(t *testing.T) {
	r := mustRun(t, func(a *AppArgs) {
		a.PodIdentity = &PodIdentityArgs{ClusterName: pulumi.String("flask-eks-test"), PolicyArns: []string{
			"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/app-extra",
		}}
	})
	role := r.mocks.one(t, "aws:iam/role:Role").Inputs
	var trust struct {
		Statement []struct {
			Principal struct{ Service string }
			Action    []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(role["assumeRolePolicy"].StringValue()), &trust); err != nil {
		t.Fatal(err)
	}
	if trust.Statement[0].Principal.Service != "pods.eks.amazonaws.com" || !slices.Equal(trust.Statement[0].Action, []string{"sts:AssumeRole", "sts:TagSession"}) {
		t.Errorf("trust policy = %+v", trust)
	}
	// Only this cluster's flask-app ServiceAccount in flask-app may assume the role.
	if want := map[string]string{
		"aws:RequestTag/eks-cluster-name":           "flask-eks-test",
		"aws:RequestTag/kubernetes-namespace":       "flask-app",
		"aws:RequestTag/kubernetes-service-account": "flask-app",
	}; !maps.Equal(trust.Statement[0].Condition["StringEquals"], want) {
		t.Errorf("trust policy conditions = %v, want %v", trust.Statement[0].Condition, want)
	}
	if n := r.mocks.count("aws:iam/rolePolicyAttachment:RolePolicyAttachment"); n != 2 {
		t.Errorf("%d policy attachments, want 2", n)
	}
	assoc := r.mocks.one(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation").Inputs
	if assoc["clusterName"].StringValue() != "flask-eks-test" || assoc["namespace"].StringValue() != "flask-app" ||
		assoc["serviceAccount"].StringValue() != "flask-app" || !strings.HasSuffix(assoc["roleArn"].StringValue(), ":role/app-pod-identity") {
		t.Errorf("association = %v", assoc)
	}
	// The pods must start with credentials: the release waits for the association.
	release := r.mocks.one(t, "kubernetes:helm.sh/v3:Release")
	if !slices.Contains(release.RegisterRPC.GetDependencies(), urnOf(r.mocks.one(t, "aws:eks/podIdentityAssociation:PodIdentityAssociation"))) {
		t.Errorf("the release does not depend on the Pod Identity association: %v", release.RegisterRPC.GetDependencies())
	}
	if none := mustRun(t, nil); none.mocks.count("aws:iam/role:Role") != 0 {
		t.Error("a Pod Identity role exists although none was asked for")
	}
}

func TestArgsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*AppArgs){
		"no provider":            func(a *AppArgs) { a.Provider = nil },
		"image and build":        func(a *AppArgs) { a.Image = "x:1" },
		"no image":               func(a *AppArgs) { a.Build = nil },
		"no secrets":             func(a *AppArgs) { a.SecretKey = nil },
		"ingress without class":  func(a *AppArgs) { a.IngressClassName = nil },
		"keep zero images":       func(a *AppArgs) { a.Build.KeepImages = 0 },
		"pod identity, no roles": func(a *AppArgs) { a.PodIdentity = &PodIdentityArgs{ClusterName: pulumi.String("c")} },
	} {
		r, err := runApp(t, mutate)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if r.mocks.count("flask-eks:app:App") != 0 {
			t.Errorf("%s: component registered before validation failed", name)
		}
	}
}

// await returns the value of a string output.
func await(o pulumi.StringOutput) string {
	ch := make(chan string, 1)
	o.ApplyT(func(v string) string { ch <- v; return v })
	return <-ch
}

func TestSplitImage(t *testing.T) {
	for ref, want := range map[string][3]string{
		"flask-app:dev":                                  {"flask-app", "dev", ""},
		"localhost:5000/flask-app":                       {"localhost:5000/flask-app", "", ""},
		"localhost:5000/team/app:1.2@sha256:abc":         {"localhost:5000/team/app", "1.2", "sha256:abc"},
		"123.dkr.ecr.eu-west-1.amazonaws.com/a@sha256:f": {"123.dkr.ecr.eu-west-1.amazonaws.com/a", "", "sha256:f"},
	} {
		r, tag, d := splitImage(ref)
		if [3]string{r, tag, d} != want {
			t.Errorf("splitImage(%q) = %q %q %q, want %v", ref, r, tag, d, want)
		}
	}
}

// TestChartDigest: a template-only edit changes the digest the release gets as a value, so the
// helm/v3 Release (which compares values and chart version) upgrades.
func TestChartDigest(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("chart")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	before, err := ChartDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	dep := filepath.Join(dir, "templates", "deployment.yaml")
	b, _ := os.ReadFile(dep)
	if err := os.WriteFile(dep, append(b, []byte("# a template-only edit\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _ := ChartDigest(dir); after == before {
		t.Errorf("a template edit kept the chart digest %s", before)
	}

	r := mustRun(t, nil)
	want, err := ChartDigest(filepath.Join("chart"))
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, r)["chartDigest"]; !got.IsString() || got.StringValue() != want {
		t.Errorf("release value chartDigest = %v, want %s", got, want)
	}
}
