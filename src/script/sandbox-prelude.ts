/**
 * The JavaScript that runs inside every script's isolate before the script itself: it builds the
 * `ctx` a script sees and the entry points the host calls. It is source text because it must be
 * compiled in the isolate; it runs as the body of a closure (isolated-vm's `evalClosure`) with
 *
 * - `$0`: the host dispatcher, `host(op, requestId, a, b, c)` — a synchronous callback into the
 *   proxy's thread for `ctx.state`, `ctx.log`, `ctx.lookup` and for settling async results;
 * - `$1`: the script's data as JSON, parsed and deep-frozen here once per isolate;
 * - `$2`: `notify(op, requestId, a)`, the same dispatcher for what needs no answer (`ctx.log`, the
 *   settling of async results), called without waiting: the isolate runs on isolated-vm's threads,
 *   and a synchronous callback waits until the proxy's event loop gets to it.
 *
 * and returns the entry points `{bind, runBatch, collect, deliver, forget}`, which never become
 * globals, so the script cannot call or replace them. The builtins it relies on are captured first: a script may
 * overwrite `JSON` or `Promise` for itself, but not for the code that reads its answers. Whatever
 * this returns is still untrusted — the host validates every result (decision.ts).
 *
 * Result strings carry a one-letter tag: `d` + decision JSON, `e` + the message of what the script
 * threw, `i` + why the result is not JSON data, `p` when the script returned a promise (the result
 * then arrives through `notify('settle', id, taggedResult)`).
 *
 * Requests arrive in batches (call-queue.ts): `runBatch(input, softLimitMs, sync)` takes the requests framed
 * as `id ␠ length ␠ payload`, one after the other (a payload starts with `q` for `onRequest` and the
 * encoded request, or `s` for `onResponse` and the encoded response), runs them in order and answers their tagged
 * results framed as `length ␠ result`. It starts no further request once `softLimitMs` have passed
 * since the call began, so that a batch of healthy requests cannot add up to one request's deadline;
 * the host runs the rest in another call; nor after a request whose `onRequest` returned a promise
 * (see below). When the host cuts a call off at its deadline, `collect()` answers the results of
 * the requests finished before the one that was running.
 *
 * `ctx.hash` is MurmurHash3 x86-32 of the UTF-8 bytes, the same function as balancer/hash.ts's
 * `hashKey32` (tests check they agree), computed here rather than by calling out to the host.
 */
import { MAX_RESULT_CHARS } from './script-result.ts';

export const SANDBOX_PRELUDE = String.raw`
'use strict';
const host = $0;
const notify = $2;
const parse = JSON.parse;
const stringify = JSON.stringify;
const freeze = Object.freeze;
const isFrozen = Object.isFrozen;
const keys = Object.keys;
const PromiseCtor = Promise;
const promiseResolve = Promise.resolve.bind(Promise);
const promiseThen = Promise.prototype.then;
const apply = Reflect.apply;
const StringCtor = String;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const MapCtor = Map;
const ProxyCtor = Proxy;
const hasOwn = Object.hasOwn;
const dateNow = Date.now;
const toNumber = Number;
const defineProperty = Object.defineProperty;
const reflect = { get: Reflect.get, has: Reflect.has, ownKeys: Reflect.ownKeys, getOwnPropertyDescriptor: Reflect.getOwnPropertyDescriptor, defineProperty: Reflect.defineProperty, deleteProperty: Reflect.deleteProperty, set: Reflect.set, isExtensible: Reflect.isExtensible, preventExtensions: Reflect.preventExtensions, setPrototypeOf: Reflect.setPrototypeOf };
const PART = '\u0001';
const MAX_MESSAGE = 1024;
const MAX_LOG_LINE = 2048;
// Sizes checked here, before a string is copied out into the proxy's heap (which the script's
// memory limit does not cover): a decision's JSON, and each argument of a host call (every limit
// the host checks on those is smaller, so a cut argument still fails as too long).
const MAX_RESULT = ${MAX_RESULT_CHARS};
const MAX_HOST_ARG = 4096;
const stringSlice = String.prototype.slice;

function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !isFrozen(value)) {
    freeze(value);
    const names = keys(value);
    for (let i = 0; i < names.length; i++) deepFreeze(value[names[i]]);
  }
  return value;
}

const data = deepFreeze(parse($1));

// ---- The request: decoded from the host's one-string encoding (request-encoding.ts) ----
// req.headers, req.query and req.cookies are proxies over the raw text that behave as frozen plain
// objects: reading one header searches the header block; anything that needs the whole object
// (keys, 'in', descriptors, isFrozen, JSON.stringify, spread) first builds it on the proxy's target
// and freezes it. Most scripts read one or two headers and never pay for the rest.

// Stamps a plain object with a private field (the "return override" of a base constructor), so the
// raw text rides on the proxy target without being one of its keys.
class Stamp { constructor(target) { return target; } }
class Raw extends Stamp {
  #raw;
  constructor(target, raw) { super(target); this.#raw = raw; }
  static of(target) { return target.#raw; }
}

function buildHeaders(target) {
  const raw = Raw.of(target);
  let at = 0;
  for (;;) {
    const colon = raw.indexOf(':', at + 1);
    if (colon < 0) break;
    const end = raw.indexOf('\n', colon);
    const name = raw.slice(at + 1, colon);
    if (!hasOwn(target, name)) defineProperty(target, name, { value: raw.slice(colon + 1, end), enumerable: true, writable: true, configurable: true });
    at = end;
  }
}

// The Cookie header as the client sent it ('a=1; b=2'). The first occurrence of a name wins (RFC
// 6265 sends the most specific first); values keep their quotes; pairs without '=' are skipped.
function buildCookies(target) {
  const raw = Raw.of(target);
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(';', start);
    if (end < 0) end = raw.length;
    const eq = raw.indexOf('=', start);
    if (eq >= 0 && eq < end) {
      const name = raw.slice(start, eq).trim();
      if (name !== '' && !hasOwn(target, name)) defineProperty(target, name, { value: raw.slice(eq + 1, end).trim(), enumerable: true, writable: true, configurable: true });
    }
    start = end + 1;
  }
}

function buildJson(target) {
  const parsed = deepFreeze(parse(Raw.of(target)));
  const names = keys(parsed);
  for (let i = 0; i < names.length; i++) defineProperty(target, names[i], { value: parsed[names[i]], enumerable: true, writable: true, configurable: true });
}

function traps(build, fastGet) {
  const whole = (target) => { if (!isFrozen(target)) { build(target); freeze(target); } return target; };
  return {
    get: fastGet === null
      ? (target, name) => reflect.get(whole(target), name)
      : (target, name) => {
          if (typeof name === 'string' && !isFrozen(target)) {
            const value = fastGet(Raw.of(target), name);
            if (value !== undefined) return value;
          }
          return reflect.get(target, name);
        },
    has: (target, name) => reflect.has(whole(target), name),
    ownKeys: (target) => reflect.ownKeys(whole(target)),
    getOwnPropertyDescriptor: (target, name) => reflect.getOwnPropertyDescriptor(whole(target), name),
    defineProperty: (target, name, descriptor) => reflect.defineProperty(whole(target), name, descriptor),
    deleteProperty: (target, name) => reflect.deleteProperty(whole(target), name),
    set: (target, name, value) => reflect.set(whole(target), name, value),
    isExtensible: (target) => reflect.isExtensible(whole(target)),
    preventExtensions: (target) => reflect.preventExtensions(whole(target)),
    setPrototypeOf: (target, proto) => reflect.setPrototypeOf(whole(target), proto),
  };
}

function findHeader(raw, name) {
  if (name.length === 0 || name.indexOf(':') >= 0 || name.indexOf('\n') >= 0) return undefined;
  const at = raw.indexOf('\n' + name + ':');
  if (at < 0) return undefined;
  const start = at + name.length + 2;
  return raw.slice(start, raw.indexOf('\n', start));
}

const headerTraps = traps(buildHeaders, findHeader);
const jsonTraps = traps(buildJson, null);
const cookieTraps = traps(buildCookies, null);

// The script may replace builtins (String.prototype.slice…) for itself; that only changes what it
// sees of its own request. What leaves the isolate is checked on the host regardless.
function decodeRequest(payload) {
  const a = payload.indexOf(PART);
  const b = payload.indexOf(PART, a + 1);
  const c = payload.indexOf(PART, b + 1);
  const d = payload.indexOf(PART, c + 1);
  const e = payload.indexOf(PART, d + 1);
  const f = payload.indexOf(PART, e + 1);
  const g = payload.indexOf(PART, f + 1);
  const sni = payload.slice(d + 1, e);
  return freeze({
    method: payload.slice(0, a),
    host: payload.slice(a + 1, b),
    path: payload.slice(b + 1, c),
    query: new ProxyCtor(new Raw({}, payload.slice(e + 1, f)), jsonTraps),
    headers: new ProxyCtor(new Raw({}, payload.slice(g + 1)), headerTraps),
    cookies: new ProxyCtor(new Raw({}, payload.slice(f + 1, g)), cookieTraps),
    clientIp: payload.slice(c + 1, d),
    sni: sni === '' ? null : sni,
  });
}

// A response as the host encodes it (request-encoding.ts encodeResponse): status, the response's
// header block, then the request it answers, encoded as for onRequest.
function decodeResponse(payload) {
  const a = payload.indexOf(PART);
  const b = payload.indexOf(PART, a + 1);
  return freeze({
    status: toNumber(payload.slice(0, a)),
    headers: new ProxyCtor(new Raw({}, payload.slice(a + 1, b)), headerTraps),
    request: decodeRequest(payload.slice(b + 1)),
  });
}

function mix(h, k) {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function hash(key) {
  if (typeof key !== 'string') throw new TypeErrorCtor('ctx.hash: the key must be a string');
  let h = 0, block = 0, filled = 0, length = 0;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    let bytes, count;
    if (c < 0x80) { bytes = c; count = 1; }
    else if (c < 0x800) { bytes = (0xc0 | (c >>> 6)) | ((0x80 | (c & 0x3f)) << 8); count = 2; }
    else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00); i++; }
        else c = 0xfffd;
      }
      if (c < 0x10000) { bytes = (0xe0 | (c >>> 12)) | ((0x80 | ((c >>> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16); count = 3; }
      else { bytes = (0xf0 | (c >>> 18)) | ((0x80 | ((c >>> 12) & 0x3f)) << 8) | ((0x80 | ((c >>> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24); count = 4; }
    }
    length += count;
    for (let b = 0; b < count; b++) {
      block |= ((bytes >>> (8 * b)) & 0xff) << (8 * filled);
      if (++filled === 4) { h = mix(h, block); block = 0; filled = 0; }
    }
  }
  if (filled > 0) {
    let k = Math.imul(block, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

freeze(hash);

function clip(text, max) {
  return text.length > max ? apply(stringSlice, text, [0, max]) + '…' : text;
}

// A host call's argument as it may cross: long strings cut to one character past the largest the
// host accepts, objects (copied whole by isolated-vm, and never valid) replaced by NaN, which every
// ctx.state and ctx.lookup argument refuses with its usual message.
function fit(value) {
  if (typeof value === 'string') return value.length > MAX_HOST_ARG ? apply(stringSlice, value, [0, MAX_HOST_ARG + 1]) : value;
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') return NaN;
  return value;
}

function describe(error) {
  try {
    if (error instanceof ErrorCtor) return clip(StringCtor(error.name) + ': ' + StringCtor(error.message), MAX_MESSAGE);
    return clip('a non-Error value was thrown: ' + StringCtor(error), MAX_MESSAGE);
  } catch (_) {
    return 'an exception that cannot be described was thrown';
  }
}

// A function or symbol in a decision would vanish in JSON and change what it means; such a
// decision is refused. The walk is done first, by hand: a replacer would force V8's slow serializer.
function codeIn(value, name, depth) {
  const type = typeof value;
  if (type === 'function' || type === 'symbol') return (name === '' ? 'the decision' : name) + ' is a ' + type;
  if (type !== 'object' || value === null || depth > 16) return null;
  const names = keys(value);
  for (let i = 0; i < names.length; i++) {
    const found = codeIn(value[names[i]], names[i], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

function encode(result) {
  if (result === undefined || result === null) return 'dnull';
  if (typeof result !== 'object') return 'ithe decision must be an object or null, not a ' + typeof result;
  try {
    const code = codeIn(result, '', 0);
    if (code !== null) return 'i' + clip(code, MAX_MESSAGE);
    const json = stringify(result);
    if (json.length > MAX_RESULT) return 'ithe decision is larger than ' + MAX_RESULT + ' characters';
    return 'd' + json;
  } catch (error) {
    return 'i' + describe(error);
  }
}

function formatLog(args) {
  let line = '';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let text;
    try { text = typeof arg === 'string' ? arg : StringCtor(stringify(arg) ?? StringCtor(arg)); }
    catch (_) { text = '[unprintable]'; }
    line += (i === 0 ? '' : ' ') + text;
    if (line.length > MAX_LOG_LINE) break;
  }
  return clip(line, MAX_LOG_LINE);
}

// Lookups waiting for the host: ticket -> {id, resolve, reject}. Forgotten with their request, so a
// promise of a finished request never settles and nothing of it runs again.
const lookups = new MapCtor();

function makeCtx(id) {
  const state = freeze({
    get: (key) => host('get', id, fit(key)),
    set: (key, value, ttlMs) => { host('set', id, fit(key), fit(value), fit(ttlMs)); },
    incr: (key, by, ttlMs) => host('incr', id, fit(key), fit(by), fit(ttlMs)),
    delete: (key) => host('delete', id, fit(key)),
  });
  return freeze({
    data,
    hash,
    state,
    log: (...args) => { notify('log', id, formatLog(args)); },
    lookup: (key) => {
      if (typeof key !== 'string') throw new TypeErrorCtor('ctx.lookup: the key must be a string');
      const ticket = host('lookup', id, fit(key));
      return new PromiseCtor((resolve, reject) => { lookups.set(ticket, { id, resolve, reject }); });
    },
  });
}

let onRequest = null;
let onResponse = null;
// True while the host's call is synchronous: the host then takes a result at once, cheaper than a
// notification, which waits for the event loop's next turn.
let direct = false;
function settle(id, tagged) {
  if (direct) host('settle', id, tagged);
  else notify('settle', id, tagged);
}
// The framed results of the batch being run, for collect() when the host cuts the call off.
let finished = '';

// The payload's first character names the hook: 'q' onRequest, 's' onResponse. The host calls
// only a hook the module has (a missing one decides nothing, should it be called anyway).
function runOne(id, payload) {
  const response = payload.charCodeAt(0) === 0x73;
  const hook = response ? onResponse : onRequest;
  if (hook === null) return 'dnull';
  let result;
  try {
    const view = response ? decodeResponse(payload.slice(1)) : decodeRequest(payload.slice(1));
    result = hook(view, makeCtx(id));
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
      apply(promiseThen, promiseResolve(result), [
        (value) => { settle(id, encode(value)); },
        (error) => { settle(id, 'e' + describe(error)); },
      ]);
      return 'p';
    }
  } catch (error) {
    return 'e' + describe(error);
  }
  return encode(result);
}

return {
  bind(namespace) {
    const request = namespace.onRequest;
    const response = namespace.onResponse;
    if (request !== undefined && typeof request !== 'function') return 'the module must export a function onRequest(req, ctx), not a ' + typeof request;
    if (response !== undefined && typeof response !== 'function') return 'the module must export a function onResponse(res, ctx), not a ' + typeof response;
    if (request === undefined && response === undefined) return 'the module must export a function onRequest(req, ctx), onResponse(res, ctx) or both';
    onRequest = request ?? null;
    onResponse = response ?? null;
    return '';
  },
  runBatch(input, softLimitMs, sync) {
    direct = sync === true;
    const started = dateNow();
    finished = '';
    let at = 0;
    let count = 0;
    while (at < input.length) {
      if (count > 0 && dateNow() - started >= softLimitMs) break;
      const idEnd = input.indexOf(' ', at);
      const lengthEnd = input.indexOf(' ', idEnd + 1);
      const id = toNumber(input.slice(at, idEnd));
      const end = lengthEnd + 1 + toNumber(input.slice(idEnd + 1, lengthEnd));
      const result = runOne(id, input.slice(lengthEnd + 1, end));
      finished += result.length + ' ' + result;
      at = end;
      count++;
      // An async request ends the call: its continuations run right after this returns, and V8
      // drops every pending continuation of the isolate when one is stopped at the deadline — so
      // no other request's may be waiting behind it.
      if (result === 'p') break;
    }
    return finished;
  },
  collect() {
    const out = finished;
    finished = '';
    return out;
  },
  deliver(ticket, ok, value) {
    direct = false;
    const waiter = lookups.get(ticket);
    if (waiter === undefined) return;
    lookups.delete(ticket);
    if (ok) waiter.resolve(value);
    else waiter.reject(new ErrorCtor(value));
  },
  forget(id) {
    for (const [ticket, waiter] of lookups) if (waiter.id === id) lookups.delete(ticket);
  },
};
`;
