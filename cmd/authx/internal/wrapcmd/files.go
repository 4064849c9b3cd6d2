package wrapcmd

import (
	"io"
	"os"
)

// unlinkedFile returns a private (0600) temporary file holding content,
// removed from its directory as soon as it is created: only the open file
// remains, and it goes when the last process holding it exits.
func unlinkedFile(content string) (*os.File, error) {
	f, err := os.CreateTemp("", "authx-wgetrc-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return fill(f, content)
}

// fill writes content to f and rewinds it for the reader.
func fill(f *os.File, content string) (*os.File, error) {
	if _, err := io.WriteString(f, content); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
