// govulncheck for `make lint` (internal/vulngate runs it), built into the tool cache by
// .ci/build-tools. golang.org/x/vuln v1.9.0. The database it reads is .ci/tools/vulndb.
module github.com/example/flask-eks/.ci/tools/govulncheck

go 1.26.0

tool golang.org/x/vuln/cmd/govulncheck

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/telemetry v0.0.0-20261010193011-f71dc92da45e // indirect
	golang.org/x/tools v0.52.0 // indirect
	golang.org/x/vuln v1.9.0 // indirect
)
