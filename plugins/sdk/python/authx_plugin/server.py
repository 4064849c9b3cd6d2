"""serve(): the plugin process around a scheme, as go-plugin and authx want it.

The handshake line on stdout, then nothing there; the gRPC services
authx.plugin.v1.AuthScheme, grpc.health.v1.Health, plugin.GRPCController and
plugin.GRPCStdio on a Unix socket; hclog JSON on stderr; and an exit on
Shutdown, SIGTERM/SIGINT/SIGHUP or the host's death, whatever the scheme's
calls are doing.
"""

import datetime
import hashlib
import json
import os
import queue
import secrets
import select
import signal
import sys
import tempfile
import threading
import traceback
from concurrent import futures

import grpc

from . import errors, values
from ._pb import grpc_controller_pb2, grpc_stdio_pb2, health_pb2
from ._pb import plugin_pb2 as pb

PROTOCOL_MAJOR = 1  # authx.plugin.v1, negotiated through go-plugin
PROTOCOL_MINOR = 4  # the newest minor of v1 this SDK serves
COOKIE_KEY, COOKIE_VALUE = "AUTHX_PLUGIN", "6c1fa2b1-authx-plugin-v1"
CAPABILITIES = ("login", "refresh", "apply", "handle_challenge", "logout", "run_action")


class Log:
    """hclog JSON lines on stderr, which authx shows at its --log-level.
    Never log a secret: authx relays these lines as they are."""

    LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4, "off": 5}

    def __init__(self, level=None, module="plugin"):
        self.min = self.LEVELS.get((level or "").lower(), self.LEVELS["info"])
        self.module = module
        self._lock = threading.Lock()

    def log(self, level, message, **fields):
        if self.LEVELS[level] < self.min:
            return
        now = datetime.datetime.now().astimezone().isoformat(timespec="microseconds")
        line = json.dumps({"@level": level, "@message": message, "@module": self.module, "@timestamp": now, **fields},
                          default=str)
        with self._lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def trace(self, message, **fields):
        self.log("trace", message, **fields)

    def debug(self, message, **fields):
        self.log("debug", message, **fields)

    def info(self, message, **fields):
        self.log("info", message, **fields)

    def warn(self, message, **fields):
        self.log("warn", message, **fields)

    def error(self, message, **fields):
        self.log("error", message, **fields)


log = Log(os.environ.get("AUTHX_LOG_LEVEL"))


class Request:
    """What a call carries besides the config. Every call has url; the
    others are set where the protocol has them, else None:
    login: interactive, ui, answers (prompt id -> answer), state (the
    InputRequired state being resumed), challenge (HTTPResponse);
    refresh, logout, apply, handle_challenge, run_action: credential;
    apply, handle_challenge: http (HTTPRequest); handle_challenge:
    response (HTTPResponse), retried; run_action: action, args, flags, stdin."""

    url = ""
    interactive = ui = retried = False
    answers = state = challenge = credential = http = response = None
    action = args = flags = stdin = None

    def __init__(self, events=None, **fields):
        self.__dict__.update(fields)
        self._events = events

    def notice(self, message):
        """Show the user a message (a device code, where to enter it) while
        login waits: LoginStream with a UI only. Without a UI it raises
        LoginRequired, which tells the user to run `authx login`."""
        self._event(pb.LoginEvent(notice=pb.Notice(message=message)))

    def open_url(self, url):
        """Ask the host to open url in the user's browser (or print it); as notice."""
        self._event(pb.LoginEvent(open_url=pb.OpenURL(url=url)))

    def _event(self, event):
        if self._events is None or not self.ui:
            raise errors.LoginRequired("this login needs the user in a browser or on another device; run: authx login")
        self._events.put(event)


def _http_request(r):
    return values.HTTPRequest(r.method, r.url, [(h.name, h.value) for h in r.headers], r.body_sha256)


def _http_response(r):
    return values.HTTPResponse(r.status, [(h.name, h.value) for h in r.headers], r.body_prefix)


class Scheme:
    """The author's scheme as calls of the protocol: an object (a class
    instance, a module) with description or describe(), and the methods of
    the capabilities it claims."""

    def __init__(self, impl):
        self.impl = impl
        d = impl.describe() if callable(getattr(impl, "describe", None)) else getattr(impl, "description", None)
        if not isinstance(d, values.Description):
            raise TypeError("a scheme needs a description (authx_plugin.Description) or describe() returning one")
        if not d.name or not all(c.isdigit() or c == "-" or "a" <= c <= "z" for c in d.name):
            raise ValueError(f"scheme name {d.name!r}: lowercase letters, digits and '-' only")
        self.description = d
        self.name = d.name
        self.has = {c: callable(getattr(impl, c, None)) for c in CAPABILITIES}
        self.secret_fields = {f.name for f in d.config if f.secret}

    # -- config ---------------------------------------------------------------

    def diagnose(self, struct):
        """(problems, config): the schema's problems and the scheme's own
        (validate_config, given the fields that passed, defaults filled in)."""
        problems, config = values.check_config(self.description.config, values.from_struct(struct))
        own = getattr(self.impl, "validate_config", None)
        if callable(own):
            for p in own(dict(config)) or ():
                problems.append((p[0], p[1]))
        return problems, config

    def config(self, struct):
        """The call's config as a dict, or ConfigError naming its first problem."""
        problems, config = self.diagnose(struct)
        if problems:
            raise errors.ConfigError("%s: %s" % problems[0])
        return config

    # -- calls ------------------------------------------------------------------

    def Describe(self, req, ctx):
        d = self.description
        caps = pb.Capabilities(login=self.has["login"], refresh=self.has["refresh"], apply=self.has["apply"],
                               handle_challenge=self.has["handle_challenge"], logout=self.has["logout"],
                               actions=self.has["run_action"] and bool(d.actions), login_challenge=d.login_challenge)
        return pb.DescribeResponse(
            name=d.name, version=d.version, summary=d.summary, capabilities=caps,
            protocol_minor=PROTOCOL_MINOR if d.protocol_minor is None else d.protocol_minor,
            config=[f.to_proto() for f in d.config],
            actions=[pb.Action(name=a.name, summary=a.summary, usage=a.usage, flags=[f.to_proto() for f in a.flags],
                               needs_profile=a.needs_profile, accepts_profile=a.accepts_profile) for a in d.actions])

    def Configure(self, req, ctx):
        problems, _ = self.diagnose(req.config)
        return pb.ConfigureResponse(diagnostics=[
            pb.Diagnostic(severity=pb.Diagnostic.SEVERITY_ERROR, field=f, message=m) for f, m in problems])

    def Login(self, req, ctx, events=None):
        config = self.config(req.config)
        state, answers = None, dict(req.answers)
        if req.continuation:
            state = self._resume(req.continuation, config, req.url, answers)
        request = Request(events, url=req.url, interactive=req.interactive, ui=req.ui and events is not None,
                          answers=answers, state=state,
                          challenge=_http_response(req.challenge) if req.HasField("challenge") else None)
        out = self.impl.login(config, request)
        if isinstance(out, values.InputRequired):
            cont = json.dumps({"v": 1, "state": out.state, "prompts": [p.id for p in out.prompts],
                               "for": self._binding(config, req.url)}).encode()
            return pb.LoginResponse(input_required=pb.InputRequired(
                continuation=cont, prompts=[pb.Prompt(id=p.id, message=p.message, secret=p.secret) for p in out.prompts]))
        return pb.LoginResponse(credential=_credential(out, "login"))

    def LoginStream(self, req, ctx):
        """Login with the host's UI: login runs on its own thread, and its
        notices and URLs are sent as they come, then the result."""
        events = queue.Queue()

        def run():
            try:
                events.put(pb.LoginEvent(result=self.Login(req, ctx, events)))
            except BaseException as exc:  # handed to the stream, which raises it
                events.put(exc)
        threading.Thread(target=run, name="login", daemon=True).start()
        while True:
            item = events.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.HasField("result"):
                return

    def Refresh(self, req, ctx):
        out = self.impl.refresh(self.config(req.config), Request(url=req.url, credential=_cred_in(req.credential)))
        return pb.RefreshResponse(credential=_credential(out, "refresh"))

    def Apply(self, req, ctx):
        out = self.impl.apply(self.config(req.config), Request(url=req.url, credential=_cred_in(req.credential),
                                                               http=_http_request(req.request)))
        if isinstance(out, values.Applied):
            r = pb.ApplyResponse(headers=values._headers(out.headers))
            if out.state is not None:
                r.state = out.state.encode() if isinstance(out.state, str) else bytes(out.state)
            return r
        return pb.ApplyResponse(headers=values._headers(out))

    def HandleChallenge(self, req, ctx):
        out = self.impl.handle_challenge(self.config(req.config), Request(
            url=req.url, credential=_cred_in(req.credential), http=_http_request(req.request),
            response=_http_response(req.response), retried=req.retried))
        if not isinstance(out, values.Decision):
            raise TypeError(f"handle_challenge answered a {type(out).__name__}, not an authx_plugin.Decision")
        return out.to_proto()

    def Logout(self, req, ctx):
        self.impl.logout(self.config(req.config), Request(url=req.url, credential=_cred_in(req.credential)))
        return pb.LogoutResponse()

    def RunAction(self, req, ctx):
        if req.action not in {a.name for a in self.description.actions}:
            raise errors.Unsupported(f"the {self.name} scheme has no action {req.action!r}")
        config = self.config(req.config) if req.HasField("config") else None
        out = self.impl.run_action(config, Request(
            url=req.url, action=req.action, args=list(req.args), flags=dict(req.flags), stdin=req.stdin,
            credential=_cred_in(req.credential) if req.HasField("credential") else None))
        if out is None or isinstance(out, (str, bytes)):
            out = values.ActionResult(stdout=out or b"")
        enc = (lambda b: b.encode() if isinstance(b, str) else bytes(b))
        return pb.RunActionResponse(stdout=enc(out.stdout), stderr=enc(out.stderr), exit_code=out.exit_code)

    # -- continuations ------------------------------------------------------------

    def _binding(self, config, url):
        """What a continuation is bound to: the config without its secrets, and the URL."""
        public = {k: v for k, v in config.items() if k not in self.secret_fields}
        return hashlib.sha256(json.dumps([public, url], sort_keys=True).encode()).hexdigest()[:32]

    def _resume(self, continuation, config, url, answers):
        """The state of a continuation this plugin issued for this login."""
        try:
            c = json.loads(continuation)
        except ValueError:
            c = None
        if not isinstance(c, dict) or set(c) != {"v", "state", "prompts", "for"} or c["v"] != 1 or \
                not isinstance(c["prompts"], list) or not c["prompts"] or not all(isinstance(p, str) for p in c["prompts"]):
            raise errors.ConfigError("the login continuation is not one this plugin issued")
        if c.get("for") != self._binding(config, url):
            raise errors.LoginRequired("the login continuation belongs to another profile or URL; log in again")
        for p in c["prompts"]:
            if p not in answers:
                raise errors.ConfigError(f'login was resumed without an answer to the prompt "{p}"')
        return c.get("state")


def _credential(out, call):
    if not isinstance(out, values.Credential):
        raise TypeError(f"{call} answered a {type(out).__name__}, not an authx_plugin.Credential")
    return out.to_proto()


def _cred_in(c):
    return values.Credential.from_proto(c)


class _Status(grpc.Status):
    def __init__(self, code, details, trailing_metadata):
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


def abort(ctx, exc, method):
    """End the call with the status of exc (see errors.classify); a bug
    becomes INTERNAL with its traceback in the log, never the message (the
    host masks the profile's secrets in errors, not in log lines)."""
    e = errors.classify(exc)
    if e is None:
        log.error("exception in plugin call", method=method, exception=type(exc).__name__,
                  traceback="".join(traceback.format_tb(exc.__traceback__)))
        ctx.abort(grpc.StatusCode.INTERNAL, errors.one_line(f"plugin failed in {method}: {type(exc).__name__}: {exc}"))
    message = errors.one_line(e) or type(e).__name__
    if e.reason:
        details = errors.status_details(e.code, message, e.reason)
        ctx.abort_with_status(_Status(e.code, message, (("grpc-status-details-bin", details),)))
    ctx.abort(e.code, message)


def _guard(method, fn, streaming):
    if streaming:
        def stream(req, ctx):
            try:
                yield from fn(req, ctx)
            except Exception as exc:
                abort(ctx, exc, method)
        return stream

    def unary(req, ctx):
        try:
            return fn(req, ctx)
        except Exception as exc:
            abort(ctx, exc, method)
    return unary


def _message_class(desc):
    """The generated class of a message descriptor (protobuf 4.22+, then older)."""
    try:
        from google.protobuf.message_factory import GetMessageClass
    except ImportError:
        from google.protobuf import symbol_database
        return symbol_database.Default().GetSymbol(desc.full_name)
    return GetMessageClass(desc)


def _service(module, name, implemented):
    """A handler for every method of a service of a _pb2 module: those in
    implemented, UNIMPLEMENTED for the others (gRPC's own answer)."""
    desc = module.DESCRIPTOR.services_by_name[name]
    handlers = {}
    for m in desc.methods:
        if m.name not in implemented or m.client_streaming:
            continue
        kind = grpc.unary_stream_rpc_method_handler if m.server_streaming else grpc.unary_unary_rpc_method_handler
        handlers[m.name] = kind(_guard(m.name, implemented[m.name], m.server_streaming),
                                request_deserializer=_message_class(m.input_type).FromString,
                                response_serializer=_message_class(m.output_type).SerializeToString)
    return grpc.method_handlers_generic_handler(desc.full_name, handlers)


def auth_scheme_service(scheme):
    """The gRPC handler of authx.plugin.v1.AuthScheme for scheme: Describe,
    Configure and the calls of the capabilities it has (UNIMPLEMENTED for
    the others)."""
    calls = {"Describe": scheme.Describe, "Configure": scheme.Configure}
    for cap, methods in (("login", ("Login", "LoginStream")), ("refresh", ("Refresh",)), ("apply", ("Apply",)),
                         ("handle_challenge", ("HandleChallenge",)), ("logout", ("Logout",)), ("run_action", ("RunAction",))):
        if scheme.has[cap]:
            calls.update({m: getattr(scheme, m) for m in methods})
    return _service(pb, "AuthScheme", calls)


class Stop:
    """How the main thread learns that it must stop: a byte on a pipe.

    A signal handler must take no lock: threading.Event.set() from a handler
    deadlocks when the signal lands while the main thread is inside
    Event.wait(). So the interpreter's own C handler writes the signal's
    number to the pipe (signal.set_wakeup_fd), Shutdown writes a zero byte
    from its gRPC thread, and the main thread waits on the pipe with select.
    """

    SHUTDOWN = 0

    def __init__(self):
        self.r, self.w = os.pipe()
        os.set_blocking(self.w, False)

    def catch(self, *signals):
        """Route signals to the pipe. Call from the main thread."""
        signal.set_wakeup_fd(self.w)
        for sig in signals:
            signal.signal(sig, lambda signum, frame: None)  # the wakeup fd does the work

    def request(self):
        """Ask the main thread to stop; safe from any thread."""
        try:
            os.write(self.w, bytes([self.SHUTDOWN]))
        except BlockingIOError:
            pass  # the pipe is full of stop requests already

    def wait(self, timeout):
        """The reason to stop, or None when timeout seconds pass without one."""
        if not select.select([self.r], [], [], timeout)[0]:
            return None
        byte = os.read(self.r, 1)[0]
        if byte == self.SHUTDOWN:
            return "the host asked the plugin to shut down"
        return f"signal {signal.Signals(byte).name}"


def _refuse(prog, message):
    """Exit 1 with one line on stderr, before any handshake."""
    sys.stderr.write(f"{prog}: {message}\n")
    sys.stderr.flush()
    os._exit(1)


def serve(impl):
    """Serve impl as an authx plugin until the host says stop or dies; never
    returns. impl is an object (a class instance, a module) with a
    description (authx_plugin.Description) or describe(), login(config,
    request), and optionally refresh, apply, handle_challenge, logout,
    run_action and validate_config: see the package's documentation."""
    prog = "authx-plugin-" + str(getattr(getattr(impl, "description", None), "name", "") or "?")
    try:
        scheme = Scheme(impl)
    except (TypeError, ValueError) as err:
        _refuse(prog, f"bad scheme: {err}")
    prog = "authx-plugin-" + scheme.name
    log.module = "plugin." + scheme.name
    if os.environ.get(COOKIE_KEY) != COOKIE_VALUE:
        _refuse(prog, f"this is an authx plugin, started by authx, not by hand (try: authx plugins test {sys.argv[0]})")
    offered = [v.strip() for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(PROTOCOL_MAJOR)).split(",")]
    if str(PROTOCOL_MAJOR) not in offered:
        _refuse(prog, f"this plugin speaks plugin protocol v{PROTOCOL_MAJOR} but the host offers v{'/v'.join(offered)}")
    if os.name != "posix" or os.environ.get("PLUGIN_CLIENT_CERT"):
        _refuse(prog, "the Python SDK serves on a Unix socket without TLS only (no Windows, no AutoMTLS)")
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file holding a secret
    except (ImportError, ValueError, OSError):
        pass

    parent = os.getppid()
    stop = Stop()
    stop.catch(signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    stopping = threading.Event()

    def shutdown(req, ctx):
        stop.request()
        return grpc_controller_pb2.Empty()

    def health(req, ctx):
        if req.service not in ("", "plugin"):
            raise errors.Error(f"unknown service {req.service!r}")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    def stdio(req, ctx):
        # go-plugin's stdio stream: open until the plugin stops, empty (a
        # stray print() goes to stderr, which the host logs at debug level).
        stopping.wait()
        return iter(())

    os.umask(0o077)
    socket_dir = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.gettempdir()
    path = os.path.join(socket_dir, "plugin" + secrets.token_hex(8))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers([
        auth_scheme_service(scheme),
        _service(health_pb2, "Health", {"Check": health}),
        _service(grpc_controller_pb2, "GRPCController", {"Shutdown": shutdown}),
        _service(grpc_stdio_pb2, "GRPCStdio", {"StreamStdio": stdio}),
    ])
    try:
        server.add_insecure_port("unix:" + path)
    except RuntimeError as err:
        _refuse(prog, f"cannot listen on {path}: {err}")
    group = os.environ.get("PLUGIN_UNIX_SOCKET_GROUP")  # go-plugin's option; authx does not set it
    if group:
        import grp
        os.chown(path, -1, int(group) if group.isdigit() else grp.getgrnam(group).gr_gid)
        os.chmod(path, 0o660)
    server.start()

    # The handshake, the only line ever written to stdout; then fd 1 becomes
    # stderr, so a stray print() shows up in the host's debug log instead.
    os.write(1, f"1|{PROTOCOL_MAJOR}|unix|{path}|grpc\n".encode())
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    log.debug("plugin address", network="unix", address=path)

    # Exit when told to, or when the host is gone (we were re-parented).
    while (reason := stop.wait(timeout=1.0)) is None:
        if parent > 1 and os.getppid() != parent:
            reason = "host process is gone"
            break
    log.debug("exiting", reason=reason)
    stopping.set()
    server.stop(grace=0.5).wait(1)
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    sys.stderr.flush()
    os._exit(0)  # a call still running on a thread (a login waiting on a server) must not hold the exit
