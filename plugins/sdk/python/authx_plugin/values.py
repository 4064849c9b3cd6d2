"""Native values for the protocol's messages: google.protobuf.Struct as dicts,
the config schema and its checks, and the small dataclasses a scheme returns.
"""

import dataclasses
import datetime
import math
import re
from typing import Any, Optional

from google.protobuf import struct_pb2

from ._pb import plugin_pb2 as pb

# ---- google.protobuf.Struct <-> dict ----------------------------------------

MAX_SAFE_INT = 2**53  # a double holds every integer up to this exactly


def from_value(v):
    """A google.protobuf.Value as a native value: None, bool, int (a number
    without a fraction up to 2**53), float, str, list or dict."""
    kind = v.WhichOneof("kind")
    if kind == "struct_value":
        return from_struct(v.struct_value)
    if kind == "list_value":
        return [from_value(x) for x in v.list_value.values]
    if kind == "number_value":
        n = v.number_value
        return int(n) if math.isfinite(n) and n.is_integer() and abs(n) <= MAX_SAFE_INT else n
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    return None  # null_value, or unset


def from_struct(s):
    """A google.protobuf.Struct as a dict."""
    return {k: from_value(v) for k, v in s.fields.items()}


def to_value(x, out=None):
    """A native value as a google.protobuf.Value (into out when given).
    TypeError for what JSON cannot hold (a set, bytes, an object, a key that
    is not a string) and for an int a double cannot hold exactly."""
    out = struct_pb2.Value() if out is None else out
    if x is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(x, bool):
        out.bool_value = x
    elif isinstance(x, int):
        if abs(x) > MAX_SAFE_INT:
            raise TypeError(f"{x} is too large for a number of the protocol (a double)")
        out.number_value = x
    elif isinstance(x, float):
        out.number_value = x
    elif isinstance(x, str):
        out.string_value = x
    elif isinstance(x, dict):
        out.struct_value.SetInParent()  # {} too, which is not null
        to_struct(x, out.struct_value)
    elif isinstance(x, (list, tuple)):
        out.list_value.SetInParent()
        for item in x:
            to_value(item, out.list_value.values.add())
    else:
        raise TypeError(f"a {type(x).__name__} cannot be sent as a protocol value")
    return out


def to_struct(d, out=None):
    """A dict with string keys as a google.protobuf.Struct."""
    out = struct_pb2.Struct() if out is None else out
    for k, v in d.items():
        if not isinstance(k, str):
            raise TypeError(f"key {k!r}: a struct's keys are strings")
        to_value(v, out.fields[k])
    return out


# ---- the config schema -------------------------------------------------------

DURATION = "duration"  # Field type: a Go-style duration string ("90s", "1h30m")
ANY = object  # Field type: any value, unchecked

_TYPES = {str: pb.FIELD_TYPE_STRING, bool: pb.FIELD_TYPE_BOOL, int: pb.FIELD_TYPE_INT, DURATION: pb.FIELD_TYPE_DURATION,
          list: pb.FIELD_TYPE_STRING_LIST, dict: pb.FIELD_TYPE_OBJECT, ANY: pb.FIELD_TYPE_UNSPECIFIED}
_GO_DURATION = re.compile(r"[-+]?(0|(\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+")


@dataclasses.dataclass
class Field:
    """A config field (or action flag). type is str, bool, int, DURATION,
    list (of strings), dict or ANY; without one it is the default's type,
    else str. The SDK fills in default when the field is absent."""
    name: str
    type: Any = None
    required: bool = False
    secret: bool = False
    default: Any = None
    help: str = ""
    enum: tuple = ()

    def __post_init__(self):
        if self.type is None:
            self.type = type(self.default) if self.default is not None else str
        if self.type not in _TYPES:
            raise TypeError(f"field {self.name}: type {self.type!r} is not one of str, bool, int, DURATION, list, dict, ANY")

    def problem(self, value):
        """Why value does not fit this field, or None."""
        t = self.type
        if t in (str, DURATION):
            if not isinstance(value, str):
                return "expected a string"
            if t is DURATION and not _GO_DURATION.fullmatch(value):
                return f'"{value}" is not a duration such as "90s" or "1h30m"' if not self.secret else "not a duration"
            if self.enum and value not in self.enum:
                return "expected one of " + ", ".join(self.enum)
        elif t is bool and not isinstance(value, bool):
            return "expected true or false"
        elif t is int and (isinstance(value, bool) or not isinstance(value, int)):
            return "expected a whole number"
        elif t is list and not (isinstance(value, list) and all(isinstance(x, str) for x in value)):
            return "expected a list of strings"
        elif t is dict and not isinstance(value, dict):
            return "expected an object"
        return None

    def to_proto(self):
        f = pb.Field(name=self.name, type=_TYPES[self.type], required=self.required, secret=self.secret,
                     help=self.help, enum=list(self.enum))
        if self.default is not None:
            to_value(self.default, f.default_value)
        return f


@dataclasses.dataclass
class Action:
    """A plugin-defined subcommand, `authx <scheme> <name> ...`, served by run_action."""
    name: str
    summary: str = ""
    usage: str = ""
    flags: list = dataclasses.field(default_factory=list)
    needs_profile: bool = False
    accepts_profile: bool = False


@dataclasses.dataclass
class Description:
    """What Describe answers. Capabilities are those of the methods the scheme
    has (login, refresh, apply, handle_challenge, logout, run_action);
    login_challenge asks the host for the server's first 401 (see
    LoginRequest.challenge). protocol_minor defaults to the SDK's."""
    name: str
    version: str = "0.0.0"
    summary: str = ""
    config: list = dataclasses.field(default_factory=list)
    actions: list = dataclasses.field(default_factory=list)
    login_challenge: bool = False
    protocol_minor: Optional[int] = None


def check_config(fields, config):
    """(problems, clean): problems lists (field, message) for unknown keys,
    missing required fields and values of the wrong type; clean is the config
    without those values, the defaults filled in (for those too)."""
    import difflib
    by_name = {f.name: f for f in fields}
    problems, clean = [], {}
    for name in sorted(config):
        value, field = config[name], by_name.get(name)
        if field is None:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f'; did you mean "{close[0]}"?' if close else f" (known: {', '.join(sorted(by_name))})" if by_name else ""
            problems.append((name, "unknown key" + hint))
        elif (message := field.problem(value)) is not None:
            problems.append((name, message))
        else:
            clean[name] = value
    for f in fields:
        if f.name not in config and f.required:
            problems.append((f.name, "required"))
        if f.name not in clean and f.default is not None:
            clean[f.name] = f.default
    return problems, clean


# ---- what a scheme returns ---------------------------------------------------

@dataclasses.dataclass
class Cookie:
    name: str
    value: str
    domain: str = ""
    path: str = ""
    expires: Optional[datetime.datetime] = None
    secure: bool = False
    http_only: bool = False


@dataclasses.dataclass
class Credential:
    """A credential, applied and cached by the host. headers maps names to
    values; expires_at is an aware datetime or seconds since the epoch,
    expires_in seconds from now (either; none: no known expiry); state is
    the plugin's private memory (bytes or str), sent back with the
    credential in later calls."""
    token: str = ""
    headers: dict = dataclasses.field(default_factory=dict)
    cookies: list = dataclasses.field(default_factory=list)
    expires_at: Any = None
    expires_in: Optional[float] = None
    scope: list = dataclasses.field(default_factory=list)
    state: bytes = b""
    per_request: bool = False
    id_token: str = ""

    def to_proto(self):
        c = pb.Credential(token=self.token, scope=list(self.scope), per_request=self.per_request, id_token=self.id_token,
                          state=self.state.encode() if isinstance(self.state, str) else bytes(self.state),
                          headers=_headers(self.headers))
        for k in self.cookies:
            ck = c.cookies.add(name=k.name, value=k.value, domain=k.domain, path=k.path, secure=k.secure, http_only=k.http_only)
            if k.expires is not None:
                ck.expires.FromDatetime(_utc(k.expires))
        expires = self.expires_at
        if self.expires_in is not None:
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.expires_in)
        if expires is not None:
            c.expires_at.FromDatetime(_utc(expires))
        return c

    @classmethod
    def from_proto(cls, c):
        return cls(token=c.token, headers={h.name: h.value for h in c.headers}, scope=list(c.scope), state=c.state,
                   per_request=c.per_request, id_token=c.id_token,
                   expires_at=_from_timestamp(c.expires_at) if c.HasField("expires_at") else None,
                   cookies=[Cookie(k.name, k.value, k.domain, k.path,
                                   _from_timestamp(k.expires) if k.HasField("expires") else None, k.secure, k.http_only)
                            for k in c.cookies])


def _headers(headers):
    items = headers.items() if isinstance(headers, dict) else headers
    return [pb.Header(name=n, value=v) for n, v in items]


def _utc(t):
    """An aware datetime (or seconds since the epoch) in UTC, naive, as protobuf wants it."""
    if isinstance(t, (int, float)):
        t = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    if t.tzinfo is None:
        raise ValueError("a naive datetime: give a timezone (datetime.timezone.utc)")
    return t.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _from_timestamp(ts):
    return ts.ToDatetime().replace(tzinfo=datetime.timezone.utc)


@dataclasses.dataclass
class Prompt:
    """A question for the user; the answer comes back in request.answers[id]."""
    id: str
    message: str
    secret: bool = False


class InputRequired:
    """login's answer when it needs the user's input: the host asks the
    prompts and calls login again with request.answers and request.state
    (state: any JSON value, the login's memory of where it was; the SDK
    refuses one that was not issued for this config and URL)."""

    def __init__(self, *prompts, state=None):
        self.prompts, self.state = list(prompts), state


@dataclasses.dataclass
class Applied:
    """apply's answer when it has a new credential state too (minor 4); a
    plain dict of headers is enough otherwise."""
    headers: dict
    state: Any = None


@dataclasses.dataclass
class Decision:
    """handle_challenge's answer: kind is "fail", "retry" (with credential),
    "refresh" or "login"; diagnosis one line for the user."""
    kind: str
    diagnosis: str = ""
    credential: Optional[Credential] = None
    replay_safe: bool = False

    KINDS = {"fail": pb.HandleChallengeResponse.DECISION_FAIL, "retry": pb.HandleChallengeResponse.DECISION_RETRY,
             "refresh": pb.HandleChallengeResponse.DECISION_REFRESH, "login": pb.HandleChallengeResponse.DECISION_LOGIN}

    def to_proto(self):
        if self.kind not in self.KINDS:
            raise ValueError(f"decision {self.kind!r} is not one of {', '.join(self.KINDS)}")
        r = pb.HandleChallengeResponse(decision=self.KINDS[self.kind], diagnosis=self.diagnosis, replay_safe=self.replay_safe)
        if self.credential is not None:
            r.credential.CopyFrom(self.credential.to_proto())
        return r


@dataclasses.dataclass
class ActionResult:
    """run_action's answer (a str or bytes alone is stdout with exit code 0)."""
    stdout: Any = b""
    stderr: Any = b""
    exit_code: int = 0


@dataclasses.dataclass
class HTTPRequest:
    method: str
    url: str
    headers: list  # (name, value) pairs
    body_sha256: bytes

    def header(self, name):
        """The first value of header name (any case), or None."""
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


@dataclasses.dataclass
class HTTPResponse:
    status: int
    headers: list  # (name, value) pairs
    body_prefix: bytes  # at most the first 4 KiB

    header = HTTPRequest.header
