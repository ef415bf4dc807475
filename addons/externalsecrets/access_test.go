package externalsecrets

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/iampolicy"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/pulumitest"
)

// Managed policies of the principals the access tests try, as far as they matter here.
var (
	// administratorAccess is AWS's AdministratorAccess: every action on every resource.
	administratorAccess = iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
)

// defaultKeyPolicy is the key policy KMS gives a key created without one: the account (its
// root) may do everything, so IAM policies decide
// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
func defaultKeyPolicy(account string) *iampolicy.Policy {
	return iampolicy.MustParse(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}]}`, account))
}

// access is what AWS decides about the stack's secret: the key policy and the secret's
// resource policy the program sent (KMS's default when it sent none), and the identity
// policies of the principals tried.
type access struct {
	keyArn, secretArn, versionID string
	keyPolicy, secretPolicy      *iampolicy.Policy
}

func newAccess(t *testing.T, d *deployment) access {
	t.Helper()
	a := access{keyArn: d.outputs["keyArn"].String(t), secretArn: d.outputs["secretArn"].String(t)}
	version := d.m.Only(t, "aws:secretsmanager/secretVersion:SecretVersion")
	_, a.versionID = splitVersionID(t, version.ID)
	a.keyPolicy = defaultKeyPolicy(pulumitest.Account)
	if p, ok := d.m.Only(t, "aws:kms/key:Key").Inputs["policy"].(string); ok {
		a.keyPolicy = mustParse(t, p)
	}
	if ps := d.m.ByType("aws:secretsmanager/secretPolicy:SecretPolicy"); len(ps) == 1 {
		if ps[0].Inputs["secretArn"] != a.secretArn {
			t.Fatalf("the secret policy is on %v, not on the stack's secret %s", ps[0].Inputs["secretArn"], a.secretArn)
		}
		a.secretPolicy = mustParse(t, ps[0].Inputs["policy"].(string))
	}
	return a
}

func splitVersionID(t *testing.T, id string) (string, string) {
	t.Helper()
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '|' {
			return id[:i], id[i+1:]
		}
	}
	t.Fatalf("secret version ID %q is not <secret>|<version>", id)
	return "", ""
}

func mustParse(t *testing.T, doc string) *iampolicy.Policy {
	t.Helper()
	p, err := iampolicy.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return p
}

// viaSecretsManager is the context of the KMS request Secrets Manager makes on a caller's
// behalf for a version of a secret: the service, the caller's account and the encryption
// context {SecretARN, SecretVersionId}
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
func viaSecretsManager(secretArn, versionID string) map[string][]string {
	return map[string][]string{
		"kms:ViaService":                        {"secretsmanager." + pulumitest.Region + ".amazonaws.com"},
		"kms:CallerAccount":                     {pulumitest.Account},
		"kms:EncryptionContext:SecretARN":       {secretArn},
		"kms:EncryptionContext:SecretVersionId": {versionID},
	}
}

// decrypts: may sub have KMS decrypt with the key, directly (via false) or for Secrets
// Manager on a version of the stack's secret?
func (a access) decrypts(sub iampolicy.Subject, via bool, action string) bool {
	r := iampolicy.Request{Action: action, Resource: a.keyArn}
	if via {
		r.Context = viaSecretsManager(a.secretArn, a.versionID)
	}
	return iampolicy.Allowed(sub, a.keyPolicy, true, r)
}

// reads: may sub read a version of the secret's value (GetSecretValue with VersionId, or
// without one for AWSCURRENT, when version is "")? Secrets Manager then decrypts the version
// with the key on sub's behalf, which the key policy must allow too.
func (a access) reads(sub iampolicy.Subject, version string) bool {
	ctx := map[string][]string{}
	if version != "" {
		ctx["secretsmanager:VersionId"] = []string{version}
	} else {
		version = "the-current-version"
	}
	get := iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: a.secretArn, Context: ctx}
	decrypt := iampolicy.Request{Action: "kms:Decrypt", Resource: a.keyArn, Context: viaSecretsManager(a.secretArn, version)}
	return iampolicy.Allowed(sub, a.secretPolicy, false, get) && iampolicy.Allowed(sub, a.keyPolicy, true, decrypt)
}

func role(name string, identity ...*iampolicy.Policy) iampolicy.Subject {
	return iampolicy.Subject{ARN: "arn:aws:iam::" + pulumitest.Account + ":role/" + name, Identity: identity}
}

// The principals of the test deployments, in the mocks' account: CI's deploy role, the
// break-glass role and a drift check's role.
var testPrincipals = Principals{
	Deployer:   "arn:aws:iam::" + pulumitest.Account + ":role/github-actions-deploy-test",
	BreakGlass: "arn:aws:iam::" + pulumitest.Account + ":role/ops/break-glass",
	Refreshers: []string{"arn:aws:iam::" + pulumitest.Account + ":role/github-actions-drift-test"},
}

// readOnlyAccess is what AWS's ReadOnlyAccess grants on the secret and the key, as far as a
// refresh needs it: metadata, no GetSecretValue, no Decrypt.
var readOnlyAccess = iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
	"secretsmanager:DescribeSecret","secretsmanager:GetResourcePolicy","secretsmanager:ListSecrets","secretsmanager:ListSecretVersionIds",
	"kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}]}`)

// TestWhoReadsTheSecret evaluates the key policy and the secret's resource policy the program
// sends (internal/iampolicy) against the principals that matter:
//
//   - External Secrets' controller reads every version, through Secrets Manager only;
//   - the break-glass role (an administrator) reads and writes every version, and administers
//     the key;
//   - the deploy role writes the first value, reads back that first version only, and
//     administers the key (it manages it);
//   - a drift check's role (ReadOnlyAccess) reads the key's metadata and the first version
//     only, as a refresh does;
//   - an account administrator (AdministratorAccess) and another workload's role neither read
//     the value nor use the key nor change its policy;
//   - nobody decrypts with the key directly, or for another secret.
func TestWhoReadsTheSecret(t *testing.T) {
	d := deploy(t, false)
	a := newAccess(t, d)
	if a.secretPolicy == nil {
		t.Fatal("the secret has no resource policy")
	}
	controller := iampolicy.Subject{
		ARN:      "arn:aws:iam::" + pulumitest.Account + ":role/" + d.m.Only(t, "aws:iam/role:Role").ID,
		Identity: []*iampolicy.Policy{mustParse(t, d.m.Only(t, "aws:iam/rolePolicy:RolePolicy").Inputs["policy"].(string))},
	}
	deployer := iampolicy.Subject{ARN: testPrincipals.Deployer, Identity: []*iampolicy.Policy{administratorAccess}}
	breakGlass := iampolicy.Subject{ARN: testPrincipals.BreakGlass, Identity: []*iampolicy.Policy{administratorAccess}}
	drift := iampolicy.Subject{ARN: testPrincipals.Refreshers[0], Identity: []*iampolicy.Policy{readOnlyAccess}}
	admin := role("account-admin", administratorAccess)
	workload := role("another-workload", administratorAccess)
	later := "a1b2c3d4-5678-4abc-8def-0123456789ab" // a version written after the first

	for _, c := range []struct {
		who                 string
		sub                 iampolicy.Subject
		first, current, old bool
	}{
		{"controller", controller, true, true, true},
		{"break-glass", breakGlass, true, true, true},
		{"deployer", deployer, true, false, false},
		{"drift check", drift, true, false, false},
		{"account administrator", admin, false, false, false},
		{"another workload", workload, false, false, false},
	} {
		if got := a.reads(c.sub, a.versionID); got != c.first {
			t.Errorf("%s reads the first version: %v, want %v", c.who, got, c.first)
		}
		if got := a.reads(c.sub, ""); got != c.current {
			t.Errorf("%s reads the current value: %v, want %v", c.who, got, c.current)
		}
		if got := a.reads(c.sub, later); got != c.old {
			t.Errorf("%s reads a later version by its ID: %v, want %v", c.who, got, c.old)
		}
		if a.decrypts(c.sub, false, "kms:Decrypt") {
			t.Errorf("%s decrypts with the key directly, not through Secrets Manager", c.who)
		}
		other := access{keyArn: a.keyArn, secretArn: a.secretArn + "-other", keyPolicy: a.keyPolicy}
		if other.decrypts(c.sub, true, "kms:Decrypt") {
			t.Errorf("%s decrypts another secret's data keys with the key", c.who)
		}
	}

	// Writing a value: Secrets Manager generates a data key on the writer's behalf.
	for _, c := range []struct {
		who  string
		sub  iampolicy.Subject
		want bool
	}{{"deployer", deployer, true}, {"break-glass", breakGlass, true}, {"controller", controller, false},
		{"drift check", drift, false}, {"account administrator", admin, false}} {
		if got := a.decrypts(c.sub, true, "kms:GenerateDataKey"); got != c.want {
			t.Errorf("%s writes a value (GenerateDataKey through Secrets Manager): %v, want %v", c.who, got, c.want)
		}
	}

	// Administering the key, and reading its metadata for a refresh.
	key := func(sub iampolicy.Subject, action string) bool {
		return iampolicy.Allowed(sub, a.keyPolicy, true, iampolicy.Request{Action: action, Resource: a.keyArn})
	}
	for _, action := range []string{"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:TagResource", "kms:CreateAlias"} {
		if !key(deployer, action) || !key(breakGlass, action) {
			t.Errorf("%s: the deploy and break-glass roles must administer the key", action)
		}
		if key(admin, action) || key(drift, action) || key(controller, action) {
			t.Errorf("%s: only the deploy and break-glass roles administer the key", action)
		}
	}
	if key(deployer, "kms:CreateGrant") || key(breakGlass, "kms:CreateGrant") {
		t.Error("a key administrator may create grants, and so grant itself Decrypt without a policy change")
	}
	for _, action := range []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"} {
		if !key(drift, action) {
			t.Errorf("the drift check's refresh cannot %s", action)
		}
	}
}

// TestKeyPolicyNamesItsSecret: the key policy is written before the secret exists, so it
// names the secret by a pattern of its name; the pattern matches the ARN Secrets Manager gives
// that name and no other name's.
func TestKeyPolicyNamesItsSecret(t *testing.T) {
	d := deploy(t, false)
	a := newAccess(t, d)
	pattern := SecretARNPattern("aws", pulumitest.Region, pulumitest.Account, SecretName(prefix))
	ctx := func(secret string) map[string][]string { return map[string][]string{"arn": {secret}} }
	cond := iampolicy.MustParse(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"x:Y","Resource":"*","Condition":{"StringLike":{"arn":%q}}}]}`, pattern))
	for secret, want := range map[string]bool{
		a.secretArn: true,
		"arn:aws:secretsmanager:" + pulumitest.Region + ":" + pulumitest.Account + ":secret:" + prefix + "/app-x-AbCdEf": false,
		"arn:aws:secretsmanager:" + pulumitest.Region + ":" + pulumitest.Account + ":secret:" + prefix + "/apps-AbCdEf":  false,
		"arn:aws:secretsmanager:us-east-1:" + pulumitest.Account + ":secret:" + prefix + "/app-AbCdEf":                   false,
	} {
		if got := cond.Decide(iampolicy.Request{Action: "x:Y", Resource: "*", Context: ctx(secret)}, false) == iampolicy.Allow; got != want {
			t.Errorf("pattern %s matches %s: %v, want %v", pattern, secret, got, want)
		}
	}
}

// TestPrincipalsRefused: the component refuses missing principals, sessions and principals of
// another account before it declares anything.
func TestPrincipalsRefused(t *testing.T) {
	other := testPrincipals
	other.BreakGlass = "arn:aws:iam::210987654321:role/break-glass"
	session := testPrincipals
	session.Deployer = "arn:aws:sts::" + pulumitest.Account + ":assumed-role/deploy/run-1"
	for name, c := range map[string]struct {
		p    Principals
		want string
	}{
		"none":          {Principals{}, "required"},
		"other account": {other, "not in account"},
		"a session":     {session, "not an IAM role or user ARN"},
	} {
		t.Run(name, func(t *testing.T) {
			m := pulumitest.New("flask-eks", "test")
			err := pulumitest.Run(t, m, nil, nil, func(ctx *pulumi.Context) error {
				p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
				if err != nil {
					return err
				}
				_, err = New(ctx, "es", &Args{Provider: p, ClusterName: pulumi.String("c"), Region: "eu-west-1", NamePrefix: "p",
					APIServer: netpol.APIServer{ServiceAddress: serviceAddress, CIDRs: []string{vpcCIDR}}, Principals: c.p})
				return err
			})
			if err == nil || !strings.Contains(err.Error(), c.want) || len(m.ByType("aws:kms/key:Key")) != 0 {
				t.Errorf("error %v; want %q before anything is declared", err, c.want)
			}
		})
	}
}
