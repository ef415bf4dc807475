package chartrender

import (
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// knownKinds lists every kind a chart checked here may render, with its only accepted
// apiVersion and the typed object it must decode into. A rendered kind missing here is an error.
var knownKinds = map[string]struct {
	apiVersion string
	newObject  func() metav1.Object
}{
	"ServiceAccount":          {"v1", func() metav1.Object { return &corev1.ServiceAccount{} }},
	"Secret":                  {"v1", func() metav1.Object { return &corev1.Secret{} }},
	"ConfigMap":               {"v1", func() metav1.Object { return &corev1.ConfigMap{} }},
	"Service":                 {"v1", func() metav1.Object { return &corev1.Service{} }},
	"Deployment":              {"apps/v1", func() metav1.Object { return &appsv1.Deployment{} }},
	"HorizontalPodAutoscaler": {"autoscaling/v2", func() metav1.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }},
	"PodDisruptionBudget":     {"policy/v1", func() metav1.Object { return &policyv1.PodDisruptionBudget{} }},
	"Ingress":                 {"networking.k8s.io/v1", func() metav1.Object { return &networkingv1.Ingress{} }},
	"NetworkPolicy":           {"networking.k8s.io/v1", func() metav1.Object { return &networkingv1.NetworkPolicy{} }},
	"PodMonitor":              {"monitoring.coreos.com/v1", func() metav1.Object { return &monitoringv1.PodMonitor{} }},
}

// DecodeStrict decodes m into its typed API object (k8s.io/api, or prometheus-operator for the
// PodMonitor), rejecting unknown kinds, unexpected API versions, unknown or duplicate fields and
// type mismatches.
func DecodeStrict(m Manifest) (metav1.Object, error) {
	known, ok := knownKinds[m.Kind]
	if !ok {
		return nil, fmt.Errorf("%s: unknown kind %q", m.Template, m.Kind)
	}
	if m.APIVersion != known.apiVersion {
		return nil, fmt.Errorf("%s: %s has apiVersion %q, want %q", m.Template, m.Kind, m.APIVersion, known.apiVersion)
	}
	obj := known.newObject()
	if err := yaml.UnmarshalStrict([]byte(m.YAML), obj); err != nil {
		return nil, fmt.Errorf("%s: strict decoding %s: %w", m.Template, m.Kind, err)
	}
	return obj, nil
}

// Objects is one rendering of a chart, every object decoded strictly, by kind.
type Objects struct {
	Manifests      []Manifest
	All            []metav1.Object
	ServiceAccount *corev1.ServiceAccount
	Secret         *corev1.Secret
	ConfigMap      *corev1.ConfigMap
	Service        *corev1.Service
	Deployment     *appsv1.Deployment
	HPA            *autoscalingv2.HorizontalPodAutoscaler
	PDB            *policyv1.PodDisruptionBudget
	Ingress        *networkingv1.Ingress
	NetworkPolicy  *networkingv1.NetworkPolicy
	PodMonitor     *monitoringv1.PodMonitor
}

// Decode decodes every manifest with DecodeStrict. It also fails on two objects of one kind,
// on a Manifest.Name that differs from the object's name, and on an object that sets its own
// namespace (Helm sets it).
func Decode(manifests []Manifest) (*Objects, error) {
	o := &Objects{Manifests: manifests}
	seen := map[string]bool{}
	for _, m := range manifests {
		if seen[m.Kind] {
			return nil, fmt.Errorf("two objects of kind %s", m.Kind)
		}
		seen[m.Kind] = true
		obj, err := DecodeStrict(m)
		if err != nil {
			return nil, err
		}
		if obj.GetName() != m.Name {
			return nil, fmt.Errorf("%s: Manifest.Name %q, object name %q", m.Kind, m.Name, obj.GetName())
		}
		if obj.GetNamespace() != "" {
			return nil, fmt.Errorf("%s sets metadata.namespace %q; Helm sets the namespace", m.Kind, obj.GetNamespace())
		}
		o.All = append(o.All, obj)
		switch v := obj.(type) {
		case *corev1.ServiceAccount:
			o.ServiceAccount = v
		case *corev1.Secret:
			o.Secret = v
		case *corev1.ConfigMap:
			o.ConfigMap = v
		case *corev1.Service:
			o.Service = v
		case *appsv1.Deployment:
			o.Deployment = v
		case *autoscalingv2.HorizontalPodAutoscaler:
			o.HPA = v
		case *policyv1.PodDisruptionBudget:
			o.PDB = v
		case *networkingv1.Ingress:
			o.Ingress = v
		case *networkingv1.NetworkPolicy:
			o.NetworkPolicy = v
		case *monitoringv1.PodMonitor:
			o.PodMonitor = v
		}
	}
	return o, nil
}
