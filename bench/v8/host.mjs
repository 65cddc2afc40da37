// V8 bench host: runs dist/iotauthz.wasm in node's V8 with Envoy's semantics for exactly the
// imports the plugin uses (its 22 env.proxy_* imports and 15 WASI functions), and drives the
// benchmark scenarios that plugin/v8_test.go writes (the same configuration, headers, packets
// and authorizer answers as plugin/bench_test.go). It is a measuring instrument, not a host to
// run the plugin in: one worker VM, one plugin, no timers (the benchmarks never tick); the
// authorizer's canned answer is delivered on the root context after the callback that made the
// call has returned, as Envoy's async client delivers it on a later turn of the event loop.
// TestV8SameDecisions (plugin/v8_test.go) proves it decides as host/ does on every scenario.
//
//	node bench/v8/host.mjs check WASM SCENARIOS.json        decisions of every scenario, as JSON
//	node bench/v8/host.mjs bench WASM SCENARIOS.json [-count N] [-benchtime SECONDS] [-run REGEXP]
//	node bench/v8/host.mjs rsa VERIFYGUEST.wasm DIR [-count N] [-benchtime SECONDS]   P3, see rsa
//
// bench prints `go test -bench` lines (BenchmarkV8<name>-1  N  x ns/op  y cpu-ns/op ...) that
// scripts/benchreport reads; every timed op is checked against the scenario's expected verdict
// and a wrong answer stops the run with exit status 1.
import fs from 'node:fs';
import { webcrypto } from 'node:crypto';
import v8 from 'node:v8';
import { pathToFileURL } from 'node:url';

// Envoy's V8 (proxy-wasm-cpp-host src/v8/v8.cc) turns Liftoff off: every function is compiled by
// TurboFan (node's V8 does it at a function's first call), so no timed op runs baseline code.
v8.setFlagsFromString('--no-liftoff');

const enc = new TextEncoder();
const dec = new TextDecoder();

// proxy_status_t
const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, INVALID_MEMORY = 6, CAS_MISMATCH = 8;
// WASI errno
const E_SUCCESS = 0, E_BADF = 8, E_NOSYS = 52;
// log levels (proxy_log_level_t); host/'s benchmarks keep warn and above (hostLog(LogWarn))
const KEEP_LEVEL = 3;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
// buffer and map types
const BUF_HTTP_REQUEST_BODY = 0, BUF_HTTP_RESPONSE_BODY = 1, BUF_DOWNSTREAM = 2, BUF_UPSTREAM = 3,
  BUF_CALL_RESPONSE = 4, BUF_VM_CONFIG = 6, BUF_PLUGIN_CONFIG = 7;
const MAP_REQUEST_HEADERS = 0, MAP_RESPONSE_HEADERS = 2, MAP_CALL_RESPONSE_HEADERS = 6;
// stream types of proxy_continue_stream / proxy_close_stream
const STREAM_REQUEST = 0, STREAM_RESPONSE = 1, STREAM_DOWNSTREAM = 2, STREAM_UPSTREAM = 3;
// Envoy's virtual clock start for the decisions (the same instant as the Go harness)
const EPOCH_NS = BigInt(Date.UTC(2026, 10, 22, 5, 0, 0)) * 1000000n;

// ascii decodes short strings (header names, property paths) without TextDecoder's fixed cost.
function ascii(b) {
  if (b.length > 64) return dec.decode(b);
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c > 0x7f) return dec.decode(b);
    s += String.fromCharCode(c);
  }
  return s;
}

const b64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));
const concat = (a, b) => {
  const o = new Uint8Array(a.length + b.length);
  o.set(a, 0);
  o.set(b, a.length);
  return o;
};

// Headers are kept as [name, value] string pairs; names lower-case as Envoy's maps hold them.
// A header map that has not changed since it was last serialized is not serialized again (a
// scenario step hands the same map to every op; any change makes a new array).
const serialized = new WeakMap();

function serializePairs(pairs) {
  const cached = serialized.get(pairs);
  if (cached !== undefined) return cached;
  let size = 4;
  const enc1 = pairs.map(([k, v]) => {
    const kb = enc.encode(k), vb = enc.encode(v);
    size += 8 + kb.length + vb.length + 2;
    return [kb, vb];
  });
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let p = 4;
  for (const [kb, vb] of enc1) {
    dv.setUint32(p, kb.length, true);
    dv.setUint32(p + 4, vb.length, true);
    p += 8;
  }
  for (const [kb, vb] of enc1) {
    out.set(kb, p); p += kb.length + 1;
    out.set(vb, p); p += vb.length + 1;
  }
  serialized.set(pairs, out);
  return out;
}

function parsePairs(b) {
  if (b.length < 4) return [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true);
  const out = [];
  let sizes = 4, p = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(sizes, true), vl = dv.getUint32(sizes + 4, true);
    sizes += 8;
    const k = dec.decode(b.subarray(p, p + kl)); p += kl + 1;
    const v = dec.decode(b.subarray(p, p + vl)); p += vl + 1;
    out.push([k, v]);
  }
  return out;
}

// Plugin is one VM of the plugin with its root context, as Envoy creates it on a worker.
export class Plugin {
  constructor(module, scenario) {
    this.sc = scenario;
    this.config = enc.encode(scenario.config);
    this.answer = { status: scenario.answer.status, body: enc.encode(scenario.answer.body) };
    this.shared = new Map();
    this.metrics = new Map();
    this.metricIDs = [];
    this.logs = [];
    this.logCount = 0;
    this.calls = 0;
    this.pending = [];
    this.deferred = [];
    this.contexts = new Map();
    this.nextID = 2;
    this.t0 = process.hrtime.bigint();
    this.stdio = ['', '', ''];
    this.inst = new WebAssembly.Instance(module, { env: this.env(), wasi_snapshot_preview1: this.wasi() });
    this.ex = this.inst.exports;
    this.mem = this.ex.memory;
    this.u8buf = null;
    this.ex._initialize();
    this.root = { id: 1, root: true };
    this.contexts.set(1, this.root);
    this.active = this.root;
    this.ex.proxy_on_context_create(1, 0);
    if (!this.ex.proxy_on_vm_start(1, 0)) throw new Error('proxy_on_vm_start refused');
    this.configuring = true;
    const ok = this.ex.proxy_on_configure(1, this.config.length);
    this.configuring = false;
    if (!ok) throw new Error('proxy_on_configure refused the configuration:\n' + this.logText());
  }

  // ---- memory ----
  u8() {
    if (this.u8buf === null || this.u8buf.buffer !== this.mem.buffer) {
      this.u8buf = new Uint8Array(this.mem.buffer);
      this.dv = new DataView(this.mem.buffer);
    }
    return this.u8buf;
  }
  view() { this.u8(); return this.dv; }
  bytes(ptr, len) { return this.u8().subarray(ptr, ptr + len); }
  str(ptr, len) { return ascii(this.bytes(ptr, len)); }
  u32(ptr, v) { this.view().setUint32(ptr, v, true); }
  // copyOut allocates len(data) in the guest (proxy_on_memory_allocate), copies data there and
  // writes the pointer and size.
  copyOut(data, ptrPtr, sizePtr) {
    if (data.length === 0) {
      this.u32(ptrPtr, 0); this.u32(sizePtr, 0);
      return OK;
    }
    const p = this.ex.proxy_on_memory_allocate(data.length);
    if (p === 0) return INVALID_MEMORY;
    this.u8().set(data, p);
    this.u32(ptrPtr, p); this.u32(sizePtr, data.length);
    return OK;
  }

  // ---- contexts and deferred effects ----
  call(ctx, fn, ...args) {
    const prev = this.active;
    this.active = ctx;
    this.stopNext = false;
    try {
      return fn(...args);
    } finally {
      this.active = prev;
    }
  }
  runDeferred() {
    while (this.deferred.length > 0) this.deferred.shift()();
  }
  log(level, msg) {
    this.logs.push(`[${LEVELS[level]}] ${msg}`);
    if (this.logs.length > 200) this.logs.splice(0, 100);
  }
  logText() { return this.logs.join('\n'); }

  // settle answers every pending authorizer call with the canned answer (Envoy delivers it on
  // the root context, on a later turn of the worker's event loop), until none is left.
  settle() {
    while (this.pending.length > 0) {
      const c = this.pending.shift();
      const root = this.root;
      root.callResp = {
        headers: [[':status', String(this.answer.status)], ['content-type', 'application/json'], ['content-length', String(this.answer.body.length)]],
        body: this.answer.body,
      };
      this.call(root, this.ex.proxy_on_http_call_response, 1, c.token, root.callResp.headers.length, this.answer.body.length, 0);
      root.callResp = null;
      this.runDeferred();
    }
  }

  // ---- HTTP streams ----
  newStream(props) {
    const s = { id: this.nextID++, props, req: null, paused: false, forwarded: false, fwdHeaders: null,
      reply: null, reset: false, finished: false, resp: null };
    this.contexts.set(s.id, s);
    this.call(s, this.ex.proxy_on_context_create, s.id, 1);
    this.runDeferred();
    return s;
  }
  requestHeaders(s, headers, eos) {
    s.req = headers; // lower-case names (decodeSteps)
    s.reqEnd = eos;
    const r = this.call(s, this.ex.proxy_on_request_headers, s.id, s.req.length, eos ? 1 : 0);
    const stop = r !== 0 || this.stopNext;
    if (!stop && !s.reply && !s.finished) this.sendUpstream(s);
    else s.paused = true;
    this.runDeferred();
    return !stop;
  }
  sendUpstream(s) {
    s.forwarded = true;
    s.fwdHeaders = s.req;
  }
  // localReply is Envoy's sendLocalReply after the VM call: the reply goes through this filter's
  // response callbacks, then to the client; the stream ends.
  localReply(s, r) {
    if (s.finished || s.reset || s.reply) return;
    s.reply = r;
    // Envoy's Utility::prepareLocalReply: the plugin's headers added, then the body's
    // content-length, and text/plain unless the plugin named a content-type; no body, neither.
    let h = [[':status', String(r.status)], ...r.headers.map(([k, v]) => [k.toLowerCase(), v])];
    if (r.body.length > 0) {
      const i = h.findIndex(([k]) => k === 'content-length');
      h = h.filter(([k], j) => k !== 'content-length' || j === i);
      if (i >= 0) h[i] = ['content-length', String(r.body.length)];
      else h.push(['content-length', String(r.body.length)]);
      if (!h.some(([k]) => k === 'content-type')) h.push(['content-type', 'text/plain']);
    } else {
      h = h.filter(([k]) => k !== 'content-length' && k !== 'content-type');
    }
    s.resp = h;
    this.call(s, this.ex.proxy_on_response_headers, s.id, h.length, r.body.length === 0 ? 1 : 0);
    this.runDeferred();
    if (r.body.length > 0 && !s.finished) {
      s.respBody = r.body;
      this.call(s, this.ex.proxy_on_response_body, s.id, r.body.length, 1);
      s.respBody = null;
      this.runDeferred();
    }
    this.finish(s);
  }
  finish(s) {
    if (s.finished) return;
    s.finished = true;
    this.release(s);
  }
  // release ends a stream's or connection's context: proxy_on_done, then proxy_on_delete.
  release(x) {
    this.call(x, this.ex.proxy_on_done, x.id);
    this.runDeferred();
    this.call(x, this.ex.proxy_on_delete, x.id);
    this.runDeferred();
    this.contexts.delete(x.id);
  }
  closeStream(s) {
    if (!s.finished && !s.reply) s.reset = true;
    this.finish(s);
  }

  // ---- network connections (MQTT over TLS) ----
  newConnection(props) {
    const c = { id: this.nextID++, props, conn: true, down: new Uint8Array(0), up: new Uint8Array(0),
      downAvail: false, upAvail: false, toBroker: [], toClient: [], brokerBytes: 0, clientBytes: 0,
      closed: false, details: '', done: false };
    this.contexts.set(c.id, c);
    this.call(c, this.ex.proxy_on_context_create, c.id, 1);
    this.runDeferred();
    c.newConnection = this.call(c, this.ex.proxy_on_new_connection, c.id) === 0;
    this.runDeferred();
    return c;
  }
  data(c, upstream, bytes, keep) {
    if (c.closed || c.done) return true;
    const key = upstream ? 'up' : 'down';
    c[key] = c[key].length === 0 ? bytes : concat(c[key], bytes);
    c[key + 'Avail'] = true;
    const fn = upstream ? this.ex.proxy_on_upstream_data : this.ex.proxy_on_downstream_data;
    const r = this.call(c, fn, c.id, c[key].length, 0);
    const cont = r === 0;
    if (cont) this.forward(c, upstream, keep);
    this.runDeferred();
    return cont;
  }
  forward(c, upstream, keep) {
    const key = upstream ? 'up' : 'down';
    const b = c[key];
    c[key] = new Uint8Array(0);
    c[key + 'Avail'] = false;
    if (upstream) { c.clientBytes += b.length; if (keep) c.toClient.push(b); }
    else { c.brokerBytes += b.length; if (keep) c.toBroker.push(b); }
  }
  closeLocal(c, details) {
    if (c.closed || c.done) return;
    c.closed = true;
    c.details = details;
    this.call(c, this.ex.proxy_on_downstream_connection_close, c.id, 1);
    this.runDeferred();
    c.done = true;
    this.release(c);
  }

  // ---- the env module: proxy_* ----
  env() {
    const h = this;
    const headerMap = (t) => {
      const c = h.active;
      if (t === MAP_REQUEST_HEADERS && c.req) return { get: () => c.req, set: (m) => { c.req = m; } };
      if (t === MAP_RESPONSE_HEADERS && c.resp) return { get: () => c.resp, set: (m) => { c.resp = m; } };
      if (t === MAP_CALL_RESPONSE_HEADERS && h.root.callResp) return { get: () => h.root.callResp.headers, set: null };
      return null;
    };
    const buffer = (t) => {
      const c = h.active;
      switch (t) {
        case BUF_DOWNSTREAM: case BUF_UPSTREAM: {
          const key = t === BUF_UPSTREAM ? 'up' : 'down';
          if (c.conn && c[key + 'Avail']) return { data: c[key], set: (b) => { c[key] = b; } };
          return { data: new Uint8Array(0), set: null };
        }
        case BUF_HTTP_RESPONSE_BODY:
          return { data: c.respBody || new Uint8Array(0), set: null };
        case BUF_HTTP_REQUEST_BODY:
          return { data: new Uint8Array(0), set: null };
        case BUF_CALL_RESPONSE:
          return h.root.callResp ? { data: h.root.callResp.body, set: null } : null;
        case BUF_VM_CONFIG:
          return { data: new Uint8Array(0), set: null };
        case BUF_PLUGIN_CONFIG:
          return h.configuring ? { data: h.config, set: null } : null;
      }
      return null;
    };
    const mutate = (t, kp, kl, f) => {
      const m = headerMap(t);
      if (m === null || m.set === null) return BAD_ARGUMENT;
      m.set(f(m.get(), h.str(kp, kl).toLowerCase()));
      return OK;
    };
    return {
      proxy_log(level, p, n) {
        if (level > 5) return BAD_ARGUMENT;
        h.logCount++;
        if (level >= KEEP_LEVEL) h.log(level, h.str(p, n));
        return OK;
      },
      proxy_get_current_time_nanoseconds(ret) {
        h.view().setBigUint64(ret, EPOCH_NS + (process.hrtime.bigint() - h.t0), true);
        return OK;
      },
      proxy_set_tick_period_milliseconds(ms) { h.tickMillis = ms; return OK; },
      proxy_set_effective_context(id) {
        const c = h.contexts.get(id);
        if (c === undefined) return BAD_ARGUMENT;
        h.active = c;
        return OK;
      },
      proxy_get_buffer_bytes(t, start, max, retPtr, retSize) {
        const b = buffer(t);
        if (b === null) return NOT_FOUND;
        const size = b.data.length;
        let len = max;
        if (start > size) len = 0; else if (start + len > size) len = size - start;
        return h.copyOut(len === 0 ? new Uint8Array(0) : b.data.subarray(start, start + len), retPtr, retSize);
      },
      proxy_get_buffer_status(t, lenPtr, flagsPtr) {
        const b = buffer(t);
        if (b === null) return NOT_FOUND;
        h.u32(lenPtr, b.data.length); h.u32(flagsPtr, 0);
        return OK;
      },
      proxy_set_buffer_bytes(t, start, size, p, n) {
        const b = buffer(t);
        if (b === null) return NOT_FOUND;
        if (b.set === null) return BAD_ARGUMENT;
        const data = h.bytes(p, n).slice();
        const cur = b.data;
        if (start === 0) {
          const k = Math.min(size, cur.length);
          b.set(concat(data, cur.subarray(k)));
        } else if (start >= cur.length) {
          b.set(concat(cur, data));
        } else {
          return BAD_ARGUMENT;
        }
        return OK;
      },
      proxy_get_header_map_pairs(t, retPtr, retSize) {
        const m = headerMap(t);
        if (m === null) return BAD_ARGUMENT;
        return h.copyOut(serializePairs(m.get()), retPtr, retSize);
      },
      proxy_get_header_map_value(t, kp, kl, retPtr, retSize) {
        const m = headerMap(t);
        if (m === null) return BAD_ARGUMENT;
        const k = h.str(kp, kl).toLowerCase();
        const e = m.get().find(([hk]) => hk === k);
        if (e === undefined) return NOT_FOUND;
        return h.copyOut(enc.encode(e[1]), retPtr, retSize);
      },
      proxy_replace_header_map_value(t, kp, kl, vp, vl) {
        const v = h.str(vp, vl);
        return mutate(t, kp, kl, (m, k) => m.filter(([hk]) => hk !== k).concat([[k, v]]));
      },
      proxy_remove_header_map_value(t, kp, kl) {
        return mutate(t, kp, kl, (m, k) => m.filter(([hk]) => hk !== k));
      },
      proxy_continue_stream(t) {
        const c = h.active;
        if (t === STREAM_REQUEST && c.req !== undefined && !c.conn) {
          h.deferred.push(() => {
            if (!c.finished && !c.reset && !c.reply && c.paused && !c.forwarded) { c.paused = false; h.sendUpstream(c); }
          });
          return OK;
        }
        if (t === STREAM_DOWNSTREAM && c.conn) {
          h.deferred.push(() => { if (!c.closed && !c.done) h.forward(c, false, c.keep); });
          return OK;
        }
        if (t === STREAM_RESPONSE || t === STREAM_UPSTREAM) return 12; // Unimplemented in Envoy
        return BAD_ARGUMENT;
      },
      proxy_close_stream(t) {
        const c = h.active;
        if ((t === STREAM_REQUEST || t === STREAM_RESPONSE) && !c.conn && c.req !== undefined) {
          h.deferred.push(() => h.closeStream(c));
          return OK;
        }
        if (t === STREAM_DOWNSTREAM && c.conn) {
          h.deferred.push(() => h.closeLocal(c, 'wasm_downstream_close'));
          return OK;
        }
        if (t === STREAM_UPSTREAM && c.conn) {
          h.deferred.push(() => h.closeLocal(c, 'wasm_upstream_close'));
          return OK;
        }
        return BAD_ARGUMENT;
      },
      proxy_get_status(codePtr, msgPtr, msgSize) {
        h.u32(codePtr, 0);
        return h.copyOut(new Uint8Array(0), msgPtr, msgSize);
      },
      proxy_send_local_response(status, dp, dl, bp, bl, hp, hl, grpc) {
        const r = { status, details: h.str(dp, dl).replace(/\s/g, '_'), body: h.bytes(bp, bl).slice(),
          headers: parsePairs(h.bytes(hp, hl).slice()).map(([k, v]) => [k.toLowerCase(), v]) };
        const c = h.active;
        if (c.req !== undefined && !c.conn && !c.root) h.deferred.push(() => h.localReply(c, r));
        h.stopNext = true;
        return OK;
      },
      proxy_http_call(up, ul, hp, hl, bp, bl, tp, tl, timeout, tokenPtr) {
        const cluster = h.str(up, ul);
        h.u32(tokenPtr, 0);
        if (cluster !== h.sc.cluster) return BAD_ARGUMENT; // Envoy: no such cluster
        const hs = parsePairs(h.bytes(hp, hl).slice());
        const has = (k) => hs.some(([hk]) => hk === k);
        if (!has(':method') || !has(':path') || !has(':authority')) return BAD_ARGUMENT;
        h.bytes(bp, bl).slice(); // the body is copied into Envoy's request
        const token = ++h.calls;
        h.pending.push({ token });
        h.u32(tokenPtr, token);
        return OK;
      },
      proxy_get_shared_data(kp, kl, retPtr, retSize, casPtr) {
        const e = h.shared.get(h.str(kp, kl));
        if (e === undefined) return NOT_FOUND;
        const st = h.copyOut(e.value, retPtr, retSize);
        if (st !== OK) return st;
        h.u32(casPtr, e.cas);
        return OK;
      },
      proxy_set_shared_data(kp, kl, vp, vl, cas) {
        const k = h.str(kp, kl);
        const e = h.shared.get(k);
        if (cas !== 0 && e !== undefined && e.cas !== cas) return CAS_MISMATCH;
        h.shared.set(k, { value: h.bytes(vp, vl).slice(), cas: e === undefined ? 1 : e.cas + 1 });
        return OK;
      },
      proxy_define_metric(type, np, nl, retID) {
        if (type > 2) return BAD_ARGUMENT;
        const id = h.metricIDs.length * 4 + type + 1;
        h.metricIDs.push('wasmcustom.' + h.str(np, nl));
        h.metrics.set(id, 0n);
        h.u32(retID, id);
        return OK;
      },
      proxy_increment_metric(id, offset) {
        const v = h.metrics.get(id);
        if (v === undefined) return NOT_FOUND;
        h.metrics.set(id, v + offset);
        return OK;
      },
      proxy_record_metric(id, value) {
        if (!h.metrics.has(id)) return NOT_FOUND;
        h.metrics.set(id, value);
        return OK;
      },
      proxy_get_property(pp, pl, retPtr, retSize) {
        const path = h.str(pp, pl);
        const props = h.active.props;
        const v = props === undefined ? undefined : props.get(path);
        if (v === undefined) return NOT_FOUND;
        return h.copyOut(v, retPtr, retSize);
      },
    };
  }

  // ---- WASI, as Envoy implements it: no arguments, no environment, no preopened directories,
  // stdout/stderr to the log ----
  wasi() {
    const h = this;
    return {
      args_sizes_get(argc, size) { h.u32(argc, 0); h.u32(size, 0); return E_SUCCESS; },
      args_get() { return E_SUCCESS; },
      environ_sizes_get(n, size) { h.u32(n, 0); h.u32(size, 0); return E_SUCCESS; },
      environ_get() { return E_SUCCESS; },
      clock_time_get(id, _precision, ret) {
        const now = process.hrtime.bigint() - h.t0;
        h.view().setBigUint64(ret, id === 0 ? EPOCH_NS + now : now, true);
        return E_SUCCESS;
      },
      fd_write(fd, iovs, n, written) {
        if (fd !== 1 && fd !== 2) return E_BADF;
        const dv = h.view();
        let total = 0, s = '';
        for (let i = 0; i < n; i++) {
          const p = dv.getUint32(iovs + i * 8, true), l = dv.getUint32(iovs + i * 8 + 4, true);
          s += h.str(p, l);
          total += l;
        }
        h.stdio[fd] += s;
        let nl;
        while ((nl = h.stdio[fd].indexOf('\n')) >= 0) {
          h.log(fd === 1 ? 2 : 4, h.stdio[fd].slice(0, nl));
          h.stdio[fd] = h.stdio[fd].slice(nl + 1);
        }
        h.u32(written, total);
        return E_SUCCESS;
      },
      random_get(p, n) {
        for (let off = 0; off < n; off += 65536) webcrypto.getRandomValues(h.bytes(p + off, Math.min(65536, n - off)));
        return E_SUCCESS;
      },
      poll_oneoff(inPtr, outPtr, nsubs, neventsPtr) {
        // Only clock subscriptions matter to a guest with nothing to read: they fire at once
        // (the benchmarks never sleep).
        const dv = h.view();
        for (let i = 0; i < nsubs; i++) {
          const ev = outPtr + i * 32;
          dv.setBigUint64(ev, dv.getBigUint64(inPtr + i * 48, true), true);
          dv.setUint16(ev + 8, 0, true);
          dv.setUint8(ev + 10, dv.getUint8(inPtr + i * 48 + 8));
        }
        h.u32(neventsPtr, nsubs);
        return E_SUCCESS;
      },
      sched_yield() { return E_SUCCESS; },
      proc_exit(code) { throw new Error(`proc_exit(${code})`); },
      fd_close() { return E_BADF; },
      fd_fdstat_get(fd, p) {
        if (fd > 2) return E_BADF;
        h.bytes(p, 24).fill(0);
        h.view().setUint8(p, 2); // character device
        return E_SUCCESS;
      },
      fd_fdstat_set_flags() { return E_NOSYS; },
      fd_prestat_get() { return E_BADF; },
      fd_prestat_dir_name() { return E_BADF; },
    };
  }
}

// ---- scenarios ----
//
// A scenario (written by plugin/v8_test.go): name, config (the plugin configuration JSON),
// cluster, answer {status, body} (every authorizer call gets it), setup (steps run once per VM,
// untimed), ops (the timed op's steps; op i runs ops[i % ops.length]; unique: ops may not
// repeat, so a run is at most ops.length long), per/perUnit (packets per op), expect (the verdict
// every timed op must reach).
//
// Steps: {do:"http", conn, sni, source, headers, eos}: a whole stream (context, request headers,
// the authorizer answered, the stream closed); {do:"open", sni, source}: an MQTT connection;
// {do:"down"|"up", data (base64)}: bytes on it.

// decodeSteps prepares steps once: the bytes decoded, header names lower-cased, the connection
// properties encoded as Envoy holds them.
function decodeSteps(steps) {
  return steps.map((s) => {
    const o = { ...s };
    if (s.data !== undefined) o.bytes = b64(s.data);
    if (s.headers) o.headers = s.headers.map(([k, v]) => [k.toLowerCase(), v]);
    const id = new Uint8Array(8);
    new DataView(id.buffer).setBigUint64(0, BigInt(s.conn || 0), true);
    o.props = new Map([['connection\0id', id]]);
    if (s.sni) o.props.set('connection\0requested_server_name', enc.encode(s.sni));
    if (s.source) o.props.set('source\0address', enc.encode(s.source));
    if (s.destination) o.props.set('destination\0address', enc.encode(s.destination));
    return o;
  });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

// runStep runs one step; with full it returns the whole outcome, else a short verdict.
function runStep(h, st, state, full) {
  switch (st.do) {
    case 'http': {
      const s = h.newStream(st.props);
      const calls0 = h.calls;
      const cont = h.requestHeaders(s, st.headers, st.eos);
      h.settle();
      const out = full ? {
        kind: 'http', paused: !cont, forwarded: s.forwarded, headers: s.forwarded ? s.fwdHeaders : null,
        reply: s.reply ? { status: s.reply.status, body: dec.decode(s.reply.body).replace(UUID, 'UUID'), headers: s.reply.headers } : null,
        reset: s.reset, calls: h.calls - calls0,
      } : null;
      h.closeStream(s);
      if (full) return out;
      return s.reply ? 'reply:' + s.reply.status : s.forwarded ? 'forwarded' : 'held';
    }
    case 'open': {
      state.conn = h.newConnection(st.props);
      state.conn.keep = full;
      return full ? { kind: 'open', continue: state.conn.newConnection } : 'open';
    }
    case 'down': case 'up': {
      const c = state.conn;
      const b0 = c.brokerBytes, cl0 = c.clientBytes, calls0 = h.calls;
      const cont = h.data(c, st.do === 'up', st.bytes, full);
      h.settle();
      if (full) {
        return { kind: st.do, continue: cont, toBroker: c.brokerBytes - b0, toClient: c.clientBytes - cl0,
          closed: c.closed, details: c.details, calls: h.calls - calls0 };
      }
      if (c.closed) return 'closed:' + c.details;
      return `${cont ? 'continue' : 'pause'}:${c.brokerBytes - b0}`;
    }
  }
  throw new Error('unknown step ' + st.do);
}

function connTotals(state) {
  const c = state.conn;
  if (!c) return null;
  const join = (l) => Buffer.concat(l.map((b) => Buffer.from(b))).toString('base64');
  return { toBroker: join(c.toBroker), toClient: join(c.toClient), closed: c.closed, details: c.details };
}

// check runs every scenario once (setup, then each op once) and prints the outcomes.
function check(module, scenarios) {
  const out = {};
  for (const sc of scenarios) {
    const h = new Plugin(module, sc);
    const state = {};
    const steps = [];
    for (const st of sc.setup) steps.push(runStep(h, st, state, true));
    for (const op of sc.ops) for (const st of op) steps.push(runStep(h, st, state, true));
    out[sc.name] = { steps, conn: connTotals(state) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

function verdictOf(h, op, state) {
  let v = '';
  for (const st of op) v = runStep(h, st, state, false);
  return v;
}

const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };

// bench measures one scenario: count runs, each on a fresh VM (so unique ops stay unique):
// setup, a warm-up, then N ops sized to benchtime. Every op's verdict is checked.
function bench(module, sc, count, benchtime) {
  const lines = [];
  for (let run = 0; run < count; run++) {
    const h = new Plugin(module, sc);
    const state = {};
    for (const st of sc.setup) runStep(h, st, state, false);
    let i = 0;
    const op = () => {
      const v = verdictOf(h, sc.ops[i % sc.ops.length], state);
      if (v !== sc.expect) {
        throw new Error(`${sc.name}: op ${i} reached ${v}, want ${sc.expect}\n${h.logText()}`);
      }
      i++;
    };
    const limit = sc.unique ? sc.ops.length : Infinity;
    // Warm-up: at least half of benchtime (0.5 s at least) and 5000 ops, at most a quarter of
    // a unique scenario's ops. V8 compiles each function with TurboFan at its first call, and
    // the guest's Go heap settles; the first few thousand ops run several times slower.
    const warmNs = Math.max(0.5e9, benchtime * 1e9 / 2);
    const w0 = process.hrtime.bigint();
    let warm = 0;
    while (i < limit && (warm < 5000 || Number(process.hrtime.bigint() - w0) < warmNs) && (!sc.unique || warm < limit / 4)) { op(); warm++; }
    // N from a trial of about a tenth of benchtime after the warm-up (the warm-up's own rate
    // still counts the slow first ops).
    let per = Number(process.hrtime.bigint() - w0) / warm;
    const trial = Math.max(1, Math.min(Math.round(benchtime * 1e8 / per), Math.floor((limit - i) / 5)));
    const tr0 = process.hrtime.bigint();
    for (let k = 0; k < trial && i < limit; k++) op();
    per = Number(process.hrtime.bigint() - tr0) / trial;
    const n = Math.max(1, Math.min(Math.round(benchtime * 1e9 / per), limit - i, 1e8));
    const c0 = cpuNs();
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < n; k++) op();
    const ns = Number(process.hrtime.bigint() - t0) / n;
    const cpu = (cpuNs() - c0) / n;
    let line = `BenchmarkV8${sc.name}-1\t${n}\t${ns.toFixed(1)} ns/op\t${cpu.toFixed(0)} cpu-ns/op`;
    if (sc.per > 1) line += `\t${(cpu / sc.per).toFixed(2)} cpu-ns/${sc.perUnit}\t${(ns / sc.per).toFixed(2)} ns/${sc.perUnit}`;
    lines.push(line);
    process.stdout.write(line + '\n');
  }
  return lines;
}

// rsa runs plugin/token's verify guest (testdata/verifyguest: RSA-2048 PKCS#1 v1.5 verify with
// the plugin's verifier, and with crypto/rsa) in V8: the same guest and exports as
// BenchmarkRSAVerifyWasm and BenchmarkRSAVerifyStdlibWasm run in wazero. The guest reads its key,
// message and signature from a preopened directory, "/v", which VerifyGuest serves from memory
// (nothing but the verify loop is timed). Every call must report all its verifications good.
//
// node:wasi is not used: node 20's crashed make bench twice in this mode, once aborting in ~WASI
// ("Assertion failed: (current_uvwasi_memory_) == (0)") and once with a segmentation fault,
// both while the Go guest's memory grew.
async function rsa(guestPath, dir, count, benchtime) {
  const module = new WebAssembly.Module(fs.readFileSync(guestPath));
  const files = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(`${dir}/${n}`)]));
  for (const [name, exp] of [['RSAVerifyWasm', 'verify'], ['RSAVerifyStdlibWasm', 'verifyStdlib']]) {
    for (let run = 0; run < count; run++) {
      const inst = new VerifyGuest(module, files).inst;
      const setup = inst.exports.setup();
      if (setup !== 0) throw new Error(`verify guest setup failed: ${setup}`);
      const f = inst.exports[exp];
      const call = (n) => {
        const ok = f(n);
        if (ok !== n) throw new Error(`${name}: ${ok} of ${n} verifications succeeded in the guest`);
      };
      const w0 = process.hrtime.bigint();
      let warm = 0;
      while (warm < 20 || Number(process.hrtime.bigint() - w0) < Math.max(0.3e9, benchtime * 1e9 / 4)) { call(1); warm++; }
      let per = Number(process.hrtime.bigint() - w0) / warm;
      const trial = Math.max(1, Math.round(benchtime * 1e8 / per));
      const tr0 = process.hrtime.bigint();
      call(trial);
      per = Number(process.hrtime.bigint() - tr0) / trial;
      const n = Math.max(1, Math.round(benchtime * 1e9 / per));
      const c0 = cpuNs();
      const t0 = process.hrtime.bigint();
      call(n);
      const ns = Number(process.hrtime.bigint() - t0) / n;
      const cpu = (cpuNs() - c0) / n;
      process.stdout.write(`BenchmarkV8${name}-1\t${n}\t${ns.toFixed(1)} ns/op\t${cpu.toFixed(0)} cpu-ns/op\n`);
    }
  }
}

// VerifyGuest is the verify guest's instance with Plugin's WASI (Envoy's) plus one read-only
// preopened directory, "/v" (fd 3), holding files: what Go's os.ReadFile asks of WASI (path_open,
// fd_filestat_get, fd_read, fd_close).
const E_NOENT = 44, E_INVAL = 28, FT_DIR = 3, FT_FILE = 4, PREOPEN_FD = 3;
class VerifyGuest {
  constructor(module, files) {
    this.files = files;
    this.open = new Map(); // fd → {data, off}
    this.nextFD = PREOPEN_FD + 1;
    this.t0 = process.hrtime.bigint();
    this.stdio = ['', '', ''];
    this.u8buf = null;
    this.inst = new WebAssembly.Instance(module, { wasi_snapshot_preview1: this.wasi() });
    this.mem = this.inst.exports.memory;
    this.inst.exports._initialize();
  }
  log(_level, msg) { process.stderr.write(`verify guest: ${msg}\n`); }
  filestat(p, type, size) {
    this.bytes(p, 64).fill(0);
    this.view().setUint8(p + 16, type);
    this.view().setBigUint64(p + 24, 1n, true);
    this.view().setBigUint64(p + 32, BigInt(size), true);
  }
  wasi() {
    const g = this, base = Plugin.prototype.wasi.call(this);
    const dirName = enc.encode('/v');
    return {
      ...base,
      fd_prestat_get(fd, p) {
        if (fd !== PREOPEN_FD) return E_BADF;
        g.view().setUint8(p, 0); // a directory
        g.u32(p + 4, dirName.length);
        return E_SUCCESS;
      },
      fd_prestat_dir_name(fd, p, n) {
        if (fd !== PREOPEN_FD) return E_BADF;
        if (n < dirName.length) return E_INVAL;
        g.bytes(p, dirName.length).set(dirName);
        return E_SUCCESS;
      },
      path_open(dirfd, _dirflags, p, n, _oflags, _rights, _inherit, _fdflags, fdPtr) {
        if (dirfd !== PREOPEN_FD) return E_BADF;
        const data = g.files.get(g.str(p, n));
        if (data === undefined) return E_NOENT;
        const fd = g.nextFD++;
        g.open.set(fd, { data, off: 0 });
        g.u32(fdPtr, fd);
        return E_SUCCESS;
      },
      path_filestat_get(dirfd, _flags, p, n, st) {
        if (dirfd !== PREOPEN_FD) return E_BADF;
        const data = g.files.get(g.str(p, n));
        if (data === undefined) return E_NOENT;
        g.filestat(st, FT_FILE, data.length);
        return E_SUCCESS;
      },
      fd_filestat_get(fd, st) {
        if (fd === PREOPEN_FD) { g.filestat(st, FT_DIR, 0); return E_SUCCESS; }
        const f = g.open.get(fd);
        if (f === undefined) return E_BADF;
        g.filestat(st, FT_FILE, f.data.length);
        return E_SUCCESS;
      },
      fd_fdstat_get(fd, p) {
        if (fd <= 2) return base.fd_fdstat_get(fd, p);
        if (fd !== PREOPEN_FD && !g.open.has(fd)) return E_BADF;
        g.bytes(p, 24).fill(0);
        g.view().setUint8(p, fd === PREOPEN_FD ? FT_DIR : FT_FILE);
        g.view().setBigUint64(p + 8, 0xffffffffffffffffn, true);
        g.view().setBigUint64(p + 16, 0xffffffffffffffffn, true);
        return E_SUCCESS;
      },
      fd_fdstat_set_flags(fd) { return g.open.has(fd) ? E_SUCCESS : E_BADF; },
      fd_read(fd, iovs, n, readPtr) {
        const f = g.open.get(fd);
        if (f === undefined) return E_BADF;
        const dv = g.view();
        let total = 0;
        for (let i = 0; i < n && f.off < f.data.length; i++) {
          const p = dv.getUint32(iovs + i * 8, true), l = dv.getUint32(iovs + i * 8 + 4, true);
          const chunk = f.data.subarray(f.off, f.off + l);
          g.bytes(p, chunk.length).set(chunk);
          f.off += chunk.length;
          total += chunk.length;
        }
        g.u32(readPtr, total);
        return E_SUCCESS;
      },
      fd_close(fd) { return g.open.delete(fd) ? E_SUCCESS : E_BADF; },
    };
  }
}
for (const m of ['u8', 'view', 'bytes', 'str', 'u32']) VerifyGuest.prototype[m] = Plugin.prototype[m];

async function main(argv) {
  const [mode, wasmPath, scenPath, ...rest] = argv;
  if ((mode !== 'check' && mode !== 'bench' && mode !== 'rsa') || !wasmPath || !scenPath) {
    process.stderr.write('usage: node host.mjs check|bench WASM SCENARIOS.json [-count N] [-benchtime S] [-run REGEXP]\n' +
      '       node host.mjs rsa VERIFYGUEST.wasm DIR [-count N] [-benchtime S]\n');
    process.exit(2);
  }
  let count = 6, benchtime = 1, run = null;
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] === '-count') count = Number(rest[i + 1]);
    else if (rest[i] === '-benchtime') benchtime = parseFloat(rest[i + 1]);
    else if (rest[i] === '-run') run = new RegExp(rest[i + 1]);
    else { process.stderr.write(`unknown flag ${rest[i]}\n`); process.exit(2); }
  }
  if (!(count >= 1) || !(benchtime > 0)) { process.stderr.write('bad -count or -benchtime\n'); process.exit(2); }
  if (mode === 'rsa') {
    process.stdout.write(`pkg: github.com/iotauthz/iotauthz/bench/v8\n`);
    return rsa(wasmPath, scenPath, count, benchtime);
  }
  const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
  const scenarios = JSON.parse(fs.readFileSync(scenPath, 'utf8')).map((sc) => ({
    ...sc, setup: decodeSteps(sc.setup || []), ops: sc.ops.map(decodeSteps),
  }));
  if (mode === 'check') return check(module, scenarios);
  process.stdout.write(`goos: linux\ngoarch: ${process.arch === 'x64' ? 'amd64' : process.arch}\npkg: github.com/iotauthz/iotauthz/bench/v8\nengine: V8 ${process.versions.v8} (node ${process.version})\n`);
  for (const sc of scenarios) {
    if (run && !run.test(sc.name)) continue;
    bench(module, sc, count, benchtime);
  }
}

export { runStep, decodeSteps };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`v8 bench host: ${e.stack || e}\n`);
    process.exit(1);
  });
}
