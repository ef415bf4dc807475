package main

import (
	"path"
	"strings"
	"testing"

	"github.com/example/flask-eks/internal/iampolicy"
)

// EKS access policies, by ARN (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html).
const (
	eksViewPolicy      = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
	eksAdminViewPolicy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
)

// accessEntries maps each principal of a stack's cluster to the access policies of its entry,
// as the program sends them to pulumi-eks.
func accessEntries(t *testing.T, stack string) map[string][]string {
	t.Helper()
	m, err := runProgram(t, stack, stackConfig(t, stack))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range m.Only(t, "eks:index:Cluster").Raw["accessEntries"].ObjectValue() {
		entry := e.ObjectValue()
		principal := entry["principalArn"].StringValue()
		for _, p := range entry["accessPolicies"].ObjectValue() {
			out[principal] = append(out[principal], p.ObjectValue()["policyArn"].StringValue())
		}
	}
	return out
}

// TestCIRolesClusterAccess: in the committed stacks, the CI preview roles (which run pull
// requests' code, without --refresh) get the view policy, which reads no Secret, and the drift
// roles (main's code, with --refresh) the admin-view policy, as docs/ci.md ("Kubernetes access
// of the preview and drift roles") says. Each stack lists both.
func TestCIRolesClusterAccess(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			seen := map[string]bool{}
			for principal, policies := range accessEntries(t, stack) {
				name := path.Base(principal)
				var want string
				switch {
				case strings.HasPrefix(name, "github-actions-preview-"):
					want = eksViewPolicy
				case strings.HasPrefix(name, "github-actions-drift-"):
					want = eksAdminViewPolicy
				default:
					continue
				}
				seen[want] = true
				if len(policies) != 1 || policies[0] != want {
					t.Errorf("%s: access policies %v, want only %s", principal, policies, want)
				}
			}
			if !seen[eksViewPolicy] || !seen[eksAdminViewPolicy] {
				t.Errorf("Pulumi.%s.yaml gives no access entry to a preview role or a drift role: %v", stack, seen)
			}
		})
	}
}

// TestProdSecretPrincipals: prod's app-secret key and secret name the principals of
// Pulumi.prod.yaml: the deploy and break-glass roles administer the key, the drift role reads
// back only the secret's first version, and the cluster's own administrator (platform-admin,
// AdministratorAccess in IAM) and the preview role read nothing.
func TestProdSecretPrincipals(t *testing.T) {
	cfg := stackConfig(t, "prod")
	m, err := runProgram(t, "prod", cfg)
	if err != nil {
		t.Fatal(err)
	}
	keyNode := m.One(t, "aws:kms/key:Key", "external-secrets")
	keyPolicy, ok := keyNode.Inputs["policy"].(string)
	if !ok {
		t.Fatal("prod's app-secret key has no key policy of its own: KMS's default lets IAM policies grant it to anyone")
	}
	key := iampolicy.MustParse(keyPolicy)
	secretNode := m.Only(t, "aws:secretsmanager/secret:Secret")
	version := m.Only(t, "aws:secretsmanager/secretVersion:SecretVersion")
	first := strings.TrimPrefix(version.ID, secretNode.ID+"|")
	secret := iampolicy.MustParse(m.Only(t, "aws:secretsmanager/secretPolicy:SecretPolicy").Inputs["policy"].(string))
	all := iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	keyArn := "arn:aws:kms:eu-west-1:123456789012:key/" + keyNode.ID
	reads := func(principal, versionID string) bool {
		sub := iampolicy.Subject{ARN: principal, Identity: []*iampolicy.Policy{all}}
		get := iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: secretNode.ID,
			Context: map[string][]string{"secretsmanager:VersionId": {versionID}}}
		decrypt := iampolicy.Request{Action: "kms:Decrypt", Resource: keyArn, Context: map[string][]string{
			"kms:ViaService": {"secretsmanager.eu-west-1.amazonaws.com"}, "kms:EncryptionContext:SecretARN": {secretNode.ID},
			"kms:EncryptionContext:SecretVersionId": {versionID}}}
		return iampolicy.Allowed(sub, secret, false, get) && iampolicy.Allowed(sub, key, true, decrypt)
	}
	administers := func(principal string) bool {
		return iampolicy.Allowed(iampolicy.Subject{ARN: principal, Identity: []*iampolicy.Policy{all}}, key, true,
			iampolicy.Request{Action: "kms:PutKeyPolicy", Resource: keyArn})
	}
	deploy, breakGlass := cfg["flask-eks:deployPrincipalArn"], cfg["flask-eks:secretsBreakGlassPrincipalArn"]
	drift, preview, admin := "arn:aws:iam::123456789012:role/github-actions-drift-prod",
		"arn:aws:iam::123456789012:role/github-actions-preview-prod", "arn:aws:iam::123456789012:role/platform-admin"
	for _, c := range []struct {
		principal                  string
		administers, first, latest bool
	}{
		{deploy, true, true, false},
		{breakGlass, true, true, true},
		{drift, false, true, false},
		{preview, false, false, false},
		{admin, false, false, false},
	} {
		if got := administers(c.principal); got != c.administers {
			t.Errorf("%s administers the key: %v, want %v", c.principal, got, c.administers)
		}
		if got := reads(c.principal, first); got != c.first {
			t.Errorf("%s reads the first version: %v, want %v", c.principal, got, c.first)
		}
		if got := reads(c.principal, "a-later-version"); got != c.latest {
			t.Errorf("%s reads a later version: %v, want %v", c.principal, got, c.latest)
		}
	}
}
