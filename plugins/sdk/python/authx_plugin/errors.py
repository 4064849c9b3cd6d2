"""The error classes a scheme raises, and the gRPC status each becomes.

The status code tells authx what happened and so its exit code
(docs/plugin-protocol.md, "Errors"); the message is one line for the user
and must never hold a secret.
"""

import grpc

DOMAIN = "authx.dev"  # the google.rpc.ErrorInfo domain of authx's reasons


class Error(Exception):
    """A failure of the plugin itself (exit 6); the base of every class below."""

    code = grpc.StatusCode.INTERNAL
    reason = ""  # an ErrorInfo reason that refines code, or ""


class ConfigError(Error):
    """The profile's configuration is wrong (exit 2)."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class LoginRequired(Error):
    """A new login is needed, e.g. the refresh token expired (exit 3 when it
    needs the user). Without a UI, end the message with "run: authx login"."""
    code = grpc.StatusCode.FAILED_PRECONDITION


class Rejected(Error):
    """The server rejected the credentials (exit 4)."""
    code = grpc.StatusCode.UNAUTHENTICATED


class NetworkError(Error):
    """The server could not be reached: connection, DNS, TLS (exit 5)."""
    code = grpc.StatusCode.UNAVAILABLE


class HTTPError(Error):
    """The server answered an HTTP error (exit 7)."""
    code = grpc.StatusCode.ABORTED


class ServerError(HTTPError):
    """The server answered 5xx (exit 12)."""
    reason = "HTTP_SERVER_ERROR"


class Forbidden(Error):
    """The server knows the user but refuses for lack of a permission (exit 14)."""
    code = grpc.StatusCode.PERMISSION_DENIED


class Timeout(Error):
    """The server did not answer in time (exit 15)."""
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class BadAnswer(Error):
    """The server answered, but not in a usable form (exit 16)."""
    code = grpc.StatusCode.DATA_LOSS


class TokenInvalid(BadAnswer):
    """The server issued a token that is not a well-formed JWT (exit 13)."""
    reason = "TOKEN_INVALID"


class Unsupported(Error):
    """A capability or action this plugin does not offer (exit 10)."""
    code = grpc.StatusCode.UNIMPLEMENTED


def classify(exc):
    """The authx error class of exc: exc itself when it is an Error, else the
    class of the standard library's network failures (urllib, socket, ssl);
    None for anything else, which is a bug in the plugin."""
    if isinstance(exc, Error):
        return exc
    import socket
    import ssl
    import urllib.error
    if isinstance(exc, urllib.error.HTTPError):
        status = exc.code
        cls = Rejected if status == 401 else Forbidden if status == 403 else ServerError if status >= 500 else HTTPError
        return cls(f"the server answered HTTP {status}" + (f" ({exc.reason})" if exc.reason else ""))
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Timeout(f"the server did not answer in time: {exc}")
    if isinstance(exc, (ConnectionError, socket.gaierror, ssl.SSLError, urllib.error.URLError)):
        return NetworkError(f"the server could not be reached: {exc}")
    return None


def one_line(text):
    """The first line of text, which is all the host shows."""
    return str(text).strip().split("\n", 1)[0].rstrip("\r")


def status_details(code, message, reason):
    """The grpc-status-details-bin trailer: a google.rpc.Status holding one
    google.rpc.ErrorInfo {reason, domain}. Encoded by hand, so that the SDK
    registers no google.rpc messages that another library may define too."""
    info = _field(1, reason.encode()) + _field(2, DOMAIN.encode())
    any_ = _field(1, b"type.googleapis.com/google.rpc.ErrorInfo") + _field(2, info)
    return _varint(1 << 3) + _varint(code.value[0]) + _field(2, message.encode()) + _field(3, any_)


def _field(number, data):
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)
