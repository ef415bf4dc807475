// Package externalsecrets makes AWS Secrets Manager the source of truth for the app's secrets:
// a secret of the stack, encrypted with a KMS key of the stack, is synced into the app's
// namespace by External Secrets Operator (ESO), and Stakater Reloader rolls the app's pods when
// the synced Secret's data changes. A value changed in Secrets Manager (console, CLI, a rotation
// Lambda) thus reaches the pods within one refresh interval, without a `pulumi up`.
//
// [New] declares the AWS side (key, secret, its first value, the controller's IAM role through
// EKS Pod Identity) and the operators' namespaces with their network policies. The operators
// themselves are installed by [ExternalSecrets.SyncInto], which the App calls once it has
// created its namespace: both charts are scoped to that one namespace and put their Roles into
// it, so they cannot be installed before it exists. [Store] is the cluster-side part alone
// (SecretStore and ExternalSecret), usable without AWS against any API server that serves ESO's
// CRDs.
package externalsecrets

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/kube"
	"github.com/example/flask-eks/internal/netpol"
	"github.com/example/flask-eks/internal/podidentity"
)

// Where the operators run, and the ServiceAccounts the charts create (fixed names, set in the
// values: the Pod Identity association names the controller's).
const (
	OperatorNamespace       = "external-secrets"
	OperatorServiceAccount  = "external-secrets"
	ReloaderNamespace       = "reloader"
	ReloaderServiceAccount  = "reloader"
	DefaultRefreshInterval  = "5m"
	defaultDeletionWindow   = 7
	protectedDeletionWindow = 30
)

// Args configures ExternalSecrets.
type Args struct {
	// Provider is the explicit Kubernetes provider of the cluster.
	Provider *kubernetes.Provider
	// ClusterName names the EKS cluster, for the Pod Identity role and association.
	ClusterName pulumi.StringInput
	// Region is the stack's AWS region (the SecretStore's, and the kms:ViaService condition's).
	Region string
	// NamePrefix names the stack's AWS objects, e.g. "flask-eks-prod": the secret
	// "<prefix>/app" and the key alias "alias/<prefix>-app-secrets".
	NamePrefix string
	// RefreshInterval is how often ESO reads the secret, e.g. "5m" (default): the longest a new
	// value takes to reach the cluster. Every refresh is a GetSecretValue call (billed per
	// 10,000 calls), and Reloader rolls the pods only when the data really changed.
	RefreshInterval string
	// APIServer is where the operators reach the Kubernetes API server (its Service's address
	// and its network interfaces in the VPC), and where it calls ESO's admission webhook from.
	APIServer netpol.APIServer
	// Principals are who administers the key and may read the secret besides External
	// Secrets' controller (see Principals, KeyPolicy and SecretPolicy).
	Principals Principals
	// Protect protects the key and the secret from deletion by Pulumi, and gives both the
	// longest deletion windows (30 days instead of 7). For prod.
	Protect bool
	// Placement is where the operators' pods run (ESO's controller, webhook and cert
	// controller, and Reloader): the platform NodePool's selector and toleration on EKS. Zero
	// keeps the charts' defaults.
	Placement kube.Placement
	// DependsOn are what the charts must wait for (the cluster's StorageClass, IngressClass, …).
	DependsOn []pulumi.Resource
}

func (a *Args) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("args are required")
	case a.Provider == nil || a.ClusterName == nil:
		return fmt.Errorf("a Kubernetes provider and the cluster name are required")
	case a.Region == "" || a.NamePrefix == "":
		return fmt.Errorf("region and name prefix are required")
	case strings.ContainsAny(a.NamePrefix, "/ "):
		return fmt.Errorf("name prefix %q must not contain slashes or spaces", a.NamePrefix)
	case a.APIServer.Validate() != nil:
		return fmt.Errorf("%w (the operators call it, and it calls the webhook)", a.APIServer.Validate())
	}
	if _, _, err := a.Principals.validate(); err != nil {
		return err
	}
	return nil
}

// ExternalSecrets is the stack's secret in AWS Secrets Manager and what syncs it into the
// cluster. It implements the app's SecretSource.
type ExternalSecrets struct {
	pulumi.ResourceState

	// SecretArn, SecretName and KeyArn identify the secret and its KMS key (no value).
	SecretArn  pulumi.StringOutput `pulumi:"secretArn"`
	SecretName pulumi.StringOutput `pulumi:"secretName"`
	KeyArn     pulumi.StringOutput `pulumi:"keyArn"`

	// Role is the ESO controller's IAM role and its Pod Identity association.
	Role *podidentity.Role
	// Operator and Reloader are the charts, nil until SyncInto has installed them.
	Operator *helmv4.Chart
	Reloader *helmv4.Chart

	name       string
	args       Args
	operatorNS *corev1.Namespace
	reloaderNS *corev1.Namespace
	version    *secretsmanager.SecretVersion
	// syncedFor is the name SyncInto was called with, "" before.
	syncedFor string
}

// New declares, as children of one component:
//
//   - an IAM role for ESO's controller through EKS Pod Identity, which may read this one secret;
//   - a KMS key of the stack (yearly rotation on, an alias) whose key policy lets only the
//     controller and the Principals use it, and only through Secrets Manager for this secret
//     (KeyPolicy), and the Secrets Manager secret "<prefix>/app" encrypted with it;
//   - the secret's first value: JSON {"SECRET_KEY", "DB_PASSWORD"} from two random passwords
//     (32 characters, no specials), held in Pulumi's state only as secrets;
//   - the secret's resource policy, which denies its value to everyone but the controller and
//     the Principals, and to the deployer and refreshers every version but the first
//     (SecretPolicy);
//   - the namespaces of ESO and Reloader (Pod Security "restricted", default deny) with their
//     network policies.
//
// The first value is the only one Pulumi ever writes: the SecretVersion ignores changes to its
// value (secretString) and stages (versionStages). Rotating means writing a new version in
// Secrets Manager (console, `aws secretsmanager put-secret-value`, a rotation Lambda);
// AWSCURRENT moves to it, ESO picks it up at its next refresh and Reloader rolls the pods.
// Without the ignoreChanges, any change to the generated input (a replaced RandomPassword, a
// new key in the JSON) would make Pulumi replace the version, that is write a new AWSCURRENT
// from its own values and undo the rotations since; and a refresh that sees AWSCURRENT gone
// from this version must not make Pulumi move it back. The price: Pulumi never notices a
// rotation (Secrets Manager's version history is the record), and a changed input has no
// effect. Known limit: from the second rotation on, the first version has no staging label,
// and such a version "is considered to be 'deprecated' and can be deleted by Secrets Manager"
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).
// If it is deleted and the stack is then refreshed, Pulumi forgets the version, and the next
// `pulumi up` writes the first value again: do not refresh this resource (or re-import it).
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*ExternalSecrets, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("external-secrets %q: %w", name, err)
	}
	e := &ExternalSecrets{name: name, args: *args}
	if err := ctx.RegisterComponentResource("flask-eks:externalsecrets:ExternalSecrets", name, e, opts...); err != nil {
		return nil, fmt.Errorf("registering external-secrets %q: %w", name, err)
	}
	if err := e.declareAWS(ctx, name); err != nil {
		return nil, fmt.Errorf("external-secrets %q: %w", name, err)
	}
	if err := e.declareNamespaces(ctx, name); err != nil {
		return nil, fmt.Errorf("external-secrets %q: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"secretArn":  e.SecretArn,
		"secretName": e.SecretName,
		"keyArn":     e.KeyArn,
	}); err != nil {
		return nil, fmt.Errorf("external-secrets %q: registering outputs: %w", name, err)
	}
	return e, nil
}

// SecretName is the name of the stack's secret in Secrets Manager.
func SecretName(prefix string) string { return prefix + "/app" }

// KeyAlias is the alias of the stack's KMS key.
func KeyAlias(prefix string) string { return "alias/" + prefix + "-app-secrets" }

func (e *ExternalSecrets) declareAWS(ctx *pulumi.Context, name string) error {
	a := e.args
	window := defaultDeletionWindow
	if a.Protect {
		window = protectedDeletionWindow
	}
	aws := []pulumi.ResourceOption{pulumi.Parent(e)}
	kept := append(aws, pulumi.Protect(a.Protect))

	// The controller's role comes first: the key policy names it (KMS refuses a policy whose
	// principals do not exist yet), and the role's own policy, which names the secret, follows
	// once the secret exists.
	var err error
	e.Role, err = podidentity.NewRole(ctx, name+"-controller", e, podidentity.Args{
		ClusterName:    a.ClusterName,
		Namespace:      OperatorNamespace,
		ServiceAccount: OperatorServiceAccount,
		Description:    "External Secrets controller: reads " + SecretName(a.NamePrefix),
	})
	if err != nil {
		return err
	}
	keyPolicy := e.Role.Role.Arn.ApplyT(func(controller string) (string, error) {
		return KeyPolicy(a.Region, SecretName(a.NamePrefix), controller, a.Principals)
	}).(pulumi.StringOutput)
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the app secrets of %s (Secrets Manager %s)", a.NamePrefix, SecretName(a.NamePrefix)),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               keyPolicy,
	}, kept...)
	if err != nil {
		return fmt.Errorf("creating the KMS key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String(KeyAlias(a.NamePrefix)),
		TargetKeyId: key.KeyId,
	}, aws...); err != nil {
		return fmt.Errorf("creating the KMS alias: %w", err)
	}
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(SecretName(a.NamePrefix)),
		Description:          pulumi.String("SECRET_KEY and DB_PASSWORD of the Flask app; synced into the cluster by External Secrets"),
		KmsKeyId:             key.Arn,
		RecoveryWindowInDays: pulumi.Int(window),
	}, kept...)
	if err != nil {
		return fmt.Errorf("creating the secret: %w", err)
	}

	first, err := firstValue(ctx, name, aws)
	if err != nil {
		return err
	}
	// Ignore what rotations change (see New): the value, and which version holds AWSCURRENT.
	e.version, err = secretsmanager.NewSecretVersion(ctx, name, &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID().ToStringOutput(),
		SecretString: first,
	}, append(aws, pulumi.IgnoreChanges([]string{"secretString", "versionStages"}))...)
	if err != nil {
		return fmt.Errorf("creating the secret's first version: %w", err)
	}

	secretPolicy := pulumi.All(e.Role.Role.Arn, e.version.VersionId).ApplyT(func(v []any) (string, error) {
		return SecretPolicy(v[0].(string), v[1].(string), a.Principals)
	}).(pulumi.StringOutput)
	if _, err := secretsmanager.NewSecretPolicy(ctx, name, &secretsmanager.SecretPolicyArgs{
		SecretArn: secret.Arn,
		Policy:    secretPolicy,
		// Secrets Manager refuses a policy that grants broad access.
		BlockPublicPolicy: pulumi.Bool(true),
	}, aws...); err != nil {
		return fmt.Errorf("creating the secret's resource policy: %w", err)
	}

	if err := e.Role.Associate(ctx, secret.Arn.ApplyT(ReadPolicy).(pulumi.StringOutput)); err != nil {
		return err
	}
	e.SecretArn = secret.Arn
	e.SecretName = secret.Name
	e.KeyArn = key.Arn
	return nil
}

// firstValue is the secret's first value, JSON with the keys the app's Secret must have, from
// two random passwords. The result is a secret output: Pulumi stores it encrypted.
func firstValue(ctx *pulumi.Context, name string, opts []pulumi.ResourceOption) (pulumi.StringOutput, error) {
	keys := []string{SecretKeyProperty, DBPasswordProperty}
	var parts []any
	for _, k := range keys {
		pw, err := random.NewRandomPassword(ctx, name+"-"+strings.ToLower(strings.ReplaceAll(k, "_", "-")), &random.RandomPasswordArgs{
			Length:  pulumi.Int(32),
			Special: pulumi.Bool(false),
		}, opts...)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("creating %s: %w", k, err)
		}
		parts = append(parts, pw.Result)
	}
	return pulumi.ToSecret(pulumi.All(parts...).ApplyT(func(v []any) (string, error) {
		doc := map[string]string{}
		for i, k := range keys {
			doc[k] = v[i].(string)
		}
		b, err := json.Marshal(doc)
		return string(b), err
	})).(pulumi.StringOutput), nil
}

// ReadPolicy is the ESO controller's inline policy: read this secret (GetSecretValue, and
// DescribeSecret for ExternalSecrets that fetch its metadata). ESO's read path calls nothing
// else: in
// providers/v1/aws/secretsmanager/secretsmanager.go at helm-chart-2.9.0 a remoteRef by key
// and property is one GetSecretValue (DescribeSecret with metadataPolicy Fetch), and the
// ListSecrets/BatchGetSecretValue of docs/provider/aws-secrets-manager.md are only for
// dataFrom.find, which this program does not use. Secrets Manager decrypts a secret under the
// caller's identity (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html),
// and the key policy grants the controller that Decrypt by name (KeyPolicy): with no statement
// for the account's root, an IAM policy could not grant it anyway.
func ReadPolicy(secretArn string) (string, error) {
	if secretArn == "" {
		return "", fmt.Errorf("read policy: the secret's ARN is required")
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":      "ReadTheAppSecret",
				"Effect":   "Allow",
				"Action":   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
				"Resource": []string{secretArn},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// declareNamespaces declares the operators' namespaces. Every pod there may reach DNS and the
// API server only; ESO's controller also reaches AWS (HTTPS) and the Pod Identity agent, and
// ESO's webhook admits the API server on its port.
func (e *ExternalSecrets) declareNamespaces(ctx *pulumi.Context, name string) error {
	k8s := []pulumi.ResourceOption{pulumi.Parent(e), pulumi.Provider(e.args.Provider)}
	var err error
	e.operatorNS, err = kube.RestrictedNamespace(ctx, name+"-ns", OperatorNamespace, netpol.Egress{APIServer: e.args.APIServer}, append(k8s, pulumi.DependsOn(e.args.DependsOn))...)
	if err != nil {
		return err
	}
	if err := operatorPolicies(ctx, name, e.operatorNS, e.args.APIServer, k8s); err != nil {
		return err
	}
	e.reloaderNS, err = kube.RestrictedNamespace(ctx, name+"-reloader-ns", ReloaderNamespace, netpol.Egress{APIServer: e.args.APIServer}, append(k8s, pulumi.DependsOn(e.args.DependsOn))...)
	return err
}

// SyncInto implements the app's SecretSource. On its first call it installs ESO and Reloader, both
// scoped to ns (the app's namespace): their Roles go there, so they wait for it. It then
// declares the SecretStore and the ExternalSecret in ns (see Store.SyncInto). The charts are
// children of this component, whatever opts says; the store and the ExternalSecret follow
// opts (the App's). A second call, for another namespace, is refused: the operators watch one.
func (e *ExternalSecrets) SyncInto(ctx *pulumi.Context, name string, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (pulumi.StringInput, error) {
	if ns == nil {
		return nil, fmt.Errorf("external-secrets: SyncInto needs the app's namespace")
	}
	if e.syncedFor != "" {
		return nil, fmt.Errorf("external-secrets: already syncing for %q; the operators watch one namespace", e.syncedFor)
	}
	e.syncedFor = name
	if err := e.install(ctx, ns); err != nil {
		return nil, fmt.Errorf("external-secrets: %w", err)
	}
	return e.Store().SyncInto(ctx, name, ns, opts...)
}

// Store is the cluster-side part of the component: the SecretStore and ExternalSecret for the
// stack's secret, waiting for the secret's first value and for the ESO chart (once SyncInto
// has installed it).
func (e *ExternalSecrets) Store() Store {
	s := Store{
		Region:          e.args.Region,
		RemoteKey:       e.SecretName,
		RefreshInterval: e.args.RefreshInterval,
		Operator:        []pulumi.Resource{e.version},
	}
	if e.Operator != nil {
		s.Operator = append(s.Operator, e.Operator)
	}
	return s
}

// install declares both charts in the operators' namespaces, scoped to ns.
func (e *ExternalSecrets) install(ctx *pulumi.Context, ns *corev1.Namespace) error {
	appNS := ns.Metadata.Name().Elem()
	base := e.name
	// The association first: EKS injects credentials only into pods created after it.
	deps := append([]pulumi.Resource{e.Role.Association, ns}, e.args.DependsOn...)
	var err error
	e.Operator, err = charts.Install(ctx, base, OperatorChart, e.operatorNS, OperatorValues(appNS, e.args.Placement), e.args.Provider,
		pulumi.Parent(e), pulumi.DependsOn(deps))
	if err != nil {
		return err
	}
	e.Reloader, err = charts.Install(ctx, base+"-reloader", ReloaderChart, e.reloaderNS, ReloaderValues(appNS, e.args.Placement), e.args.Provider,
		pulumi.Parent(e), pulumi.DependsOn(append([]pulumi.Resource{ns}, e.args.DependsOn...)))
	return err
}
