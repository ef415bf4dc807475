package workflowcheck

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The workflows as they were when GitHub refused deploy.yml: its job "test" called ci.yml,
// whose PR-only job "preview" asked for id-token and pull-requests write, while deploy.yml
// granted only contents: read. The `if:` on the preview job did not help: GitHub checks the
// permissions when it loads the caller.
func TestBrokenWorkflowsAreReported(t *testing.T) {
	r, err := CheckDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		t.Log(f)
	}
	type short struct{ caller, job, called, calledJob, scope string }
	var got []short
	for _, f := range r.Findings {
		if f.Need != Write || f.Grant != None || f.GrantUnknown {
			t.Errorf("%s: need %s, grant %s (unknown %v); want write over none", f.Message, f.Need, f.Grant, f.GrantUnknown)
		}
		got = append(got, short{f.Caller, f.Job, f.Called, f.CalledJob, f.Scope})
	}
	want := []short{
		{"deploy.yml", "test", "ci.yml", "preview", "id-token"},
		{"deploy.yml", "test", "ci.yml", "preview", "pull-requests"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings %+v, want %+v", got, want)
	}
	for _, f := range r.Findings {
		if !strings.Contains(f.Message, `deploy.yml top-level`) || !strings.Contains(f.Message, `ci.yml job "preview"`) {
			t.Errorf("message %q names neither where the grant nor where the request comes from", f.Message)
		}
	}
}

// The repository's own workflows: every local call checked, none refused.
func TestRepositoryWorkflows(t *testing.T) {
	r, err := CheckDir("../../.github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		t.Error(f)
	}
	var calls []string
	for _, c := range r.Calls {
		calls = append(calls, c.Chain)
	}
	t.Logf("calls checked: %q", calls)
	// Not vacuous: the calls the deploy and preview rely on are among those checked.
	for _, want := range []string{
		`deploy.yml job "test" -> ci.yml`,
		`deploy.yml job "build" -> build.yml`,
		`preview.yml job "build" -> build.yml`,
	} {
		if !slices.Contains(calls, want) {
			t.Errorf("call %s was not checked", want)
		}
	}
}

// check parses files (name -> YAML) and checks them.
func check(t *testing.T, files map[string]string) Report {
	t.Helper()
	return parseSet(t, files).Check()
}

func messages(r Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Message)
	}
	return out
}

const calledNeedsIDToken = `
on: workflow_call
jobs:
  j:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps: [{run: "true"}]
`

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// want lists substrings, one per expected finding, in order; nil means no findings.
		want []string
	}{
		{
			name: "job-level grant is enough",
			files: map[string]string{
				"a.yml": `
on: push
permissions: {}
jobs:
  call:
    uses: ./.github/workflows/b.yml
    permissions: {contents: read, id-token: write}
`,
				"b.yml": calledNeedsIDToken,
			},
		},
		{
			name: "job-level grant overrides a larger top-level one",
			files: map[string]string{
				"a.yml": `
on: push
permissions: write-all
jobs:
  call:
    uses: ./.github/workflows/b.yml
    permissions: {contents: read}
`,
				"b.yml": calledNeedsIDToken,
			},
			want: []string{`id-token: write (b.yml job "j"), but the caller grants id-token: none (a.yml job "call")`},
		},
		{
			name: "top-level grant when the job sets none",
			files: map[string]string{
				"a.yml": `
on: [push, workflow_dispatch]
permissions: {contents: read, id-token: write}
jobs:
  call: {uses: ./.github/workflows/b.yml}
`,
				"b.yml": calledNeedsIDToken,
			},
		},
		{
			name: "write-all grants everything",
			files: map[string]string{
				"a.yml": "on: push\npermissions: write-all\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": calledNeedsIDToken,
			},
		},
		{
			name: "read-all is less than write",
			files: map[string]string{
				"a.yml": "on: push\npermissions: read-all\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": calledNeedsIDToken,
			},
			want: []string{"id-token: write (b.yml job \"j\"), but the caller grants id-token: read (a.yml top-level)"},
		},
		{
			name: "read is less than write",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {contents: read, id-token: read}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": calledNeedsIDToken,
			},
			want: []string{"id-token: write (b.yml job \"j\"), but the caller grants id-token: read"},
		},
		{
			name: "a called write-all asks for every scope",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {contents: write}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\npermissions: write-all\njobs:\n  j: {runs-on: x, steps: [{run: 'true'}]}\n",
			},
			want: func() []string {
				var w []string
				for _, sc := range Scopes {
					if sc != "contents" {
						w = append(w, "b.yml's top-level permissions ask for "+sc+": write")
					}
				}
				return w
			}(),
		},
		{
			name: "a called read-all is met by read-all",
			files: map[string]string{
				"a.yml": "on: push\npermissions: read-all\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\npermissions: read-all\njobs:\n  j: {runs-on: x, steps: [{run: 'true'}]}\n",
			},
		},
		{
			name: "the called workflow's top-level permissions count for jobs without their own",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {contents: read}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\npermissions: {contents: read, pull-requests: write}\njobs:\n  j: {runs-on: x, steps: [{run: 'true'}]}\n",
			},
			want: []string{"b.yml's top-level permissions ask for pull-requests: write (b.yml top-level), but the caller grants pull-requests: none"},
		},
		{
			name: "a called workflow without permissions asks for nothing",
			files: map[string]string{
				"a.yml": "on: push\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\njobs:\n  j: {runs-on: x, steps: [{run: 'true'}]}\n",
			},
		},
		{
			name: "no permissions anywhere in the caller: the repository default is unknown",
			files: map[string]string{
				"a.yml": "on: push\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": calledNeedsIDToken,
			},
			want: []string{
				`a.yml job "call" -> b.yml: job "j" asks for contents: read (b.yml job "j"), but no permissions are set`,
				`job "j" asks for id-token: write (b.yml job "j"), but no permissions are set`,
			},
		},
		{
			name: "nested: the middle job inherits the entry point's grant",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {contents: read}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\njobs:\n  inner: {uses: ./.github/workflows/c.yml}\n",
				"c.yml": calledNeedsIDToken,
			},
			want: []string{`a.yml job "call" -> b.yml job "inner" -> c.yml: job "j" asks for id-token: write (c.yml job "j"), but the caller grants id-token: none (a.yml top-level)`},
		},
		{
			name: "nested: a middle job's explicit permissions must fit the outer grant",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {contents: read}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\njobs:\n  inner:\n    uses: ./.github/workflows/c.yml\n    permissions: {contents: read, id-token: write}\n",
				"c.yml": calledNeedsIDToken,
			},
			want: []string{`a.yml job "call" -> b.yml: job "inner" asks for id-token: write (b.yml job "inner"), but the caller grants id-token: none (a.yml top-level)`},
		},
		{
			name: "nested: everything granted",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {contents: read, id-token: write}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\npermissions: {contents: read, id-token: write}\njobs:\n  inner: {uses: ./.github/workflows/c.yml}\n",
				"c.yml": calledNeedsIDToken,
			},
		},
		{
			name: "a reusable-only workflow is checked through its callers, not as an entry point",
			files: map[string]string{
				"b.yml": "on: workflow_call\njobs:\n  inner: {uses: ./.github/workflows/c.yml}\n",
				"c.yml": calledNeedsIDToken,
			},
		},
		{
			name: "a called workflow without workflow_call",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: push\njobs:\n  j: {runs-on: x, steps: [{run: 'true'}]}\n",
			},
			want: []string{"b.yml has no `on: workflow_call` trigger"},
		},
		{
			name: "a missing called workflow",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {}\njobs:\n  call: {uses: ./.github/workflows/nope.yml}\n",
			},
			want: []string{"nope.yml is not in the workflows directory"},
		},
		{
			name: "a loop",
			files: map[string]string{
				"a.yml": "on: push\npermissions: {}\njobs:\n  call: {uses: ./.github/workflows/b.yml}\n",
				"b.yml": "on: workflow_call\njobs:\n  again: {uses: ./.github/workflows/b.yml}\n",
			},
			want: []string{"the calls loop or nest too deep"},
		},
		{
			name: "remote reusable workflows are not followed",
			files: map[string]string{
				"a.yml": "on: push\njobs:\n  call: {uses: octo/repo/.github/workflows/x.yml@v1}\n",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := messages(check(t, tc.files))
			if len(got) != len(tc.want) {
				t.Fatalf("findings:\n%s\nwant %d matching:\n%s", strings.Join(got, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("finding %d:\n  %s\nwant it to contain\n  %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for text, want := range map[string]string{
		"on: push\npermissions: read\njobs: {}\n":              `permissions "read"`,
		"on: push\npermissions: {contents: admin}\njobs: {}\n": "contents: admin",
		"on: push\njobs:\n  j:\n    permissions:\n":            "permissions without a value",
		"jobs: {}\n": "no `on:`",
		"on: push\n": "no jobs",
		"on: push\njobs:\n  j: {uses: ./x.yml, permissions: [contents]}\n": "permissions of type",
	} {
		_, err := Parse("w.yml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want an error containing %q", text, err, want)
		}
	}
}

func TestPermissionsString(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"read-all", "read-all"},
		{"write-all", "write-all"},
		{map[string]any{}, "{}"},
		{map[string]any{"id-token": "write", "contents": "read"}, "contents: read, id-token: write"},
	} {
		p, err := ParsePermissions(tc.v, "x")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.String(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := fmt.Sprint((*Permissions)(nil)); got != "(not set)" {
		t.Errorf("nil permissions print as %q", got)
	}
}
