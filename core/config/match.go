package config

import (
	"net/url"

	"github.com/authx/authx/core/redact"
	"github.com/authx/authx/core/urlscope"
)

// checkURL returns "" when s is an absolute http(s) URL whose path is not
// ambiguous (see urlscope.Normalize), else what is wrong.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "not a URL: " + redact.ParseError(err)
	}
	return urlscope.Problem(u)
}
