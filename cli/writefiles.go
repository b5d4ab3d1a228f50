package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// writeGenerated writes generated files (a server configuration, a sample
// policy and rota) into dir. A file already there is never replaced unless
// force is set: it may be the live server configuration or a policy IT has
// since edited for the ward. Nothing is written when any file exists.
func writeGenerated(dir string, files map[string][]byte, force bool) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if !force {
		var there []string
		for _, name := range names {
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				there = append(there, filepath.Join(dir, name))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if len(there) > 0 {
			return fail(ExitUsage, "%s already exists: nothing written (write into another folder, or give --force to replace it)", strings.Join(there, ", "))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
