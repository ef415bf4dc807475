package app

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ImageArgs configures an Image.
type ImageArgs struct {
	// RepositoryName is the ECR repository name, e.g. "flask-eks-dev/flask-app".
	RepositoryName string
	// Context is the Docker build context (app-src); its contents decide the image tag.
	Context string
	// Platform is the target platform. EKS Auto Mode's general-purpose pool is amd64 only.
	Platform string
	// KeepImages is how many images the lifecycle policy keeps.
	KeepImages int
	// ForceDelete lets destroy delete the repository with images in it.
	ForceDelete bool
	// Protect is for production: `pulumi destroy` refuses to delete the repository (protect), and
	// removing it from the program leaves it in AWS (retainOnDelete), with every image the pods
	// of a rollback may need.
	Protect bool
	// PreviousParent, when set, names the App component that held the repository, its lifecycle
	// policy and the image before Image was a component of its own; aliases keep their URNs, so
	// an existing stack neither replaces the repository nor rebuilds the image.
	PreviousParent string
}

// Image is the app's container image: an ECR repository (immutable tags, scan on push, KMS,
// a lifecycle policy) and the image built from the app's sources and pushed there under a
// content tag. Its outputs name the image by digest, which is what the pods run.
type Image struct {
	pulumi.ResourceState

	RepositoryURL pulumi.StringOutput `pulumi:"repositoryUrl"`
	// Tag is the content tag, known while declaring.
	Tag pulumi.StringOutput `pulumi:"tag"`
	// Digest is "sha256:…" and Ref "<repository>@sha256:…", the reference the pods run.
	Digest pulumi.StringOutput `pulumi:"digest"`
	Ref    pulumi.StringOutput `pulumi:"ref"`
}

// NewImage declares the repository, its lifecycle policy, and the image build and push.
func NewImage(ctx *pulumi.Context, name string, args *ImageArgs, opts ...pulumi.ResourceOption) (*Image, error) {
	switch {
	case args == nil || args.RepositoryName == "" || args.Context == "" || args.Platform == "":
		return nil, fmt.Errorf("image %q: RepositoryName, Context and Platform are required", name)
	case args.KeepImages < 1:
		return nil, fmt.Errorf("image %q: the lifecycle policy must keep at least 1 image", name)
	}
	tag, err := ContentTag(args.Context)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", name, err)
	}
	img := &Image{}
	if err := ctx.RegisterComponentResource("flask-eks:app:Image", name, img, opts...); err != nil {
		return nil, fmt.Errorf("registering image %q: %w", name, err)
	}
	child := func(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
		o := append([]pulumi.ResourceOption{pulumi.Parent(img)}, extra...)
		if args.PreviousParent != "" {
			previous := pulumi.CreateURN(pulumi.String(args.PreviousParent), pulumi.String("flask-eks:app:App"), nil,
				pulumi.String(ctx.Project()), pulumi.String(ctx.Stack()))
			o = append(o, pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(args.PreviousParent), ParentURN: previous}}))
		}
		return o
	}

	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name: pulumi.String(args.RepositoryName),
		// A tag always means the same bytes; the content tag makes that free.
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			&ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS")},
		},
		ForceDelete: pulumi.Bool(args.ForceDelete),
	}, child(pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("image %q: creating ECR repository: %w", name, err)
	}
	policy, err := lifecyclePolicy(args.KeepImages)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", name, err)
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(policy),
	}, child()...); err != nil {
		return nil, fmt.Errorf("image %q: creating ECR lifecycle policy: %w", name, err)
	}

	// A short-lived (12 h) registry login, fetched at every run; the password stays secret.
	auth := ecr.GetAuthorizationTokenOutput(ctx, ecr.GetAuthorizationTokenOutputArgs{
		RegistryId: repo.RegistryId,
	}, pulumi.Parent(img))
	built, err := docker.NewImage(ctx, name, &docker.ImageArgs{
		ImageName: pulumi.Sprintf("%s:%s", repo.RepositoryUrl, tag),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(args.Context),
			Dockerfile: pulumi.String(args.Context + "/Dockerfile"),
			Platform:   pulumi.String(args.Platform),
			Args:       pulumi.StringMap{"APP_VERSION": pulumi.String(tag)},
		},
		Registry: &docker.RegistryArgs{
			Server:   repo.RepositoryUrl,
			Username: auth.UserName(),
			Password: pulumi.ToSecret(auth.Password()).(pulumi.StringOutput),
		},
	}, child()...)
	if err != nil {
		return nil, fmt.Errorf("image %q: building image: %w", name, err)
	}

	// RepoDigest is "<registry>/<repo>@sha256:…": deploying by digest means a pod runs exactly
	// the bytes that were pushed, whatever happens to tags later.
	img.RepositoryURL = repo.RepositoryUrl
	img.Tag = pulumi.String(tag).ToStringOutput()
	img.Ref = built.RepoDigest
	img.Digest = built.RepoDigest.ApplyT(func(d string) string {
		_, sha, _ := strings.Cut(d, "@")
		return sha
	}).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(img, pulumi.Map{
		"repositoryUrl": img.RepositoryURL,
		"tag":           img.Tag,
		"digest":        img.Digest,
		"ref":           img.Ref,
	}); err != nil {
		return nil, fmt.Errorf("image %q: registering outputs: %w", name, err)
	}
	return img, nil
}

// lifecyclePolicy expires all but the newest keep images, tagged or not.
func lifecyclePolicy(keep int) (string, error) {
	policy := map[string]any{
		"rules": []any{map[string]any{
			"rulePriority": 1,
			"description":  fmt.Sprintf("keep the newest %d images", keep),
			"selection": map[string]any{
				"tagStatus":   "any",
				"countType":   "imageCountMoreThan",
				"countNumber": keep,
			},
			"action": map[string]any{"type": "expire"},
		}},
	}
	b, err := json.Marshal(policy)
	if err != nil {
		return "", fmt.Errorf("encoding ECR lifecycle policy: %w", err)
	}
	return string(b), nil
}

// ContentTag returns "src-" and the first 12 hex digits of a SHA-256 over what the image is
// built from: the Dockerfile and every file and symlink of the build context that
// .dockerignore lets through, each framed by its relative path, mode and size, in lexical
// order. A change to anything the image contains gives a new tag; a change to anything else
// (tests, README, benchmark) does not, so it neither rebuilds the image nor rolls the pods.
//
// The mode is in the hash because pulumi-docker's own context digest, which decides whether it
// rebuilds, hashes file modes too: a chmod, or a checkout under another umask, rebuilds the
// image, and with the repository's IMMUTABLE tags a rebuild under an unchanged tag would be
// refused by ECR (ImageTagAlreadyExistsException). So whenever the image can be rebuilt, its tag
// changes, and a tag always names the same bytes. It is computed while declaring (plain file
// reads, not inside an apply), so preview shows the tag.
func ContentTag(dir string) (string, error) {
	ignore, err := readDockerignore(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return "", err
	}
	sum, err := hashTree(dir, func(rel string) bool { return rel == "Dockerfile" || !ignore.excludes(rel) })
	if err != nil {
		return "", fmt.Errorf("hashing build context %s: %w", dir, err)
	}
	return "src-" + sum[:12], nil
}

// ChartDigest returns the first 16 hex digits of a SHA-256 over the files of a chart directory
// that Helm renders from (path, mode, size and content): Chart.yaml, values.yaml,
// values.schema.json, templates/, crds/ and charts/. The component passes it to the release as a
// value: a helm/v3 Release with a local chart notices only changed values or a changed chart
// version (pulumi-kubernetes issues 2251 and 2672), so without it an edit of a template alone
// would never reach the cluster. The chart's README and its ci/ values files render nothing and
// are left out (the ci/ files even hold this digest).
func ChartDigest(dir string) (string, error) {
	sum, err := hashTree(dir, func(rel string) bool {
		switch rel {
		case "Chart.yaml", "values.yaml", "values.schema.json":
			return true
		}
		return strings.HasPrefix(rel, "templates/") || strings.HasPrefix(rel, "crds/") || strings.HasPrefix(rel, "charts/")
	})
	if err != nil {
		return "", fmt.Errorf("hashing chart %s: %w", dir, err)
	}
	return sum[:16], nil
}

// hashTree hashes the regular files and symlinks under dir that include admits, in lexical
// order, each framed by its slash-separated relative path, mode and size.
func hashTree(dir string, include func(rel string) bool) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		symlink := d.Type()&fs.ModeSymlink != 0
		if (!d.Type().IsRegular() && !symlink) || !include(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", rel, info.Mode(), info.Size())
		if symlink {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			_, err = io.WriteString(h, target)
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dockerignore is the subset of .dockerignore rules this repository uses, evaluated like
// Docker does: in order, the last matching rule wins, "!" re-includes. Supported patterns:
// "*" (everything), a path ("app", "gunicorn.conf.py": the path and all below it), and
// "**/<glob>" (any path with an element matching the glob, e.g. "**/__pycache__",
// "**/*.py[co]"). Anything else is refused rather than guessed at, so the tag can never
// silently disagree with what Docker sends.
type dockerignore []ignoreRule

type ignoreRule struct {
	pattern string // "*", a path, or "**/<glob>"
	include bool   // a "!" rule
}

func readDockerignore(file string) (dockerignore, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rules dockerignore
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		pattern := strings.TrimSuffix(strings.TrimPrefix(line, "!"), "/")
		glob, any := strings.CutPrefix(pattern, "**/")
		switch {
		case pattern == "*":
		case any && !strings.Contains(glob, "/"):
			if _, err := path.Match(glob, ""); err != nil {
				return nil, fmt.Errorf("%s: pattern %q: %w", file, line, err)
			}
		case !strings.ContainsAny(pattern, "*?[\\"):
		default:
			return nil, fmt.Errorf("%s: pattern %q is not one ContentTag understands (*, a path, or **/<glob>)", file, line)
		}
		rules = append(rules, ignoreRule{pattern, include})
	}
	return rules, sc.Err()
}

// excludes reports whether Docker would leave rel out of the build context.
func (d dockerignore) excludes(rel string) bool {
	excluded := false
	for _, r := range d {
		if r.matches(rel) {
			excluded = !r.include
		}
	}
	return excluded
}

func (r ignoreRule) matches(rel string) bool {
	if r.pattern == "*" {
		return true
	}
	if glob, ok := strings.CutPrefix(r.pattern, "**/"); ok {
		for _, elem := range strings.Split(rel, "/") {
			if m, _ := path.Match(glob, elem); m {
				return true
			}
		}
		return false
	}
	return rel == r.pattern || strings.HasPrefix(rel, r.pattern+"/")
}
