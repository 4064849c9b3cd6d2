//go:build !unix

package snapshot

// Stat reports no state here: without a ctime and an inode a file's
// change cannot be told from its stat, so no snapshot ever holds and the
// front hands every command to authx-cli.
func Stat(string) (FileID, bool) { return FileID{}, false }

func (FileID) regular() bool { return false }
