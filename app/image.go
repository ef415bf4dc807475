package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// untracked are paths under the build context that never affect the image: caches that a
// local test run leaves behind, and a developer's .env. Skipping them keeps the tag stable
// between a clean clone and a working copy.
var untracked = []string{"__pycache__", ".pytest_cache", ".env", ".venv"}

// ContentTag returns "src-" and the first 12 hex digits of a SHA-256 over the relative path
// size and bytes of every file under dir, in lexical order. Any change to the build context gives
// a new tag; no change gives the same tag, so the ECR repository's IMMUTABLE tags never
// collide and `pulumi up` without source changes pushes nothing. It is computed while
// declaring (plain file reads, not inside an apply), so preview shows the tag.
func ContentTag(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if slices.Contains(untracked, d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		// Path and size frame each file's bytes, so no two trees hash alike.
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), info.Size())
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("hashing build context %s: %w", dir, err)
	}
	return "src-" + hex.EncodeToString(h.Sum(nil))[:12], nil
}
