package main

import (
	"strings"
	"testing"
)

// Issue 14, point 3: a plugin process gets the variables language runtimes
// read to trust a corporate certificate authority (Node's
// NODE_EXTRA_CA_CERTS, Python requests' REQUESTS_CA_BUNDLE, OpenSSL's
// SSL_CERT_FILE and SSL_CERT_DIR, curl's CURL_CA_BUNDLE, gRPC's roots) and
// the proxies, and still nothing else of the user's environment: no
// credential, no interpreter option that runs code.
func TestPluginEnvironment(t *testing.T) {
	passed := []string{
		"NODE_EXTRA_CA_CERTS=/etc/corp/ca.pem", "NODE_USE_SYSTEM_CA=1", "REQUESTS_CA_BUNDLE=/etc/corp/bundle.pem",
		"SSL_CERT_FILE=/etc/corp/bundle.pem", "SSL_CERT_DIR=/etc/corp/certs", "CURL_CA_BUNDLE=/etc/corp/bundle.pem",
		"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=/etc/corp/roots.pem",
		"HTTPS_PROXY=http://proxy.corp.example:3128", "https_proxy=http://proxy.corp.example:3128", "no_proxy=.corp.example",
	}
	dropped := []string{
		"API_TOKEN=s3cret-token", "AWS_SECRET_ACCESS_KEY=s3cret-key", "GITHUB_TOKEN=s3cret-gh", "PIP_CERT=/etc/corp/bundle.pem",
		"NODE_OPTIONS=--require=/tmp/evil.js", "PYTHONPATH=/tmp/evil", "PYTHONSTARTUP=/tmp/evil.py", "LD_PRELOAD=/tmp/evil.so",
	}
	e := newEnv(t).set(append(passed, dropped...)...)
	var names []string
	for _, kv := range append(passed, dropped...) {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	r := e.run(append([]string{"testkit", "env"}, names...)...)
	if r.code != 0 {
		t.Fatalf("testkit env: %+v", r)
	}
	for _, kv := range passed {
		if !strings.Contains(r.stdout, kv+"\n") {
			t.Errorf("the plugin did not get %s:\n%s", kv, r.stdout)
		}
	}
	for _, kv := range dropped {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.Contains(r.stdout, name+" unset\n") {
			t.Errorf("the plugin got %s:\n%s", name, r.stdout)
		}
	}
}
