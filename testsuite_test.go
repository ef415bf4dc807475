package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// integrationPackages reads INTEGRATION_PKGS from the Makefile: the packages `make test` runs
// under the integration build tag.
func integrationPackages(t *testing.T) []string {
	t.Helper()
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^INTEGRATION_PKGS = (.+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile sets no INTEGRATION_PKGS")
	}
	return strings.Fields(string(m[1]))
}

// TestEveryIntegrationTestRuns finds every test built only under the integration tag and fails
// if `make test` would not run it: its package must be in the Makefile's INTEGRATION_PKGS, and
// its name must match the tier's -run pattern (^TestIntegration). docs/testing.md must show the
// same list. A test outside the list or the pattern would compile in CI and never run.
func TestEveryIntegrationTestRuns(t *testing.T) {
	pkgs := integrationPackages(t)
	mk, _ := os.ReadFile("Makefile")
	if !strings.Contains(string(mk), "-run '^TestIntegration'") {
		t.Fatal("the Makefile's test-integration no longer runs -run '^TestIntegration': update this test with it")
	}
	found := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() && path != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module, with its own suite
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		header, _, _ := strings.Cut(string(src), "\npackage ")
		if !regexp.MustCompile(`(?m)^//go:build .*\bintegration\b`).MatchString(header) {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
		if err != nil {
			return err
		}
		pkg := "./" + filepath.ToSlash(filepath.Dir(path))
		if pkg == "./." {
			pkg = "."
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
				continue
			}
			name := fn.Name.Name
			found++
			if !slices.Contains(pkgs, pkg) {
				t.Errorf("%s: %s is an integration test in %s, which INTEGRATION_PKGS (%v) does not list: make test never runs it", path, name, pkg, pkgs)
			}
			if !strings.HasPrefix(name, "TestIntegration") {
				t.Errorf("%s: %s does not match -run '^TestIntegration': make test never runs it; rename it TestIntegration…", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 5 {
		t.Errorf("found only %d integration tests; the walk is broken", found)
	}
	doc, err := os.ReadFile(filepath.Join("docs", "testing.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "INTEGRATION_PKGS = " + strings.Join(pkgs, " "); !strings.Contains(string(doc), want) {
		t.Errorf("docs/testing.md does not show the Makefile's %q", want)
	}
}
