// Command vulngate runs govulncheck on the program against a local copy of the Go
// vulnerability database and decides whether `make lint` passes (package vulngate has the
// rules). It fails, never passes, when the database is missing, empty or truncated, or when
// govulncheck did not scan.
//
//	vulngate -govulncheck "$GOVULNCHECK" -db "$GOVULNDB" [-scan package] [-stdlib warn|fail] ./...
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/example/flask-eks/internal/vulngate"
)

func main() {
	bin := flag.String("govulncheck", os.Getenv("GOVULNCHECK"), "the govulncheck binary")
	db := flag.String("db", os.Getenv("GOVULNDB"), "directory of the database's OSV entries (golang.org/x/vulndb's data/osv)")
	version := flag.String("db-version", os.Getenv("GOVULNDB_VERSION"), "the golang.org/x/vulndb version the directory was copied from, for the report")
	scan := flag.String("scan", "package", "govulncheck's -scan level: module, package or symbol")
	stdlib := flag.String("stdlib", "warn", "standard-library findings: warn or fail")
	flag.Parse()
	if err := run(*bin, *db, *version, *scan, *stdlib, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(1)
	}
}

func run(bin, db, version, scan, stdlib string, patterns []string) error {
	if bin == "" {
		return errors.New("no govulncheck binary (GOVULNCHECK is empty: run .ci/build-tools --print-env govulncheck)")
	}
	if stdlib != "warn" && stdlib != "fail" {
		return fmt.Errorf("-stdlib %q: want warn or fail", stdlib)
	}
	d, err := vulngate.CheckDB(db)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(db)
	if err != nil {
		return err
	}
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	args := append([]string{"-db", (&url.URL{Scheme: "file", Path: abs}).String(), "-scan", scan, "-format", "json"}, patterns...)
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("govulncheck %v: %w", args, err)
	}
	rep, err := vulngate.Read(&out)
	if err != nil {
		return err
	}
	fmt.Printf("vulngate: golang.org/x/vulndb %s, %d entries in %s\n", version, d.Entries, db)
	rep.Write(os.Stdout, stdlib == "fail")
	if f := rep.Failures(stdlib == "fail"); len(f) > 0 {
		return fmt.Errorf("%d vulnerabilities", len(f))
	}
	return nil
}
