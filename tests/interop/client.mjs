#!/usr/bin/env node
// Stock Yjs + @hocuspocus/provider client used by the interop tests.
//
//   node client.mjs --url ws://127.0.0.1:PORT/sync --token TOKEN \
//       --document work_order:WO-1 [--global-timeout SECS] [--trace] COMMAND
//
// --global-timeout defaults to 15 s (or --timeout + 5 s when that is longer).
//
// Commands (set, wait and dump work on doc.getMap("record")):
//   set KEY VALUE [--timeout 10]   set a string field, wait until the server
//                                   acknowledged every change (SyncStatus)
//   wait KEY VALUE [--timeout 10]  wait until record[KEY] === VALUE
//   dump                           print the record after the initial sync
//   edit JSON [--timeout 10]       one transaction of plain Yjs edits, then wait like set; JSON is
//                                   {"set": {MAP: {KEY: VALUE}}, "append": {ARRAY: [ENTRY, ...]},
//                                    "insert": {TEXT: [[INDEX, STRING], ...]}}:
//                                   any root, any JSON value (a stamp in "clocks", an entry of a list),
//                                   text inserted at Yjs offsets (UTF-16 code units), with nothing
//                                   checked here; the result adds "roots", the JSON of every root the
//                                   edit touched (a text as its string)
//
// Every run prints exactly one JSON line on stdout and exits:
//   0  {"ok":true,"record":{...}}
//   1  {"ok":false,"error":"timeout",...}          wait: value never seen
//   2  {"ok":false,"error":"refused"|"unsynced",...} set, edit: not acknowledged
//   3  {"ok":false,"error":"permission-denied","reason":...}
//   4  {"ok":false,"error":"global-timeout",...}   nothing finished in time
//   64 {"ok":false,"error":"usage",...}            bad command line
// --trace writes one line per WebSocket frame (both directions) and per
// provider event (authenticated, synced, unsyncedChanges, status) on stderr.

import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import WebSocket from "ws";
import * as Y from "yjs";

const EXIT = {
  ok: 0,
  timeout: 1,
  unsynced: 2,
  denied: 3,
  globalTimeout: 4,
  usage: 64,
};

// ---------------------------------------------------------------- arguments

function usage(message) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: "usage", message })}\n`);
  process.exit(EXIT.usage);
}

function parseSeconds(name, raw) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) usage(`${name} needs a positive number of seconds`);
  return value;
}

function parseArgs(argv) {
  const opts = {
    url: null,
    token: null,
    document: null,
    globalTimeout: null,
    timeout: 10,
    trace: false,
  };
  const positional = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (arg) {
      case "--url":
        opts.url = next();
        break;
      case "--token":
        opts.token = next();
        break;
      case "--document":
        opts.document = next();
        break;
      case "--global-timeout":
        opts.globalTimeout = parseSeconds(arg, next());
        break;
      case "--timeout":
        opts.timeout = parseSeconds(arg, next());
        break;
      case "--trace":
        opts.trace = true;
        break;
      default:
        if (arg.startsWith("--")) usage(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  // Default 15 s, but always leave the command's own timeout room to report.
  if (opts.globalTimeout === null) opts.globalTimeout = Math.max(15, opts.timeout + 5);
  if (!opts.url) usage("--url is required");
  if (opts.token === null) usage("--token is required");
  if (!opts.document) usage("--document is required");

  const [command, ...rest] = positional;
  if (command === "set" || command === "wait") {
    if (rest.length !== 2) usage(`${command} takes KEY VALUE`);
    [opts.key, opts.value] = rest;
  } else if (command === "dump") {
    if (rest.length !== 0) usage("dump takes no arguments");
  } else if (command === "edit") {
    if (rest.length !== 1) usage("edit takes one JSON argument");
    opts.edit = parseEdit(rest[0]);
  } else {
    usage(`unknown command ${command ?? "(none)"}; use set, wait, dump or edit`);
  }
  opts.command = command;
  return opts;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseEdit(raw) {
  let edit;
  try {
    edit = JSON.parse(raw);
  } catch (err) {
    usage(`edit: not JSON (${err.message})`);
  }
  const { set = {}, append = {}, insert = {}, ...other } = isObject(edit) ? edit : usage("edit takes a JSON object");
  if (Object.keys(other).length) usage(`edit: unknown keys ${Object.keys(other).join(", ")}`);
  if (!isObject(set) || !Object.values(set).every(isObject)) usage('edit: "set" maps map roots to objects');
  if (!isObject(append) || !Object.values(append).every(Array.isArray)) usage('edit: "append" maps array roots to lists');
  const isInsert = (op) => Array.isArray(op) && Number.isInteger(op[0]) && op[0] >= 0 && typeof op[1] === "string";
  if (!isObject(insert) || !Object.values(insert).every((ops) => Array.isArray(ops) && ops.every(isInsert))) {
    usage('edit: "insert" maps text roots to lists of [INDEX, STRING]');
  }
  return { set, append, insert };
}

// ---------------------------------------------------------- frame decoding
// Only for --trace and for spotting SyncStatus(false), which the provider
// itself silently ignores.

const MESSAGE_TYPES = [
  "Sync",
  "Awareness",
  "Auth",
  "QueryAwareness",
  "SyncReply",
  "Stateless",
  "BroadcastStateless",
  "Close",
  "SyncStatus",
  "Ping",
  "Pong",
];
const SYNC_STEPS = ["Step1", "Step2", "Update"];
const AUTH_TYPES = ["Token", "PermissionDenied", "Authenticated"];

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  get done() {
    return this.pos >= this.bytes.length;
  }

  varUint() {
    let result = 0;
    let mult = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new Error("truncated varUint");
      const byte = this.bytes[this.pos];
      this.pos += 1;
      result += (byte & 0x7f) * mult;
      if (byte < 0x80) return result;
      mult *= 128;
    }
  }

  varBytes() {
    const len = this.varUint();
    if (this.pos + len > this.bytes.length) throw new Error("truncated bytes");
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  varString() {
    return new TextDecoder().decode(this.varBytes());
  }
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(Buffer.from(String(data)));
}

function describeFrame(data) {
  const bytes = toBytes(data);
  if (bytes.length === 1) {
    return { type: MESSAGE_TYPES[bytes[0]] ?? `type${bytes[0]}`, bytes: 1 };
  }
  const out = { bytes: bytes.length };
  try {
    const r = new Reader(bytes);
    out.doc = r.varString();
    const type = r.varUint();
    out.type = MESSAGE_TYPES[type] ?? `type${type}`;
    if (type === 0 || type === 4) {
      const step = r.varUint();
      out.sync = SYNC_STEPS[step] ?? `step${step}`;
      out.payload = r.varBytes().length;
    } else if (type === 2) {
      const sub = r.varUint();
      out.auth = AUTH_TYPES[sub] ?? `auth${sub}`;
      if (!r.done) {
        const text = r.varString();
        // Never print the token itself.
        out.detail = sub === 0 ? `<token ${text.length} chars>` : text;
      }
      if (!r.done) out.extra = r.varString();
    } else if (type === 8) {
      out.applied = r.varUint() === 1;
    } else if ((type === 5 || type === 7) && !r.done) {
      out.detail = r.varString();
    } else if (type === 1) {
      out.payload = r.varBytes().length;
    }
    if (!r.done) out.trailing = bytes.length - r.pos;
  } catch (err) {
    out.error = String(err.message ?? err);
  }
  return out;
}

// ------------------------------------------------------------------- client

const opts = parseArgs(process.argv.slice(2));
const started = Date.now();
const stats = { syncStatusTrue: 0, syncStatusFalse: 0, refusedAfterSet: 0 };
let setDone = false;

function trace(direction, data) {
  if (!opts.trace) return;
  const ms = String(Date.now() - started).padStart(5);
  process.stderr.write(`[${ms}ms] ${direction} ${JSON.stringify(describeFrame(data))}\n`);
}

function inspectIncoming(data) {
  const frame = describeFrame(data);
  if (frame.type === "SyncStatus") {
    if (frame.applied) stats.syncStatusTrue += 1;
    else {
      stats.syncStatusFalse += 1;
      if (setDone) stats.refusedAfterSet += 1;
    }
  }
}

// The ws WebSocket, with a look at every frame in both directions.
class ObservedWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      trace("<-", event.data);
      inspectIncoming(event.data);
      onFrameSeen();
    });
  }

  send(data, ...rest) {
    trace("->", data);
    return super.send(data, ...rest);
  }
}

const doc = new Y.Doc();
const record = doc.getMap("record");

const websocketProvider = new HocuspocusProviderWebsocket({
  url: opts.url,
  WebSocketPolyfill: ObservedWebSocket,
});

let finished = false;
const waiters = new Set();

function onFrameSeen() {
  for (const check of waiters) check();
}

async function finish(code, payload) {
  if (finished) return;
  finished = true;
  const socket = websocketProvider.webSocket;
  const line = JSON.stringify({
    ...payload,
    // what the handshake negotiated: "permessage-deflate" when the hub accepted ws's offer, "" when it did not
    extensions: socket?.extensions ?? null,
    record: record.toJSON(),
    ...(opts.edit ? { roots: touchedRoots() } : {}),
    scope: provider.authorizedScope ?? null,
    unsyncedChanges: provider.unsyncedChanges,
    syncStatus: { applied: stats.syncStatusTrue, refused: stats.syncStatusFalse },
  });
  try {
    provider.destroy();
    websocketProvider.destroy();
  } catch (err) {
    process.stderr.write(`cleanup failed: ${err?.message ?? err}\n`);
  }
  // Give the close handshake a moment so the server sees a clean close.
  if (socket && socket.readyState !== WebSocket.CLOSED) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 500);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  process.stdout.write(`${line}\n`, () => process.exit(code));
}

const globalTimer = setTimeout(() => {
  finish(EXIT.globalTimeout, {
    ok: false,
    error: "global-timeout",
    seconds: opts.globalTimeout,
    status: websocketProvider.status,
    authenticated: provider.isAuthenticated,
    synced: provider.isSynced,
  });
}, opts.globalTimeout * 1000);
globalTimer.unref?.();

const provider = new HocuspocusProvider({
  name: opts.document,
  token: opts.token,
  document: doc,
  websocketProvider,
});
// With an external websocketProvider the provider must be attached explicitly.
provider.attach();

provider.on("authenticationFailed", ({ reason }) => {
  finish(EXIT.denied, { ok: false, error: "permission-denied", reason: reason ?? null });
});

function waitFor(predicate, seconds, onTimeout) {
  return new Promise((resolve) => {
    let timer = null;
    const check = () => {
      if (finished) return;
      if (predicate()) {
        waiters.delete(check);
        if (timer) clearTimeout(timer);
        resolve(true);
      }
    };
    waiters.add(check);
    if (seconds !== null) {
      timer = setTimeout(() => {
        waiters.delete(check);
        onTimeout();
        resolve(false);
      }, seconds * 1000);
    }
    check();
  });
}

// With --trace, milestones show up between the frames, e.g. "[   28ms] event synced".
// Tests wait for "event synced" to know the client is live before changing the doc.
function traceEvent(name, detail) {
  if (!opts.trace) return;
  const ms = String(Date.now() - started).padStart(5);
  const suffix = detail === undefined ? "" : ` ${JSON.stringify(detail)}`;
  process.stderr.write(`[${ms}ms] event ${name}${suffix}\n`);
}
provider.on("authenticated", ({ scope }) => traceEvent("authenticated", { scope }));
provider.on("authenticationFailed", ({ reason }) => traceEvent("authenticationFailed", { reason }));
provider.on("synced", () => traceEvent("synced"));
provider.on("unsyncedChanges", ({ number }) => traceEvent("unsyncedChanges", { number }));
websocketProvider.on("status", ({ status }) => traceEvent("status", { status }));

// Re-run waiters on provider and document events too, not only on frames.
for (const event of ["authenticated", "synced", "unsyncedChanges"]) {
  provider.on(event, () => setImmediate(onFrameSeen));
}
doc.on("update", () => setImmediate(onFrameSeen));

const ready = () => provider.isAuthenticated && provider.isSynced;

// edit: every change in one transaction, so the provider sends it as one update.
function applyEdit() {
  doc.transact(() => {
    for (const [root, fields] of Object.entries(opts.edit.set)) {
      const map = doc.getMap(root);
      for (const [key, value] of Object.entries(fields)) map.set(key, value);
    }
    for (const [root, entries] of Object.entries(opts.edit.append)) doc.getArray(root).push(entries);
    for (const [root, ops] of Object.entries(opts.edit.insert)) {
      for (const [index, text] of ops) doc.getText(root).insert(index, text);
    }
  });
}

function touchedRoots() {
  return {
    ...Object.fromEntries(Object.keys(opts.edit.set).map((root) => [root, doc.getMap(root).toJSON()])),
    ...Object.fromEntries(Object.keys(opts.edit.append).map((root) => [root, doc.getArray(root).toJSON()])),
    ...Object.fromEntries(Object.keys(opts.edit.insert).map((root) => [root, doc.getText(root).toString()])),
  };
}

async function main() {
  if (opts.command === "wait") {
    const seen = () => ready() && record.get(opts.key) === opts.value;
    const ok = await waitFor(seen, opts.timeout, () =>
      finish(EXIT.timeout, { ok: false, error: "timeout", key: opts.key, expected: opts.value }),
    );
    if (ok) finish(EXIT.ok, { ok: true });
    return;
  }

  // set and dump start after the initial handshake; the global timeout covers it.
  await waitFor(ready, null, () => {});
  if (finished) return;

  if (opts.command === "dump") {
    finish(EXIT.ok, { ok: true });
    return;
  }

  if (opts.command === "edit") applyEdit();
  else record.set(opts.key, opts.value);
  setDone = true;
  const acknowledged = () => stats.refusedAfterSet > 0 || !provider.hasUnsyncedChanges;
  const ok = await waitFor(acknowledged, opts.timeout, () =>
    finish(EXIT.unsynced, { ok: false, error: "unsynced", key: opts.key ?? null }),
  );
  if (!ok || finished) return;
  if (stats.refusedAfterSet > 0) {
    // The provider ignores SyncStatus(false) and would wait forever.
    finish(EXIT.unsynced, { ok: false, error: "refused", key: opts.key ?? null });
  } else {
    finish(EXIT.ok, { ok: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  finish(EXIT.globalTimeout, { ok: false, error: "crash", message: String(err?.message ?? err) });
});
