// Block Kit and Slack mrkdwn, rendered into DOM nodes.
//
// Nothing here ever assigns HTML: every piece of text from the desk becomes a text node
// (textContent or createTextNode), every element is made with createElement, and links
// keep only http(s) and mailto addresses. A ticket whose text reads <script> shows those
// characters.

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

// ---- mrkdwn ------------------------------------------------------------------------------

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

export function decodeEntities(text) {
  return String(text).replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m]);
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
const BOUNDARY_BEFORE = /[\s([{"'“‘>\-—–/:;,.!?]/;
const BOUNDARY_AFTER = /[\s)\]}"'”’<\-—–/:;,.!?…]/;

function userLabel(id, fallback, ctx) {
  const user = ctx.users?.[id];
  return "@" + (user?.real_name || user?.name || fallback || id);
}

function channelLabel(id, fallback, ctx) {
  return "#" + (fallback || ctx.channelNames?.[id] || id);
}

// One <…> token: mentions, channels, specials, links. Anything else stays as the text it is.
function angle(inner, ctx) {
  const [target, ...rest] = inner.split("|");
  const label = rest.length ? decodeEntities(rest.join("|")) : null;
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return el("span", { class: "mention", "data-user": id }, userLabel(id, label, ctx));
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const name = channelLabel(id, label, ctx);
    if (ctx.onChannel) {
      return el("a", { class: "channel-link", href: "#", onclick: (e) => { e.preventDefault(); ctx.onChannel(id); } }, name);
    }
    return el("span", { class: "channel-link" }, name);
  }
  if (target.startsWith("!")) {
    const special = target.slice(1);
    if (["channel", "here", "everyone"].includes(special)) return el("span", { class: "mention broadcast" }, "@" + special);
    if (special.startsWith("subteam^")) return el("span", { class: "mention" }, label || "@group");
    if (special.startsWith("date^")) return document.createTextNode(label || special.split("^")[1] || "");
    return document.createTextNode(label || "<" + decodeEntities(inner) + ">");
  }
  const url = decodeEntities(target);
  if (SAFE_URL.test(url)) {
    const link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label || url);
    if (ctx.onLink) link.addEventListener("click", (e) => ctx.onLink(url, e));
    return link;
  }
  return document.createTextNode("<" + decodeEntities(inner) + ">");
}

function formatCloser(text, start, mark) {
  for (let j = start; j < text.length; j += 1) {
    const ch = text[j];
    if (ch === "\n") return -1;
    if (ch === mark && j > start && !/\s/.test(text[j - 1]) && (j + 1 === text.length || BOUNDARY_AFTER.test(text[j + 1]) || text[j + 1] === mark)) {
      return j;
    }
  }
  return -1;
}

const FORMAT_TAGS = { "*": "strong", _: "em", "~": "s" };

export function inline(text, ctx = {}) {
  const out = [];
  let buffer = "";
  const flush = () => {
    if (buffer) out.push(document.createTextNode(decodeEntities(buffer)));
    buffer = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        out.push(el("code", {}, decodeEntities(text.slice(i + 1, end))));
        i = end + 1;
        continue;
      }
    } else if (ch === "<") {
      const end = text.indexOf(">", i + 1);
      if (end > i + 1 && !text.slice(i + 1, end).includes("\n")) {
        flush();
        out.push(angle(text.slice(i + 1, end), ctx));
        i = end + 1;
        continue;
      }
    } else if (FORMAT_TAGS[ch]) {
      const before = i === 0 ? " " : text[i - 1];
      const after = text[i + 1];
      if (BOUNDARY_BEFORE.test(before) && after !== undefined && !/\s/.test(after) && after !== ch) {
        const end = formatCloser(text, i + 1, ch);
        if (end > i + 1) {
          flush();
          out.push(el(FORMAT_TAGS[ch], {}, inline(text.slice(i + 1, end), ctx)));
          i = end + 1;
          continue;
        }
      }
    }
    buffer += ch;
    i += 1;
  }
  flush();
  return out;
}

function linesInto(parent, lines, ctx) {
  lines.forEach((line, n) => {
    if (n > 0) parent.append(document.createTextNode("\n"));
    parent.append(...inline(line, ctx));
  });
}

const QUOTE = /^(&gt;|>)\s?/;

// Slack mrkdwn (as Slack stores it: &amp; &lt; &gt; escaped) to a fragment.
export function mrkdwn(text, ctx = {}) {
  const frag = document.createDocumentFragment();
  const source = String(text ?? "");
  const parts = source.split("```");
  parts.forEach((part, index) => {
    const isPre = index % 2 === 1 && index < parts.length - 1;
    if (isPre) {
      frag.append(el("pre", {}, decodeEntities(part.replace(/^\n/, ""))));
      return;
    }
    const chunk = index % 2 === 1 ? "```" + part : part; // an unclosed fence is text
    const lines = chunk.split("\n");
    if (frag.childNodes.length && lines[0] === "") lines.shift();
    let run = [];
    let quote = [];
    const flushRun = () => {
      if (run.length) {
        const span = el("span", { class: "mrkdwn-lines" });
        linesInto(span, run, ctx);
        frag.append(span);
      }
      run = [];
    };
    const flushQuote = () => {
      if (quote.length) {
        const block = el("blockquote");
        linesInto(block, quote, ctx);
        frag.append(block);
      }
      quote = [];
    };
    for (const line of lines) {
      if (QUOTE.test(line)) {
        flushRun();
        quote.push(line.replace(QUOTE, ""));
      } else {
        flushQuote();
        run.push(line);
      }
    }
    flushRun();
    flushQuote();
  });
  return frag;
}

// A text object: plain_text as it is, mrkdwn parsed.
export function textObject(obj, ctx = {}) {
  if (!obj) return document.createDocumentFragment();
  if (typeof obj === "string") return document.createTextNode(obj);
  if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
  return document.createTextNode(String(obj.text ?? ""));
}

export function plainString(obj) {
  if (!obj) return "";
  if (typeof obj === "string") return obj;
  return obj.type === "mrkdwn" ? decodeEntities(String(obj.text ?? "")) : String(obj.text ?? "");
}

// ---- elements ----------------------------------------------------------------------------

function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

function image(url, alt, cls) {
  if (url && sameOrigin(url)) return el("img", { src: url, alt: alt || "", class: cls });
  // Nothing is fetched from outside the sandbox: the picture is named instead.
  return el("span", { class: cls + " image-placeholder", role: "img", "aria-label": alt || "image" }, "🖼 " + (alt || "image"));
}

function allOptions(element) {
  if (element.option_groups) return element.option_groups.flatMap((g) => g.options || []);
  return element.options || [];
}

function optionKey(option) {
  return option?.value ?? plainString(option?.text);
}

// A confirm dialog (Block Kit "confirm" object); resolves true when confirmed.
export function confirmDialog(confirm, ctx = {}) {
  return new Promise((resolve) => {
    const titleId = nextId("confirm-title");
    const textId = nextId("confirm-text");
    const previous = document.activeElement;
    const finish = (value) => {
      overlay.remove();
      document.removeEventListener("keydown", onKey, true);
      if (previous && previous.isConnected) previous.focus();
      resolve(value);
    };
    const onKey = (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        finish(false);
      }
    };
    const yes = el("button", { type: "button", class: "btn " + (confirm.style === "danger" ? "btn-danger" : "btn-primary"), onclick: () => finish(true) },
      plainString(confirm.confirm) || "Yes");
    const no = el("button", { type: "button", class: "btn", onclick: () => finish(false) }, plainString(confirm.deny) || "Cancel");
    const box = el("div", { class: "confirm-box", role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": textId },
      el("h2", { id: titleId }, plainString(confirm.title) || "Are you sure?"),
      el("div", { id: textId, class: "confirm-text" }, textObject(confirm.text, ctx)),
      el("div", { class: "confirm-buttons" }, no, yes));
    const overlay = el("div", { class: "overlay confirm-overlay" }, box);
    document.addEventListener("keydown", onKey, true);
    document.body.append(overlay);
    yes.focus();
  });
}

async function fire(ctx, block, element, extra) {
  if (element.confirm && !(await confirmDialog(element.confirm, ctx))) return;
  ctx.onAction?.({ block_id: block.block_id || "", action_id: element.action_id || "", element: element.type, ...extra });
}

function buttonEl(block, element, ctx) {
  const style = element.style === "primary" ? " btn-primary" : element.style === "danger" ? " btn-danger" : "";
  const attrs = { type: "button", class: "btn" + style, "data-action-id": element.action_id };
  if (element.accessibility_label) attrs["aria-label"] = element.accessibility_label;
  const button = el("button", attrs, plainString(element.text));
  button.addEventListener("click", () => {
    if (element.url && SAFE_URL.test(element.url)) window.open(element.url, "_blank", "noopener,noreferrer");
    fire(ctx, block, element, { value: element.value });
  });
  return button;
}

function userOptions(select, ctx, placeholder) {
  select.append(el("option", { value: "" }, placeholder || "Select a person"));
  for (const [id, user] of Object.entries(ctx.users || {})) {
    select.append(el("option", { value: id }, user.real_name || user.name || id));
  }
}

function conversationOptions(select, ctx, placeholder) {
  select.append(el("option", { value: "" }, placeholder || "Select a channel"));
  for (const [id, name] of Object.entries(ctx.channelNames || {})) select.append(el("option", { value: id }, "#" + name));
}

function staticOptions(select, element, multi) {
  if (!multi) select.append(el("option", { value: "" }, plainString(element.placeholder) || "Select an option"));
  const add = (parent, option) => parent.append(el("option", { value: optionKey(option) }, plainString(option.text)));
  if (element.option_groups) {
    for (const group of element.option_groups) {
      const og = el("optgroup", { label: plainString(group.label) });
      (group.options || []).forEach((o) => add(og, o));
      select.append(og);
    }
  } else {
    (element.options || []).forEach((o) => add(select, o));
  }
}

// The element's state as Slack puts it in view.state.values, read from its DOM control.
function readState(element, control) {
  const type = element.type;
  const base = { type };
  switch (type) {
    case "plain_text_input":
    case "email_text_input":
    case "url_text_input":
    case "number_input":
      return { ...base, value: control.value === "" ? null : control.value };
    case "static_select":
    case "external_select": {
      const option = allOptions(element).find((o) => optionKey(o) === control.value);
      return { ...base, selected_option: option || null };
    }
    case "multi_static_select":
    case "multi_external_select": {
      const chosen = new Set([...control.selectedOptions].map((o) => o.value));
      return { ...base, selected_options: allOptions(element).filter((o) => chosen.has(optionKey(o))) };
    }
    case "users_select":
      return { ...base, selected_user: control.value || null };
    case "multi_users_select":
      return { ...base, selected_users: [...control.selectedOptions].map((o) => o.value) };
    case "conversations_select":
      return { ...base, selected_conversation: control.value || null };
    case "channels_select":
      return { ...base, selected_channel: control.value || null };
    case "datepicker":
      return { ...base, selected_date: control.value || null };
    case "timepicker":
      return { ...base, selected_time: control.value || null };
    case "checkboxes": {
      const chosen = new Set([...control.querySelectorAll("input:checked")].map((i) => i.value));
      return { ...base, selected_options: (element.options || []).filter((o) => chosen.has(optionKey(o))) };
    }
    case "radio_buttons": {
      const picked = control.querySelector("input:checked");
      return { ...base, selected_option: (element.options || []).find((o) => picked && optionKey(o) === picked.value) || null };
    }
    case "file_input":
      return { ...base, files: [...(control.files || [])].map((f) => ({ name: f.name })) };
    default:
      return base;
  }
}

// Put a remembered state (or the element's initial_*) back into its control.
function applyState(element, control, state) {
  const type = element.type;
  const selectSet = (values) => {
    for (const option of control.options) option.selected = values.includes(option.value);
  };
  if (["plain_text_input", "email_text_input", "url_text_input", "number_input"].includes(type)) {
    control.value = state ? (state.value ?? "") : (element.initial_value ?? "");
  } else if (["static_select", "external_select"].includes(type)) {
    const option = state ? state.selected_option : element.initial_option;
    control.value = option ? optionKey(option) : "";
  } else if (["multi_static_select", "multi_external_select"].includes(type)) {
    selectSet((state ? state.selected_options : element.initial_options || []).map(optionKey));
  } else if (type === "users_select") {
    control.value = (state ? state.selected_user : element.initial_user) || "";
  } else if (type === "multi_users_select") {
    selectSet(state ? state.selected_users || [] : element.initial_users || []);
  } else if (type === "conversations_select") {
    control.value = (state ? state.selected_conversation : element.initial_conversation) || "";
  } else if (type === "channels_select") {
    control.value = (state ? state.selected_channel : element.initial_channel) || "";
  } else if (type === "datepicker") {
    control.value = (state ? state.selected_date : element.initial_date) || "";
  } else if (type === "timepicker") {
    control.value = (state ? state.selected_time : element.initial_time) || "";
  } else if (type === "checkboxes") {
    const values = (state ? state.selected_options : element.initial_options || []).map(optionKey);
    control.querySelectorAll("input").forEach((i) => { i.checked = values.includes(i.value); });
  } else if (type === "radio_buttons") {
    const option = state ? state.selected_option : element.initial_option;
    control.querySelectorAll("input").forEach((i) => { i.checked = option ? i.value === optionKey(option) : false; });
  }
}

// A stateful element: select, picker, input, choice. `id` labels it; `label` names it when
// no <label> does (inside actions blocks and accessories).
function control(block, element, ctx, { id, label, inInput }) {
  const type = element.type;
  let node;
  const dispatchOnChange = !inInput || element.dispatch_action;
  const onChange = () => {
    if (!dispatchOnChange) return;
    const state = readState(element, node);
    const extra = {};
    if ("selected_option" in state) extra.selected_option = state.selected_option;
    if ("selected_options" in state) extra.selected_options = state.selected_options;
    if ("selected_user" in state) extra.selected_user = state.selected_user;
    if ("selected_users" in state) extra.selected_users = state.selected_users;
    if ("selected_date" in state) extra.selected_date = state.selected_date;
    if ("selected_conversation" in state) extra.selected_conversation = state.selected_conversation;
    if ("selected_channel" in state) extra.selected_channel = state.selected_channel;
    if ("value" in state) extra.value = state.value;
    fire(ctx, block, element, extra);
  };
  const named = (attrs) => (label ? { ...attrs, "aria-label": label } : attrs);
  switch (type) {
    case "plain_text_input":
    case "email_text_input":
    case "url_text_input":
    case "number_input": {
      const common = { id, class: "input", placeholder: plainString(element.placeholder) || null, maxlength: element.max_length || null };
      if (type === "plain_text_input" && element.multiline) node = el("textarea", named({ ...common, rows: 4 }));
      else node = el("input", named({ ...common, type: { email_text_input: "email", url_text_input: "url", number_input: "number" }[type] || "text" }));
      if (inInput && element.dispatch_action) node.addEventListener("change", onChange);
      break;
    }
    case "static_select":
    case "external_select":
    case "multi_static_select":
    case "multi_external_select": {
      const multi = type.startsWith("multi_");
      node = el("select", named({ id, class: "select", multiple: multi }));
      staticOptions(node, element, multi);
      node.addEventListener("change", onChange);
      break;
    }
    case "users_select":
    case "multi_users_select": {
      const multi = type === "multi_users_select";
      node = el("select", named({ id, class: "select", multiple: multi }));
      if (multi) Object.entries(ctx.users || {}).forEach(([uidKey, u]) => node.append(el("option", { value: uidKey }, u.real_name || u.name || uidKey)));
      else userOptions(node, ctx, plainString(element.placeholder));
      node.addEventListener("change", onChange);
      break;
    }
    case "conversations_select":
    case "channels_select":
      node = el("select", named({ id, class: "select" }));
      conversationOptions(node, ctx, plainString(element.placeholder));
      node.addEventListener("change", onChange);
      break;
    case "datepicker":
      node = el("input", named({ id, type: "date", class: "input" }));
      node.addEventListener("change", onChange);
      break;
    case "timepicker":
      node = el("input", named({ id, type: "time", class: "input" }));
      node.addEventListener("change", onChange);
      break;
    case "checkboxes":
    case "radio_buttons": {
      const kind = type === "checkboxes" ? "checkbox" : "radio";
      const group = nextId("choice");
      node = el("div", named({ id, class: "choices", role: kind === "radio" ? "radiogroup" : "group" }));
      for (const option of element.options || []) {
        const optionId = nextId("opt");
        const input = el("input", { type: kind, id: optionId, name: group, value: optionKey(option) });
        input.addEventListener("change", onChange);
        node.append(el("div", { class: "choice" }, input, el("label", { for: optionId }, textObject(option.text, ctx)),
          option.description ? el("div", { class: "choice-description" }, textObject(option.description, ctx)) : null));
      }
      break;
    }
    case "file_input":
      node = el("input", named({ id, type: "file", class: "file", multiple: (element.max_files || 1) > 1 }));
      if (element.filetypes) node.setAttribute("accept", element.filetypes.map((t) => "." + t).join(","));
      break;
    default:
      node = el("span", { id, class: "unsupported" }, `[${type}]`);
  }
  node.dataset.blockId = block.block_id || "";
  node.dataset.actionId = element.action_id || "";
  node._element = element;
  return node;
}

function overflowEl(block, element, ctx) {
  const menuId = nextId("overflow");
  const trigger = el("button", { type: "button", class: "btn btn-overflow", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": menuId,
    "aria-label": element.accessibility_label || "More actions" }, "⋯");
  const menu = el("div", { class: "menu", role: "menu", id: menuId, hidden: true });
  const close = () => { menu.hidden = true; trigger.setAttribute("aria-expanded", "false"); };
  for (const option of element.options || []) {
    menu.append(el("button", { type: "button", role: "menuitem", class: "menu-item", onclick: () => {
      close();
      if (option.url && SAFE_URL.test(option.url)) window.open(option.url, "_blank", "noopener,noreferrer");
      fire(ctx, block, element, { selected_option: option });
    } }, plainString(option.text)));
  }
  trigger.addEventListener("click", () => {
    const open = menu.hidden;
    menu.hidden = !open;
    trigger.setAttribute("aria-expanded", String(open));
    if (open) menu.querySelector("button")?.focus();
  });
  menu.addEventListener("keydown", (e) => { if (e.key === "Escape") { close(); trigger.focus(); } });
  return el("span", { class: "overflow" }, trigger, menu);
}

// An interactive element standing on its own (actions block, section accessory).
function interactive(block, element, ctx) {
  switch (element.type) {
    case "button":
      return buttonEl(block, element, ctx);
    case "overflow":
      return overflowEl(block, element, ctx);
    case "image":
      return image(element.image_url, element.alt_text, "accessory-image");
    case "workflow_button":
      return buttonEl(block, { ...element, type: "button" }, ctx);
    default: {
      const label = plainString(element.placeholder) || element.action_id || element.type;
      const node = control(block, element, ctx, { id: nextId("ctl"), label });
      ctx.register?.(block, element, node);
      return node;
    }
  }
}

// ---- blocks ------------------------------------------------------------------------------

function sectionBlock(block, ctx) {
  const body = el("div", { class: "section-body" });
  if (block.text) body.append(el("div", { class: "section-text" }, textObject(block.text, ctx)));
  if (block.fields?.length) {
    body.append(el("div", { class: "fields" }, block.fields.map((f) => el("div", { class: "field" }, textObject(f, ctx)))));
  }
  const node = el("div", { class: "block block-section" }, body);
  if (block.accessory) node.append(el("div", { class: "accessory" }, interactive(block, block.accessory, ctx)));
  return node;
}

function contextBlock(block, ctx) {
  return el("div", { class: "block block-context" }, (block.elements || []).map((item) =>
    item.type === "image" ? image(item.image_url, item.alt_text, "context-image") : el("span", { class: "context-item" }, textObject(item, ctx))));
}

function inputBlock(block, ctx) {
  const element = block.element || {};
  const id = nextId("input");
  const errorId = nextId("error");
  const hintId = nextId("hint");
  const error = ctx.errors?.[block.block_id];
  const grouped = element.type === "checkboxes" || element.type === "radio_buttons";
  const labelText = plainString(block.label);
  const labelNode = grouped ? el("span", { class: "input-label", id: id + "-label" }, labelText) : el("label", { class: "input-label", for: id }, labelText);
  if (block.optional) labelNode.append(el("span", { class: "optional" }, " (optional)"));
  const ctl = control(block, element, ctx, { id, inInput: true });
  if (grouped) ctl.setAttribute("aria-labelledby", id + "-label");
  const described = [];
  if (block.hint) described.push(hintId);
  if (error) {
    described.push(errorId);
    ctl.setAttribute("aria-invalid", "true");
  }
  if (described.length) ctl.setAttribute("aria-describedby", described.join(" "));
  ctx.register?.(block, element, ctl);
  return el("div", { class: "block block-input" + (error ? " has-error" : "") },
    labelNode, ctl,
    error ? el("div", { class: "input-error", id: errorId, role: "alert" }, "⚠ " + error) : null,
    block.hint ? el("div", { class: "input-hint", id: hintId }, textObject(block.hint, ctx)) : null);
}

function richText(block, ctx) {
  // Enough of rich_text for what people type: sections, quotes, preformatted, lists.
  const inlineEl = (item) => {
    if (item.type === "text") {
      let node = document.createTextNode(item.text || "");
      const s = item.style || {};
      if (s.code) node = el("code", {}, node);
      if (s.bold) node = el("strong", {}, node);
      if (s.italic) node = el("em", {}, node);
      if (s.strike) node = el("s", {}, node);
      return node;
    }
    if (item.type === "link" && SAFE_URL.test(item.url || "")) return el("a", { href: item.url, target: "_blank", rel: "noopener noreferrer" }, item.text || item.url);
    if (item.type === "user") return el("span", { class: "mention" }, userLabel(item.user_id, null, ctx));
    if (item.type === "channel") return el("span", { class: "channel-link" }, channelLabel(item.channel_id, null, ctx));
    if (item.type === "broadcast") return el("span", { class: "mention broadcast" }, "@" + item.range);
    if (item.type === "emoji") return document.createTextNode(item.unicode ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16))) : `:${item.name}:`);
    return document.createTextNode(item.text || "");
  };
  const part = (p) => {
    const kids = (p.elements || []).map((x) => (x.elements ? part(x) : inlineEl(x)));
    if (p.type === "rich_text_quote") return el("blockquote", {}, kids);
    if (p.type === "rich_text_preformatted") return el("pre", {}, kids);
    if (p.type === "rich_text_list") return el(p.style === "ordered" ? "ol" : "ul", {}, kids.map((k) => el("li", {}, k)));
    return el("span", { class: "mrkdwn-lines" }, kids);
  };
  return el("div", { class: "block block-rich-text" }, (block.elements || []).map(part));
}

export function renderBlock(block, ctx) {
  switch (block.type) {
    case "section":
      return sectionBlock(block, ctx);
    case "header":
      return el("h3", { class: "block block-header" }, plainString(block.text));
    case "divider":
      return el("hr", { class: "block block-divider" });
    case "context":
      return contextBlock(block, ctx);
    case "actions":
      return el("div", { class: "block block-actions", role: "group", "aria-label": block.block_id?.startsWith("ticket_actions") ? "Ticket actions" : null },
        (block.elements || []).map((e) => interactive(block, e, ctx)));
    case "input":
      return inputBlock(block, ctx);
    case "image":
      return el("figure", { class: "block block-image" }, block.title ? el("figcaption", {}, plainString(block.title)) : null, image(block.image_url, block.alt_text, "block-img"));
    case "rich_text":
      return richText(block, ctx);
    case "file":
      return el("div", { class: "block block-file" }, "📎 file");
    default:
      return el("div", { class: "block unsupported" }, `[unsupported block: ${block.type}]`);
  }
}

export function renderBlocks(blocks, ctx) {
  return el("div", { class: "blocks" }, (blocks || []).map((b) => renderBlock(b, ctx)));
}

// The state of every stateful control registered while rendering, as view.state.values.
export function collectValues(registry) {
  const values = {};
  for (const { block, element, node } of registry) {
    if (!element.action_id && block.type !== "input") continue;
    const blockId = block.block_id || "";
    values[blockId] = values[blockId] || {};
    values[blockId][element.action_id || ""] = readState(element, node);
  }
  return values;
}

export function restoreValues(registry, remembered) {
  for (const { block, element, node } of registry) {
    const state = remembered?.[block.block_id || ""]?.[element.action_id || ""];
    if (state && state.type === element.type) applyState(element, node, state);
    else applyState(element, node, null);
  }
}
