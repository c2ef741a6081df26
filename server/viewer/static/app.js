// The fieldsync web viewer: plain DOM, one stock Yjs + Hocuspocus bundle, the REST API for lists and reports.
import { Y, HocuspocusProvider, HocuspocusProviderWebsocket } from "/viewer/sync-client.js";

const domain = JSON.parse(document.getElementById("domain").textContent);
const main = document.getElementById("main");
const noticeBox = document.getElementById("notice");
const TOKEN_KEY = "fieldsync.token";
let leave = () => {};
let routeId = 0; // pages that load something draw it only while they are still the current route

// ---- small helpers: elements are built with text nodes only, so record content can never become markup
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
function show(...nodes) { main.replaceChildren(...nodes); }
function notice(text, error = false) {
  noticeBox.textContent = text;
  noticeBox.className = error ? "error" : "";
  noticeBox.hidden = !text;
}
function text(value) { return value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value); }

function token() { return sessionStorage.getItem(TOKEN_KEY); }
function claims() {
  try {
    const part = token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch { return null; }
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${token()}`, "Content-Type": "application/json" } });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  // the REST API refuses with {error, message}, the admin API with {code, reason}
  if (response.status === 401) { location.hash = "#/sign-in"; throw new Error(body?.message || body?.reason || "sign in again"); }
  if (!response.ok) {
    const error = new Error(`${body?.error || body?.code || response.status}: ${body?.message || body?.reason || response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// ---- sign-in: the token comes from the deployment's identity provider (pasted or uploaded here)
function signIn() {
  const area = h("textarea", { id: "token", "aria-label": "Token", placeholder: "Paste a token" });
  const file = h("input", { type: "file", id: "token-file", "aria-label": "Token file", onchange: async () => { area.value = (await file.files[0].text()).trim(); } });
  const who = claims();
  show(h("h1", {}, "Sign in"),
    h("p", {}, "Paste the token your identity provider gave you (", h("code", {}, "fieldsync token"), " mints one for development)."),
    h("form", { onsubmit: (event) => { event.preventDefault(); sessionStorage.setItem(TOKEN_KEY, area.value.trim()); updateWho(); location.hash = "#/records"; } },
      h("label", {}, "Token", area), h("label", {}, "or a file holding it", file), h("button", { type: "submit" }, "Sign in")),
    who ? h("p", {}, `Signed in as ${who.sub} (${(who.roles || []).join(", ")}) in ${who.tenant}. `,
      h("button", { type: "button", onclick: () => { sessionStorage.removeItem(TOKEN_KEY); updateWho(); signIn(); } }, "Sign out")) : "");
  area.focus();
}
function updateWho() {
  const who = claims();
  document.getElementById("who").textContent = who ? `${who.sub} (sign out)` : "Sign in";
  document.getElementById("admin-link").hidden = !(who?.roles || []).includes("admin"); // the API decides; this only tidies the menu
}

// ---- the record list: filters, keyset pages
async function records(params) {
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const query = new URLSearchParams([...new FormData(form)].filter(([, value]) => value !== ""));
    location.hash = `#/records?${query}`;
  } },
  h("label", {}, "Type", h("select", { name: "type" }, h("option", { value: "" }, "any"), ...Object.keys(domain.statuses).map((t) => h("option", { value: t, selected: params.get("type") === t }, t)))),
  h("label", {}, "Status", h("input", { name: "status", value: params.get("status") || "", size: 12 })),
  h("label", {}, "Assignee", h("input", { name: "assignee", value: params.get("assignee") || "", size: 10 })),
  h("label", {}, "Team", h("input", { name: "team", value: params.get("team") || "", size: 8 })),
  h("label", {}, "Search", h("input", { name: "q", type: "search", value: params.get("q") || "", size: 14 })),
  h("label", {}, "Overdue", h("select", { name: "overdue" }, ...[["", "any"], ["true", "yes"], ["false", "no"]].map(([v, t]) => h("option", { value: v, selected: params.get("overdue") === v }, t)))),
  h("label", {}, "Sort", h("select", { name: "sort" }, ...["-updated_at", "updated_at", "name", "-name", "status", "due_at", "-due_at"].map((s) => h("option", { value: s, selected: params.get("sort") === s }, s)))),
  h("button", { type: "submit" }, "Filter"));
  show(h("h1", {}, "Records"), form, h("p", {}, "Loading…"));
  const id = routeId;
  const page = await api(`/api/records?${params}`);
  if (id !== routeId) return;
  const rows = page.items.map((item) => h("tr", { "data-name": item.name },
    h("td", {}, h("a", { href: `#/record/${encodeURIComponent(item.name)}` }, item.name)),
    h("td", {}, item.record.title || item.record.claim_number || item.record.policy_number || ""),
    h("td", { "data-field": "status" }, text(item.status)), h("td", {}, text(item.assignee)),
    h("td", {}, item.overdue ? "overdue" : ""), h("td", {}, item.updated_at.slice(0, 19).replace("T", " "))));
  const next = new URLSearchParams(params); next.set("cursor", page.next_cursor || "");
  const first = new URLSearchParams(params); first.delete("cursor");
  show(h("h1", {}, "Records"), form,
    h("div", { class: "table" }, h("table", {}, h("thead", {}, h("tr", {}, ...["Record", "Title", "Status", "Assignee", "", "Updated"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows))),
    h("p", {}, params.get("cursor") ? h("a", { href: `#/records?${first}` }, "First page") : "", " ",
      page.next_cursor ? h("a", { href: `#/records?${next}`, id: "next-page" }, "Next page") : "", page.items.length ? "" : "No records."));
}

// ---- one record, live over /sync with the stock provider
function hlcAfter(seen, device) {
  let wall = Date.now(); let counter = 0;
  if (seen) {
    const [seenWall, seenCounter] = seen.split("-").map(Number);
    if (seenWall >= wall) { wall = seenWall; counter = seenCounter + 1; }
  }
  return `${String(wall).padStart(13, "0")}-${String(counter).padStart(6, "0")}-${device}`;
}

function record(name) {
  const who = claims();
  const doc = new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({ url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sync` });
  const provider = new HocuspocusProvider({ name, document: doc, token: token(), websocketProvider: socket });
  provider.attach();
  let scope = null;
  const state = h("span", { id: "connection", class: "offline" }, "connecting");
  const table = h("tbody", { id: "fields" });
  const type = name.split(":")[0];
  const select = h("select", { id: "status-choice", "aria-label": "New status" }, ...(domain.statuses[type] || []).map((s) => h("option", { value: s }, s)));
  const edit = h("form", { id: "status-form", hidden: true, onsubmit: (event) => { event.preventDefault(); writeField("status", select.value); } },
    h("label", {}, "Status", select), h("button", { type: "submit" }, "Change status"));

  function writeField(field, value) {
    const clocks = doc.getMap("clocks");
    let seen = null;
    clocks.forEach((entry, key) => { if (key.startsWith(`${field}@`) && entry?.hlc && (!seen || entry.hlc > seen)) seen = entry.hlc; });
    const hlc = hlcAfter(seen, who.device);
    doc.transact(() => {
      doc.getMap("record").set(field, value);
      clocks.set(`${field}@${who.device}`, { hlc, user: who.sub, roles: who.roles, value, prev: seen });
    });
    notice(`${field} set to ${value}; waiting for the hub`);
  }
  function render() {
    const fields = doc.getMap("record").toJSON();
    table.replaceChildren(...Object.keys(fields).sort().map((key) => h("tr", { "data-field": key }, h("th", { scope: "row" }, key), h("td", {}, text(fields[key])))));
    if (fields.status) select.value = fields.status;
    edit.hidden = scope !== "read-write";
  }
  provider.on("authenticated", ({ scope: granted }) => { scope = granted; render(); });
  let refused = false;  // after a refusal, the hub's "not authenticated" answers to what was already sent add nothing
  provider.on("authenticationFailed", ({ reason }) => { refused = true; notice(`Access refused: ${reason}`, true); });
  provider.on("synced", () => { state.textContent = "live"; state.className = "live"; render(); });
  provider.on("stateless", ({ payload }) => {
    let message; try { message = JSON.parse(payload); } catch { return; }
    if (message.type === "error" && !(refused && message.code === "not_authenticated")) notice(`Refused${message.field ? ` (${message.field})` : ""}: ${message.code}: ${message.message}`, true);
  });
  provider.on("unsyncedChanges", ({ number }) => { if (number === 0 && noticeBox.textContent.includes("waiting for the hub")) notice("Saved by the hub"); });
  socket.on("status", ({ status }) => { state.textContent = status === "connected" ? (provider.isSynced ? "live" : "connecting") : status; state.className = status === "connected" ? "live" : "offline"; });
  doc.on("update", render);
  show(h("h1", {}, name), h("p", {}, "Connection: ", state, " · ", h("a", { href: `#/history/${encodeURIComponent(name)}` }, "History")), edit,
    h("div", { class: "table" }, h("table", { "aria-label": "Fields" }, table)));
  return () => { provider.destroy(); socket.destroy(); doc.destroy(); };
}

async function history(name) {
  const id = routeId;
  const data = await api(`/api/records/${encodeURIComponent(name)}/history`);
  if (id !== routeId) return;
  show(h("h1", {}, `History of ${name}`), h("div", { class: "table" }, h("table", {},
    h("thead", {}, h("tr", {}, ...["When", "Field", "Value", "Who", "Device"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, data.writes.map((w) => h("tr", {}, h("td", {}, w.at.slice(0, 19).replace("T", " ")), h("td", {}, w.field), h("td", {}, text(w.value)), h("td", {}, w.user), h("td", {}, w.device)))))));
}

// ---- the dashboard: the reports, refreshed every second (cached by the hub until a record changes)
function dashboard() {
  let timer = null;
  let stopped = false;
  async function refresh() {
    try {
      const r = await api("/api/reports");
      if (stopped) return;
      const counts = Object.entries(r.status_counts).flatMap(([type, byStatus]) => Object.entries(byStatus).map(([status, n]) => h("tr", { "data-type": type, "data-status": status }, h("td", {}, type), h("td", {}, status), h("td", { class: "count" }, n))));
      show(h("h1", {}, "Dashboard"), h("div", { class: "cards" },
        h("section", { class: "card" }, h("h2", {}, "Overdue work orders"), h("p", { class: "big", id: "overdue-count" }, r.overdue.count),
          h("ul", {}, r.overdue.items.slice(0, 10).map((i) => h("li", {}, h("a", { href: `#/record/${encodeURIComponent(i.name)}` }, i.name), ` ${i.overdue_hours} h (${i.technician || "unassigned"})`)))),
        h("section", { class: "card" }, h("h2", {}, "Records by status"), h("table", { id: "status-counts" }, h("tbody", {}, counts))),
        h("section", { class: "card" }, h("h2", {}, "Open work per technician"), h("table", {}, h("tbody", {}, r.technicians.map((t) => h("tr", {}, h("td", {}, t.technician || "unassigned"), h("td", {}, `${t.open} open`), h("td", {}, `${t.overdue} overdue`)))))),
        h("section", { class: "card" }, h("h2", {}, "Open ages against service levels"), h("table", {}, h("tbody", {}, r.open_ages.map((a) => h("tr", {}, h("td", {}, `${a.type} ${a.status}`), h("td", {}, `${a.count}`), h("td", {}, a.sla_hours ? `${a.over_sla} over ${a.sla_hours} h` : "")))))),
        h("section", { class: "card" }, h("h2", {}, "Claimed amounts"), h("table", {}, h("tbody", {}, Object.entries(r.claimed_amounts).flatMap(([type, byStatus]) => Object.entries(byStatus).map(([status, a]) => h("tr", {}, h("td", {}, `${type} ${status}`), h("td", {}, a.total)))))))),
      h("p", {}, `Updated ${r.now.slice(11, 19)} UTC`));
    } catch (error) { notice(String(error.message || error), true); }
    if (!stopped) timer = setTimeout(refresh, 1000);
  }
  refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

// ---- the conflict review
async function conflicts() {
  const id = routeId;
  const data = await api("/api/conflicts?status=open");
  if (id !== routeId) return;
  const reviewer = (claims()?.roles || []).some((role) => domain.reviewer_roles.includes(role));
  async function resolve(id, value) {
    try {
      await api(`/api/conflicts/${id}/resolve`, { method: "POST", body: JSON.stringify({ value }) });
      notice(`Conflict ${id} resolved with ${text(value)}`);
      await conflicts();
    } catch (error) { notice(`Not resolved: ${error.message}`, true); }
  }
  const items = data.items.map((c) => {
    const custom = h("input", { "aria-label": `New value for conflict ${c.id}`, size: 12 });
    return h("section", { class: "card", "data-conflict": c.id, "data-kind": c.kind },
      h("h2", {}, h("a", { href: `#/record/${encodeURIComponent(c.name)}` }, c.name), ` · ${c.field}`),
      h("p", {}, `${c.kind}${c.code ? ` (${c.code})` : ""}${c.needs_review ? " · needs review" : ""}`),
      h("ul", {}, c.values.map((v) => h("li", {}, h("strong", {}, text(v.value)), ` by ${v.user || "?"}${v.device ? ` on ${v.device}` : ""}${v.at ? ` at ${v.at.slice(0, 19).replace("T", " ")}` : ""} `,
        reviewer && c.kind === "conflict" ? h("button", { type: "button", onclick: () => resolve(c.id, v.value) }, `Choose ${text(v.value)}`) : ""))),
      reviewer && c.kind === "conflict" ? h("form", { onsubmit: (event) => { event.preventDefault(); resolve(c.id, custom.value); } }, custom, h("button", { type: "submit" }, "Resolve with this value")) : "");
  });
  show(h("h1", {}, "Conflicts"), items.length ? h("div", { class: "cards" }, items) : h("p", { id: "no-conflicts" }, "No open conflicts."));
}

// ---- the admin page: every node's sockets and the tenant's devices, refreshed every second; a revoke or restore
// is asked about first in a dialog, which the refresh leaves alone (it redraws only the tables)
function admin() {
  let timer = null;
  let stopped = false;
  let drawn = 0; // only the newest answer is drawn
  let shown = ""; // and only when it changed, so rows under the pointer or the focus stay put
  const when = (value) => (value ? value.slice(0, 19).replace("T", " ") : "");
  const connections = h("tbody", { id: "connections" });
  const devices = h("tbody", { id: "devices" });
  const updated = h("p", {}, "Loading…");
  const question = h("p", { id: "confirm-question" });
  const yes = h("button", { type: "submit", value: "yes", id: "confirm-yes" });
  const dialog = h("dialog", { id: "confirm", "aria-labelledby": "confirm-question" },
    h("form", { method: "dialog" }, question,
      h("p", { class: "actions" }, yes, h("button", { type: "submit", value: "no", id: "confirm-no", autofocus: true }, "Cancel"))));
  const focusOn = (device) => devices.querySelector(`tr[data-device="${CSS.escape(device)}"] button`)?.focus();

  function ask(device, action) {
    question.textContent = action === "revoke"
      ? `Revoke ${device}? Its sockets close now and its tokens are refused until it is restored; its unsent edits stay on it.`
      : `Restore ${device}? Its tokens are accepted again.`;
    yes.textContent = `${action === "revoke" ? "Revoke" : "Restore"} ${device}`;
    dialog.returnValue = "";
    dialog.onclose = () => (dialog.returnValue === "yes" ? act(device, action) : focusOn(device));
    dialog.showModal(); // Cancel has the focus; Escape cancels too
  }
  async function act(device, action) {
    try {
      const result = await api(`/admin/devices/${encodeURIComponent(device)}/${action}`, { method: "POST" });
      notice(action === "revoke" ? `${device} revoked: ${result.closed} socket(s) closed` : `${device} restored`);
    } catch (error) { notice(`Not ${action === "revoke" ? "revoked" : "restored"}: ${error.message}`, true); }
    await draw();
    focusOn(device);
  }
  async function draw() {
    const id = ++drawn;
    try {
      const [live, page] = await Promise.all([api("/admin/connections"), api("/admin/devices?limit=100")]);
      if (stopped || id !== drawn) return;
      const sockets = live.connections;
      const nodes = live.nodes.map((n) => `${n.node}${n.local ? " (this one)" : ""}${n.truncated ? " (partly)" : ""}`);
      updated.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC · nodes ${nodes.join(", ")}`
        + `${live.partial ? ` · ${live.partial}` : ""}${page.next ? " · the first 100 devices" : ""}`;
      const answer = JSON.stringify([sockets, page]);
      if (answer === shown) return;
      shown = answer;
      const focused = devices.contains(document.activeElement) ? document.activeElement.closest("tr").dataset.device : null;
      connections.replaceChildren(...sockets.map((c) => h("tr", { "data-connection": c.id, "data-device": c.device, "data-node": c.node },
        h("td", {}, c.device), h("td", {}, c.user), h("td", { class: "node" }, c.node),
        h("td", { title: c.documents.join(", ") }, c.documents.length),
        h("td", {}, when(c.since)), h("td", {}, when(c.last_activity)))));
      if (!sockets.length) connections.append(h("tr", {}, h("td", { colspan: 6 }, "No sockets on any node.")));
      devices.replaceChildren(...page.devices.map((d) => {
        const action = d.revoked ? "restore" : "revoke";
        return h("tr", { "data-device": d.device, "data-state": d.revoked ? "revoked" : "active" },
          h("td", {}, d.device), h("td", {}, d.user), h("td", {}, when(d.last_seen)), h("td", {}, d.connections),
          h("td", { class: "state" }, d.revoked ? `revoked ${when(d.revoked_at)}${d.revoked_by ? ` by ${d.revoked_by}` : ""}` : "active"),
          h("td", {}, h("button", { type: "button", "aria-label": `${d.revoked ? "Restore" : "Revoke"} ${d.device}`,
            onclick: () => ask(d.device, action) }, d.revoked ? "Restore…" : "Revoke…")));
      }));
      if (!page.devices.length) devices.append(h("tr", {}, h("td", { colspan: 6 }, "No devices recorded.")));
      if (focused) focusOn(focused); // the redraw must not take the keyboard's place away
    } catch (error) {
      if (stopped) return;
      if (error.status === 403) { // not an admin: say why, and stop asking
        stopped = true;
        show(h("h1", {}, "Admin"), h("p", { id: "admin-refused" }, `Refused: ${error.message}`));
      } else notice(String(error.message || error), true);
    }
  }
  async function loop() {
    await draw();
    if (!stopped) timer = setTimeout(loop, 1000);
  }
  show(h("h1", {}, "Admin"),
    h("h2", {}, "Connections"),
    h("div", { class: "table" }, h("table", { "aria-label": "Connections" },
      h("thead", {}, h("tr", {}, ...["Device", "User", "Node", "Documents", "Since", "Last activity"].map((c) => h("th", { scope: "col" }, c)))), connections)),
    h("h2", {}, "Devices"),
    h("div", { class: "table" }, h("table", { "aria-label": "Devices" },
      h("thead", {}, h("tr", {}, ...["Device", "User", "Last seen", "Sockets", "State", ""].map((c) => h("th", { scope: "col" }, c)))), devices)),
    updated, dialog);
  loop();
  return () => { stopped = true; clearTimeout(timer); if (dialog.open) dialog.close(); };
}

// ---- routing
async function route() {
  leave(); leave = () => {};
  routeId += 1;
  notice("");
  const [path, query] = location.hash.slice(1).split("?");
  if (!token() && path !== "/sign-in") { location.hash = "#/sign-in"; return; }
  try {
    if (path === "/sign-in") signIn();
    else if (path.startsWith("/record/")) leave = record(decodeURIComponent(path.slice(8)));
    else if (path.startsWith("/history/")) await history(decodeURIComponent(path.slice(9)));
    else if (path === "/dashboard") leave = dashboard();
    else if (path === "/conflicts") await conflicts();
    else if (path === "/admin") leave = admin();
    else await records(new URLSearchParams(query || ""));
  } catch (error) { notice(String(error.message || error), true); }
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true }); // a page may focus its first field
}
window.addEventListener("hashchange", route);
updateWho();
route();
