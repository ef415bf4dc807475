package workflowcheck

import (
	"bufio"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The repository's review settings as files: .github/CODEOWNERS and .github/dependabot.yml.

const repoRoot = "../.."

// ownerRule is one line of a CODEOWNERS file.
type ownerRule struct {
	pattern string
	owners  []string
	line    int
}

// parseCodeowners reads CODEOWNERS lines: a pattern, then owners; # starts a comment.
func parseCodeowners(t *testing.T, file string) []ownerRule {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rules []ownerRule
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		rules = append(rules, ownerRule{pattern: fields[0], owners: fields[1:], line: n})
	}
	return rules
}

// codeownersMatch matches a repository path (no leading slash) the way GitHub's CODEOWNERS
// patterns do (gitignore rules without negation): a leading / anchors at the root, a trailing /
// matches a directory and everything below it, a pattern without a slash matches a name at any
// depth, * does not cross a slash and ** does.
func codeownersMatch(pattern, p string) bool {
	if pattern == "*" {
		return true
	}
	anchored := strings.HasPrefix(pattern, "/") || strings.Contains(strings.TrimSuffix(pattern, "/"), "/")
	pattern = strings.TrimPrefix(pattern, "/")
	dir := strings.HasSuffix(pattern, "/")
	pattern = strings.TrimSuffix(pattern, "/")
	var re strings.Builder
	if !anchored {
		re.WriteString("(^|.*/)")
	} else {
		re.WriteString("^")
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			re.WriteString(".*")
			i++
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if dir {
		re.WriteString("/.*$")
	} else {
		re.WriteString("(/.*)?$")
	}
	return regexp.MustCompile(re.String()).MatchString(p)
}

// owners returns the owners of p: those of the last matching rule (nil when none matches, or
// when that rule names nobody, which un-owns the path).
func owners(rules []ownerRule, p string) (ownerRule, bool) {
	for i := len(rules) - 1; i >= 0; i-- {
		if codeownersMatch(rules[i].pattern, p) {
			return rules[i], true
		}
	}
	return ownerRule{}, false
}

// adminsOwned are the paths that decide who reaches prod: their owners must be the admins.
var adminsOwned = []string{".github/", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "docs/ci.md", "internal/workflowcheck/", ".ci/"}

const adminTeam = "@example/platform-admins"

// Every file has a code owner, and every file that decides who reaches prod (the workflows,
// their scripts, CODEOWNERS itself, the stack files, the CI checks and docs/ci.md) belongs to the
// administrators, so main's code-owner review puts a second person on each change to them.
func TestCodeOwners(t *testing.T) {
	for _, other := range []string{"CODEOWNERS", "docs/CODEOWNERS"} {
		if _, err := os.Stat(filepath.Join(repoRoot, other)); err == nil {
			t.Errorf("%s exists; GitHub reads .github/CODEOWNERS first and ignores it", other)
		}
	}
	rules := parseCodeowners(t, filepath.Join(repoRoot, ".github/CODEOWNERS"))
	// Unit checks of the matcher on the shapes the file uses.
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/.github/", ".github/workflows/deploy.yml", true},
		{"/.github/", "x/.github/y", false},
		{"/Pulumi.*.yaml", "Pulumi.prod.yaml", true},
		{"/Pulumi.*.yaml", "app/Pulumi.prod.yaml", false},
		{"/docs/ci.md", "docs/ci.md", true},
		{"/docs/ci.md", "docs/ci.md.bak", false},
		{"*.go", "internal/x/y.go", true},
		{"docs/**/*.md", "docs/a/b/c.md", true},
	} {
		if got := codeownersMatch(tc.pattern, tc.path); got != tc.want {
			t.Errorf("codeownersMatch(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
	checked := 0
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (name == ".git" || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		checked++
		r, ok := owners(rules, rel)
		if !ok || len(r.owners) == 0 {
			t.Errorf("%s has no code owner", rel)
			return nil
		}
		if slices.ContainsFunc(adminsOwned, func(a string) bool { return rel == a || strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a) }) &&
			!slices.Contains(r.owners, adminTeam) {
			t.Errorf("%s is owned by %v (CODEOWNERS line %d), want %s: it decides who reaches prod", rel, r.owners, r.line, adminTeam)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{".github/CODEOWNERS", ".github/workflows/deploy.yml", "Pulumi.prod.yaml", "docs/ci.md", "internal/workflowcheck/trust.go"} {
		if r, ok := owners(rules, must); !ok || !slices.Contains(r.owners, adminTeam) {
			t.Errorf("%s: owners %v, want %s", must, r.owners, adminTeam)
		}
	}
	t.Logf("%d files checked", checked)
}

// Dependabot keeps every pin moving: the Actions, both images (the app's base and the CI
// container), and the Go modules of the program and of every tool under .ci/tools, the
// vulnerability database included.
func TestDependabot(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".github/dependabot.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int `json:"version"`
		Updates []struct {
			Ecosystem   string   `json:"package-ecosystem"`
			Directory   string   `json:"directory"`
			Directories []string `json:"directories"`
		} `json:"updates"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 2 {
		t.Errorf("dependabot.yml version %d, want 2", cfg.Version)
	}
	covered := func(eco, dir string) bool {
		for _, u := range cfg.Updates {
			if u.Ecosystem != eco {
				continue
			}
			for _, d := range append(u.Directories, u.Directory) {
				if ok, _ := path.Match(d, dir); ok && d != "" {
					return true
				}
			}
		}
		return false
	}
	want := map[string][]string{
		"github-actions": {"/"},
		"docker":         {"/app-src", "/.ci/image"},
		"gomod":          {"/"},
	}
	mods, err := filepath.Glob(filepath.Join(repoRoot, ".ci/tools/*/go.mod"))
	if err != nil || len(mods) == 0 {
		t.Fatalf("no tool modules: %v", err)
	}
	for _, m := range mods {
		want["gomod"] = append(want["gomod"], "/"+filepath.ToSlash(filepath.Dir(strings.TrimPrefix(m, repoRoot+"/"))))
	}
	for eco, dirs := range want {
		for _, d := range dirs {
			if !covered(eco, d) {
				t.Errorf("dependabot.yml: no %s update covers %s", eco, d)
			}
		}
	}
	// The files Dependabot is pointed at must exist, with what it updates.
	for file, re := range map[string]string{
		".ci/image/Dockerfile": `(?m)^FROM golang:[\w.-]+@sha256:[0-9a-f]{64}$`,
		"app-src/Dockerfile":   `(?m)^FROM debian:[\w.-]+@sha256:[0-9a-f]{64}`,
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Error(err)
			continue
		}
		if !regexp.MustCompile(re).Match(b) {
			t.Errorf("%s has no FROM by tag and digest (%s)", file, re)
		}
	}
}

// Finding 5: no CI stack opens its public API endpoint to the internet. The endpoint takes
// Kubernetes credentials from any address it admits, and dev's deploy role is cluster admin;
// both stack files must list /16 or narrower CIDRs (prod's config validation refuses wider
// ones itself; dev's is checked here, as the example users copy).
func TestStackEndpointsAreNarrow(t *testing.T) {
	for _, stack := range repoStacks(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi."+stack+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Config map[string]any `json:"config"`
		}
		if err := yaml.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		if public, _ := f.Config["flask-eks:endpointPublicAccess"].(bool); !public {
			continue
		}
		cidrs, _ := f.Config["flask-eks:publicAccessCidrs"].([]any)
		if len(cidrs) == 0 {
			t.Errorf("Pulumi.%s.yaml: a public endpoint without publicAccessCidrs admits 0.0.0.0/0 (the default)", stack)
		}
		for _, c := range cidrs {
			s, _ := c.(string)
			_, b, _ := strings.Cut(s, "/")
			if bits, err := strconv.Atoi(b); err != nil || bits < 16 {
				t.Errorf("Pulumi.%s.yaml: publicAccessCidrs %q is wider than /16", stack, s)
			}
		}
	}
}
