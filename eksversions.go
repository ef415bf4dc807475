// The EKS Kubernetes version calendar, the part of the config rules edited most often: add a
// row when EKS releases a minor.

package main

import (
	"strings"
	"time"
)

// kubernetesVersion is one row of the EKS Kubernetes version calendar.
type kubernetesVersion struct {
	Minor           string
	StandardSupport string // last day of standard support, YYYY-MM-DD
	ExtendedSupport string // last day of extended support
}

// kubernetesVersions is the EKS release calendar, from "Understand the Kubernetes version
// lifecycle on EKS" (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html):
// 14 months of standard support after EKS releases a minor, then 12 months of extended support
// at an extra charge per cluster hour, after which EKS upgrades the cluster itself. 1.29 and older
// are left out: the chart's preStop uses the sleep action, GA in 1.30 (Chart.yaml's kubeVersion),
// and 1.29's extended support has ended. When EKS releases a new minor, add its row, and move the
// default in Pulumi.yaml once the charts this program installs support it.
var kubernetesVersions = []kubernetesVersion{
	{"1.30", "2025-07-23", "2026-07-23"},
	{"1.31", "2025-11-26", "2026-11-26"},
	{"1.32", "2026-03-23", "2027-03-23"},
	{"1.33", "2026-07-29", "2027-07-29"},
	{"1.34", "2026-12-02", "2027-12-02"},
	{"1.35", "2027-03-27", "2028-03-27"},
}

// minors lists the calendar's minor versions, for error messages.
func minors() string {
	var out []string
	for _, v := range kubernetesVersions {
		out = append(out, v.Minor)
	}
	return strings.Join(out, ", ")
}

// readKubernetesVersion checks the version against the EKS calendar: listed, and for prod still
// in standard support; other stacks get a warning once standard support has ended.
func readKubernetesVersion(r *reader, env, minor string, today time.Time) {
	day := today.Format(time.DateOnly)
	for _, v := range kubernetesVersions {
		if v.Minor != minor {
			continue
		}
		switch {
		case day > v.ExtendedSupport:
			r.fail("kubernetesVersion", "%q left EKS extended support on %s; accepted: %s (see the EKS version calendar)", minor, v.ExtendedSupport, supportedMinors(today))
		case day > v.StandardSupport && env == envProd:
			r.fail("kubernetesVersion", "%q left EKS standard support on %s and costs the extended-support surcharge; accepted in prod: %s", minor, v.StandardSupport, supportedMinors(today))
		case day > v.StandardSupport:
			r.warn("kubernetesVersion %q left EKS standard support on %s: the cluster pays the extended-support surcharge until it is upgraded (in standard support: %s)", minor, v.StandardSupport, supportedMinors(today))
		}
		return
	}
	r.fail("kubernetesVersion", "%q is not a Kubernetes minor version this program supports; accepted: %s, written like \"1.35\"", minor, minors())
}

// supportedMinors lists the versions still in standard support on today.
func supportedMinors(today time.Time) string {
	var out []string
	for _, v := range kubernetesVersions {
		if today.Format(time.DateOnly) <= v.StandardSupport {
			out = append(out, v.Minor)
		}
	}
	return strings.Join(out, ", ")
}
