package workflowcheck

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// compilesGo matches a run step that compiles Go: go build/test/vet/run/install, or the
// offline suite (.ci/run, make test/lint), which does all of them.
var compilesGo = regexp.MustCompile(`(^|[\s;&|(])(go\s+(build|test|vet|run|install)\b|(bash\s+)?\.ci/run\b|make\s+(test|lint)\b)`)

// The program takes minutes to compile from an empty Go build cache (docs/testing.md, "Compile
// time"), and seconds from a warm one. So every job that compiles Go restores the build cache,
// and no job that runs pulumi compiles the program: build.yml builds it once per run and the
// pulumi jobs run that binary (.github/use-prebuilt-binary).
func TestGoCompilesAreCached(t *testing.T) {
	compiling, pulumiJobs := 0, 0
	eachJob(repoWorkflows(t), func(w *Workflow, j *Job) {
		where := fmt.Sprintf("%s job %q", w.File, j.ID)
		prebuilt, compiles := false, ""
		for _, s := range j.Steps {
			if compiles == "" && compilesGo.MatchString(s.Run) {
				compiles = strings.TrimSpace(s.Run)
			}
			if strings.Contains(s.Run, "use-prebuilt-binary") {
				prebuilt = true
			}
			if strings.HasPrefix(s.Uses, "pulumi/actions@") {
				pulumiJobs++
				if !prebuilt {
					t.Errorf("%s: runs pulumi/actions before .github/use-prebuilt-binary, so pulumi compiles the program in this job", where)
				}
			}
		}
		if compiles == "" {
			return
		}
		compiling++
		if why := buildCache(j); why != "" {
			t.Errorf("%s: compiles Go (%q) %s", where, compiles, why)
		}
	})
	if compiling == 0 || pulumiJobs == 0 {
		t.Errorf("%d jobs compile Go, %d run pulumi; the patterns are broken", compiling, pulumiJobs)
	}
}

// buildCache says what is wrong with the job's Go build cache, "" when it restores one: an
// actions/setup-go step with cache: true keyed on go.sum (setup-go caches GOCACHE and GOMODCACHE
// under a key of the go.sum hash), or an actions/cache step whose paths include the build cache.
func buildCache(j *Job) string {
	for _, s := range j.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			if s.With["cache"] != true {
				return "with actions/setup-go without cache: true"
			}
			if deps, _ := s.With["cache-dependency-path"].(string); !strings.Contains(deps, "go.sum") {
				return "with an actions/setup-go cache not keyed on go.sum"
			}
			return ""
		case strings.HasPrefix(s.Uses, "actions/cache@"):
			if path, _ := s.With["path"].(string); strings.Contains(path, "go-build") {
				return ""
			}
		}
	}
	return "without restoring the Go build cache (actions/setup-go with cache: true, or actions/cache of go-build)"
}
