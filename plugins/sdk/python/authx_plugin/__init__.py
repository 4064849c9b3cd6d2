"""authx_plugin: write an authx auth scheme in Python.

A scheme is a class (or a module) with a description and a login; serve()
does the rest: go-plugin's handshake, the gRPC health, controller and stdio
services, the exit on Shutdown, on a signal or when authx dies, the config
as a dict checked against the schema, and errors as the status codes authx
maps to its exit codes (docs/plugin-protocol.md).

    import authx_plugin as ax

    class Hello:
        description = ax.Description(name="hello", version="1.0.0", summary="a fixed token",
                                     config=[ax.Field("token", secret=True, required=True)])

        def login(self, config, request):
            return ax.Credential(token=config["token"], headers={"Authorization": "Bearer " + config["token"]})

    if __name__ == "__main__":
        ax.serve(Hello())

Every method gets the profile's config (a dict: unknown keys, missing
required fields and wrong types already refused, defaults filled in) and a
Request (url, answers, credential, ...). Optional methods, each claiming its
capability by existing:

    validate_config(config)            -> iterable of (field, message)
    refresh(config, request)           -> Credential       (request.credential)
    apply(config, request)             -> {header: value} or Applied(headers, state)
    handle_challenge(config, request)  -> Decision
    logout(config, request)            -> None
    run_action(config, request)        -> str, bytes or ActionResult

Calls may run concurrently, on several threads: keep no state but caches.
Raise ConfigError, LoginRequired, Rejected, NetworkError, HTTPError,
ServerError, Forbidden, Timeout, BadAnswer, TokenInvalid or Unsupported with
one line for the user (never a secret); urllib's, socket's and ssl's own
network errors are mapped too, and any other exception is a plugin failure
whose traceback goes to the log.
"""

try:
    import grpc  # noqa: F401
    import google.protobuf  # noqa: F401
except ImportError as err:  # the one line authx shows when the plugin cannot start
    raise ImportError(f"authx_plugin needs grpcio and protobuf ({err}): pip install grpcio protobuf, "
                      "or on Debian apt-get install python3-grpcio python3-protobuf") from None

from .errors import (BadAnswer, ConfigError, Error, Forbidden, HTTPError, LoginRequired, NetworkError, Rejected,
                     ServerError, Timeout, TokenInvalid, Unsupported)
from .server import PROTOCOL_MINOR, Request, log, serve
from .values import (ANY, DURATION, Action, ActionResult, Applied, Cookie, Credential, Decision, Description, Field,
                     HTTPRequest, HTTPResponse, InputRequired, Prompt, from_struct, to_struct)

__all__ = ["ANY", "DURATION", "Action", "ActionResult", "Applied", "BadAnswer", "ConfigError", "Cookie", "Credential",
           "Decision", "Description", "Error", "Field", "Forbidden", "HTTPError", "HTTPRequest", "HTTPResponse",
           "InputRequired", "LoginRequired", "NetworkError", "PROTOCOL_MINOR", "Prompt", "Rejected", "Request",
           "ServerError", "Timeout", "TokenInvalid", "Unsupported", "from_struct", "log", "serve", "to_struct"]
__version__ = "0.1.0"
