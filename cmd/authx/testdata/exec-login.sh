#!/bin/sh
read -r state || :
echo "$AUTHX_EXEC_ACTION $state" >>"$EXEC_COUNTER"
n=$(wc -l <"$EXEC_COUNTER" | tr -d ' '); sleep "${EXEC_SLEEP:-0}"
printf '{"token": "tok-%s", "expires_in": %s, "refresh": "state-%s"}\n' "$n" "${EXEC_EXPIRES_IN:-3600}" "$n"
