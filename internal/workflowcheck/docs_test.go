package workflowcheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/iampolicy"
)

// docs/ci.md is the runbook an administrator follows: its policy documents are parsed and
// evaluated here, and the settings the trust model depends on must be written in it.

func ciDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs/ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var policyBlock = regexp.MustCompile("(?s)<!-- policy: ([\\w-]+) -->\n```json\n(.*?)\n```")

// docPolicies returns the policy documents of docs/ci.md by name, as text.
func docPolicies(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range policyBlock.FindAllStringSubmatch(ciDoc(t), -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("docs/ci.md: policy %s appears twice", m[1])
		}
		out[m[1]] = m[2]
	}
	return out
}

// policy parses the named document; swap exchanges the stack names dev and prod, which is how
// docs/ci.md derives prod's documents from dev's ("prod's swaps dev and prod").
func policy(t *testing.T, docs map[string]string, name string, swap bool) *iampolicy.Policy {
	t.Helper()
	text, ok := docs[name]
	if !ok {
		t.Fatalf("docs/ci.md has no policy %q", name)
	}
	if swap {
		text = swapStacks(text)
	}
	p, err := iampolicy.Parse([]byte(text))
	if err != nil {
		t.Fatalf("docs/ci.md policy %s: %v", name, err)
	}
	return p
}

var stackWord = regexp.MustCompile(`\b(dev|prod)\b`)

func swapStacks(s string) string {
	return stackWord.ReplaceAllStringFunc(s, func(w string) string {
		if w == "dev" {
			return "prod"
		}
		return "dev"
	})
}

const (
	account = "123456789012"
	bucket  = "arn:aws:s3:::acme-pulumi-state"
)

func role(name string) string { return "arn:aws:iam::" + account + ":role/" + name }

// stateObjects are the objects of a stack's state that Pulumi's DIY backend reads or writes.
func stateObjects(stack string) map[string]string {
	return map[string]string{
		"stack file":   bucket + "/.pulumi/stacks/flask-eks/" + stack + ".json",
		"stack backup": bucket + "/.pulumi/stacks/flask-eks/" + stack + ".json.bak",
		"stack tags":   bucket + "/.pulumi/stacks/flask-eks/" + stack + ".pulumi-tags",
		"history":      bucket + "/.pulumi/history/flask-eks/" + stack + "/" + stack + "-1733000000000000000.history.json",
		"backup":       bucket + "/.pulumi/backups/flask-eks/" + stack + "/" + stack + ".1733000000000000000.json",
		"lock":         bucket + "/.pulumi/locks/organization/flask-eks/" + stack + "/0f5e1c.json",
	}
}

// Finding 5: each stack's roles read (preview, drift) or read and write (deploy) their own
// stack's state and nothing of the other stack's, through the role policies and through the
// bucket policy alone (which holds even for a role given ReadOnlyAccess by mistake).
func TestStatePolicies(t *testing.T) {
	docs := docPolicies(t)
	bucketPolicy := policy(t, docs, "state-bucket", false)
	// ReadOnlyAccess, as AWS attaches it to the preview roles: s3:Get* and s3:List* on everything.
	readOnly := iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`)
	admin := iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	tls := map[string][]string{"aws:SecureTransport": {"true"}}

	for _, stack := range []string{"dev", "prod"} {
		other := map[string]string{"dev": "prod", "prod": "dev"}[stack]
		swap := stack == "prod"
		preview := iampolicy.Subject{ARN: role("github-actions-preview-" + stack),
			Identity: []*iampolicy.Policy{readOnly, policy(t, docs, "state-dev-preview", swap)}}
		drift := iampolicy.Subject{ARN: role("github-actions-drift-" + stack),
			Identity: []*iampolicy.Policy{readOnly, policy(t, docs, "state-dev-preview", swap)}}
		deploy := iampolicy.Subject{ARN: role("github-actions-deploy-" + stack),
			Identity: []*iampolicy.Policy{policy(t, docs, "state-dev-deploy", swap)}}
		can := func(sub iampolicy.Subject, action, resource string) bool {
			return iampolicy.Allowed(sub, bucketPolicy, false, iampolicy.Request{Action: action, Resource: resource, Context: tls})
		}
		for _, sub := range []iampolicy.Subject{preview, drift, deploy} {
			if !can(sub, "s3:ListBucket", bucket) {
				t.Errorf("%s cannot list the state bucket", sub.ARN)
			}
			if !can(sub, "s3:GetObject", bucket+"/.pulumi/meta.yaml") {
				t.Errorf("%s cannot read .pulumi/meta.yaml", sub.ARN)
			}
			for what, obj := range stateObjects(other) {
				for _, action := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
					if can(sub, action, obj) {
						t.Errorf("%s may %s the %s of %s: %s", sub.ARN, action, what, other, obj)
					}
				}
			}
			if can(sub, "s3:GetObject", bucket+"/.pulumi/stacks/flask-eks/"+stack+"ish.json") {
				t.Errorf("%s reads the state of a stack named %sish", sub.ARN, stack)
			}
		}
		for _, sub := range []iampolicy.Subject{preview, drift} {
			for what, obj := range stateObjects(stack) {
				read := strings.HasPrefix(what, "stack ")
				if got := can(sub, "s3:GetObject", obj); got != read {
					t.Errorf("%s GetObject on its %s (%s): %v, want %v", sub.ARN, what, obj, got, read)
				}
				if can(sub, "s3:PutObject", obj) || can(sub, "s3:DeleteObject", obj) {
					t.Errorf("%s may write its %s: previews write nothing", sub.ARN, what)
				}
			}
		}
		for what, obj := range stateObjects(stack) {
			for _, action := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
				if !can(deploy, action, obj) {
					t.Errorf("%s cannot %s its %s (%s)", deploy.ARN, action, what, obj)
				}
			}
		}
		// The bucket policy alone: another stack's role with every S3 permission is still denied.
		intruder := iampolicy.Subject{ARN: role("github-actions-preview-" + other), Identity: []*iampolicy.Policy{admin}}
		if iampolicy.Allowed(intruder, bucketPolicy, false, iampolicy.Request{Action: "s3:GetObject", Resource: stateObjects(stack)["stack file"], Context: tls}) {
			t.Errorf("the bucket policy lets %s read the %s state", intruder.ARN, stack)
		}
	}
	// Plain HTTP is refused to everyone.
	adminRole := iampolicy.Subject{ARN: role("platform-admin"), Identity: []*iampolicy.Policy{admin}}
	if iampolicy.Allowed(adminRole, bucketPolicy, false, iampolicy.Request{Action: "s3:GetObject", Resource: bucket + "/.pulumi/meta.yaml",
		Context: map[string][]string{"aws:SecureTransport": {"false"}}}) {
		t.Error("the bucket policy admits plain HTTP")
	}
}

// Finding 3: in a shared account, dev's deploy role (every push to main) manages dev and
// nothing of prod, and cannot make a role that escapes its boundary.
func TestDeployRoleStaysInItsStack(t *testing.T) {
	docs := docPolicies(t)
	for _, stack := range []string{"dev", "prod"} {
		other := map[string]string{"dev": "prod", "prod": "dev"}[stack]
		swap := stack == "prod"
		boundaryARN := "arn:aws:iam::" + account + ":policy/flask-eks-" + stack + "-boundary"
		sub := iampolicy.Subject{
			ARN:      role("github-actions-deploy-" + stack),
			Identity: []*iampolicy.Policy{policy(t, docs, "deploy-dev", swap), policy(t, docs, "state-dev-deploy", swap)},
			Boundary: policy(t, docs, "boundary-dev", swap),
		}
		widened := iampolicy.Subject{ARN: sub.ARN, Boundary: sub.Boundary, Identity: []*iampolicy.Policy{
			iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}}
		ctx := func(kv ...string) map[string][]string {
			m := map[string][]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = append(m[kv[i]], kv[i+1])
			}
			return m
		}
		withBoundary := ctx("iam:PermissionsBoundary", boundaryARN)
		for _, tc := range []struct {
			what, action, resource string
			context                map[string][]string
			want                   bool
		}{
			{"describe its cluster", "eks:DescribeCluster", "arn:aws:eks:eu-west-1:" + account + ":cluster/flask-eks-" + stack, nil, true},
			{"create an access entry on its cluster", "eks:CreateAccessEntry", "arn:aws:eks:eu-west-1:" + account + ":access-entry/flask-eks-" + stack + "/role/x", nil, true},
			{"create its roles with the boundary", "iam:CreateRole", role("flask-eks-" + stack + "-external-dns-1a2b3c4"), withBoundary, true},
			{"attach a policy to its role", "iam:AttachRolePolicy", role("flask-eks-" + stack + "-app-pod-identity-1a2b3c4"), withBoundary, true},
			{"pass its role to EKS", "iam:PassRole", role("flask-eks-" + stack + "-cluster-eksRole-1a2b3c4"), ctx("iam:PassedToService", "eks.amazonaws.com"), true},
			{"read and write its secret", "secretsmanager:PutSecretValue", "arn:aws:secretsmanager:eu-west-1:" + account + ":secret:flask-eks-" + stack + "/app-AbCdEf", nil, true},
			{"change its VPC", "ec2:CreateRoute", "arn:aws:ec2:eu-west-1:" + account + ":route-table/rtb-1", ctx("aws:ResourceTag/Stack", stack), true},
			{"use its app-secret key", "kms:Decrypt", "arn:aws:kms:eu-west-1:" + account + ":key/1", ctx("aws:ResourceTag/Stack", stack, "kms:ResourceAliases", "alias/flask-eks-"+stack+"-app-secrets"), true},

			{"create a role without the boundary", "iam:CreateRole", role("flask-eks-" + stack + "-escape"), nil, false},
			{"create a role with another boundary", "iam:CreateRole", role("flask-eks-" + stack + "-escape"), ctx("iam:PermissionsBoundary", "arn:aws:iam::"+account+":policy/flask-eks-"+other+"-boundary"), false},
			{"create a role named for the other stack", "iam:CreateRole", role("flask-eks-" + other + "-x"), withBoundary, false},
			{"create a role outside the stack's names", "iam:CreateRole", role("admin"), withBoundary, false},
			{"attach a policy to the other stack's role", "iam:AttachRolePolicy", role("github-actions-deploy-" + other), withBoundary, false},
			{"drop a boundary", "iam:DeleteRolePermissionsBoundary", role("flask-eks-" + stack + "-x"), nil, false},
			{"rewrite its boundary", "iam:CreatePolicyVersion", boundaryARN, nil, false},
			{"create a user's access key", "iam:CreateAccessKey", "arn:aws:iam::" + account + ":user/someone", nil, false},
			{"assume the other stack's deploy role", "sts:AssumeRole", role("github-actions-deploy-" + other), nil, false},
			{"reach the other cluster", "eks:CreateAccessEntry", "arn:aws:eks:eu-west-1:" + account + ":access-entry/flask-eks-" + other + "/role/x", nil, false},
			{"describe the other cluster", "eks:DescribeCluster", "arn:aws:eks:eu-west-1:" + account + ":cluster/flask-eks-" + other, nil, false},
			{"read the other stack's app secret", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:" + account + ":secret:flask-eks-" + other + "/app-AbCdEf", nil, false},
			{"push to the other stack's repository", "ecr:PutImage", "arn:aws:ecr:eu-west-1:" + account + ":repository/flask-eks-" + other + "/flask-app", nil, false},
			{"decrypt with the other stack's key", "kms:Decrypt", "arn:aws:kms:eu-west-1:" + account + ":key/2", ctx("kms:ResourceAliases", "alias/flask-eks-"+other+"-app-secrets", "aws:ResourceTag/Stack", stack), false},
			{"open the other stack's security group", "ec2:AuthorizeSecurityGroupIngress", "arn:aws:ec2:eu-west-1:" + account + ":security-group/sg-1", ctx("aws:ResourceTag/Stack", other), false},
			{"open the other cluster's security group", "ec2:AuthorizeSecurityGroupIngress", "arn:aws:ec2:eu-west-1:" + account + ":security-group/sg-2", ctx("aws:ResourceTag/aws:eks:cluster-name", "flask-eks-"+other), false},
			{"tag something for the other stack", "ec2:CreateTags", "arn:aws:ec2:eu-west-1:" + account + ":security-group/sg-3", ctx("aws:RequestTag/Stack", other, "aws:ResourceTag/Stack", stack), false},
			{"write the other stack's state", "s3:PutObject", bucket + "/.pulumi/stacks/flask-eks/" + other + ".json", nil, false},
		} {
			r := iampolicy.Request{Action: tc.action, Resource: tc.resource, Context: tc.context}
			if got := iampolicy.Allowed(sub, nil, false, r); got != tc.want {
				r.Principal = sub.ARN
				t.Errorf("%s deploy role may %s (%s %s): %v, want %v; identity %v, boundary %v", stack, tc.what, tc.action, tc.resource, got, tc.want,
					sub.Identity[0].Matching(r, false), sub.Boundary.Matching(r, false))
			}
			// The boundary alone holds: were the role's own policy widened to everything (or a
			// role it created given AdministratorAccess), what must be denied still is.
			if !tc.want && iampolicy.Allowed(widened, nil, false, r) {
				t.Errorf("the %s boundary lets a role with AdministratorAccess %s (%s %s)", stack, tc.what, tc.action, tc.resource)
			}
		}
	}
}

// The OIDC trust policy names one exact subject, and the KMS key policies give each stack's
// roles its own key only.
func TestTrustAndKeyPolicies(t *testing.T) {
	docs := docPolicies(t)
	trust := policy(t, docs, "trust-prod-preview", false)
	gh := "arn:aws:iam::" + account + ":oidc-provider/token.actions.githubusercontent.com"
	assume := func(sub string) bool {
		return trust.Decide(iampolicy.Request{Principal: gh, Action: "sts:AssumeRoleWithWebIdentity", Resource: role("github-actions-preview-prod"),
			Context: map[string][]string{"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"}, "token.actions.githubusercontent.com:sub": {sub}}}, false) == iampolicy.Allow
	}
	if !assume("repo:example/flask-eks:environment:prod-preview") {
		t.Error("the prod-preview environment's token cannot assume the role")
	}
	for _, sub := range []string{"repo:example/flask-eks:pull_request", "repo:example/flask-eks:ref:refs/heads/main", "repo:example/flask-eks:environment:dev-preview", "repo:example/flask-eks-fork:environment:prod-preview"} {
		if assume(sub) {
			t.Errorf("token subject %q assumes the prod-preview role", sub)
		}
	}
	for _, st := range trust.Statement {
		for op := range st.Condition {
			if strings.Contains(op, "Like") {
				t.Errorf("trust policy uses %s: the subject must be exact", op)
			}
		}
	}

	keys := map[string]*iampolicy.Policy{"dev": policy(t, docs, "kms-dev", false), "prod": policy(t, docs, "kms-prod", false)}
	for stack, key := range keys {
		other := map[string]string{"dev": "prod", "prod": "dev"}[stack]
		decrypt := func(roleName string) bool {
			return iampolicy.Allowed(iampolicy.Subject{ARN: role(roleName), Identity: []*iampolicy.Policy{iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)}},
				key, true, iampolicy.Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:eu-west-1:" + account + ":key/" + stack})
		}
		for _, r := range []string{"github-actions-deploy-" + stack, "github-actions-preview-" + stack, "github-actions-drift-" + stack} {
			if !decrypt(r) {
				t.Errorf("%s cannot decrypt with the %s key", r, stack)
			}
		}
		for _, r := range []string{"github-actions-deploy-" + other, "github-actions-preview-" + other, "github-actions-drift-" + other, "someone-with-kms-star"} {
			if decrypt(r) {
				t.Errorf("%s decrypts with the %s key", r, stack)
			}
		}
	}
}

// The GitHub settings the trust model rests on are written in docs/ci.md, where an
// administrator sets them up.
func TestDocumentedSettings(t *testing.T) {
	doc := ciDoc(t)
	for _, want := range []string{
		"**Require review from Code Owners**",
		"**Dismiss stale pull request approvals when new commits\n  are pushed**",
		"**Require approval of the most recent reviewable push**",
		"**Allow GitHub Actions to create and approve pull requests: off.**",
		"| `prod-preview` | `main` |",
		"| `prod-drift` | `main` |",
		"| `dev-drift` | `main` |",
		"`<org>/<repo>/.github/workflows/deploy.yml@refs/heads/main`",
		"`<org>/<repo>/.github/workflows/drift.yml@refs/heads/main`",
		"**just-in-time, ephemeral** runners",
		"**Preview roles: `AmazonEKSViewPolicy`**",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/ci.md does not say %q", want)
		}
	}
	for _, bad := range []string{"no branch restriction", "preview-prod` label", "Allow GitHub Actions to create pull requests** (for"} {
		if strings.Contains(doc, bad) {
			t.Errorf("docs/ci.md still says %q", bad)
		}
	}
	// Every workflow named in the runner group is one that ProdRunnerProblems allows, and back.
	for _, w := range ProdRunnerWorkflows {
		if !strings.Contains(doc, "/.github/workflows/"+w+"@refs/heads/main") {
			t.Errorf("docs/ci.md's runner group does not list %s", w)
		}
	}
}
