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
		if err := replaceFile(filepath.Join(dir, name), files[name]); err != nil {
			return err
		}
	}
	return nil
}

// replaceFile writes data to a new file beside path and renames it over
// path: a symbolic link planted at path (--force into a folder others may
// write) is replaced, never followed, and a reader never sees half a file.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
