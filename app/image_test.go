package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/pulumitest"
)

// imageRun is one run of NewImage under the shared mocks.
type imageRun struct {
	m          *pulumitest.Mocks
	ref, digst *pulumitest.Value
	context    string
}

func runImage(t *testing.T, mutate func(*ImageArgs)) (*imageRun, error) {
	t.Helper()
	r := &imageRun{m: pulumitest.New("flask-eks", "test"), context: buildContext(t)}
	err := pulumitest.Run(t, r.m, nil, nil, func(ctx *pulumi.Context) error {
		args := &ImageArgs{RepositoryName: "flask-eks-test/flask-app", Context: r.context, Platform: "linux/amd64", KeepImages: 15}
		if mutate != nil {
			mutate(args)
		}
		img, err := NewImage(ctx, "image", args)
		if err != nil {
			return err
		}
		r.ref, r.digst = pulumitest.Capture(img.Ref), pulumitest.Capture(img.Digest)
		return nil
	})
	return r, err
}

func mustRunImage(t *testing.T, mutate func(*ImageArgs)) *imageRun {
	t.Helper()
	r, err := runImage(t, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestECRRepository(t *testing.T) {
	for _, force := range []bool{false, true} {
		repo := mustRunImage(t, func(a *ImageArgs) { a.ForceDelete = force }).m.Only(t, "aws:ecr/repository:Repository").Raw
		if repo["imageTagMutability"].StringValue() != "IMMUTABLE" || !repo["imageScanningConfiguration"].ObjectValue()["scanOnPush"].BoolValue() {
			t.Errorf("repository = %v, want immutable tags and scan on push", repo)
		}
		if enc := repo["encryptionConfigurations"].ArrayValue(); len(enc) != 1 || enc[0].ObjectValue()["encryptionType"].StringValue() != "KMS" {
			t.Errorf("encryption = %v", enc)
		}
		if repo["forceDelete"].BoolValue() != force {
			t.Errorf("forceDelete = %v, want %v", repo["forceDelete"], force)
		}
	}
	r := mustRunImage(t, nil)
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
	lp := r.m.Only(t, "aws:ecr/lifecyclePolicy:LifecyclePolicy").Raw
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
	if repo := r.m.Only(t, "aws:ecr/repository:Repository"); repo.Protect || repo.RetainOnDelete {
		t.Error("an unprotected stack's repository is protected")
	}
}

// TestImageProtect: prod's repository survives a plain destroy and being dropped from the program.
func TestImageProtect(t *testing.T) {
	repo := mustRunImage(t, func(a *ImageArgs) { a.Protect = true }).m.Only(t, "aws:ecr/repository:Repository")
	if !repo.Protect || !repo.RetainOnDelete {
		t.Errorf("repository protect %v retainOnDelete %v, want both", repo.Protect, repo.RetainOnDelete)
	}
}

func TestImageBuild(t *testing.T) {
	r := mustRunImage(t, nil)
	repoURL := r.m.Only(t, "aws:ecr/repository:Repository").ID
	repoURL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + repoURL
	img := r.m.Only(t, "docker:index/image:Image").Raw
	tag, err := ContentTag(r.context)
	if err != nil {
		t.Fatal(err)
	}
	if got := img["imageName"].StringValue(); got != repoURL+":"+tag {
		t.Errorf("imageName = %s, want %s:%s", got, repoURL, tag)
	}
	build := img["build"].ObjectValue()
	if build["platform"].StringValue() != "linux/amd64" || build["args"].ObjectValue()["APP_VERSION"].StringValue() != tag {
		t.Errorf("build = %v, want linux/amd64 and APP_VERSION %s", build, tag)
	}
	reg := img["registry"].ObjectValue()
	user := reg["username"]
	if user.IsSecret() {
		user = user.SecretValue().Element
	}
	if reg["server"].StringValue() != repoURL || user.StringValue() != "AWS" || !reg["password"].IsSecret() {
		t.Errorf("registry = %v, want the repository, AWS and a secret password", reg)
	}
	if !slices.Contains(r.m.Calls(), "aws:ecr/getAuthorizationToken:getAuthorizationToken") {
		t.Error("registry credentials do not come from ecr.GetAuthorizationToken")
	}
	// The pods run the pushed bytes: the reference is by digest.
	ref, digest := r.ref.String(t), r.digst.String(t)
	if !strings.HasPrefix(ref, repoURL+"@sha256:") || !strings.HasSuffix(ref, "@"+digest) {
		t.Errorf("ref %q digest %q, want <repository>@<digest>", ref, digest)
	}
}

// TestImageAliases: before Image was a component, the repository, lifecycle policy and image
// were children of the App component named "app". The aliases resolve to those URNs, so an
// existing stack keeps them (no new repository, no rebuild).
func TestImageAliases(t *testing.T) {
	r := mustRunImage(t, func(a *ImageArgs) { a.PreviousParent = "app" })
	for _, typ := range []string{"aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy", "docker:index/image:Image"} {
		n := r.m.Only(t, typ)
		want := "urn:pulumi:test::flask-eks::flask-eks:app:App$" + typ + "::app"
		if !slices.Contains(n.Aliases, want) {
			t.Errorf("%s aliases %v, want %s", typ, n.Aliases, want)
		}
	}
	if a := mustRunImage(t, nil).m.Only(t, "aws:ecr/repository:Repository").Aliases; len(a) != 0 {
		t.Errorf("aliases %v without a previous parent", a)
	}
}

func TestImageArgsValidation(t *testing.T) {
	for name, mutate := range map[string]func(*ImageArgs){
		"no repository":    func(a *ImageArgs) { a.RepositoryName = "" },
		"no platform":      func(a *ImageArgs) { a.Platform = "" },
		"keep zero images": func(a *ImageArgs) { a.KeepImages = 0 },
	} {
		r, err := runImage(t, mutate)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if len(r.m.Graph()) != 0 {
			t.Errorf("%s: registered resources before failing", name)
		}
	}
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
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
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
