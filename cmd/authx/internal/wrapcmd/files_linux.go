package wrapcmd

import (
	"os"

	"golang.org/x/sys/unix"
)

// WgetrcFile returns a file holding content, positioned at its start, that
// no directory names: an anonymous memory file, so a killed authx leaves
// nothing behind. wget reads it as /dev/fd/N (a pipe would not do: wget
// refuses a config it cannot read as a regular file).
func WgetrcFile(content string) (*os.File, error) {
	f, err := MemFile("authx-wgetrc", []byte(content))
	if err != nil {
		return unlinkedFile(content)
	}
	return f, nil
}

// MemFile returns an anonymous memory file holding content, positioned at
// its start.
func MemFile(name string, content []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return fill(os.NewFile(uintptr(fd), name), string(content))
}
