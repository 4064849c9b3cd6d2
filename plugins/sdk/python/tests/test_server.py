"""A scheme on the SDK served over real gRPC in this process: error classes
as status codes (and the ErrorInfo trailer, decoded by an independent
google.rpc.Status), continuations, capabilities, LoginStream events.
Run: python3 -m unittest discover -s tests (in plugins/sdk/python)."""

import os
import signal
import socket
import sys
import tempfile
import threading
import unittest
import urllib.error
from concurrent import futures

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool  # noqa: E402

import authx_plugin as ax  # noqa: E402
from authx_plugin import server, values  # noqa: E402
from authx_plugin._pb import plugin_pb2 as pb  # noqa: E402

FAILURES = {
    "config": (ax.ConfigError("bad"), grpc.StatusCode.INVALID_ARGUMENT, ""),
    "login-required": (ax.LoginRequired("again; run: authx login"), grpc.StatusCode.FAILED_PRECONDITION, ""),
    "rejected": (ax.Rejected("wrong password"), grpc.StatusCode.UNAUTHENTICATED, ""),
    "network": (ax.NetworkError("no route"), grpc.StatusCode.UNAVAILABLE, ""),
    "http": (ax.HTTPError("HTTP 418"), grpc.StatusCode.ABORTED, ""),
    "server-error": (ax.ServerError("HTTP 502"), grpc.StatusCode.ABORTED, "HTTP_SERVER_ERROR"),
    "forbidden": (ax.Forbidden("no access"), grpc.StatusCode.PERMISSION_DENIED, ""),
    "timeout": (ax.Timeout("slow"), grpc.StatusCode.DEADLINE_EXCEEDED, ""),
    "bad-answer": (ax.BadAnswer("html"), grpc.StatusCode.DATA_LOSS, ""),
    "token-invalid": (ax.TokenInvalid("not a JWT"), grpc.StatusCode.DATA_LOSS, "TOKEN_INVALID"),
    "unsupported": (ax.Unsupported("no"), grpc.StatusCode.UNIMPLEMENTED, ""),
    "plugin": (ax.Error("broken"), grpc.StatusCode.INTERNAL, ""),
    "urllib-401": (urllib.error.HTTPError("https://x/", 401, "Unauthorized", {}, None), grpc.StatusCode.UNAUTHENTICATED, ""),
    "urllib-403": (urllib.error.HTTPError("https://x/", 403, "Forbidden", {}, None), grpc.StatusCode.PERMISSION_DENIED, ""),
    "urllib-503": (urllib.error.HTTPError("https://x/", 503, "Busy", {}, None), grpc.StatusCode.ABORTED, "HTTP_SERVER_ERROR"),
    "urllib-404": (urllib.error.HTTPError("https://x/", 404, "Not Found", {}, None), grpc.StatusCode.ABORTED, ""),
    "urllib-refused": (urllib.error.URLError(ConnectionRefusedError(111, "refused")), grpc.StatusCode.UNAVAILABLE, ""),
    "urllib-timeout": (urllib.error.URLError(socket.timeout("timed out")), grpc.StatusCode.DEADLINE_EXCEEDED, ""),
    "dns": (socket.gaierror(-2, "Name or service not known"), grpc.StatusCode.UNAVAILABLE, ""),
    "bug": (KeyError("k"), grpc.StatusCode.INTERNAL, ""),
}


class Test:
    description = ax.Description(name="sdktest", version="1.2.3", summary="s",
                                 config=[ax.Field("fail"), ax.Field("n", default=2)])

    def validate_config(self, config):
        if config["n"] < 0:
            yield "n", "negative"

    def login(self, config, request):
        if "fail" in config:
            raise FAILURES[config["fail"]][0]
        if not request.answers:
            return ax.InputRequired(ax.Prompt("a", "A: "), ax.Prompt("b", "B: ", secret=True), state={"step": 1})
        if request.ui or request.answers["a"] == "no-ui-check":
            request.notice("open the page")
            request.open_url("https://idp.example/device")
        return ax.Credential(token=request.answers["a"] + request.answers["b"] + str(request.state["step"]))

    def apply(self, config, request):
        return ax.Applied({"X-Sig": request.http.method}, state=b"next")


def status_classes():
    """google.rpc.Status and google.rpc.ErrorInfo, built in a private pool
    (not the SDK's hand encoding) to read the trailer with."""
    f = descriptor_pb2.FileDescriptorProto(name="test_rpc.proto", package="google.rpc", syntax="proto3")
    f.dependency.append("google/protobuf/any.proto")
    st = f.message_type.add(name="Status")
    st.field.add(name="code", number=1, type=5, label=1)
    st.field.add(name="message", number=2, type=9, label=1)
    st.field.add(name="details", number=3, type=11, label=3, type_name=".google.protobuf.Any")
    info = f.message_type.add(name="ErrorInfo")
    info.field.add(name="reason", number=1, type=9, label=1)
    info.field.add(name="domain", number=2, type=9, label=1)
    pool = descriptor_pool.DescriptorPool()
    from google.protobuf import any_pb2
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(f)
    def get(desc):
        try:
            from google.protobuf.message_factory import GetMessageClass
            return GetMessageClass(desc)
        except ImportError:  # protobuf before 4.22
            from google.protobuf import message_factory
            return message_factory.MessageFactory(pool).GetPrototype(desc)
    return get(pool.FindMessageTypeByName("google.rpc.Status")), get(pool.FindMessageTypeByName("google.rpc.ErrorInfo"))


class OverGRPC(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        path = os.path.join(cls.dir.name, "s")
        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        cls.server.add_generic_rpc_handlers([server.auth_scheme_service(server.Scheme(Test()))])
        cls.server.add_insecure_port("unix:" + path)
        cls.server.start()
        cls.channel = grpc.insecure_channel("unix:" + path)
        server.log.min = server.Log.LEVELS["off"]

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop(None)
        cls.dir.cleanup()

    def call(self, method, req, resp, stream=False):
        kind = self.channel.unary_stream if stream else self.channel.unary_unary
        fn = kind("/authx.plugin.v1.AuthScheme/" + method, request_serializer=type(req).SerializeToString,
                  response_deserializer=resp.FromString)
        return fn(req, timeout=10)

    def login(self, config, **kw):
        return self.call("Login", pb.LoginRequest(config=ax.to_struct(config), url="https://a/", **kw), pb.LoginResponse)

    def test_describe_infers_capabilities(self):
        d = self.call("Describe", pb.DescribeRequest(), pb.DescribeResponse)
        self.assertEqual((d.name, d.version, d.protocol_minor), ("sdktest", "1.2.3", ax.PROTOCOL_MINOR))
        self.assertEqual(d.capabilities, pb.Capabilities(login=True, apply=True))
        self.assertEqual([f.name for f in d.config], ["fail", "n"])
        self.assertEqual(d.config[1].default_value.number_value, 2)

    def test_errors_become_status_codes(self):
        Status, ErrorInfo = status_classes()
        for name, (exc, code, reason) in FAILURES.items():
            with self.subTest(name):
                with self.assertRaises(grpc.RpcError) as cm:
                    self.login({"fail": name})
                err = cm.exception
                self.assertEqual(err.code(), code)
                self.assertNotIn("\n", err.details())
                trailer = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
                if not reason:
                    self.assertIsNone(trailer)
                    continue
                st = Status.FromString(trailer)
                self.assertEqual((st.code, st.message), (code.value[0], err.details()))
                self.assertEqual(len(st.details), 1)
                self.assertEqual(st.details[0].type_url, "type.googleapis.com/google.rpc.ErrorInfo")
                info = ErrorInfo.FromString(st.details[0].value)
                self.assertEqual((info.reason, info.domain), (reason, "authx.dev"))

    def test_messages(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.login({"fail": "rejected"})
        self.assertEqual(cm.exception.details(), "wrong password")
        with self.assertRaises(grpc.RpcError) as cm:
            self.login({"fail": "bug"})
        self.assertEqual(cm.exception.details(), "plugin failed in Login: KeyError: 'k'")
        with self.assertRaises(grpc.RpcError) as cm:
            self.login({"fail": "urllib-401"})
        self.assertEqual(cm.exception.details(), "the server answered HTTP 401 (Unauthorized)")

    def test_config_checked_before_the_call(self):
        for config, message in (({"fial": "x"}, 'fial: unknown key; did you mean "fail"?'),
                                ({"n": "x"}, "n: expected a whole number"), ({"n": -1}, "n: negative")):
            with self.subTest(config=config), self.assertRaises(grpc.RpcError) as cm:
                self.login(config)
            self.assertEqual((cm.exception.code(), cm.exception.details()), (grpc.StatusCode.INVALID_ARGUMENT, message))
        r = self.call("Configure", pb.ConfigureRequest(config=ax.to_struct({"fial": 1, "n": -1})), pb.ConfigureResponse)
        self.assertEqual([(d.field, d.message) for d in r.diagnostics],
                         [("fial", 'unknown key; did you mean "fail"?'), ("n", "negative")])

    def test_continuation(self):
        r = self.login({}, interactive=True)
        self.assertEqual([(p.id, p.secret) for p in r.input_required.prompts], [("a", False), ("b", True)])
        cont = r.input_required.continuation
        ok = self.login({}, answers={"a": "x", "b": "y"}, continuation=cont)
        self.assertEqual(ok.credential.token, "xy1")
        cases = [
            (dict(answers={"a": "x", "b": "y"}, continuation=b"forged"), grpc.StatusCode.INVALID_ARGUMENT, "not one this plugin issued"),
            (dict(answers={"a": "x"}, continuation=cont), grpc.StatusCode.INVALID_ARGUMENT, 'without an answer to the prompt "b"'),
        ]
        for kw, code, text in cases:
            with self.subTest(kw=kw), self.assertRaises(grpc.RpcError) as cm:
                self.login({}, **kw)
            self.assertEqual(cm.exception.code(), code)
            self.assertIn(text, cm.exception.details())
        with self.assertRaises(grpc.RpcError) as cm:  # another config
            self.login({"n": 3}, answers={"a": "x", "b": "y"}, continuation=cont)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)

    def test_login_stream_events(self):
        cont = self.login({}).input_required.continuation
        req = pb.LoginRequest(config=ax.to_struct({}), url="https://a/", answers={"a": "x", "b": "y"},
                              continuation=cont, ui=True)
        events = list(self.call("LoginStream", req, pb.LoginEvent, stream=True))
        self.assertEqual([e.WhichOneof("event") for e in events], ["notice", "open_url", "result"])
        self.assertEqual(events[2].result.credential.token, "xy1")
        # Without a UI a login that shows a notice fails at once: it needs the user.
        req.ui = False
        self.assertEqual([e.WhichOneof("event") for e in self.call("LoginStream", req, pb.LoginEvent, stream=True)], ["result"])
        req.answers["a"] = "no-ui-check"
        with self.assertRaises(grpc.RpcError) as cm:
            list(self.call("LoginStream", req, pb.LoginEvent, stream=True))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertTrue(cm.exception.details().endswith("run: authx login"))

    def test_apply_state_and_unclaimed_calls(self):
        r = self.call("Apply", pb.ApplyRequest(config=ax.to_struct({}), request=pb.HTTPRequest(method="POST")), pb.ApplyResponse)
        self.assertEqual(([(h.name, h.value) for h in r.headers], r.HasField("state"), r.state), ([("X-Sig", "POST")], True, b"next"))
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("Refresh", pb.RefreshRequest(), pb.RefreshResponse)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)


class StopPipe(unittest.TestCase):
    """Signals and Shutdown reach the main thread as bytes on a pipe: the
    Python-level handler does nothing, so it takes no lock."""

    def setUp(self):
        self.old = signal.getsignal(signal.SIGUSR1)
        self.stop = server.Stop()
        self.stop.catch(signal.SIGUSR1)

    def tearDown(self):
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGUSR1, self.old)

    def test_signal_and_shutdown(self):
        self.assertIsNone(self.stop.wait(0.01))
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        self.assertEqual(self.stop.wait(5), "signal SIGUSR1")
        threading.Timer(0.05, self.stop.request).start()
        self.assertEqual(self.stop.wait(5), "the host asked the plugin to shut down")
        handler = signal.getsignal(signal.SIGUSR1)
        self.assertIsNone(handler(signal.SIGUSR1, None))  # a no-op: the C handler wrote the byte

    def test_many_requests_never_block(self):
        for _ in range(100000):  # more than a pipe holds
            self.stop.request()
        self.assertEqual(self.stop.wait(1), "the host asked the plugin to shut down")


class SchemeChecks(unittest.TestCase):
    def test_bad_schemes_refused(self):
        class NoDescription:
            def login(self, config, request):
                pass
        with self.assertRaises(TypeError):
            server.Scheme(NoDescription())

        class BadName:
            description = ax.Description(name="Bad Name")
        with self.assertRaises(ValueError):
            server.Scheme(BadName())

    def test_describe_method_and_module(self):
        class M:
            @staticmethod
            def describe():
                return ax.Description(name="m")

            @staticmethod
            def refresh(config, request):
                pass
        s = server.Scheme(M)
        self.assertEqual((s.name, s.has["refresh"], s.has["login"]), ("m", True, False))

    def test_decision(self):
        p = ax.Decision("retry", "stale", ax.Credential(token="t"), replay_safe=True).to_proto()
        self.assertEqual((p.decision, p.credential.token, p.replay_safe), (pb.HandleChallengeResponse.DECISION_RETRY, "t", True))
        with self.assertRaises(ValueError):
            ax.Decision("maybe").to_proto()
        self.assertIs(values.Decision, ax.Decision)


if __name__ == "__main__":
    unittest.main()
