package externalsecrets

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ESO's API, as the pinned chart serves it (external-secrets.io/v1, served and stored; v1beta1
// is not served at helm-chart-2.9.0).
const (
	APIVersion         = "external-secrets.io/v1"
	DefaultStoreName   = "aws-secrets-manager"
	DefaultTargetName  = "flask-app-secrets"
	SecretKeyProperty  = "SECRET_KEY"
	DBPasswordProperty = "DB_PASSWORD"
)

// Store is the cluster side of the sync: a SecretStore for AWS Secrets Manager and an
// ExternalSecret that writes the app's Secret from RemoteKey. It needs no AWS resources of its
// own, so it also runs against a bare API server that serves ESO's CRDs (SkipAwait). It
// implements the app's SecretSource.
type Store struct {
	// Region is the Secrets Manager region.
	Region string
	// RemoteKey is the secret's name (or ARN) in Secrets Manager; its value is JSON with the
	// properties SECRET_KEY and DB_PASSWORD.
	RemoteKey pulumi.StringInput
	// RefreshInterval is how often ESO reads the secret (Go duration, e.g. "5m"); "" is
	// DefaultRefreshInterval.
	RefreshInterval string
	// StoreName and TargetName name the SecretStore and the Secret ESO writes; "" for the
	// defaults.
	StoreName, TargetName string
	// Operator is what both objects wait for: ESO's chart (its CRDs, and its admission webhook,
	// which rejects SecretStores until it is up) and, in the component, the secret's first
	// version in Secrets Manager.
	Operator []pulumi.Resource
	// SkipAwait declares both objects without waiting for them to become Ready, for API
	// servers without the operator (the integration tier). Otherwise `pulumi up` waits until ESO
	// reports the store usable and the Secret written (pulumi.com/waitFor: condition=Ready), so
	// that the app's release, which waits for the ExternalSecret, never starts without its
	// Secret.
	SkipAwait bool
}

func (s Store) withDefaults() (Store, error) {
	if s.Region == "" || s.RemoteKey == nil {
		return s, fmt.Errorf("external-secrets store: region and remote key are required")
	}
	if s.RefreshInterval == "" {
		s.RefreshInterval = DefaultRefreshInterval
	}
	if d, err := time.ParseDuration(s.RefreshInterval); err != nil || d <= 0 {
		return s, fmt.Errorf("external-secrets store: refresh interval %q is not a positive duration", s.RefreshInterval)
	}
	if s.StoreName == "" {
		s.StoreName = DefaultStoreName
	}
	if s.TargetName == "" {
		s.TargetName = DefaultTargetName
	}
	return s, nil
}

// awaitAnnotations tell pulumi-kubernetes what to wait for (metadata/overrides.go of the
// provider: pulumi.com/skipAwait, pulumi.com/waitFor).
func (s Store) awaitAnnotations() pulumi.StringMap {
	if s.SkipAwait {
		return pulumi.StringMap{"pulumi.com/skipAwait": pulumi.String("true")}
	}
	return pulumi.StringMap{"pulumi.com/waitFor": pulumi.String("condition=Ready")}
}

// SyncInto implements the app's SecretSource: it declares, in ns,
//
//   - a SecretStore (namespaced, not a ClusterSecretStore: a ClusterSecretStore could be
//     referenced from every namespace, so anyone allowed to create an ExternalSecret anywhere
//     could read the app's secret; the namespaced store serves only ExternalSecrets in the
//     app's namespace, and the scoped controller runs no cluster-store reconciler anyway). Its
//     AWS provider has no auth section: the controller's own credentials are used, the ones
//     EKS Pod Identity gives its ServiceAccount (docs/provider/aws-access.md "EKS Pod Identity
//     Setup" at helm-chart-2.9.0: "No auth section is defined for the SecretStore");
//   - an ExternalSecret that reads both properties of RemoteKey every RefreshInterval into the
//     Secret TargetName, which it owns (creationPolicy Owner: garbage-collected with it) and
//     keeps when the remote secret disappears (deletionPolicy Retain: pods keep starting).
//
// It returns TargetName. The app's pods, not its release, wait for the Secret; the
// ExternalSecret is awaited until Ready, so `up` reports a Secret the operator cannot make.
func (s Store) SyncInto(ctx *pulumi.Context, name string, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (pulumi.StringInput, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	if ns == nil {
		return nil, fmt.Errorf("external-secrets store: a namespace is required")
	}
	labels := pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("flask-eks"), "app.kubernetes.io/managed-by": pulumi.String("pulumi")}
	store, err := apiextensions.NewCustomResource(ctx, name+"-secret-store", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(APIVersion),
		Kind:       pulumi.String("SecretStore"),
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(s.StoreName), Namespace: ns.Metadata.Name(),
			Labels: labels, Annotations: s.awaitAnnotations(),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"provider": pulumi.Map{"aws": pulumi.Map{
				"service": pulumi.String("SecretsManager"),
				"region":  pulumi.String(s.Region),
			}},
		}},
	}, append(opts, pulumi.DependsOn(s.Operator))...)
	if err != nil {
		return nil, fmt.Errorf("creating the SecretStore: %w", err)
	}
	property := func(key string) pulumi.Map {
		return pulumi.Map{
			"secretKey": pulumi.String(key),
			"remoteRef": pulumi.Map{"key": s.RemoteKey, "property": pulumi.String(key)},
		}
	}
	if _, err := apiextensions.NewCustomResource(ctx, name+"-external-secret", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(APIVersion),
		Kind:       pulumi.String("ExternalSecret"),
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(s.TargetName), Namespace: ns.Metadata.Name(),
			Labels: labels, Annotations: s.awaitAnnotations(),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"refreshInterval": pulumi.String(s.RefreshInterval),
			"refreshPolicy":   pulumi.String("Periodic"),
			"secretStoreRef":  pulumi.Map{"name": pulumi.String(s.StoreName), "kind": pulumi.String("SecretStore")},
			"target": pulumi.Map{
				"name":           pulumi.String(s.TargetName),
				"creationPolicy": pulumi.String("Owner"),
				"deletionPolicy": pulumi.String("Retain"),
			},
			"data": pulumi.Array{property(SecretKeyProperty), property(DBPasswordProperty)},
		}},
	}, append(opts, pulumi.DependsOn(append([]pulumi.Resource{store}, s.Operator...)))...); err != nil {
		return nil, fmt.Errorf("creating the ExternalSecret: %w", err)
	}
	return pulumi.String(s.TargetName), nil
}

// Both implement the app's SecretSource (app/app.go), by shape: this package does not import the app.
var (
	_ secretSource = (*ExternalSecrets)(nil)
	_ secretSource = Store{}
)

// secretSource is the app's SecretSource interface, restated here.
type secretSource interface {
	SyncInto(ctx *pulumi.Context, name string, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (pulumi.StringInput, error)
}
