#!/bin/sh
# Regenerates gen/, the Python message classes of the apikey example, from
#   - the repository's own core/proto/authx/plugin/v1/plugin.proto (the contract),
#   - proto/health.proto          (vendored from grpc: grpc.health.v1),
#   - proto/grpc_controller.proto (vendored from go-plugin: plugin.GRPCController).
# Only --python_out is used: the *_pb2_grpc.py service stubs would need
# grpc_tools, so the plugin wires its services by hand instead.
#
# Needs Debian's protoc 3.21 (apt-get install protobuf-compiler libprotobuf-dev);
# the output is byte-for-byte reproducible with the same protoc version.
#
#   ./generate.sh          rewrite gen/
#   ./generate.sh --check  fail (exit 1) when gen/ differs from what would be generated
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
want_protoc="libprotoc 3.21"

mode=write
case "${1:-}" in
"") ;;
--check) mode=check ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler libprotobuf-dev" >&2; exit 2; }
have=$(protoc --version)
case "$have" in
"$want_protoc".*) ;;
*) echo "warning: $have is not $want_protoc.x, the version gen/ was made with; the output will differ" >&2 ;;
esac

# Generate into a fresh directory, then compare or replace.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
protoc -I "$repo/core/proto" --python_out="$out" authx/plugin/v1/plugin.proto
protoc -I "$here/proto" --python_out="$out" health.proto grpc_controller.proto

if [ "$mode" = check ]; then
	if ! diff -r -x __pycache__ "$here/gen" "$out" >/dev/null 2>&1; then
		echo "$here/gen is stale: run $0 and commit the result" >&2
		diff -r -x __pycache__ "$here/gen" "$out" >&2 || true
		exit 1
	fi
	echo "gen/ is up to date"
	exit 0
fi
rm -rf "$here/gen"
mkdir -p "$here/gen"
cp -R "$out/." "$here/gen/"
echo "wrote $(cd "$here/gen" && find . -name '*.py' | sort | tr '\n' ' ')"
