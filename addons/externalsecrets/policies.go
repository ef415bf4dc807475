package externalsecrets

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Principals are who, besides External Secrets' controller, may touch the stack's secret and
// its key. Every one is an IAM role (or user) ARN of the stack's account, never a session.
type Principals struct {
	// Deployer runs `pulumi up` for the stack (CI's deploy role). It administers the key (the
	// program manages it: rotation, policy, tags, deletion), writes the secret's first value
	// through Secrets Manager, and reads back that first version only: the AWS provider reads
	// every SecretVersion it manages with GetSecretValue and the version's ID.
	Deployer string
	// BreakGlass is the emergency administrator: it administers the key as well, so the key
	// never depends on the deploy role alone, and reads and writes any version of the secret,
	// which is how a person rotates the value.
	BreakGlass string
	// Refreshers refresh the stack from AWS without deploying it (the drift check's
	// `pulumi preview --refresh`): like the Deployer they read back the first version only,
	// whose value Pulumi's state holds anyway, encrypted with a key they decrypt.
	Refreshers []string
}

// validate checks that every principal is an IAM role or user ARN of one account, and returns
// that account and its partition ("aws").
func (p Principals) validate() (partition, account string, err error) {
	if p.Deployer == "" || p.BreakGlass == "" {
		return "", "", fmt.Errorf("the deploying and the break-glass principals are required")
	}
	for _, arn := range append([]string{p.Deployer, p.BreakGlass}, p.Refreshers...) {
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !(strings.HasPrefix(parts[5], "role/") || strings.HasPrefix(parts[5], "user/")) {
			return "", "", fmt.Errorf("principal %q is not an IAM role or user ARN", arn)
		}
		if account != "" && (parts[4] != account || parts[1] != partition) {
			return "", "", fmt.Errorf("principal %q is not in account %s of the others: the secret's policy admits its own account's principals only", arn, account)
		}
		partition, account = parts[1], parts[4]
	}
	return partition, account, nil
}

// Key administration, the actions a key administrator needs and nothing cryptographic: those
// of AWS's default key policy for key administrators
// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators)
// spelled out, without kms:CreateGrant (which kms:Create* would include, and with which an
// administrator could grant itself Decrypt without changing the policy). CreateKey refuses a
// policy that does not let its caller PutKeyPolicy afterwards (the policy lockout safety
// check), so the Deployer is always among them.
var keyAdministration = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
	"kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
	"kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies",
	"kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant",
	"kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
	"kms:UpdateAlias", "kms:UpdateKeyDescription",
}

// keyMetadata are the reads a refresh of the key makes (DescribeKey, its policy, rotation and
// tags), which the account may grant through IAM: the AWS managed key of Secrets Manager
// allows the account the same ("Allow direct access to key metadata to the account",
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
var keyMetadata = []string{
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListKeyPolicies",
	"kms:ListKeyRotations", "kms:ListResourceTags",
}

// SecretARNPattern matches the ARN of the secret name in region and account: Secrets Manager
// appends a hyphen and six random characters to the name
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html).
// The key policy is written before the secret exists, so it names the secret this way.
func SecretARNPattern(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", partition, region, account, name)
}

// KeyPolicy is the key policy of the stack's secrets key. There is no statement for the
// account's root with kms:*, which would let every IAM policy of the account grant use of the
// key, AdministratorAccess included; only the principals named here use it:
//
//   - the Deployer and the BreakGlass administer it (keyAdministration); a key whose
//     administrators are all deleted can only be recovered by AWS Support (key-policy-default.html),
//     which the break-glass role, kept for the key's life, guards against;
//   - the account may read the key's metadata through IAM (keyMetadata), so that a drift
//     check's refresh with a read-only role sees the key;
//   - the controller decrypts, and the Deployer, BreakGlass and Refreshers decrypt and (the
//     first two) generate data keys, only when Secrets Manager asks on their behalf
//     (kms:ViaService, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)
//     for the stack's secret (the encryption context's SecretARN, which Secrets Manager
//     sets on every GenerateDataKey and Decrypt: security-encryption.html). Secrets Manager
//     asks for GenerateDataKey when a value is written (CreateSecret, PutSecretValue) and
//     for GenerateDataKey and Decrypt when a secret's key is set (its access check), and for
//     Decrypt on every GetSecretValue. Which version a Deployer or Refresher may read is the
//     secret's resource policy's business (SecretPolicy).
func KeyPolicy(region, secretName, controller string, p Principals) (string, error) {
	partition, account, err := p.validate()
	if err != nil {
		return "", fmt.Errorf("key policy: %w", err)
	}
	if controller == "" {
		return "", fmt.Errorf("key policy: the controller's role is required")
	}
	viaSecretsManager := map[string]any{
		"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + region + ".amazonaws.com"},
		"StringLike":   map[string]any{"kms:EncryptionContext:SecretARN": SecretARNPattern(partition, region, account, secretName)},
	}
	admins := principals(p.Deployer, p.BreakGlass)
	readers := principals(append([]string{controller}, p.Refreshers...)...)
	statements := []any{
		map[string]any{"Sid": "KeyAdministrators", "Effect": "Allow", "Principal": map[string]any{"AWS": admins},
			"Action": keyAdministration, "Resource": "*"},
		map[string]any{"Sid": "AccountReadsKeyMetadata", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:" + partition + ":iam::" + account + ":root"},
			"Action": keyMetadata, "Resource": "*"},
		map[string]any{"Sid": "WritersThroughSecretsManager", "Effect": "Allow", "Principal": map[string]any{"AWS": admins},
			"Action": []string{"kms:Decrypt", "kms:GenerateDataKey"}, "Resource": "*", "Condition": viaSecretsManager},
		map[string]any{"Sid": "ReadersThroughSecretsManager", "Effect": "Allow", "Principal": map[string]any{"AWS": readers},
			"Action": []string{"kms:Decrypt"}, "Resource": "*", "Condition": viaSecretsManager},
	}
	return marshal(map[string]any{"Version": "2012-10-17", "Id": secretName + "-key", "Statement": statements})
}

// SecretPolicy is the secret's resource policy
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resource-policies.html).
// An explicit Deny in it holds whatever an identity policy allows, AdministratorAccess
// included:
//
//   - nobody but the controller, the BreakGlass, the Deployer and the Refreshers gets the
//     value (GetSecretValue; BatchGetSecretValue needs GetSecretValue on each secret too);
//   - the Deployer and the Refreshers get the first version only, by its ID (what the AWS
//     provider reads: GetSecretValue with the version's ID, on create and on every refresh),
//     never the current value after a rotation;
//   - the Refreshers, whose read-only roles hold no GetSecretValue, are granted that one read
//     here.
//
// Everything else a deploy or a refresh calls stays with the identity policies: PutSecretValue
// for the first value, DescribeSecret and GetResourcePolicy to read the secret and this
// policy, PutResourcePolicy to write it.
func SecretPolicy(controller, firstVersion string, p Principals) (string, error) {
	if _, _, err := p.validate(); err != nil {
		return "", fmt.Errorf("secret policy: %w", err)
	}
	if controller == "" || firstVersion == "" {
		return "", fmt.Errorf("secret policy: the controller's role and the first version's ID are required")
	}
	readers := principals(controller, p.BreakGlass)
	firstOnly := principals(append([]string{p.Deployer}, p.Refreshers...)...)
	firstOnly = slices.DeleteFunc(firstOnly, func(a string) bool { return slices.Contains(readers, a) })
	statements := []any{
		map[string]any{"Sid": "OnlyNamedPrincipalsGetTheValue", "Effect": "Deny", "Principal": "*",
			"Action": "secretsmanager:GetSecretValue", "Resource": "*",
			"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": principals(append(readers, firstOnly...)...)}}},
	}
	if len(firstOnly) > 0 {
		statements = append(statements,
			map[string]any{"Sid": "DeployerAndRefreshersGetTheFirstVersionOnly", "Effect": "Deny", "Principal": "*",
				"Action": "secretsmanager:GetSecretValue", "Resource": "*",
				"Condition": map[string]any{
					"ArnEquals":       map[string]any{"aws:PrincipalArn": firstOnly},
					"StringNotEquals": map[string]any{"secretsmanager:VersionId": firstVersion},
				}},
			map[string]any{"Sid": "DeployerAndRefreshersReadTheFirstVersion", "Effect": "Allow", "Principal": map[string]any{"AWS": firstOnly},
				"Action": "secretsmanager:GetSecretValue", "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"secretsmanager:VersionId": firstVersion}}})
	}
	return marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
}

// principals are ARNs sorted, without duplicates or empty ones, so that a policy does not
// change when a list is reordered.
func principals(arns ...string) []string {
	out := slices.DeleteFunc(slices.Clone(arns), func(a string) bool { return a == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

func marshal(doc any) (string, error) {
	b, err := json.Marshal(doc)
	return string(b), err
}
