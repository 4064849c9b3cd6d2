#!/bin/sh
# The demo behind `make demo`: a Basic-protected API on loopback, and authx
# handing its credentials to curl (or wget) the way a script would.
set -eu
BIN=${BIN:-bin}
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM

export DEMO_PASSWORD="demo-$$-secret"
"$BIN/authx-demo-server" >"$tmp/url" &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/url" ] && break; sleep 0.2; done
URL=$(cat "$tmp/url")
echo "demo API listening on $URL (user alice, password in \$PW)"

export PW="$DEMO_PASSWORD"
export XDG_CACHE_HOME="$tmp/cache" XDG_CONFIG_HOME="$tmp/config"

echo
echo '$ authx header --scheme basic --set username=alice --set password=env:PW'
"$BIN/authx" header --scheme basic --set username=alice --set password=env:PW

echo
if command -v curl >/dev/null; then
	echo '$ authx header ... | curl -sS -H @- $URL/whoami'
	"$BIN/authx" header --scheme basic --set username=alice --set password=env:PW | curl -sS --fail -H @- "$URL/whoami"
elif command -v wget >/dev/null; then
	echo '$ authx header ... --format wget > rc; wget --config=rc -qO- $URL/whoami'
	umask 077
	"$BIN/authx" header --scheme basic --set username=alice --set password=env:PW --format wget >"$tmp/wgetrc"
	wget --config="$tmp/wgetrc" --max-redirect=0 -qO- "$URL/whoami"
else
	echo "(install curl or wget to see the authenticated request)"
	exit 0
fi
echo
echo "demo OK: the request above was authenticated by authx's basic plugin."

# Part two: a WordPress-style JWT API (the test suite's emulator), a
# three-line profile, and authx logging in once and caching the token.
AUTHX_JWT_TEST_PASSWORD="$DEMO_PASSWORD" "$BIN/authx-jwt-test-server" -user alice >"$tmp/jwturl" 2>/dev/null &
jwtserver=$!
trap 'kill $server $jwtserver 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/jwturl" ] && break; sleep 0.2; done
JWT_URL=$(head -1 "$tmp/jwturl")
mkdir -p "$XDG_CONFIG_HOME/authx"
printf 'profiles:\n  blog:\n    scheme: jwt\n    url: %s\n    config: {preset: wordpress, username: alice, password: env:PW}\n' "$JWT_URL" \
	>"$XDG_CONFIG_HOME/authx/config.yaml"
echo
echo "A WordPress-style JWT API on $JWT_URL, and the profile for it:"
sed 's/^/    /' "$XDG_CONFIG_HOME/authx/config.yaml"
echo
echo '$ authx request blog GET /wp-json/wp/v2/users/me --fail'
"$BIN/authx" request blog GET /wp-json/wp/v2/users/me --fail
echo
echo '$ authx status'
"$BIN/authx" status
echo
echo '$ authx token blog | authx jwt decode -'
"$BIN/authx" token blog | "$BIN/authx" jwt decode - 2>&1
echo
echo "demo OK: the jwt plugin logged in once; the token is cached until shortly before it expires."

# Part three: Jenkins (the test suite's emulator, as strict as the real
# one): a password profile, so a POST needs a CSRF crumb bound to a session
# cookie. authx fetches both once and sends them with the credentials.
AUTHX_JENKINS_PASSWORD="$DEMO_PASSWORD" "$BIN/authx-jenkins-test-server" -user alice >"$tmp/jenkins" 2>/dev/null &
jenkins=$!
trap 'kill $server $jwtserver $jenkins 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/jenkins" ] && break; sleep 0.2; done
JENKINS_URL=$(head -1 "$tmp/jenkins")
printf '  ci:\n    scheme: jenkins\n    url: %s\n    config: {user: alice, password: env:PW}\n' "$JENKINS_URL" \
	>>"$XDG_CONFIG_HOME/authx/config.yaml"
echo
echo "A Jenkins on $JENKINS_URL, and its profile:"
sed -n '/^  ci:/,$s/^/    /p' "$XDG_CONFIG_HOME/authx/config.yaml"
echo
echo '$ authx request ci POST /job/demo/build -i --fail   # crumb and session fetched first'
"$BIN/authx" request ci POST /job/demo/build -i --fail | grep -E '^(HTTP|Location)'
echo
echo '$ authx jenkins whoami -p ci'
"$BIN/authx" jenkins whoami -p ci
echo
echo "demo OK: Jenkins queued the build; the crumb and its session cookie are cached with the credentials."

# Part four: any program, no authx in sight: `authx proxy` authenticates
# every request it forwards to the profile's url (any scheme, per-request
# signing included), so plain curl, a browser or an SDK can use it.
"$BIN/authx" proxy blog >"$tmp/proxy" 2>/dev/null &
proxy=$!
trap 'kill $server $jwtserver $jenkins $proxy 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/proxy" ] && break; sleep 0.2; done
PROXY_URL=$(head -1 "$tmp/proxy")
echo
echo '$ authx proxy blog &   # prints the base URL to use'
echo "$PROXY_URL"
if command -v curl >/dev/null; then
	echo "\$ curl -sS ${PROXY_URL}wp-json/wp/v2/users/me   # no credential in sight"
	curl -sS --fail "${PROXY_URL}wp-json/wp/v2/users/me"
	echo
	echo "demo OK: curl went through authx proxy, which added the blog's token."
fi
