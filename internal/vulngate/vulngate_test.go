package vulngate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A package-level scan as govulncheck v1.9.0 writes it (-format json): the config, an OSV
// entry, then findings from the module level down to the deepest level it traced.
const stream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","db":"file:///db","db_last_modified":"0001-01-01T00:00:00Z","go_version":"go1.26.8","scan_level":"package","scan_mode":"source"}}
{"SBOM":{"go_version":"go1.26.8","modules":[{"path":"github.com/example/flask-eks"}]}}
{"osv":{"id":"GO-2026-6617","summary":"HTTP/2 server crash due to HPACK encoder race in net/http"}}
{"osv":{"id":"GO-2026-0001","summary":"Injection in example.com/lib"}}
{"osv":{"id":"GO-2026-5932","summary":"The golang.org/x/crypto/openpgp package is unmaintained"}}
{"finding":{"osv":"GO-2026-6617","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8"}]}}
{"finding":{"osv":"GO-2026-6617","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.2.4","trace":[{"module":"example.com/lib","version":"v1.2.3"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.2.4","trace":[{"module":"example.com/lib","version":"v1.2.3","package":"example.com/lib/parse"}]}}
{"finding":{"osv":"GO-2026-5932","fixed_version":"v0.58.1","trace":[{"module":"golang.org/x/crypto","version":"v0.58.0"}]}}
`

func TestReadAndFailures(t *testing.T) {
	rep, err := Read(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if rep.ScanLevel != "package" || rep.GoVersion != "go1.26.8" || len(rep.Vulns) != 3 {
		t.Fatalf("report %+v", rep)
	}
	ids := func(vs []Vuln) (out []string) {
		for _, v := range vs {
			out = append(out, v.ID+"@"+v.Level)
		}
		return out
	}
	if got := fmt.Sprint(ids(rep.Failures(false))); got != "[GO-2026-0001@package]" {
		t.Errorf("failures %s, want the imported module vulnerability only", got)
	}
	if got := fmt.Sprint(ids(rep.Failures(true))); got != "[GO-2026-0001@package GO-2026-6617@package]" {
		t.Errorf("failures with -stdlib fail %s", got)
	}
	var b strings.Builder
	rep.Write(&b, false)
	for _, want := range []string{
		"FAIL GO-2026-0001 example.com/lib@v1.2.3 (package level; fixed in v1.2.4): Injection",
		"Go   GO-2026-6617 stdlib@v1.26.8",
		"note GO-2026-5932 golang.org/x/crypto@v0.58.0 (module level",
		"they are fixed in v1.26.9",
		"1 vulnerability fails the scan",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReadRefusesAScanThatDidNotRun(t *testing.T) {
	for name, in := range map[string]string{
		"empty output":     "",
		"no configuration": `{"progress":{"message":"Scanning your code..."}}`,
		"not JSON":         "govulncheck: loading packages: ...",
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: read as a scan", name)
		}
	}
}

func TestCheckDB(t *testing.T) {
	dir := t.TempDir()
	if _, err := CheckDB(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing database passed")
	}
	if _, err := CheckDB(""); err == nil || !strings.Contains(err.Error(), "GOVULNDB is empty") {
		t.Errorf("no database: %v", err)
	}
	if _, err := CheckDB(dir); err == nil || !strings.Contains(err.Error(), "0 entries") {
		t.Errorf("an empty database: %v", err)
	}
	for i := range MinEntries {
		id := fmt.Sprintf("GO-2026-%04d", i)
		entry := fmt.Sprintf(`{"schema_version":"1.3.1","id":%q,"modified":"0001-01-01T00:00:00Z"}`, id)
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(entry), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := CheckDB(dir)
	if err != nil || db.Entries != MinEntries {
		t.Errorf("a full database: %+v, %v", db, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "GO-2026-9999.json"), []byte(`{"id":"GO-2026-0001"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckDB(dir); err == nil || !strings.Contains(err.Error(), "not the OSV entry") {
		t.Errorf("a misnamed entry: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "GO-2026-9999.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "GO-2026-0000.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckDB(dir); err == nil {
		t.Errorf("a database one entry short of %d passed", MinEntries)
	}
}
