'use strict';
// google.protobuf.Struct <-> plain JavaScript values.
//
// protobufjs (under @grpc/proto-loader too) decodes a Value as
// {stringValue: "x", kind: "stringValue"} whatever keepCase says (it ships
// the well-known types with camelCase names), and silently drops a field it
// does not know when encoding ({string_value: "x"} becomes an empty Value,
// so a valid config arrives as {}). So the names are not guessed: they are
// read, by field number, from the loaded descriptor.

const MAX_DEPTH = 100; // deeper is a cycle or an abuse; authx's own limit is far lower

// Value's fields by number, per google/protobuf/struct.proto.
const NUMBERS = { null: 1, number: 2, string: 3, bool: 4, struct: 5, list: 6 };

/**
 * structCodec returns {toStruct, fromStruct, toValue, fromValue} for
 * messages whose google.protobuf.Value has the fields valueFields
 * ([{name, number}], as the loaded descriptor names them).
 *
 * fromStruct(struct) -> plain object; fromValue(value) -> null, number,
 * string, boolean, array or plain object. A missing struct is {} and a
 * Value with no kind set is null.
 * toStruct(object) and toValue(any) accept what JSON.stringify would
 * write, except that undefined object members are left out and undefined
 * array items become null; they throw a TypeError for anything else
 * (functions, symbols, bigints out of range, cycles, non-finite numbers).
 */
function structCodec(valueFields) {
  const name = {};
  for (const [kind, number] of Object.entries(NUMBERS)) {
    const f = valueFields.find((f) => f.number === number);
    if (!f) throw new Error(`google.protobuf.Value has no field ${number}`);
    name[kind] = f.name;
  }
  const kindOf = Object.fromEntries(Object.entries(name).map(([k, n]) => [n, k]));

  function fromValue(v, depth = 0) {
    if (depth > MAX_DEPTH) throw new TypeError('a config nested more than 100 levels deep');
    if (v == null) return null;
    switch (kindOf[v.kind]) {
      case 'number': return v[name.number];
      case 'string': return v[name.string];
      case 'bool': return v[name.bool];
      case 'struct': return fromStruct(v[name.struct], depth + 1);
      case 'list': return ((v[name.list] && v[name.list].values) || []).map((x) => fromValue(x, depth + 1));
      default: return null; // null_value, or no kind at all
    }
  }

  function fromStruct(s, depth = 0) {
    const out = {};
    for (const [k, v] of Object.entries((s && s.fields) || {})) {
      // defineProperty: a key "__proto__" is an own member, not the prototype.
      Object.defineProperty(out, k, { value: fromValue(v, depth), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  function toValue(x, depth = 0, where = 'value') {
    if (depth > MAX_DEPTH) throw new TypeError(`${where}: nested more than 100 levels deep (a cycle?)`);
    if (x === null || x === undefined) return { [name.null]: 'NULL_VALUE' };
    if (typeof x === 'bigint') {
      if (!Number.isSafeInteger(Number(x))) throw new TypeError(`${where}: ${x} does not fit a double exactly`);
      x = Number(x);
    }
    switch (typeof x) {
      case 'number':
        if (!Number.isFinite(x)) throw new TypeError(`${where}: ${x} is not a JSON number`);
        return { [name.number]: x };
      case 'string': return { [name.string]: x };
      case 'boolean': return { [name.bool]: x };
      case 'object':
        if (x instanceof Date) return { [name.string]: x.toISOString() };
        if (Array.isArray(x)) {
          return { [name.list]: { values: x.map((y, i) => toValue(y, depth + 1, `${where}[${i}]`)) } };
        }
        if (ArrayBuffer.isView(x)) throw new TypeError(`${where}: bytes have no JSON form; encode them (base64) first`);
        return { [name.struct]: toStruct(x, depth + 1, where) };
      default:
        throw new TypeError(`${where}: a ${typeof x} has no JSON form`);
    }
  }

  function toStruct(o, depth = 0, where = 'value') {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${where}: not an object`);
    const out = {};
    for (const [k, v] of Object.entries(o)) {
      if (v !== undefined) {
        Object.defineProperty(out, k, { value: toValue(v, depth, `${where}.${k}`), enumerable: true, writable: true, configurable: true });
      }
    }
    return { fields: out };
  }

  return { toStruct, fromStruct, toValue, fromValue };
}

module.exports = { structCodec };
