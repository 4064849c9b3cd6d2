// Package base holds the part of authx's core contract that links no
// network code: credentials (Credential, Header, Cookie, their validation
// and freshness) and classified errors (Error, Kind and its exit codes).
//
// Package core re-exports all of it under the same names (type aliases:
// a base.Credential is a core.Credential). The packages the fast front
// links (cmd/authx/front: the config, the cache, the output formats, URL
// scopes) import this one, as core, instead of core itself, whose
// scheme contract holds net/http types: so the front links no net/http,
// whose initialisation and size every `authx token` would pay for.
package base
