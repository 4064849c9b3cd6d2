package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/authx/authx/core"
)

// Bounds of a directory pin: a plugin directory holding more is refused
// rather than hashed for minutes at every start.
const (
	maxDirFiles = 100_000
	maxDirBytes = 1 << 30
)

// FileDigest returns the hex sha256 of the file at path, as sha256sum
// prints it: what a `sha256:` pin covers by default.
func FileDigest(path string) (string, error) {
	sum, _, err := digestFile(path)
	return sum, err
}

// digestFile returns the hex sha256 of the file at path and the identity
// of the file it read (see sameFile), refusing one that changed while it
// was read.
func digestFile(path string) (string, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, core.Wrap(core.KindPluginNotFound, err, "opening plugin")
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", nil, core.Wrap(core.KindPluginIntegrity, err, "hashing plugin "+path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", nil, core.Wrap(core.KindPluginIntegrity, err, "hashing plugin "+path)
	}
	if after, err := f.Stat(); err != nil || !sameFile(before, after) {
		return "", nil, core.Errorf(core.KindPluginIntegrity, "plugin %s changed while it was being hashed; refusing to run it", path)
	}
	return hex.EncodeToString(h.Sum(nil)), before, nil
}

// PluginDir returns the directory a `pin: dir` covers for the plugin
// executable at path: the directory of the file path names, symbolic links
// resolved (a script linked into a plugin directory is pinned with the
// directory it really lives in, with its modules).
func PluginDir(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", core.Wrap(core.KindPluginNotFound, err, "plugin")
	}
	return filepath.Dir(real), nil
}

// DirDigest returns the hex sha256 of a manifest of every entry under dir,
// and how many files it covers: what a `pin: dir` covers. The manifest
// holds one line per entry, sorted by slash-separated relative path:
//
//	d MODE PATH                      a directory
//	f MODE SIZE SHA256 PATH          a regular file
//	l PATH -> TARGET                 a symbolic link, not followed
//
// MODE is the permission bits in octal. A symbolic link must resolve inside
// dir (its target is then covered as an entry of its own); one pointing
// outside or nowhere, a special file (FIFO, device, socket), a name with a
// control character, more than 100,000 entries or 1 GiB are refused:
// core.KindPluginIntegrity, the plugin is not run.
func DirDigest(dir string) (string, int, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", 0, core.Wrap(core.KindPluginNotFound, err, "plugin directory")
	}
	refuse := func(format string, args ...any) error {
		return core.Errorf(core.KindPluginIntegrity, "cannot pin plugin directory %s: %s", root, fmt.Sprintf(format, args...))
	}
	h := sha256.New()
	fmt.Fprintf(h, "authx plugin directory manifest v1\n")
	files, total := 0, int64(0)
	// WalkDir visits entries in lexical order and does not follow links.
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return refuse("%v", err)
		}
		if path == root {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if strings.ContainsFunc(rel, unicode.IsControl) {
			return refuse("%q: a control character in a file name", rel)
		}
		if files++; files > maxDirFiles {
			return refuse("more than %d entries", maxDirFiles)
		}
		fi, err := d.Info()
		if err != nil {
			return refuse("%v", err)
		}
		switch mode := fi.Mode(); {
		case mode.IsDir():
			fmt.Fprintf(h, "d %o %s\n", mode.Perm(), rel)
		case mode.IsRegular():
			if total += fi.Size(); total > maxDirBytes {
				return refuse("more than %d MiB", maxDirBytes>>20)
			}
			sum, err := FileDigest(path)
			if err != nil {
				return refuse("%s: %v", rel, err)
			}
			fmt.Fprintf(h, "f %o %d %s %s\n", mode.Perm(), fi.Size(), sum, rel)
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return refuse("%v", err)
			}
			resolved, err := filepath.EvalSymlinks(path)
			if err != nil || !within(root, resolved) {
				return refuse("%s -> %s points outside the directory (or nowhere): what it points to would not be covered", rel, target)
			}
			fmt.Fprintf(h, "l %s -> %s\n", rel, target)
		default:
			return refuse("%s is not a regular file, directory or symbolic link", rel)
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), files, nil
}

// within reports whether path is root or under it.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
