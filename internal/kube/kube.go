// Package kube holds the small Kubernetes building blocks that several components share: the
// namespace baseline (Pod Security labels and netpol's default deny), reading back the Ingress a
// Helm release made for its load balancer's hostname, and the URLs built from it.
package kube

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/flask-eks/internal/charts"
	"github.com/example/flask-eks/internal/netpol"
)

// PodSecurityLabels enforce a Pod Security Standard level on a namespace, and warn and audit at
// the same level (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
func PodSecurityLabels(level string) pulumi.StringMap {
	return pulumi.StringMap{
		"pod-security.kubernetes.io/enforce": pulumi.String(level),
		"pod-security.kubernetes.io/warn":    pulumi.String(level),
		"pod-security.kubernetes.io/audit":   pulumi.String(level),
	}
}

// Namespace declares a namespace that enforces the Pod Security Standard level, with a
// default-deny NetworkPolicy (name+"-default-deny") in it: every pod then gets only the traffic
// a policy of its own admits.
func Namespace(ctx *pulumi.Context, name, namespace, level string, opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(namespace), Labels: PodSecurityLabels(level)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", namespace, err)
	}
	if _, err := netpol.DefaultDeny(ctx, name+"-default-deny", ns, opts...); err != nil {
		return nil, err
	}
	return ns, nil
}

// IngressHostname is the first load balancer hostname in an Ingress's status, "" until the
// controller has written one.
func IngressHostname(ing *networkingv1.Ingress) pulumi.StringOutput {
	return ing.Status.LoadBalancer().Ingress().ApplyT(func(lbs []networkingv1.IngressLoadBalancerIngress) string {
		for _, lb := range lbs {
			if lb.Hostname != nil && *lb.Hostname != "" {
				return *lb.Hostname
			}
		}
		return ""
	}).(pulumi.StringOutput)
}

// ReadIngress reads an Ingress that a Helm release created, by the "namespace/name" ID the
// release's status gives. Before the release exists (a first preview) the ID is unknown and the
// read is skipped instead of failing.
func ReadIngress(ctx *pulumi.Context, name string, id pulumi.IDOutput, opts ...pulumi.ResourceOption) (*networkingv1.Ingress, error) {
	ing, err := networkingv1.GetIngress(ctx, name, id, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading back Ingress %s: %w", name, err)
	}
	return ing, nil
}

// ReleaseIngressHostname reads back the Ingress that a Helm release created, named
// ingressName(release name) in the release's namespace, and returns its load balancer hostname
// ("" until the controller has written one). The read waits for the release.
func ReleaseIngressHostname(ctx *pulumi.Context, name string, release *charts.Release, ingressName func(release string) string,
	opts ...pulumi.ResourceOption,
) (pulumi.StringOutput, error) {
	id := pulumi.All(release.StatusNamespace(), release.StatusName()).ApplyT(func(v []any) pulumi.ID {
		ns, rel := v[0].(string), v[1].(string)
		if ns == "" || rel == "" {
			return ""
		}
		return pulumi.ID(ns + "/" + ingressName(rel))
	}).(pulumi.IDOutput)
	ing, err := ReadIngress(ctx, name, id, append(opts, pulumi.DependsOn([]pulumi.Resource{release}))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return IngressHostname(ing), nil
}

// HostURL is the root URL of a configured host name, https when its Ingress serves TLS.
func HostURL(host string, https bool) string {
	if https {
		return "https://" + host + "/"
	}
	return "http://" + host + "/"
}

// LoadBalancerURL is the root URL on a load balancer's generated hostname (plain HTTP: no
// certificate matches it), "" while there is no hostname.
func LoadBalancerURL(hostname pulumi.StringOutput) pulumi.StringOutput {
	return hostname.ApplyT(func(h string) string {
		if h == "" {
			return "" // no Ingress, or the load balancer is still being provisioned
		}
		return "http://" + h + "/"
	}).(pulumi.StringOutput)
}

// RestrictedNamespace declares a platform add-on's namespace: the restricted Pod Security
// Standard, netpol's default deny, and one egress policy for all its pods (egress).
func RestrictedNamespace(ctx *pulumi.Context, name, namespace string, egress netpol.Egress, opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	ns, err := Namespace(ctx, name, namespace, "restricted", opts...)
	if err != nil {
		return nil, err
	}
	if err := netpol.NamespaceEgress(ctx, name+"-egress", ns, egress, opts...); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", namespace, err)
	}
	return ns, nil
}
