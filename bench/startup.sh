#!/bin/sh
# Prints the start-up cost of `authx token` on its cached path and its cold
# path (plugin start + login) next to a bare Go binary's start. `make bench`.
set -eu
BIN=${BIN:-bin}
exec go run ./bench/startup -bin "$BIN" "$@"
