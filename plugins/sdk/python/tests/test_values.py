"""Struct <-> native values, the config schema's checks, and the dataclasses'
protocol messages. Run: python3 -m unittest discover -s tests (in plugins/sdk/python)."""

import datetime
import math
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from google.protobuf import struct_pb2  # noqa: E402

import authx_plugin as ax  # noqa: E402
from authx_plugin import values  # noqa: E402


def wire(d):
    """d through the wire: encoded, serialized, parsed, decoded."""
    return ax.from_struct(struct_pb2.Struct.FromString(ax.to_struct(d).SerializeToString()))


class StructRoundTrip(unittest.TestCase):
    def test_nested_lists_numbers_null_bools(self):
        d = {
            "s": "text with ünïcode and \"quotes\"\n",
            "empty": "",
            "t": True, "f": False, "null": None,
            "int": 42, "neg": -7, "zero": 0, "big": 2**53, "float": 1.5, "tiny": -1e-300,
            "list": [1, "two", None, False, [3, [4.25]], {"k": "v"}],
            "emptylist": [], "emptyobj": {},
            "obj": {"a": {"b": {"c": [True, None, {"d": "deep"}]}}},
        }
        got = wire(d)
        self.assertEqual(got, d)
        # Types survive, not only values: True is not 1, 42 is an int, 1.5 a float.
        self.assertIs(got["t"], True)
        self.assertIs(type(got["int"]), int)
        self.assertIs(type(got["big"]), int)
        self.assertIs(type(got["float"]), float)
        self.assertIs(type(got["list"][4][1][0]), float)
        self.assertIsNone(got["null"])

    def test_numbers_arrive_as_doubles(self):
        # The host sends every number as a double: 5.0 is the int 5, beyond
        # 2**53 or with a fraction it stays a float.
        s = struct_pb2.Struct()
        s.update({"a": 5.0, "b": 2.0**60, "c": 0.1, "d": -0.0})
        s.fields["e"].number_value = math.inf
        got = ax.from_struct(s)
        self.assertEqual(got["a"], 5)
        self.assertIs(type(got["a"]), int)
        self.assertIs(type(got["b"]), float)
        self.assertEqual(got["c"], 0.1)
        self.assertEqual(got["e"], math.inf)

    def test_unset_value_is_none(self):
        s = struct_pb2.Struct()
        s.fields["x"].SetInParent()  # a Value with no kind set
        self.assertEqual(ax.from_struct(s), {"x": None})

    def test_refuses_what_json_cannot_hold(self):
        for bad in ({1: "x"}, {"b": b"bytes"}, {"s": {1, 2}}, {"o": object()}, {"n": 2**53 + 1}):
            with self.subTest(bad=bad), self.assertRaises(TypeError):
                ax.to_struct(bad)

    def test_tuple_is_a_list(self):
        self.assertEqual(wire({"t": (1, 2)}), {"t": [1, 2]})


class Schema(unittest.TestCase):
    fields = [ax.Field("url", required=True), ax.Field("header", default="X-Key"), ax.Field("retries", default=3),
              ax.Field("verbose", bool), ax.Field("timeout", ax.DURATION, default="30s"), ax.Field("scopes", list),
              ax.Field("body", dict), ax.Field("mode", enum=("a", "b")), ax.Field("password", secret=True)]

    def check(self, config):
        return values.check_config(self.fields, config)

    def test_valid_config_gets_defaults(self):
        problems, clean = self.check({"url": "https://x", "retries": 5, "scopes": ["a"], "body": {"k": 1}, "mode": "b",
                                      "verbose": False, "timeout": "1h30m"})
        self.assertEqual(problems, [])
        self.assertEqual(clean["header"], "X-Key")
        self.assertEqual(clean["retries"], 5)
        self.assertEqual(clean["timeout"], "1h30m")
        self.assertNotIn("password", clean)

    def test_every_problem_named(self):
        problems, clean = self.check({"urll": "x", "retries": 1.5, "verbose": "yes", "timeout": "soon",
                                      "scopes": ["a", 1], "body": [], "mode": "c", "header": 7, "password": 5})
        got = dict(problems)
        self.assertEqual(got["urll"], 'unknown key; did you mean "url"?')
        self.assertEqual(got["url"], "required")
        self.assertEqual(got["retries"], "expected a whole number")
        self.assertEqual(got["verbose"], "expected true or false")
        self.assertIn("is not a duration", got["timeout"])
        self.assertEqual(got["scopes"], "expected a list of strings")
        self.assertEqual(got["body"], "expected an object")
        self.assertEqual(got["mode"], "expected one of a, b")
        self.assertEqual(got["header"], "expected a string")
        self.assertEqual(got["password"], "expected a string")
        self.assertEqual(len(problems), 10)
        # The values that failed are not handed on; defaults fill their place.
        self.assertEqual(clean, {"header": "X-Key", "retries": 3, "timeout": "30s"})

    def test_a_bool_is_not_an_int(self):
        self.assertEqual(dict(self.check({"url": "u", "retries": True})[0]), {"retries": "expected a whole number"})

    def test_unknown_key_without_a_close_match(self):
        self.assertEqual(self.check({"url": "u", "zzz": 1})[0], [("zzz", "unknown key (known: body, header, mode, "
                                                                           "password, retries, scopes, timeout, url, verbose)")])

    def test_field_types_on_the_wire(self):
        pb = values.pb
        types = [f.to_proto().type for f in self.fields]
        self.assertEqual(types, [pb.FIELD_TYPE_STRING, pb.FIELD_TYPE_STRING, pb.FIELD_TYPE_INT, pb.FIELD_TYPE_BOOL,
                                 pb.FIELD_TYPE_DURATION, pb.FIELD_TYPE_STRING_LIST, pb.FIELD_TYPE_OBJECT,
                                 pb.FIELD_TYPE_STRING, pb.FIELD_TYPE_STRING])
        self.assertEqual(self.fields[1].to_proto().default_value.string_value, "X-Key")
        self.assertTrue(self.fields[8].to_proto().secret)
        for bad in (dict(type=float), dict(default=1.5), dict(type=set)):
            with self.subTest(bad=bad), self.assertRaises(TypeError):
                ax.Field("x", **bad)


class Credentials(unittest.TestCase):
    def test_round_trip(self):
        exp = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        c = ax.Credential(token="t", headers={"Authorization": "Bearer t", "X-A": "1"}, scope=["https://a/"],
                          state=b"\x00\xffstate", per_request=True, id_token="i", expires_at=exp,
                          cookies=[ax.Cookie("sid", "v", "a.example", "/", exp, True, True)])
        p = c.to_proto()
        self.assertEqual([(h.name, h.value) for h in p.headers], [("Authorization", "Bearer t"), ("X-A", "1")])
        back = ax.Credential.from_proto(type(p).FromString(p.SerializeToString()))
        self.assertEqual(back, c)

    def test_expires_in_and_str_state(self):
        p = ax.Credential(token="t", expires_in=60, state="s").to_proto()
        left = p.expires_at.ToDatetime() - datetime.datetime.utcnow()
        self.assertTrue(55 < left.total_seconds() <= 60, left)
        self.assertEqual(p.state, b"s")
        with self.assertRaises(ValueError):
            ax.Credential(expires_at=datetime.datetime(2030, 1, 1)).to_proto()  # naive


if __name__ == "__main__":
    unittest.main()
