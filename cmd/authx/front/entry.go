package main

import (
	"encoding/json"

	"github.com/authx/authx/core/cache"
)

// maxEntrySize bounds a cache entry the front reads, as core/cache does.
const maxEntrySize = 4 << 20

// readEntry reads the cache entry file at path by the cache's rules
// (cache.ReadPrivate: a regular file of this user, in a directory nobody
// else may write, bounded) and returns it when it is a well-formed entry
// of this version for profile holding a valid credential, as
// cache.Store.Get does; nil otherwise.
func readEntry(path, profile string) *cache.Entry {
	data, err := cache.ReadPrivate(path, maxEntrySize)
	if err != nil {
		return nil
	}
	e, ok := decodeEntry(data)
	if !ok { // not as core/cache writes it: encoding/json decides
		e = cache.Entry{}
		if json.Unmarshal(data, &e) != nil {
			return nil
		}
	}
	if e.Version != cache.Version || e.Profile != profile || e.Credential.Validate() != nil {
		return nil
	}
	return &e
}
