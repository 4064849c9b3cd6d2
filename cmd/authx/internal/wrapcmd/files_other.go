//go:build !linux

package wrapcmd

import (
	"errors"
	"os"
)

// WgetrcFile returns a file holding content, positioned at its start, that
// no directory names once it returns (an unlinked temporary file). wget
// reads it as /dev/fd/N.
func WgetrcFile(content string) (*os.File, error) { return unlinkedFile(content) }

// MemFile fails: there are no anonymous memory files here.
func MemFile(string, []byte) (*os.File, error) {
	return nil, errors.New("no anonymous memory files on this system")
}
