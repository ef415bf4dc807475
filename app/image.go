package app

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ContentTag returns "src-" and the first 12 hex digits of a SHA-256 over what the image is
// built from: the Dockerfile and every file and symlink of the build context that
// .dockerignore lets through, each framed by its relative path, mode and size, in lexical
// order. A change to anything the image contains gives a new tag; a change to anything else
// (tests, README, benchmark) does not, so it neither rebuilds the image nor rolls the pods.
//
// The mode is in the hash because pulumi-docker's own context digest, which decides whether it
// rebuilds, hashes file modes too: a chmod, or a checkout under another umask, rebuilds the
// image, and with the repository's IMMUTABLE tags a rebuild under an unchanged tag would be
// refused by ECR (ImageTagAlreadyExistsException). So whenever the image can be rebuilt, its tag
// changes, and a tag always names the same bytes. It is computed while declaring (plain file
// reads, not inside an apply), so preview shows the tag.
func ContentTag(dir string) (string, error) {
	ignore, err := readDockerignore(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return "", err
	}
	sum, err := hashTree(dir, func(rel string) bool { return rel == "Dockerfile" || !ignore.excludes(rel) })
	if err != nil {
		return "", fmt.Errorf("hashing build context %s: %w", dir, err)
	}
	return "src-" + sum[:12], nil
}

// ChartDigest returns the first 16 hex digits of a SHA-256 over every file of a chart
// directory (path, mode, size and content). The component passes it to the release as a value:
// a helm/v3 Release with a local chart notices only changed values or a changed chart version
// (pulumi-kubernetes issues 2251 and 2672), so without it an edit of a template alone would never
// reach the cluster.
func ChartDigest(dir string) (string, error) {
	sum, err := hashTree(dir, func(string) bool { return true })
	if err != nil {
		return "", fmt.Errorf("hashing chart %s: %w", dir, err)
	}
	return sum[:16], nil
}

// hashTree hashes the regular files and symlinks under dir that include admits, in lexical
// order, each framed by its slash-separated relative path, mode and size.
func hashTree(dir string, include func(rel string) bool) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		symlink := d.Type()&fs.ModeSymlink != 0
		if (!d.Type().IsRegular() && !symlink) || !include(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", rel, info.Mode(), info.Size())
		if symlink {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			_, err = io.WriteString(h, target)
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dockerignore is the subset of .dockerignore rules this repository uses, evaluated like
// Docker does: in order, the last matching rule wins, "!" re-includes. Supported patterns:
// "*" (everything), a path ("app", "gunicorn.conf.py": the path and all below it), and
// "**/<glob>" (any path with an element matching the glob, e.g. "**/__pycache__",
// "**/*.py[co]"). Anything else is refused rather than guessed at, so the tag can never
// silently disagree with what Docker sends.
type dockerignore []ignoreRule

type ignoreRule struct {
	pattern string // "*", a path, or "**/<glob>"
	include bool   // a "!" rule
}

func readDockerignore(file string) (dockerignore, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rules dockerignore
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		pattern := strings.TrimSuffix(strings.TrimPrefix(line, "!"), "/")
		glob, any := strings.CutPrefix(pattern, "**/")
		switch {
		case pattern == "*":
		case any && !strings.Contains(glob, "/"):
			if _, err := path.Match(glob, ""); err != nil {
				return nil, fmt.Errorf("%s: pattern %q: %w", file, line, err)
			}
		case !strings.ContainsAny(pattern, "*?[\\"):
		default:
			return nil, fmt.Errorf("%s: pattern %q is not one ContentTag understands (*, a path, or **/<glob>)", file, line)
		}
		rules = append(rules, ignoreRule{pattern, include})
	}
	return rules, sc.Err()
}

// excludes reports whether Docker would leave rel out of the build context.
func (d dockerignore) excludes(rel string) bool {
	excluded := false
	for _, r := range d {
		if r.matches(rel) {
			excluded = !r.include
		}
	}
	return excluded
}

func (r ignoreRule) matches(rel string) bool {
	if r.pattern == "*" {
		return true
	}
	if glob, ok := strings.CutPrefix(r.pattern, "**/"); ok {
		for _, elem := range strings.Split(rel, "/") {
			if m, _ := path.Match(glob, elem); m {
				return true
			}
		}
		return false
	}
	return rel == r.pattern || strings.HasPrefix(rel, r.pattern+"/")
}
