//go:build tools

// Package crdgen pins the prometheus-operator API types whose CRDs generate.sh
// renders; the import keeps them in go.mod when `go mod tidy` runs.
package crdgen

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
