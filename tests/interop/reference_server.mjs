#!/usr/bin/env node
// A stock @hocuspocus/server used as a reference peer for client.mjs.
//
// It lets the interop kit be checked without the fieldsync hub, and it shows
// what the upstream server does on the wire so the hub can be compared to it.
//
//   node reference_server.mjs [--port 0] [--host 127.0.0.1]
//
// Tokens: "ok" -> read-write, "ro" -> readonly, anything else -> denied.
// Documents live in memory for the life of the process (kept across
// connections, so a later client sees what an earlier one wrote). Once listening, one JSON line is printed on
// stdout: {"ready":true,"port":N,"url":"ws://HOST:N/sync"}. SIGINT/SIGTERM stop it.

import { Server } from "@hocuspocus/server";
import * as Y from "yjs";

function parseArgs(argv) {
  const opts = { port: 0, host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--port") opts.port = Number(argv[++i]);
    else if (arg === "--host") opts.host = argv[++i];
    else {
      process.stderr.write(`unknown argument: ${arg}\n`);
      process.exit(64);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// documentName -> full state as a Yjs update
const store = new Map();

const server = new Server({
  port: opts.port,
  address: opts.host,
  quiet: true,
  stopOnSignals: true,
  async onAuthenticate({ token, connectionConfig }) {
    if (token === "ok") return {};
    if (token === "ro") {
      connectionConfig.readOnly = true;
      return {};
    }
    // The reason travels in Auth/PermissionDenied.
    const err = new Error("bad token");
    err.reason = "invalid-token";
    throw err;
  },
  async onLoadDocument({ documentName, document }) {
    const state = store.get(documentName);
    if (state) Y.applyUpdate(document, state);
    return document;
  },
  async onChange({ documentName, document }) {
    store.set(documentName, Y.encodeStateAsUpdate(document));
  },
});

await server.listen();
const { port } = server.httpServer.address();
process.stdout.write(
  `${JSON.stringify({ ready: true, port, url: `ws://${opts.host}:${port}/sync` })}\n`,
);
