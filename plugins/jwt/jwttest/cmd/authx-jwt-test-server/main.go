// Command authx-jwt-test-server serves the jwttest emulator on 127.0.0.1 for
// manual tries and demos. It prints the base URL alone on the first line of
// stdout, a cheat sheet of the endpoints on stderr, and serves until it gets
// SIGINT or SIGTERM.
//
//	authx-jwt-test-server [-user alice -password wonderland] [-access-ttl 1h]
//	    [-refresh-ttl 24h] [-rotate] [-latency 0] [-client cli -client-secret s3cret-client]
package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/authx/authx/plugins/jwt/jwttest"
)

func main() {
	user := flag.String("user", "alice", "login `NAME` (or EMAIL) of the single user")
	password := flag.String("password", "", "the user's `PASSWORD` (default $AUTHX_JWT_TEST_PASSWORD, else wonderland)")
	accessTTL := flag.Duration("access-ttl", 0, "access token lifetime (default 1h)")
	refreshTTL := flag.Duration("refresh-ttl", 0, "refresh token lifetime (default 24h)")
	rotate := flag.Bool("rotate", false, "rotate refresh tokens on every refresh")
	latency := flag.Duration("latency", 0, "delay every login and refresh answer by this `DURATION`")
	client := flag.String("client", "cli", "OAuth2 client_id")
	secret := flag.String("client-secret", "s3cret-client", "OAuth2 client_secret (empty: a public client)")
	plain := flag.Bool("plain-permalinks", false, "WordPress sites with plain permalinks: the REST API only at ?rest_route=/...")
	flag.Parse()
	if *password == "" {
		*password = cmp.Or(os.Getenv("AUTHX_JWT_TEST_PASSWORD"), "wonderland")
	}

	s := jwttest.Start(jwttest.Options{
		Users:         map[string]string{*user: *password},
		AccessTTL:     *accessTTL,
		RefreshTTL:    *refreshTTL,
		RotateRefresh: *rotate,
		Clients:       map[string]string{*client: *secret},
		Latency:       *latency,

		PlainPermalinks: *plain,
	})
	defer s.Close()

	fmt.Println(s.URL)
	os.Stdout.Sync()
	u := s.URL
	fmt.Fprintf(os.Stderr, `authx-jwt-test-server: serving on %[1]s (Ctrl-C to stop)
  generic     POST %[1]s/auth/login  {"username","password"}   POST %[1]s/auth/refresh  {"refreshToken"}
              GET  %[1]s/api/me   %[1]s/api/admin   %[1]s/api/quiet
              POST %[1]s/broken/html   %[1]s/broken/shape   %[1]s/broken/malformed
  wordpress   POST %[1]s/wp-json/jwt-auth/v1/token   POST .../token/validate   GET %[1]s/wp-json/wp/v2/users/me
              (or %[1]s/?rest_route=/jwt-auth/v1/token ..., the only way with -plain-permalinks)
  usefulteam  POST %[1]s/alt/wp-json/jwt-auth/v1/token   .../token/validate   .../token/refresh (cookie)
  json-server POST %[1]s/login {"email","password"}   GET %[1]s/664/posts (public)   GET %[1]s/660/posts (guarded)
  simplejwt   POST %[1]s/api/token/   POST %[1]s/api/token/refresh/   GET %[1]s/api/user/
  oauth2      POST %[1]s/oauth/token  (form; Basic or body client auth; grants password, client_credentials, refresh_token,
              authorization_code, device_code)
  oidc        issuer %[1]s: GET %[1]s/.well-known/openid-configuration   GET %[1]s/oauth/authorize (PKCE S256,
              redirect http://127.0.0.1:PORT/callback; the user signs in at once)   POST %[1]s/oauth/device_authorization
              GET %[1]s/device?user_code=...   GET %[1]s/oauth/jwks   POST %[1]s/oauth/revoke
  dex         GET  %[1]s/dex/userinfo  (a refused token: 403 access_denied, no WWW-Authenticate)
try: curl -s %[1]s/auth/login -H 'Content-Type: application/json' -d '{"username":"%[2]s","password":"..."}'
`, u, *user)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
