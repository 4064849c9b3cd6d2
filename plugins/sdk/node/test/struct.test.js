'use strict';
// Struct <-> plain values through the real wire encoding: random values
// (seeded, so a failure repeats) survive toStruct -> bytes -> fromStruct,
// and what has no JSON form is refused with a TypeError.
const test = require('node:test');
const assert = require('node:assert');
const { _internal: { loadProtos, structCodec } } = require('..');

const { services, valueFields } = loadProtos();
const codec = structCodec(valueFields);
const configure = services.AuthScheme.Configure;
const wire = (config) => configure.requestDeserialize(configure.requestSerialize({ config: codec.toStruct(config) })).config;

function rng(seed) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}
function randomValue(r, depth) {
  const pick = Math.floor(r() * (depth > 4 ? 4 : 7));
  const str = () => ['', 'x', 'a b', 'string_value', 'stringValue', '__proto__', 'ünï', '\u0000', '"\\'][Math.floor(r() * 9)] + (r() < 0.3 ? String(Math.floor(r() * 100)) : '');
  switch (pick) {
    case 0: return null;
    case 1: return [0, -0.5, 1e21, 2 ** 53 - 1, -7, 3.14159, Number.MIN_VALUE][Math.floor(r() * 7)];
    case 2: return str();
    case 3: return r() < 0.5;
    case 4: case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) Object.defineProperty(o, str(), { value: randomValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    }
  }
}

test('random configs survive the wire', () => {
  const r = rng(14);
  for (let i = 0; i < 2000; i++) {
    const config = { v: randomValue(r, 0), w: randomValue(r, 0) };
    assert.deepStrictEqual(codec.fromStruct(wire(config)), config);
  }
});

test('the trap: a Value arrives with camelCase names and a kind', () => {
  const s = wire({ a: 'x', b: { c: [1, true, null] } });
  assert.strictEqual(s.fields.a.kind, 'stringValue');
  assert.deepStrictEqual(codec.fromStruct(s), { a: 'x', b: { c: [1, true, null] } });
});

test('no JSON form, no Struct', () => {
  for (const bad of [{ f() {} }, { n: NaN }, { i: Infinity }, { s: Symbol('x') }, { b: Buffer.from('x') }, { big: 2n ** 60n }]) {
    assert.throws(() => codec.toStruct(bad), TypeError, JSON.stringify(Object.keys(bad)));
  }
  const cycle = {};
  cycle.self = cycle;
  assert.throws(() => codec.toStruct(cycle), /nested more than 100 levels/);
  assert.throws(() => codec.toStruct([1]), /not an object/);
  assert.deepStrictEqual(codec.fromStruct(wire({ u: undefined, l: [undefined], d: new Date(0), n: 5n })), { l: [null], d: '1970-01-01T00:00:00.000Z', n: 5 });
  assert.deepStrictEqual(codec.fromStruct(null), {});
});
