'use strict';
// authx-plugin-sdk: an authx scheme (an authx.plugin.v1 plugin) in Node.js.
//
// The author writes a scheme: an object (or class instance) with describe()
// and login(config, request), and optionally refresh, apply,
// handleChallenge, logout, runAction and validateConfig, plain or async
// functions; serve(scheme) does the rest: go-plugin's handshake, the
// grpc.health.v1 and plugin.GRPCController/GRPCStdio services, exiting on
// Shutdown, SIGINT/SIGTERM or the host's death, google.protobuf.Struct <->
// plain values, and the error classes below -> gRPC status codes. See
// README.md and docs/plugin-protocol.md.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
// A missing dependency is one line and exit 1, which authx shows as the
// reason the plugin did not start (Node's own report ends in its version).
const load = (name) => {
  try {
    return require(name);
  } catch (err) {
    fs.writeSync(2, `authx-plugin-sdk: cannot load ${name}: ${String(err.message).split('\n')[0]} (the plugin's node_modules is incomplete: run npm ci)\n`);
    process.exit(1);
  }
};
const grpc = load('@grpc/grpc-js');
const protobuf = load('protobufjs/light');
const { structCodec } = require('./struct');

const COOKIE_KEY = 'AUTHX_PLUGIN';
const COOKIE_VALUE = '6c1fa2b1-authx-plugin-v1';
const PROTOCOL_MAJOR = 1; // the "v1" of authx.plugin.v1, negotiated through go-plugin
const PROTOCOL_MINOR = 4; // the minor this SDK implements (LoginStream, Apply state, retried)
const { status: Code } = grpc;

// ---- errors ------------------------------------------------------------------

/**
 * PluginError is a failure answered as a gRPC status: the class says what
 * happened (and so authx's exit code, docs/exit-codes.md), the message is
 * one line for the user and must never hold a secret.
 */
class PluginError extends Error {
  constructor(message, code) {
    super(String(message));
    this.name = new.target.name;
    this.code = code;
  }
}
/** ConfigError: bad configuration (INVALID_ARGUMENT, exit 2). field names the config path. */
class ConfigError extends PluginError {
  constructor(message, { field } = {}) {
    super(field ? `${field}: ${message}` : message, Code.INVALID_ARGUMENT);
    this.field = field || '';
    this.diagnosis = String(message);
  }
}
/** LoginRequired: a new login is needed (exit 3 if it needs the user; end the message with `run: authx login`). */
class LoginRequired extends PluginError {
  constructor(message) { super(message, Code.FAILED_PRECONDITION); }
}
/** Rejected: the server rejected the credentials (exit 4). */
class Rejected extends PluginError {
  constructor(message) { super(message, Code.UNAUTHENTICATED); }
}
/** Unreachable: the server could not be reached: connection, DNS, TLS (exit 5). */
class Unreachable extends PluginError {
  constructor(message) { super(message, Code.UNAVAILABLE); }
}
/** Timeout: the server did not answer in time (exit 15). */
class Timeout extends PluginError {
  constructor(message) { super(message, Code.DEADLINE_EXCEEDED); }
}
/** BadAnswer: the server answered, but not in a usable form (exit 16). */
class BadAnswer extends PluginError {
  constructor(message) { super(message, Code.DATA_LOSS); }
}
/** HTTPError: the server answered an HTTP error (exit 7); as the Python SDK's. */
class HTTPError extends PluginError {
  constructor(message) { super(message, Code.ABORTED); }
}
/** Forbidden: the server knows the user but refuses for lack of a permission (exit 14). */
class Forbidden extends PluginError {
  constructor(message) { super(message, Code.PERMISSION_DENIED); }
}
/** Unsupported: a capability or action not offered (exit 10). */
class Unsupported extends PluginError {
  constructor(message) { super(message, Code.UNIMPLEMENTED); }
}
/** ServerError: the server answered 5xx (ABORTED with the ErrorInfo reason HTTP_SERVER_ERROR, exit 12); as the Python SDK's. */
class ServerError extends PluginError {
  constructor(message) { super(message, Code.ABORTED); this.reason = 'HTTP_SERVER_ERROR'; }
}
/** TokenInvalid: the server issued a token that is not a well-formed JWT (DATA_LOSS with TOKEN_INVALID, exit 13). */
class TokenInvalid extends PluginError {
  constructor(message) { super(message, Code.DATA_LOSS); this.reason = 'TOKEN_INVALID'; }
}

/**
 * statusDetails encodes a google.rpc.Status holding one google.rpc.ErrorInfo
 * {reason, domain: "authx.dev"}, the grpc-status-details-bin trailer by which
 * a failure is finer than its code (docs/plugin-protocol.md, "Errors").
 */
function statusDetails(code, message, reason) {
  const W = () => protobuf.Writer.create();
  const info = W().uint32(10).string(reason).uint32(18).string('authx.dev').finish();
  const any = W().uint32(10).string('type.googleapis.com/google.rpc.ErrorInfo').uint32(18).bytes(info).finish();
  return Buffer.from(W().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish());
}

/**
 * InputRequired, returned (or thrown) by login, asks authx to prompt the
 * user ([{id, message, secret}]) and call login again with
 * request.answers[id] and request.continuation = continuation (a string or
 * bytes the SDK hands back unchanged; never trust it).
 */
class InputRequired {
  constructor(prompts, continuation = '') {
    this.prompts = prompts;
    this.continuation = continuation;
  }
}

// ---- logging -----------------------------------------------------------------

const LEVELS = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

/** hclog JSON lines on stderr, which authx shows at its own log level. Never log a secret. */
class Log {
  constructor(module, level = process.env.AUTHX_LOG_LEVEL) {
    this.module = module;
    this.min = LEVELS[String(level || '').toLowerCase()] ?? LEVELS.info;
  }
  write(level, message, fields = {}) {
    if (LEVELS[level] < this.min) return;
    // hclog's time layout has microseconds: go-plugin shows a line whose
    // @timestamp it cannot parse as plain text.
    const now = new Date().toISOString().replace('Z', '000Z');
    const entry = { '@level': level, '@message': String(message), '@module': this.module, '@timestamp': now, ...fields };
    try {
      fs.writeSync(2, JSON.stringify(entry) + '\n');
    } catch { /* the host is gone: nobody to tell */ }
  }
  trace(m, f) { this.write('trace', m, f); }
  debug(m, f) { this.write('debug', m, f); }
  info(m, f) { this.write('info', m, f); }
  warn(m, f) { this.write('warn', m, f); }
  error(m, f) { this.write('error', m, f); }
}
const log = new Log('plugin');

// ---- conversions -------------------------------------------------------------

const bytes = (x, what) => {
  if (x == null) return Buffer.alloc(0);
  if (typeof x === 'string') return Buffer.from(x, 'utf8');
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError(`${what}: expected a string or bytes`);
};

const toTimestamp = (t, what) => {
  if (t == null) return null;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t;
  if (!Number.isFinite(ms)) throw new TypeError(`${what}: not a time (a Date, milliseconds or an ISO string)`);
  return { seconds: Math.floor(ms / 1000), nanos: Math.round((ms - Math.floor(ms / 1000) * 1000) * 1e6) };
};
const fromTimestamp = (t) => (t ? new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)) : null);

/** Headers as {name: value} or [{name, value}] -> [{name, value}]. */
const toHeaders = (h, what) => {
  if (h == null) return [];
  const list = Array.isArray(h) ? h : Object.entries(h).map(([name, value]) => ({ name, value }));
  return list.map((x, i) => {
    if (typeof x?.name !== 'string' || typeof x?.value !== 'string') throw new TypeError(`${what}[${i}]: a header is {name, value} strings`);
    return { name: x.name, value: x.value };
  });
};

/** A credential as the author writes it -> the proto message. */
function toCredential(c, what = 'credential') {
  if (c === null || typeof c !== 'object') throw new TypeError(`${what}: expected an object`);
  const expiresAt = c.expiresAt != null ? toTimestamp(c.expiresAt, `${what}.expiresAt`)
    : c.expiresIn != null ? toTimestamp(Date.now() + 1000 * c.expiresIn, `${what}.expiresIn`) : null;
  return {
    token: c.token ?? '',
    idToken: c.idToken ?? '',
    headers: toHeaders(c.headers, `${what}.headers`),
    cookies: (c.cookies || []).map((k, i) => ({
      name: k.name, value: k.value, domain: k.domain || '', path: k.path || '',
      expires: toTimestamp(k.expires, `${what}.cookies[${i}].expires`), secure: !!k.secure, httpOnly: !!k.httpOnly,
    })),
    expiresAt,
    scope: c.scope || [],
    state: bytes(c.state, `${what}.state`),
    perRequest: !!c.perRequest,
  };
}

/** The proto message -> what the author reads: expiresAt a Date or null, state a Buffer. */
function fromCredential(c) {
  if (!c) return null;
  return {
    token: c.token, idToken: c.idToken, headers: c.headers,
    cookies: c.cookies.map((k) => ({ ...k, expires: fromTimestamp(k.expires) })),
    expiresAt: fromTimestamp(c.expiresAt), scope: c.scope, state: Buffer.from(c.state || []), perRequest: c.perRequest,
  };
}

const fromHTTPResponse = (r) => (r ? { status: r.status, headers: r.headers, body: Buffer.from(r.bodyPrefix || []) } : null);

/** The edit distance of a and b counting a swap of neighbours as one edit, for "did you mean". */
function editDistance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const FIELD_TYPES = ['string', 'bool', 'int', 'duration', 'string_list', 'object'];
const DECISIONS = ['fail', 'retry', 'refresh', 'login'];

// ---- the scheme --------------------------------------------------------------

/**
 * Scheme wraps the author's object: its described metadata (checked once,
 * at start), and a method per call of the AuthScheme service, each taking
 * the decoded request and answering the proto response or throwing.
 */
class Scheme {
  constructor(impl, codec) {
    this.impl = impl;
    this.codec = codec;
    if (typeof impl?.describe !== 'function') throw new TypeError('the scheme has no describe() method');
    const d = impl.describe();
    if (!/^[a-z0-9][a-z0-9-]*$/.test(d?.name || '')) throw new TypeError(`describe(): name ${JSON.stringify(d?.name)} is not lowercase letters, digits and '-'`);
    this.d = d;
    this.fields = (d.config || []).map((f, i) => this.field(f, `describe(): config[${i}]`));
    this.actions = new Map((d.actions || []).map((a) => [a.name, a]));
    const has = (m) => typeof impl[m] === 'function';
    this.capabilities = {
      login: has('login'), refresh: has('refresh'), apply: has('apply'), handleChallenge: has('handleChallenge'),
      logout: has('logout'), actions: this.actions.size > 0, loginChallenge: !!d.loginChallenge,
    };
    for (const [name, a] of this.actions) {
      if (typeof a.run !== 'function' && !has('runAction')) throw new TypeError(`describe(): action ${name} has no run() and the scheme no runAction()`);
    }
  }

  field(f, what) {
    const type = f.type || 'string';
    if (!FIELD_TYPES.includes(type)) throw new TypeError(`${what}: type ${JSON.stringify(type)} is not one of ${FIELD_TYPES.join(', ')}`);
    return {
      name: f.name, type: `FIELD_TYPE_${type.toUpperCase()}`, required: !!f.required, secret: !!f.secret,
      defaultValue: f.default === undefined ? null : this.codec.toValue(f.default, 0, `${what}.default`),
      help: f.help || '', enum: f.enum || [], default: f.default, plainType: type,
    };
  }

  describe() {
    const d = this.d;
    return {
      name: d.name, version: d.version || '0.0.0', protocolMinor: PROTOCOL_MINOR, summary: d.summary || '',
      capabilities: this.capabilities, config: this.fields,
      actions: [...this.actions.values()].map((a, i) => ({
        name: a.name, summary: a.summary || '', usage: a.usage || '', needsProfile: !!a.needsProfile, acceptsProfile: !!a.acceptsProfile,
        flags: (a.flags || []).map((f, j) => this.field(f, `describe(): actions[${i}].flags[${j}]`)),
      })),
    };
  }

  /** The config a call hands the author: the Struct as plain values, defaults filled in. */
  config(struct) {
    const config = this.codec.fromStruct(struct);
    for (const f of this.fields) {
      if (config[f.name] === undefined && f.default !== undefined) config[f.name] = structuredClone(f.default);
    }
    return config;
  }

  /** Diagnostics for a config: the declared types, then the author's validateConfig. */
  async diagnose(config) {
    const out = [];
    const is = {
      string: (v) => typeof v === 'string', duration: (v) => typeof v === 'string', bool: (v) => typeof v === 'boolean',
      int: Number.isInteger, string_list: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
      object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
    };
    const known = this.fields.map((f) => f.name);
    for (const k of Object.keys(config).sort()) {
      if (known.includes(k)) continue;
      const close = known.find((n) => editDistance(n, k) <= Math.max(1, Math.floor(n.length / 3)));
      out.push({ severity: 'SEVERITY_ERROR', field: k, message: close ? `unknown key; did you mean ${JSON.stringify(close)}?` : `unknown key (known: ${known.join(', ') || 'none'})` });
    }
    for (const f of this.fields) {
      const v = config[f.name];
      if (v === undefined || v === null) {
        if (f.required) out.push({ severity: 'SEVERITY_ERROR', field: f.name, message: 'required' });
      } else if (!is[f.plainType](v)) {
        out.push({ severity: 'SEVERITY_ERROR', field: f.name, message: `expected ${f.plainType === 'int' ? 'an integer' : `a ${f.plainType.replace('_', ' ')}`}` });
      } else if (f.enum.length && !f.enum.includes(v)) {
        out.push({ severity: 'SEVERITY_ERROR', field: f.name, message: `${f.secret ? 'the value' : JSON.stringify(v)} is not one of ${f.enum.join(', ')}` });
      }
    }
    if (out.length || typeof this.impl.validateConfig !== 'function') return out;
    try {
      for (const d of (await this.impl.validateConfig(config)) || []) {
        const x = typeof d === 'string' ? { message: d } : d;
        out.push({ severity: x.severity === 'warning' ? 'SEVERITY_WARNING' : 'SEVERITY_ERROR', field: x.field || '', message: String(x.message) });
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      out.push({ severity: 'SEVERITY_ERROR', field: err.field, message: err.diagnosis });
    }
    return out;
  }

  /** The config of a call that acts on it: refused with its first error diagnostic. */
  async checked(struct) {
    const config = this.config(struct);
    const bad = (await this.diagnose(config)).find((d) => d.severity === 'SEVERITY_ERROR');
    if (bad) throw new ConfigError(bad.message, { field: bad.field });
    return config;
  }

  async configure(req) {
    return { diagnostics: await this.diagnose(this.config(req.config)) };
  }

  /** login and LoginStream's; send(event) shows the user a notice or URL, or is null without a UI. */
  async login(req, send) {
    const config = await this.checked(req.config);
    const needUser = () => { throw new LoginRequired('this login needs the user; run: authx login'); };
    const request = {
      url: req.url, interactive: req.interactive, ui: !!send, answers: { ...req.answers },
      continuation: Buffer.from(req.continuation || []), challenge: fromHTTPResponse(req.challenge),
      notice: send ? (message) => send({ notice: { message: String(message) } }) : needUser,
      openURL: send ? (url) => send({ openUrl: { url: String(url) } }) : needUser,
    };
    let r;
    try {
      r = await this.impl.login(config, request);
    } catch (err) {
      if (!(err instanceof InputRequired)) throw err;
      r = err;
    }
    if (r instanceof InputRequired) {
      return { inputRequired: { prompts: r.prompts.map((p) => ({ id: p.id, message: p.message || '', secret: !!p.secret })), continuation: bytes(r.continuation, 'continuation') } };
    }
    return { credential: toCredential(r) };
  }

  async refresh(req) {
    const config = await this.checked(req.config);
    const r = await this.impl.refresh(config, { url: req.url, credential: fromCredential(req.credential) });
    return { credential: toCredential(r) };
  }

  async apply(req) {
    const config = await this.checked(req.config);
    const r = (await this.impl.apply(config, {
      url: req.url, credential: fromCredential(req.credential),
      request: { method: req.request?.method || '', url: req.request?.url || '', headers: req.request?.headers || [], bodySha256: Buffer.from(req.request?.bodySha256 || []) },
    })) || {};
    const out = { headers: toHeaders(r.headers, 'apply: headers') };
    if (r.state !== undefined) out.state = bytes(r.state, 'apply: state');
    return out;
  }

  async handleChallenge(req) {
    const config = await this.checked(req.config);
    const r = (await this.impl.handleChallenge(config, {
      url: req.url, retried: req.retried, credential: fromCredential(req.credential),
      request: req.request, response: fromHTTPResponse(req.response),
    })) || {};
    if (!DECISIONS.includes(r.decision)) throw new TypeError(`handleChallenge: decision ${JSON.stringify(r.decision)} is not one of ${DECISIONS.join(', ')}`);
    return {
      decision: `DECISION_${r.decision.toUpperCase()}`, diagnosis: r.diagnosis || '', replaySafe: !!r.replaySafe,
      credential: r.credential ? toCredential(r.credential) : null,
    };
  }

  async logout(req) {
    await this.impl.logout(await this.checked(req.config), { url: req.url, credential: fromCredential(req.credential) });
    return {};
  }

  async runAction(req) {
    const a = this.actions.get(req.action);
    if (!a) throw new Unsupported(`the ${this.d.name} scheme has no action ${JSON.stringify(req.action)}`);
    const config = req.config ? await this.checked(req.config) : null;
    const request = { action: req.action, args: req.args, flags: { ...req.flags }, url: req.url, credential: fromCredential(req.credential), stdin: Buffer.from(req.stdin || []) };
    const r = (typeof a.run === 'function' ? await a.run.call(this.impl, config, request) : await this.impl.runAction(config, request)) || {};
    const exitCode = r.exitCode ?? 0;
    if (!Number.isInteger(exitCode)) throw new TypeError('runAction: exitCode is not an integer');
    return { stdout: bytes(r.stdout, 'runAction: stdout'), stderr: bytes(r.stderr, 'runAction: stderr'), exitCode };
  }
}

// ---- serving -----------------------------------------------------------------

/**
 * loadProtos returns the protocol's services as grpc-js service
 * definitions, and the fields of google.protobuf.Value, from
 * descriptor.json (made from proto/ by generate.js). Messages are plain
 * objects with camelCase fields: 64-bit integers as numbers, enums as
 * their names, bytes as Buffers, unset scalars as their defaults, and a
 * oneof's member name in the oneof's own field.
 */
function loadProtos() {
  const root = protobuf.Root.fromJSON(require('./descriptor.json')).resolveAll();
  const opts = { longs: Number, enums: String, defaults: true, oneofs: true };
  const service = (fullName) => {
    const def = {};
    for (const m of root.lookupService(fullName).methodsArray) {
      const [req, res] = [m.resolvedRequestType, m.resolvedResponseType];
      def[m.name] = {
        path: `/${fullName}/${m.name}`, originalName: m.name,
        requestStream: !!m.requestStream, responseStream: !!m.responseStream,
        requestSerialize: (o) => Buffer.from(req.encode(req.fromObject(o)).finish()),
        requestDeserialize: (b) => req.toObject(req.decode(b), opts),
        responseSerialize: (o) => Buffer.from(res.encode(res.fromObject(o)).finish()),
        responseDeserialize: (b) => res.toObject(res.decode(b), opts),
      };
    }
    return def;
  };
  return {
    services: {
      AuthScheme: service('authx.plugin.v1.AuthScheme'), Health: service('grpc.health.v1.Health'),
      GRPCController: service('plugin.GRPCController'), GRPCStdio: service('plugin.GRPCStdio'),
    },
    valueFields: root.lookupType('google.protobuf.Value').fieldsArray.map((f) => ({ name: f.name, number: f.id })),
  };
}

/** One line on stderr and exit 1, before any handshake. */
function refuse(prog, message) {
  fs.writeSync(2, `${prog}: ${message}\n`);
  process.exit(1);
}

/** A status for the host: the class's code, one line; anything else is INTERNAL, logged with its stack. */
function toStatus(err, method, prog) {
  if (err instanceof PluginError) {
    const details = err.message.split('\n')[0];
    if (!err.reason) return { code: err.code, details };
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', statusDetails(err.code, details, err.reason));
    return { code: err.code, details, metadata };
  }
  log.error('exception in plugin call', { method, error: String(err && err.stack || err) });
  return { code: Code.INTERNAL, details: `plugin ${prog} failed in ${method}` };
}

/**
 * serve(scheme) runs the plugin until authx lets it go: it checks what
 * authx sent (cookie, protocol version), listens on a Unix socket, prints
 * the handshake line (the only write to stdout: afterwards stdout is
 * stderr), and exits 0 on Shutdown, SIGINT, SIGTERM or when its parent is
 * gone. A plugin started by hand gets one line and exit 1.
 */
function serve(impl) {
  const name = (() => { try { return impl.describe().name; } catch { return 'unknown'; } })();
  const prog = `authx-plugin-${name}`;
  log.module = `plugin.${name}`;
  if (process.env[COOKIE_KEY] !== COOKIE_VALUE) {
    refuse(prog, `this is an authx plugin, started by authx, not by hand (try: authx plugins test ${process.argv[1] || prog})`);
  }
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS || String(PROTOCOL_MAJOR)).split(',').map((v) => v.trim());
  if (!offered.includes(String(PROTOCOL_MAJOR))) {
    refuse(prog, `this plugin speaks plugin protocol v${PROTOCOL_MAJOR} but the host offers v${offered.join('/v')}`);
  }
  if (process.platform === 'win32' || process.env.PLUGIN_CLIENT_CERT) {
    refuse(prog, 'the Node SDK serves on a Unix socket without TLS only (no Windows, no AutoMTLS)');
  }
  const { services, valueFields } = loadProtos();
  let scheme;
  try {
    scheme = new Scheme(impl, structCodec(valueFields));
  } catch (err) {
    refuse(prog, err.message);
  }

  const server = new grpc.Server();
  const stdio = new Set();
  let stopping = null;
  const parent = process.ppid;

  const unary = (method, fn) => (call, callback) => {
    Promise.resolve().then(() => fn(call.request)).then((r) => callback(null, r), (err) => callback(toStatus(err, method, prog)));
  };
  const unimplemented = (method) => (call, callback) => {
    const status = { code: Code.UNIMPLEMENTED, details: `the ${name} scheme does not support ${method}` };
    if (callback) callback(status); else call.emit('error', status);
  };
  const can = scheme.capabilities;
  server.addService(services.AuthScheme, {
    Describe: unary('Describe', () => scheme.describe()),
    Configure: unary('Configure', (r) => scheme.configure(r)),
    Login: can.login ? unary('Login', (r) => scheme.login(r, null)) : unimplemented('Login'),
    LoginStream: can.login ? (call) => {
      const send = call.request.ui ? (event) => call.write(event) : null;
      scheme.login(call.request, send).then((result) => { call.write({ result }); call.end(); },
        (err) => call.emit('error', toStatus(err, 'LoginStream', prog)));
    } : unimplemented('LoginStream'),
    Refresh: can.refresh ? unary('Refresh', (r) => scheme.refresh(r)) : unimplemented('Refresh'),
    Apply: can.apply ? unary('Apply', (r) => scheme.apply(r)) : unimplemented('Apply'),
    HandleChallenge: can.handleChallenge ? unary('HandleChallenge', (r) => scheme.handleChallenge(r)) : unimplemented('HandleChallenge'),
    Logout: can.logout ? unary('Logout', (r) => scheme.logout(r)) : unimplemented('Logout'),
    RunAction: can.actions ? unary('RunAction', (r) => scheme.runAction(r)) : unimplemented('RunAction'),
  });
  server.addService(services.Health, {
    Check: (call, callback) => {
      if (!['', 'plugin'].includes(call.request.service)) {
        return callback({ code: Code.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
      }
      callback(null, { status: 'SERVING' });
    },
    Watch: unimplemented('Watch'),
  });
  server.addService(services.GRPCController, {
    Shutdown: (call, callback) => {
      callback(null, {});
      setImmediate(() => stop('the host asked the plugin to shut down'));
    },
  });
  // Stdout is stderr after the handshake, which authx reads itself: the
  // stream stays open and empty, so that go-plugin has no reason to complain.
  server.addService(services.GRPCStdio, {
    StreamStdio: (call) => { stdio.add(call); call.on('cancelled', () => stdio.delete(call)); },
  });

  process.umask(0o077);
  const dir = process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir();
  const socket = path.join(dir, `plugin${crypto.randomBytes(8).toString('hex')}`);

  function stop(reason) {
    if (stopping) return;
    stopping = reason;
    log.debug('exiting', { reason });
    for (const call of stdio) call.end();
    const done = () => {
      try { fs.unlinkSync(socket); } catch { /* never created, or removed */ }
      process.exit(0);
    };
    setTimeout(() => { server.forceShutdown(); done(); }, 1000).unref();
    server.tryShutdown(done);
  }

  server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) refuse(prog, `cannot listen on ${socket}: ${err.message}`);
    const group = process.env.PLUGIN_UNIX_SOCKET_GROUP; // go-plugin's option; authx does not set it
    if (group) {
      if (!/^\d+$/.test(group)) refuse(prog, `PLUGIN_UNIX_SOCKET_GROUP=${group}: only a numeric group id is supported`);
      fs.chownSync(socket, -1, Number(group));
      fs.chmodSync(socket, 0o660);
    }
    // The handshake: CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDRESS|PROTOCOL.
    fs.writeSync(1, `1|${PROTOCOL_MAJOR}|unix|${socket}|grpc\n`);
    redirectStdout();
    fatal.handshaken = true;
    log.debug('plugin address', { network: 'unix', address: socket });
  });

  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stop(`signal ${sig}`));
  process.on('SIGPIPE', () => {}); // a host gone mid-write: the parent watch notices
  // Exit when the host is gone (we were re-parented).
  setInterval(() => { if (parent > 1 && process.ppid !== parent) stop('host process is gone'); }, 1000).unref();
  fatal.socket = socket;
}

/**
 * fatal ends the process on an exception nobody caught, from the moment the
 * SDK is loaded: before the handshake with one line on stderr, which authx
 * shows as the reason the plugin did not start (a library the script
 * requires after the SDK is missing, say: Node's own report would end in
 * its version line); after it with the stack in the debug log.
 */
function fatal(err) {
  if (fatal.handshaken) {
    log.error('uncaught exception', { error: String((err && err.stack) || err) });
  } else {
    const first = String(err && err.message !== undefined ? err.message : err).split('\n')[0];
    fs.writeSync(2, `${path.basename(process.argv[1] || 'authx-plugin')}: ${(err && err.name) || 'Error'}: ${first}\n`);
  }
  if (fatal.socket) {
    try { fs.unlinkSync(fatal.socket); } catch { /* not there */ }
  }
  process.exit(1);
}
process.on('uncaughtException', fatal);

/**
 * redirectStdout makes fd 1 the stderr pipe (or /dev/null) and
 * process.stdout process.stderr, so that the host sees stdout end after
 * the handshake and a stray console.log lands in its debug log.
 */
function redirectStdout() {
  fs.closeSync(1);
  let fd;
  try {
    fd = fs.openSync('/proc/self/fd/2', 'a'); // Linux: the very pipe of stderr
  } catch {
    fd = fs.openSync('/dev/null', 'w');
  }
  if (fd !== 1) fs.closeSync(fd); // fd 1 was taken meanwhile: leave it closed
  Object.defineProperty(process, 'stdout', { get: () => process.stderr, configurable: true });
}

module.exports = {
  serve, log, InputRequired, PluginError, ConfigError, LoginRequired, Rejected, Unreachable, Timeout,
  BadAnswer, HTTPError, Forbidden, Unsupported, ServerError, TokenInvalid, PROTOCOL_MINOR,
  // for tests and tools: the codec over the shipped protos
  _internal: { loadProtos, structCodec, Scheme, toCredential, fromCredential },
};
