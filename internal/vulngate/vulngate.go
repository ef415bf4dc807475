// Package vulngate decides whether a govulncheck scan passes, from govulncheck's JSON stream
// (-format json), and refuses a scan that cannot have looked: no database, an empty or
// truncated one, or a stream without the scanner's configuration.
//
// The rules:
//   - A vulnerability in a module the program requires fails the gate when the scan reaches it
//     at the scan's level (package scans: a vulnerable package is imported).
//   - A vulnerability of the Go standard library is reported with the Go release that fixes it
//     and fails only with StdlibFails: the standard library is the Go toolchain that runs the
//     scan and builds the program (this machine's, the CI container's, setup-go's from go.mod),
//     moved by the toolchain's own pins rather than by a module bump.
//   - Findings below the scan level (a vulnerable module whose vulnerable package is not
//     imported) are listed, never fatal.
package vulngate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// MinEntries is the fewest OSV entries a real Go vulnerability database has (it has had
// thousands for years); a directory with fewer is a broken copy.
const MinEntries = 1000

// DB describes a local copy of the database.
type DB struct {
	Dir     string
	Entries int
}

// CheckDB reads the OSV entries (GO-*.json) in dir and fails if dir is missing or holds fewer
// than MinEntries, or an entry is not an OSV record.
func CheckDB(dir string) (*DB, error) {
	if dir == "" {
		return nil, errors.New("no vulnerability database given (GOVULNDB is empty: run .ci/build-tools --print-env vulndb)")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("vulnerability database %s is not a directory", dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "GO-*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) < MinEntries {
		return nil, fmt.Errorf("vulnerability database %s has %d entries, fewer than %d: a broken copy scans nothing", dir, len(files), MinEntries)
	}
	db := &DB{Dir: dir, Entries: len(files)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		// The module's entries carry no modification times (the database service adds them), so
		// the copy's age is its module version, which Dependabot moves.
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.ID+".json" != filepath.Base(f) {
			return nil, fmt.Errorf("vulnerability database: %s is not the OSV entry it is named for (%v)", f, err)
		}
	}
	return db, nil
}

// message is one object of govulncheck's JSON stream (golang.org/x/vuln/internal/govulncheck).
type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		DB             string `json:"db"`
		GoVersion      string `json:"go_version"`
		ScanLevel      string `json:"scan_level"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// Vuln is one vulnerability the scan found.
type Vuln struct {
	ID, Summary string
	// Module and Version are where it was found ("stdlib" for the standard library), Fixed the
	// first version without it ("" when none is fixed).
	Module, Version, Fixed string
	// Level is how far the scan traced it: "module", "package" or "symbol".
	Level string
}

// Stdlib reports whether the vulnerability is in the standard library or the toolchain.
func (v Vuln) Stdlib() bool { return v.Module == "stdlib" || v.Module == "toolchain" }

// Report is the result of reading a scan.
type Report struct {
	ScannerVersion, DB, GoVersion, ScanLevel string
	// Vulns holds each vulnerability once, at the deepest level the scan traced it.
	Vulns []Vuln
}

var levels = []string{"module", "package", "symbol"}

// Read parses govulncheck's JSON stream.
func Read(r io.Reader) (*Report, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	rep := &Report{}
	summaries := map[string]string{}
	found := map[string]Vuln{}
	sawConfig := false
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck's JSON output: %w", err)
		}
		switch {
		case m.Config != nil:
			sawConfig = true
			rep.ScannerVersion, rep.DB, rep.GoVersion, rep.ScanLevel = m.Config.ScannerVersion, m.Config.DB, m.Config.GoVersion, m.Config.ScanLevel
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f, top := m.Finding, m.Finding.Trace[0]
			level := "module"
			if top.Package != "" {
				level = "package"
			}
			if top.Function != "" {
				level = "symbol"
			}
			v := Vuln{ID: f.OSV, Module: top.Module, Version: top.Version, Fixed: f.FixedVersion, Level: level}
			key := f.OSV + " " + top.Module
			if old, ok := found[key]; !ok || slices.Index(levels, level) > slices.Index(levels, old.Level) {
				found[key] = v
			}
		}
	}
	if !sawConfig {
		return nil, errors.New("govulncheck's output has no configuration message: the scan did not run")
	}
	for _, v := range found {
		v.Summary = summaries[v.ID]
		rep.Vulns = append(rep.Vulns, v)
	}
	sort.Slice(rep.Vulns, func(i, j int) bool {
		a, b := rep.Vulns[i], rep.Vulns[j]
		if a.Stdlib() != b.Stdlib() {
			return !a.Stdlib()
		}
		return a.ID < b.ID
	})
	return rep, nil
}

// Failures returns the vulnerabilities that fail the gate: those traced to the scan's level,
// in modules, and in the standard library too when stdlibFails.
func (r *Report) Failures(stdlibFails bool) []Vuln {
	var out []Vuln
	for _, v := range r.Vulns {
		if slices.Index(levels, v.Level) < slices.Index(levels, r.ScanLevel) {
			continue
		}
		if v.Stdlib() && !stdlibFails {
			continue
		}
		out = append(out, v)
	}
	return out
}

// Write prints the report for people: the database, then every vulnerability, marked.
func (r *Report) Write(w io.Writer, stdlibFails bool) {
	fmt.Fprintf(w, "govulncheck %s, %s scan, %s, database %s\n", r.ScannerVersion, r.ScanLevel, r.GoVersion, r.DB)
	failing := r.Failures(stdlibFails)
	for _, v := range r.Vulns {
		mark := "note"
		switch {
		case slices.Contains(failing, v):
			mark = "FAIL"
		case v.Stdlib() && slices.Index(levels, v.Level) >= slices.Index(levels, r.ScanLevel):
			mark = "Go  "
		}
		fixed := v.Fixed
		if fixed == "" {
			fixed = "no fix yet"
		}
		fmt.Fprintf(w, "  %s %s %s@%s (%s level; fixed in %s): %s\n", mark, v.ID, v.Module, v.Version, v.Level, fixed, v.Summary)
	}
	var stdlib []string
	for _, v := range r.Vulns {
		if v.Stdlib() && v.Fixed != "" && !slices.Contains(stdlib, v.Fixed) {
			stdlib = append(stdlib, v.Fixed)
		}
	}
	if len(stdlib) > 0 && !stdlibFails {
		slices.Sort(stdlib)
		fmt.Fprintf(w, "The Go toolchain (%s) has the standard-library vulnerabilities marked Go; they are fixed in %s: move the Go of this machine, of the CI container (.ci/image/Dockerfile) and go.mod's go line.\n",
			r.GoVersion, strings.Join(stdlib, ", "))
	}
	switch n := len(failing); n {
	case 0:
		fmt.Fprintf(w, "govulncheck: no vulnerability in the program's modules at %s level\n", r.ScanLevel)
	case 1:
		fmt.Fprintln(w, "govulncheck: 1 vulnerability fails the scan (marked FAIL): move its module to the fixed version")
	default:
		fmt.Fprintf(w, "govulncheck: %d vulnerabilities fail the scan (marked FAIL): move the modules to their fixed versions\n", n)
	}
}
