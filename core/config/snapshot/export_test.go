package snapshot

// IsRacy is racy, for the tests of package snapshot_test.
var IsRacy = racy
