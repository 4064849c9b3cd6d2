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
