#!/usr/bin/env bash
# Regenerates the prometheus-operator CRDs in testdata/crds/ the way upstream's
# `make generate-crds` does (controller-gen `crd:crdVersions=v1` over
# pkg/apis/monitoring/v1, then scripts/generate/append-operator-version.sh adds the
# operator.prometheus.io/version annotation), from the exact API module version
# pinned in this directory's go.mod (the one the root module uses).
# The prometheus-operator main module (whose example/prometheus-operator-crd/
# holds the released YAML) is not served by the module proxy at v0.95.x; this is
# the offline way to the same schema.
# Usage: .ci/tools/crdgen/generate.sh   (about 1 CPU-minute to build controller-gen)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(cd "$here/../../../testdata/crds" && pwd)
export GOWORK=off
api=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring
version=$(awk -v m="$api" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$here/go.mod")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go -C "$here" tool controller-gen crd:crdVersions=v1 "paths=$api/v1" "output:crd:dir=$tmp"
for crd in servicemonitors podmonitors prometheusrules; do
	sed "/^    controller-gen.kubebuilder.io\/version:/a\\    operator.prometheus.io/version: ${version#v}" \
		"$tmp/monitoring.coreos.com_$crd.yaml" >"$out/monitoring.coreos.com_$crd.yaml"
	grep -q "operator.prometheus.io/version: ${version#v}" "$out/monitoring.coreos.com_$crd.yaml"
	echo "wrote $out/monitoring.coreos.com_$crd.yaml ($api $version)"
done
