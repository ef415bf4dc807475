package workflowcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The trust rules (trust.go) on the repository's workflows: each must hold with no problem.
func TestTrustRules(t *testing.T) {
	s := repoWorkflows(t)
	for name, rule := range map[string]func(Set) []string{
		"prod runner only in main-only jobs of the deploy workflows": ProdRunnerProblems,
		"prod environments only from main":                           ProdEnvironmentProblems,
		"prod preview of a pull request only after review":           PRPreviewProblems,
		"pull requests opened with a GitHub App token":               AppTokenProblems,
		"job containers pinned by digest from .ci/image":             ContainerProblems,
		"previews without refresh":                                   PreviewRefreshProblems,
		"drift detection per stack":                                  func(s Set) []string { return DriftProblems(s, repoStacks(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			for _, p := range rule(s) {
				t.Error(p)
			}
		})
	}
}

func TestMainOnly(t *testing.T) {
	for cond, want := range map[string]bool{
		"github.ref == 'refs/heads/main'":                                         true,
		"${{ github.ref == 'refs/heads/main' }}":                                  true,
		"github.ref == 'refs/heads/main' && inputs.pr != ''":                      true,
		"github.ref == 'refs/heads/main' && (inputs.pr != '' || inputs.x == 'y')": true,
		"github.ref == 'refs/heads/main' && inputs.pr != '' || inputs.x == 'y'":   false,
		"github.ref == 'refs/heads/main' && inputs.x == '||'":                     true,
		"github.ref == 'refs/heads/mainline'":                                     false,
		"github.ref != 'refs/heads/main'":                                         false,
		"inputs.pr != '' && github.ref == 'refs/heads/main'":                      false,
		"": false,
	} {
		if got := MainOnly(cond); got != want {
			t.Errorf("MainOnly(%q) = %v, want %v", cond, got, want)
		}
	}
}

// Counter-examples: each workflow set breaks one rule, and the rule says so.
func TestTrustRulesCatch(t *testing.T) {
	const main = "github.ref == 'refs/heads/main'"
	for _, tc := range []struct {
		name  string
		rule  func(Set) []string
		files map[string]string
		want  []string
	}{
		{
			name: "a pull request workflow asks for the prod runner's labels",
			rule: ProdRunnerProblems,
			files: map[string]string{"ci.yml": `
on: pull_request
jobs:
  steal: {runs-on: [self-hosted, flask-eks-prod], steps: [{run: env}]}
`},
			want: []string{`ci.yml job "steal": names the prod runner`},
		},
		{
			name: "a pull request workflow asks for the prod runner group",
			rule: ProdRunnerProblems,
			files: map[string]string{"x.yml": `
on: pull_request
jobs:
  steal: {runs-on: {group: flask-eks-prod}, steps: [{run: env}]}
`},
			want: []string{`x.yml job "steal": names the prod runner`},
		},
		{
			name: "deploy.yml may be called by another workflow",
			rule: ProdRunnerProblems,
			files: map[string]string{"deploy.yml": `
on: [workflow_call, workflow_dispatch]
jobs:
  up: {if: "` + main + `", runs-on: "${{ fromJSON(vars.PROD_RUNS_ON) }}", steps: [{run: "true"}]}
`},
			want: []string{"also starts on [workflow_call]"},
		},
		{
			name: "deploy.yml runs on a push to any branch",
			rule: ProdRunnerProblems,
			files: map[string]string{"deploy.yml": `
on: {push: {branches: ["**"]}}
jobs:
  up: {if: "` + main + `", runs-on: "${{ fromJSON(vars.PROD_RUNS_ON) }}", steps: [{run: "true"}]}
`},
			want: []string{"push to anything but branches: [main]"},
		},
		{
			name: "a prod runner job without the main condition",
			rule: ProdRunnerProblems,
			files: map[string]string{"deploy.yml": `
on: workflow_dispatch
jobs:
  up: {if: "inputs.stack == 'prod' || ` + main + `", runs-on: "${{ fromJSON(vars.PROD_RUNS_ON) }}", steps: [{run: "true"}]}
`},
			want: []string{"names the prod runner without `if: github.ref == 'refs/heads/main' && ...`"},
		},
		{
			name: "prod-preview from a pull request",
			rule: ProdEnvironmentProblems,
			files: map[string]string{"preview.yml": `
on: pull_request
jobs:
  prod: {runs-on: ubuntu-latest, environment: prod-preview, steps: [{run: "true"}]}
`},
			want: []string{"also starts on [pull_request]", "without `if: github.ref == 'refs/heads/main'"},
		},
		{
			name: "a computed environment that may be prod",
			rule: ProdEnvironmentProblems,
			files: map[string]string{"drift.yml": `
on: schedule
jobs:
  d: {runs-on: ubuntu-latest, environment: "${{ matrix.stack }}-drift", steps: [{run: "true"}]}
`},
			want: []string{"a prod environment without"},
		},
		{
			name: "a prod preview that skips the review check and builds the branch head",
			rule: PRPreviewProblems,
			files: map[string]string{"deploy.yml": `
on:
  workflow_dispatch:
    inputs: {pr: {type: string}, sha: {type: string}}
jobs:
  build: {if: "` + main + `", uses: ./.github/workflows/build.yml}
  preview: {needs: build, if: "` + main + `", runs-on: x, environment: prod-preview, steps: [{run: "true"}]}
`},
			want: []string{"needs no main-only job that runs .github/check-reviewed-pr", "does not run a build.yml job with ref: ${{ inputs.sha }}"},
		},
		{
			name: "the review check gets the SHA spliced into its script",
			rule: PRPreviewProblems,
			files: map[string]string{"deploy.yml": `
on:
  workflow_dispatch:
    inputs: {pr: {type: string}, sha: {type: string}}
jobs:
  reviewed:
    if: "` + main + `"
    runs-on: ubuntu-latest
    steps: [{run: ".github/check-reviewed-pr ${{ inputs.pr }} ${{ inputs.sha }}"}]
  build: {if: "` + main + `", uses: ./.github/workflows/build.yml, with: {ref: "${{ inputs.sha }}"}}
  preview: {needs: [reviewed, build], if: "` + main + `", runs-on: x, environment: prod-preview, steps: [{run: "true"}]}
`},
			want: []string{"needs no main-only job that runs .github/check-reviewed-pr"},
		},
		{
			name: "a pull request opened with the workflow token",
			rule: AppTokenProblems,
			files: map[string]string{"r.yml": `
on: schedule
jobs:
  pr:
    runs-on: ubuntu-latest
    steps: [{uses: "peter-evans/create-pull-request@x", with: {token: "${{ secrets.GITHUB_TOKEN }}"}}]
`},
			want: []string{`create-pull-request with token "${{ secrets.GITHUB_TOKEN }}"`},
		},
		{
			name: "a container by tag",
			rule: ContainerProblems,
			files: map[string]string{"ci.yml": `
on: pull_request
jobs:
  test: {runs-on: ubuntu-latest, container: "golang:1.26-bookworm", steps: [{run: "true"}]}
`},
			want: []string{`container "golang:1.26-bookworm"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.rule(parseSet(t, tc.files))
			if len(got) != len(tc.want) {
				t.Fatalf("problems:\n%s\nwant %d matching %q", strings.Join(got, "\n"), len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d:\n  %s\nwant it to contain\n  %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// parseSet parses files (name -> YAML) into a Set.
func parseSet(t *testing.T, files map[string]string) Set {
	t.Helper()
	s := Set{}
	for name, text := range files {
		w, err := Parse(name, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		s[name] = w
	}
	return s
}

// repoStacks lists the stacks CI deploys: every Pulumi.<stack>.yaml but those of clusterMode
// existing (the local stack, which no workflow touches).
func repoStacks(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../Pulumi.*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var stacks []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "flask-eks:clusterMode: existing") {
			continue
		}
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	if len(stacks) < 2 {
		t.Fatalf("CI stacks %v: want dev and prod at least", stacks)
	}
	return stacks
}
