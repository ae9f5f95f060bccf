// The sandbox page: a small Slack workspace over the sandbox's JSON API (sandbox/API.md).
// State comes from GET /api/state; the event stream says when to fetch it again.

import { el, mrkdwn, plainString, renderBlocks, collectValues, restoreValues, confirmDialog, nextId } from "./blockkit.js";

const $ = (id) => document.getElementById(id);

const S = {
  boot: null,
  me: null,
  state: null,
  version: null,
  current: null, // {kind: "channel", id} | {kind: "app", tab: "home" | "messages"}
  thread: null, // {channel, ts}
  seen: {}, // channel id -> latest ts seen
  dismissed: new Set(), // ephemerals the person dismissed
  viewValues: new Map(), // view id -> remembered input values
  localErrors: new Map(), // view id -> errors from the last submit
  closing: new Set(), // view ids closed here, not yet gone from the state
  homeOpenedFor: null,
};

// ---- talking to the server ----------------------------------------------------------------

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok || (data && data.ok === false)) {
    throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

function toast(text, { error = false, detail = null } = {}) {
  const node = el("div", { class: "toast" + (error ? " toast-error" : ""), role: error ? "alert" : null },
    el("div", { class: "toast-text" }, text), detail ? el("pre", { class: "toast-detail" }, detail) : null,
    el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss notice", onclick: () => node.remove() }, "✕"));
  $("toasts").append(node);
  setTimeout(() => node.remove(), error ? 10000 : 6000);
}

async function attempt(what, fn) {
  try {
    return await fn();
  } catch (err) {
    toast(`${what}: ${err.message}`, { error: true });
    return null;
  }
}

let inflight = null;
let again = false;
function refresh() {
  if (inflight) {
    again = true;
    return inflight;
  }
  inflight = (async () => {
    do {
      again = false;
      const asked = S.me;
      try {
        const state = await api(`/api/state?as=${encodeURIComponent(asked)}`);
        if (asked === S.me) apply(state);
      } catch (err) {
        setConnection(`State not available: ${err.message}`, true);
      }
    } while (again);
  })().finally(() => {
    inflight = null;
  });
  return inflight;
}

function setConnection(text, bad = false) {
  const node = $("connection");
  node.textContent = text;
  node.classList.toggle("bad", bad);
}

function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => setConnection("● Live");
  source.onmessage = (event) => {
    let data = {};
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (data.version !== S.version) refresh();
  };
  source.onerror = () => setConnection("Reconnecting…", true);
}

// ---- names ---------------------------------------------------------------------------------

function person(id) {
  return S.boot.people.find((p) => p.id === id);
}

function displayName(userId, isBot) {
  if (isBot || userId === S.boot.bot.id) return "Casedesk";
  const user = S.state?.users?.[userId];
  return user?.real_name || user?.name || person(userId)?.real_name || userId || "someone";
}

function channelName(id) {
  const known = S.state?.channels.find((c) => c.id === id);
  return known?.name || S.state?.channel_names?.[id] || S.boot.channels.find((c) => c.id === id)?.name || id;
}

function botIm() {
  const ims = (S.state?.channels || []).filter((c) => c.is_im);
  return ims.find((c) => c.name === S.boot.bot.name || c.user === S.boot.bot.id) || (ims.length === 1 ? ims[0] : null);
}

function currentChannelId() {
  if (!S.current) return null;
  if (S.current.kind === "channel") return S.current.id;
  if (S.current.kind === "app" && S.current.tab === "messages") return botIm()?.id || null;
  return null;
}

function timeOf(ts) {
  const date = new Date(parseFloat(ts) * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fullTimeOf(ts) {
  return new Date(parseFloat(ts) * 1000).toLocaleString();
}

// ---- rendering contexts -------------------------------------------------------------------

function textContext(extra = {}) {
  return {
    users: S.state?.users || {},
    channelNames: S.state?.channel_names || {},
    onChannel: (id) => openChannel(id),
    onLink: (url, event) => followPermalink(url, event),
    ...extra,
  };
}

function act(container, action, state) {
  const body = { as: S.me, container, ...action };
  if (state) body.state = { values: state };
  return attempt(`“${action.action_id}” failed`, async () => {
    await api("/api/action", body);
    refresh();
  });
}

function followPermalink(url, event) {
  const match = /\/archives\/([A-Z0-9]+)\/p(\d{7,})/.exec(url);
  if (!match) return;
  event.preventDefault();
  const [, channel, digits] = match;
  const ts = `${digits.slice(0, -6)}.${digits.slice(-6)}`;
  const threadTs = new URL(url).searchParams.get("thread_ts");
  openChannel(channel);
  if (threadTs) openThread(channel, threadTs);
  requestAnimationFrame(() => {
    const node = document.querySelector(`[data-key="${CSS.escape(`${channel}:${ts}`)}"]`);
    if (node) {
      node.scrollIntoView({ block: "center" });
      node.classList.add("flash");
      setTimeout(() => node.classList.remove("flash"), 1600);
    }
  });
}

// ---- messages --------------------------------------------------------------------------------

const messageCache = new Map(); // key -> {sig, node}
let namesSig = "";

function messageNode(msg, { inThread = false } = {}) {
  const key = `${msg.channel}:${msg.ts}${inThread ? ":t" : ""}`;
  const sig = JSON.stringify(msg) + (S.thread && S.thread.channel === msg.channel && S.thread.ts === msg.ts ? "open" : "");
  const cached = messageCache.get(key);
  if (cached && cached.sig === sig) return cached.node;
  const name = displayName(msg.user, msg.bot);
  const ctx = textContext({ onAction: (action) => act({ type: "message", channel: msg.channel, ts: msg.ts }, action) });
  const body = el("div", { class: "msg-body" });
  if (msg.blocks && msg.blocks.length) body.append(renderBlocks(msg.blocks, ctx));
  else body.append(el("div", { class: "msg-text" }, mrkdwn(msg.text, ctx)));
  const foot = el("div", { class: "msg-foot" });
  if (!inThread) {
    if (msg.reply_count > 0) {
      foot.append(el("button", { type: "button", class: "link-button replies", onclick: () => openThread(msg.channel, msg.ts) },
        msg.reply_count === 1 ? "1 reply" : `${msg.reply_count} replies`));
    }
    foot.append(el("button", { type: "button", class: "link-button reply", title: "Reply in thread", onclick: () => openThread(msg.channel, msg.ts) }, "Reply"));
  }
  const node = el("article", { class: "msg" + (msg.bot ? " msg-bot" : "") + (msg.pinned ? " msg-pinned" : ""), "data-key": `${msg.channel}:${msg.ts}`, "aria-label": `${name}, ${timeOf(msg.ts)}` },
    msg.pinned ? el("div", { class: "pin-label" }, "📌 Pinned") : null,
    el("div", { class: "msg-row" },
      el("div", { class: "avatar" + (msg.bot ? " avatar-bot" : ""), "aria-hidden": "true" }, msg.bot ? "◆" : name.slice(0, 1).toUpperCase()),
      el("div", { class: "msg-main" },
        el("div", { class: "msg-head" },
          el("span", { class: "msg-name" }, name),
          msg.bot ? el("span", { class: "badge" }, "APP") : null,
          el("time", { class: "msg-time", datetime: new Date(parseFloat(msg.ts) * 1000).toISOString(), title: fullTimeOf(msg.ts) }, timeOf(msg.ts)),
          msg.edited ? el("span", { class: "edited" }, "(edited)") : null),
        body, foot.childNodes.length ? foot : null)));
  messageCache.set(key, { sig, node });
  return node;
}

function ephemeralNode(eph) {
  const key = `eph:${eph.channel}:${eph.ts}`;
  const sig = JSON.stringify(eph);
  const cached = messageCache.get(key);
  if (cached && cached.sig === sig) return cached.node;
  const ctx = textContext({ onAction: (action) => act({ type: "ephemeral", channel: eph.channel, ts: eph.ts }, action) });
  const body = el("div", { class: "msg-body" });
  if (eph.blocks && eph.blocks.length) body.append(renderBlocks(eph.blocks, ctx));
  else body.append(el("div", { class: "msg-text" }, mrkdwn(eph.text, ctx)));
  const node = el("article", { class: "msg msg-bot msg-ephemeral", "data-key": key, "aria-label": `Casedesk, only visible to you, ${timeOf(eph.ts)}` },
    el("div", { class: "eph-label" }, "👁 Only visible to you"),
    el("div", { class: "msg-row" },
      el("div", { class: "avatar avatar-bot", "aria-hidden": "true" }, "◆"),
      el("div", { class: "msg-main" },
        el("div", { class: "msg-head" }, el("span", { class: "msg-name" }, "Casedesk"), el("span", { class: "badge" }, "APP"),
          el("time", { class: "msg-time" }, timeOf(eph.ts))),
        body,
        el("div", { class: "msg-foot" }, el("button", { type: "button", class: "link-button", onclick: () => { S.dismissed.add(key); render(); } }, "Dismiss")))));
  messageCache.set(key, { sig, node });
  return node;
}

function sync(container, nodes) {
  const current = [...container.children];
  if (current.length === nodes.length && current.every((n, i) => n === nodes[i])) return false;
  const atBottom = container.scrollTop + container.clientHeight >= container.scrollHeight - 40;
  container.replaceChildren(...nodes);
  if (atBottom) container.scrollTop = container.scrollHeight;
  return true;
}

function channelNodes(channelId) {
  const messages = S.state.messages[channelId] || [];
  const items = messages.map((m) => ({ ts: m.ts, node: () => messageNode(m) }));
  for (const eph of S.state.ephemerals || []) {
    const key = `eph:${eph.channel}:${eph.ts}`;
    if (eph.channel === channelId && !S.dismissed.has(key)) items.push({ ts: eph.ts, node: () => ephemeralNode(eph) });
  }
  items.sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  return items.map((i) => i.node());
}

// ---- layout ----------------------------------------------------------------------------------

function renderPeople() {
  const select = $("acting-as");
  select.replaceChildren(...S.boot.people.map((p) => el("option", { value: p.id, title: p.description || null }, `${p.real_name} — ${p.role}`)));
  select.value = S.me;
}

function sidebarItem(label, selected, onclick, { unread = false, prefix = null } = {}) {
  const button = el("button", { type: "button", class: "sidebar-item" + (selected ? " selected" : "") + (unread ? " unread" : ""), onclick,
    "aria-current": selected ? "page" : null }, prefix, label);
  return el("li", {}, button);
}

function isUnread(channel) {
  return channel.latest && S.seen[channel.id] !== undefined && parseFloat(channel.latest) > parseFloat(S.seen[channel.id] || "0");
}

function renderSidebar() {
  const channels = S.state.channels.filter((c) => !c.is_im);
  $("channel-list").replaceChildren(...channels.map((c) =>
    sidebarItem(`#${c.name}`, S.current.kind === "channel" && S.current.id === c.id, () => openChannel(c.id), { unread: isUnread(c) })));
  const im = botIm();
  const others = S.state.channels.filter((c) => c.is_im && c !== im);
  $("dm-list").replaceChildren(...others.map((c) =>
    sidebarItem(c.name, S.current.kind === "channel" && S.current.id === c.id, () => openChannel(c.id), { unread: isUnread(c) })));
  $("dms-heading").hidden = others.length === 0;
  $("app-list").replaceChildren(sidebarItem(S.boot.bot.name, S.current.kind === "app", () => openApp(S.current.kind === "app" ? S.current.tab : "home"),
    { unread: im ? isUnread(im) : false, prefix: el("span", { class: "app-icon", "aria-hidden": "true" }, "◆ ") }));
}

function composerLabel() {
  if (S.current.kind === "channel") {
    const c = S.state.channels.find((x) => x.id === S.current.id);
    return c && c.is_im ? `Message ${c.name}` : `Message #${channelName(S.current.id)}`;
  }
  return `Message ${S.boot.bot.name}`;
}

function renderMain() {
  const channelId = currentChannelId();
  const app = S.current.kind === "app";
  const boot = S.boot.channels.find((c) => c.id === S.current.id);
  $("pane-title").textContent = app ? S.boot.bot.name : (S.state.channels.find((c) => c.id === S.current.id)?.is_im ? channelName(S.current.id) : `#${channelName(S.current.id)}`);
  $("pane-purpose").textContent = app ? "The desk's app: its Home tab, and your direct messages with it" : boot?.purpose || "";
  const tabs = $("pane-tabs");
  tabs.hidden = !app;
  if (app) {
    const tab = (name, label) => el("button", { type: "button", role: "tab", class: "tab" + (S.current.tab === name ? " selected" : ""), "aria-selected": String(S.current.tab === name),
      onclick: () => openApp(name) }, label);
    if (!tabs.childNodes.length || tabs.dataset.tab !== S.current.tab) {
      tabs.replaceChildren(tab("home", "Home"), tab("messages", "Messages"));
      tabs.dataset.tab = S.current.tab;
    }
  }
  const showHome = app && S.current.tab === "home";
  $("home").hidden = !showHome;
  $("messages").hidden = showHome;
  $("composer-form").hidden = showHome;
  if (showHome) {
    renderHome();
  } else {
    const nodes = channelId ? channelNodes(channelId) : [];
    if (!nodes.length) nodes.push(el("div", { class: "empty" }, channelId ? "No messages yet." : "No messages with the desk yet. Run /new-ticket in a channel to file one."));
    const changed = sync($("messages"), nodes);
    if (changed && S.scrollToEnd) $("messages").scrollTop = $("messages").scrollHeight;
    S.scrollToEnd = false;
    if (channelId) {
      const c = S.state.channels.find((x) => x.id === channelId);
      if (c) S.seen[channelId] = c.latest || "0";
    }
  }
  const label = composerLabel();
  if ($("composer-label").textContent !== label) {
    $("composer-label").textContent = label;
    $("composer").placeholder = label;
  }
  $("composer").disabled = !channelId;
}

let homeSig = "";
function renderHome() {
  const home = S.state.home;
  const sig = JSON.stringify(home) + namesSig;
  if (sig === homeSig) return;
  homeSig = sig;
  if (!home) {
    $("home").replaceChildren(el("div", { class: "empty" }, "Loading the Home tab…"));
    return;
  }
  const registry = [];
  const ctx = textContext({
    register: (block, element, node) => registry.push({ block, element, node }),
    onAction: (action) => act({ type: "home" }, action, collectValues(registry)),
  });
  $("home").replaceChildren(renderBlocks(home.view.blocks, ctx));
  restoreValues(registry, null);
}

// ---- thread --------------------------------------------------------------------------------

function buildThreadPane() {
  const pane = $("thread");
  const form = el("form", { class: "composer thread-composer" },
    el("label", { for: "thread-composer", class: "visually-hidden" }, "Reply in thread"),
    el("textarea", { id: "thread-composer", class: "composer-input", rows: "2", placeholder: "Reply…" }),
    el("div", { class: "composer-bar" }, el("span", { class: "composer-hint" }, "Enter to send"), el("button", { type: "submit", class: "btn btn-primary" }, "Send reply")));
  pane.append(
    el("header", { class: "side-header" }, el("h2", { id: "thread-title" }, "Thread"), el("span", { class: "side-sub", id: "thread-channel" }),
      el("button", { type: "button", class: "icon-button", "aria-label": "Close thread", onclick: () => closeThread() }, "✕")),
    el("div", { class: "thread-messages", id: "thread-messages" }),
    form);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    sendFrom($("thread-composer"), true);
  });
  $("thread-composer").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendFrom($("thread-composer"), true);
    }
  });
}

function renderThread() {
  const pane = $("thread");
  if (!S.thread) {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  const { channel, ts } = S.thread;
  const parent = (S.state.messages[channel] || []).find((m) => m.ts === ts);
  const replies = S.state.threads[`${channel}:${ts}`] || [];
  $("thread-channel").textContent = `#${channelName(channel)}`;
  const nodes = [];
  if (parent) nodes.push(messageNode(parent, { inThread: true }));
  nodes.push(el("div", { class: "thread-divider" }, replies.length === 1 ? "1 reply" : `${replies.length} replies`));
  for (const reply of replies) nodes.push(messageNode(reply, { inThread: true }));
  const list = $("thread-messages");
  const wasAtBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
  list.replaceChildren(...nodes);
  if (wasAtBottom) list.scrollTop = list.scrollHeight;
}

function openThread(channel, ts) {
  S.thread = { channel, ts };
  render();
  $("thread-composer").focus();
}

function closeThread() {
  S.thread = null;
  render();
}

// ---- navigation ------------------------------------------------------------------------------

function openChannel(id) {
  const known = S.state.channels.find((c) => c.id === id);
  if (!known) {
    toast(`${S.state.users?.[S.me]?.real_name || "This person"} can't see that channel.`, { error: true });
    return;
  }
  if (known === botIm()) {
    openApp("messages");
    return;
  }
  S.current = { kind: "channel", id };
  S.scrollToEnd = true;
  if (S.thread && S.thread.channel !== id) S.thread = null;
  render();
}

function openApp(tab) {
  S.current = { kind: "app", tab };
  S.scrollToEnd = true;
  if (S.thread && S.thread.channel !== botIm()?.id) S.thread = null;
  render();
  if (tab === "home" && S.homeOpenedFor !== S.me) {
    S.homeOpenedFor = S.me;
    attempt("Opening the Home tab failed", async () => {
      await api("/api/home", { as: S.me });
      refresh();
    });
  }
}

// ---- composer --------------------------------------------------------------------------------

async function sendFrom(textarea, inThread) {
  const text = textarea.value;
  if (!text.trim()) return;
  const channel = inThread ? S.thread.channel : currentChannelId();
  if (!channel) return;
  const body = { as: S.me, channel, text };
  if (inThread) body.thread_ts = S.thread.ts;
  textarea.disabled = true;
  try {
    await api("/api/say", body);
    textarea.value = "";
    hideCommands();
    S.scrollToEnd = !inThread;
    refresh();
  } catch (err) {
    toast(err.message, { error: true });
  } finally {
    textarea.disabled = false;
    textarea.focus();
  }
}

function hideCommands() {
  $("command-list").hidden = true;
}

function showCommands() {
  const value = $("composer").value;
  const list = $("command-list");
  if (!value.startsWith("/") || value.includes(" ") || value.includes("\n")) {
    list.hidden = true;
    return;
  }
  const matches = S.boot.commands.filter((c) => c.command.startsWith(value));
  if (!matches.length) {
    list.hidden = true;
    return;
  }
  list.replaceChildren(...matches.map((c) => el("button", { type: "button", role: "option", class: "command", "aria-selected": "false",
    onclick: () => { $("composer").value = c.command; hideCommands(); $("composer").focus(); } },
    el("span", { class: "command-name" }, c.command), el("span", { class: "command-hint" }, c.hint || ""))));
  list.hidden = false;
}

function wireComposer() {
  const form = $("composer-form");
  const box = $("composer");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    sendFrom(box, false);
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendFrom(box, false);
    } else if (e.key === "Escape") {
      hideCommands();
    }
  });
  box.addEventListener("input", showCommands);
}

// ---- modals ----------------------------------------------------------------------------------

let modalSig = "";
let modalViewId = null;
let modalRegistry = [];

function topView() {
  const views = (S.state?.views || []).filter((v) => !S.closing.has(v.id));
  return views.length ? views[views.length - 1] : null;
}

function renderModal() {
  const top = topView();
  const root = $("modal-root");
  const errors = top && (Object.keys(top.errors || {}).length ? top.errors : S.localErrors.get(top.id) || {});
  const sig = top ? JSON.stringify([top, errors, namesSig]) : "";
  if (sig === modalSig) return;
  if (modalViewId) S.viewValues.set(modalViewId, collectValues(modalRegistry));
  modalSig = sig;
  const wasSameView = top && modalViewId === top.id;
  const focusedKey = wasSameView && document.activeElement?.dataset?.blockId !== undefined
    ? [document.activeElement.dataset.blockId, document.activeElement.dataset.actionId] : null;
  root.replaceChildren();
  modalRegistry = [];
  modalViewId = top ? top.id : null;
  $("app").inert = Boolean(top);
  if (!top) return;
  const view = top.view;
  const titleId = nextId("modal-title");
  const registry = modalRegistry;
  const ctx = textContext({
    errors,
    register: (block, element, node) => registry.push({ block, element, node }),
    onAction: (action) => act({ type: "view", view_id: top.id }, action, collectValues(registry)),
  });
  const form = el("form", { class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, novalidate: true });
  const submit = view.submit ? el("button", { type: "submit", class: "btn btn-primary" }, plainString(view.submit)) : null;
  const closeView = () => {
    S.closing.add(top.id);
    renderModal();
    attempt("Closing failed", async () => {
      await api("/api/view/close", { as: S.me, view_id: top.id });
      await refresh();
    }).finally(() => {
      S.closing.delete(top.id);
    });
  };
  const stackDepth = (S.state.views || []).length;
  form.append(
    el("header", { class: "modal-header" },
      el("h2", { id: titleId, class: "modal-title" }, plainString(view.title)),
      stackDepth > 1 ? el("span", { class: "modal-depth" }, `${stackDepth} open`) : null,
      el("button", { type: "button", class: "icon-button", "aria-label": "Dismiss dialog", onclick: closeView }, "✕")),
    el("div", { class: "modal-body" }, renderBlocks(view.blocks, ctx)),
    el("footer", { class: "modal-footer" },
      el("button", { type: "button", class: "btn", onclick: closeView }, plainString(view.close) || (view.submit ? "Cancel" : "Close")),
      submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!submit || submit.disabled) return;
    submit.disabled = true;
    const values = collectValues(registry);
    S.viewValues.set(top.id, values);
    S.localErrors.delete(top.id);
    const gone = [];
    try {
      const result = await api("/api/view/submit", { as: S.me, view_id: top.id, values });
      if (result.result === "errors") {
        S.localErrors.set(top.id, result.errors || {});
        modalSig = "";
      } else if (result.result === "closed" || result.result === "cleared") {
        gone.push(...(result.result === "cleared" ? (S.state.views || []).map((v) => v.id) : [top.id]));
        gone.forEach((id) => S.closing.add(id));
      }
      renderModal();
      await refresh();
    } catch (err) {
      toast(`Submitting failed: ${err.message}`, { error: true });
    } finally {
      gone.forEach((id) => S.closing.delete(id));
      submit.disabled = false;
      renderModal();
    }
  });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      closeView();
    }
  });
  root.append(el("div", { class: "overlay" }, form));
  restoreValues(registry, S.viewValues.get(top.id));
  const refocus = focusedKey && registry.find((r) => (r.block.block_id || "") === focusedKey[0] && (r.element.action_id || "") === focusedKey[1]);
  const firstError = registry.find((r) => errors[r.block.block_id]);
  const target = refocus?.node || firstError?.node || registry[0]?.node || submit;
  if (target && target.focus) target.focus();
}

// ---- inbox -----------------------------------------------------------------------------------

let replyingTo = null;

function field(id, label, control) {
  control.id = id;
  return el("div", { class: "form-row" }, el("label", { for: id, class: "input-label" }, label), control);
}

function buildInbox() {
  const pane = $("inbox");
  const form = el("form", { class: "mail-form", id: "mail-form", "aria-labelledby": "mail-form-title" },
    el("h3", { id: "mail-form-title" }, "Write to the desk as a customer"),
    el("div", { class: "replying", id: "replying", hidden: true }),
    field("mail-name", "Your name", el("input", { class: "input", type: "text", value: S.boot.customer?.name || "Dana Customer", autocomplete: "off" })),
    field("mail-from", "Your email address", el("input", { class: "input", type: "email", value: S.boot.customer?.email || "dana@customer.example", autocomplete: "off" })),
    field("mail-subject", "Subject", el("input", { class: "input", type: "text", autocomplete: "off" })),
    field("mail-body", "Message", el("textarea", { class: "input", rows: "5" })),
    el("div", { class: "form-actions" }, el("span", { class: "composer-hint", id: "mail-to" }), el("button", { type: "submit", class: "btn btn-primary" }, "Send email")));
  pane.append(
    el("header", { class: "side-header" }, el("h2", {}, "Inbox"), el("span", { class: "side-sub" }, "email on 127.0.0.1"),
      el("button", { type: "button", class: "icon-button", "aria-label": "Close inbox", onclick: () => toggleInbox(false) }, "✕")),
    el("div", { class: "inbox-scroll" }, form,
      el("section", { "aria-labelledby": "from-desk-title" }, el("h3", { id: "from-desk-title" }, "From the desk"), el("div", { id: "from-desk", class: "mail-list" })),
      el("section", { "aria-labelledby": "to-desk-title" }, el("h3", { id: "to-desk-title" }, "Sent to the desk"), el("div", { id: "to-desk", class: "mail-list" }))));
  $("mail-to").textContent = `To: ${S.boot.mailbox}`;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      from_name: $("mail-name").value,
      from_email: $("mail-from").value,
      subject: $("mail-subject").value,
      body: $("mail-body").value,
    };
    if (replyingTo) body.in_reply_to = replyingTo.id;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api("/api/mail", body);
      toast(`Email sent to ${S.boot.mailbox}; the desk reads its mailbox every few seconds.`);
      $("mail-subject").value = "";
      $("mail-body").value = "";
      setReplying(null);
      refresh();
    } catch (err) {
      toast(`Sending the email failed: ${err.message}`, { error: true });
    } finally {
      button.disabled = false;
    }
  });
}

function setReplying(mail) {
  replyingTo = mail;
  const note = $("replying");
  note.hidden = !mail;
  if (mail) {
    note.replaceChildren(el("span", {}, `Replying to “${mail.subject}”`),
      el("button", { type: "button", class: "link-button", onclick: () => setReplying(null) }, "Cancel reply"));
    const subject = mail.subject || "";
    $("mail-subject").value = /^re:/i.test(subject) ? subject : `Re: ${subject}`;
    $("mail-body").focus();
  }
}

function mailNode(mail, fromDesk) {
  return el("article", { class: "mail", "aria-label": `${fromDesk ? "From the desk" : "To the desk"}: ${mail.subject}` },
    el("div", { class: "mail-subject" }, mail.subject || "(no subject)"),
    el("div", { class: "mail-meta" }, `${mail.from ?? mail.sender ?? ""} → ${mail.to ?? ""}`),
    mail.date ? el("div", { class: "mail-meta" }, mail.date) : null,
    el("div", { class: "mail-body" }, mail.body || ""),
    fromDesk ? el("button", { type: "button", class: "link-button", onclick: () => setReplying(mail) }, "Reply") : null);
}

let mailSig = "";
function renderInbox() {
  $("inbox").hidden = !S.inbox;
  const mail = S.state.mail || { to_desk: [], from_desk: [] };
  const sig = JSON.stringify(mail);
  if (sig === mailSig) return;
  mailSig = sig;
  const newestFirst = (list) => [...list].reverse();
  const from = newestFirst(mail.from_desk || []);
  const to = newestFirst(mail.to_desk || []);
  $("from-desk").replaceChildren(...(from.length ? from.map((m) => mailNode(m, true)) : [el("div", { class: "empty" }, "Nothing from the desk yet.")]));
  $("to-desk").replaceChildren(...(to.length ? to.map((m) => mailNode(m, false)) : [el("div", { class: "empty" }, "No email sent yet.")]));
  const button = $("inbox-toggle");
  const count = (mail.from_desk || []).length;
  button.textContent = count ? `Inbox (${count})` : "Inbox";
}

function toggleInbox(open) {
  S.inbox = open === undefined ? !S.inbox : open;
  $("inbox-toggle").setAttribute("aria-pressed", String(S.inbox));
  renderInbox();
  if (S.inbox) $("mail-subject").focus();
}

// ---- jobs and reset ------------------------------------------------------------------------------

function buildJobs() {
  const toggle = $("jobs-toggle");
  const menu = $("jobs-menu");
  const close = () => {
    menu.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
  };
  menu.replaceChildren(...S.boot.jobs.map((job) => el("button", { type: "button", role: "menuitem", class: "menu-item", onclick: async () => {
    close();
    const result = await attempt(`${job.label} failed`, () => api(`/api/jobs/${encodeURIComponent(job.name)}`, {}));
    if (result) {
      toast(`${job.label}: done`, { detail: result.output || null });
      refresh();
    }
  } }, job.label)));
  toggle.addEventListener("click", () => {
    const open = menu.hidden;
    menu.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) menu.querySelector("button")?.focus();
  });
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      close();
      toggle.focus();
    }
  });
  document.addEventListener("click", (e) => {
    if (!menu.hidden && !menu.contains(e.target) && e.target !== toggle) close();
  });
}

async function reset() {
  const ok = await confirmDialog({
    title: { type: "plain_text", text: "Reset the sandbox?" },
    text: { type: "plain_text", text: "Every ticket, message and email goes, and the demo data comes back." },
    confirm: { type: "plain_text", text: "Yes, reset" },
    deny: { type: "plain_text", text: "Cancel" },
    style: "danger",
  });
  if (!ok) return;
  const button = $("reset");
  button.disabled = true;
  button.textContent = "Resetting…";
  const done = await attempt("Reset failed", () => api("/api/reset", {}));
  button.disabled = false;
  button.textContent = "Reset";
  if (!done) return;
  S.dismissed.clear();
  S.viewValues.clear();
  S.localErrors.clear();
  S.thread = null;
  S.homeOpenedFor = null;
  messageCache.clear();
  await refresh();
  if (S.current.kind === "app" && S.current.tab === "home") openApp("home");
  toast("The sandbox was reset with fresh demo data.");
}

// ---- the whole page --------------------------------------------------------------------------

function apply(state) {
  S.state = state;
  S.version = state.version;
  const sig = JSON.stringify([state.users, state.channel_names]);
  if (sig !== namesSig) {
    namesSig = sig;
    messageCache.clear();
  }
  for (const c of state.channels) if (S.seen[c.id] === undefined) S.seen[c.id] = c.latest || "0";
  if (S.current.kind === "channel" && !state.channels.some((c) => c.id === S.current.id)) {
    const fallback = state.channels.find((c) => !c.is_im);
    S.current = fallback ? { kind: "channel", id: fallback.id } : { kind: "app", tab: "home" };
  }
  render();
}

function render() {
  if (!S.state) return;
  renderSidebar();
  renderMain();
  renderThread();
  renderInbox();
  renderModal();
}

async function switchPerson(id) {
  S.me = id;
  S.thread = null;
  S.seen = {};
  S.dismissed.clear();
  S.homeOpenedFor = null;
  homeSig = "";
  messageCache.clear();
  await refresh();
  if (S.current.kind === "app" && S.current.tab === "home") openApp("home");
  const who = person(id);
  if (who) toast(`Now acting as ${who.real_name} (${who.role}).`);
}

async function start() {
  try {
    S.boot = await api("/api/bootstrap");
  } catch (err) {
    setConnection(`The sandbox is not answering: ${err.message}`, true);
    return;
  }
  S.me = S.boot.default_person || S.boot.people[0].id;
  const firstChannel = S.boot.channels[0];
  S.current = firstChannel ? { kind: "channel", id: firstChannel.id } : { kind: "app", tab: "home" };
  renderPeople();
  buildThreadPane();
  buildInbox();
  buildJobs();
  wireComposer();
  $("acting-as").addEventListener("change", (e) => switchPerson(e.target.value));
  $("inbox-toggle").addEventListener("click", () => toggleInbox());
  $("reset").addEventListener("click", reset);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && S.thread && !topView() && document.activeElement?.id === "thread-composer") closeThread();
  });
  await refresh();
  S.scrollToEnd = true;
  render();
  listen();
  document.body.dataset.ready = "true";
}

start();
