// mockllm dashboard: reads the admin API (GET /-/requests, GET /-/rules) and draws it.
// Plain script, no dependency, nothing fetched but this server's API. Everything a request
// carries is untrusted: it is only ever put in the page as text (textContent, text nodes),
// never parsed as HTML.
"use strict";

(function () {
  const POLL_MS = 1000; // how often new requests are fetched
  const RULES_EVERY = 2; // the rules are fetched every this many polls (and after new requests)
  const CHECK_EVERY = 3; // quiet polls between checks for a cleared journal or a restart
  const MAX_ROWS = 2000; // the newest requests kept on the page
  const TOKEN_KEY = "mockllm-admin-token";

  const $ = (id) => document.getElementById(id);

  const state = {
    token: "",
    authNeeded: false,
    paused: false,
    lastId: 0,
    entries: new Map(), // id -> entry, oldest first
    selected: null, // the entry shown in the detail panel
    tick: 0,
    quiet: 0,
    busy: false,
    timer: null,
    rulesLoaded: false,
    hits: 0, // the rules' hit counts, summed
  };

  // --- small DOM helpers (text only) ---------------------------------------------------

  /** A new element: `props` are set as properties (className, title...), except
   * `dataset`; `children` are nodes or strings (added as text, never as HTML). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "dataset") Object.assign(node.dataset, value);
      else node[key] = value;
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms < 10) return ms.toFixed(1) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  }

  function fmtTime(iso) {
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    const pad = (n, w) => String(n).padStart(w || 2, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  /** `value` as indented JSON (a string holding JSON is parsed first). */
  function pretty(value) {
    if (typeof value === "string") {
      try {
        return JSON.stringify(JSON.parse(value), null, 2);
      } catch (_err) {
        return value;
      }
    }
    try {
      return JSON.stringify(value, null, 2);
    } catch (_err) {
      return String(value);
    }
  }

  function statusClass(status) {
    if (status >= 500) return "s5xx";
    if (status >= 400) return "s4xx";
    if (status >= 300) return "s3xx";
    return "s2xx";
  }

  // --- the admin API --------------------------------------------------------------------

  class AuthError extends Error {}

  async function api(path) {
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const response = await fetch(path, { headers, cache: "no-store" });
    if (response.status === 401) throw new AuthError("the admin token is needed");
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        if (body && body.error && body.error.message) message += ": " + body.error.message;
      } catch (_err) {
        // not JSON: the status says enough
      }
      throw new Error(message);
    }
    return response.json();
  }

  function readToken() {
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    const fromUrl = fragment.get("token");
    if (fromUrl !== null) {
      // Keep it for this tab, and out of the address bar (and of screenshots, history).
      saveToken(fromUrl);
      fragment.delete("token");
      const rest = fragment.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
      return fromUrl;
    }
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_err) {
      return "";
    }
  }

  function saveToken(token) {
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch (_err) {
      // storage disabled: the token lives as long as the page
    }
  }

  // --- polling --------------------------------------------------------------------------

  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, ms);
  }

  async function poll() {
    if (state.busy) {
      schedule(POLL_MS);
      return;
    }
    state.busy = true;
    try {
      await refresh();
    } finally {
      state.busy = false;
      schedule(POLL_MS);
    }
  }

  async function refresh() {
    if (state.authNeeded) return;
    if (state.paused) {
      setLive("paused", "paused: new requests are not fetched");
      return;
    }
    try {
      const query = state.lastId ? `requests?since=${state.lastId}` : `requests?limit=${MAX_ROWS}`;
      const found = (await api(query)).data || [];
      addEntries(found);
      if (found.length) state.quiet = 0;
      else if (++state.quiet % CHECK_EVERY === 0) await checkJournal();
      if (found.length || !state.rulesLoaded || state.tick % RULES_EVERY === 0) await refreshRules();
      setLive("live", "fetching new requests every second");
    } catch (err) {
      if (err instanceof AuthError) {
        askToken();
      } else {
        setLive("offline", "cannot read the admin API: " + err.message);
      }
    }
    state.tick++;
  }

  /** When the journal was cleared (POST /-/reset, DELETE /-/requests) or the server
   * restarted (ids start over), start the list over too. */
  async function checkJournal() {
    const newest = ((await api("requests?limit=1")).data || [])[0];
    if (newest && newest.id >= state.lastId) return;
    if (!newest && !state.entries.size) return;
    startOver(newest ? "the server restarted" : "the journal was cleared");
  }

  /** Forget the rows: the next poll fetches the journal as the server has it now. */
  function startOver(note) {
    state.entries.clear();
    state.lastId = 0;
    clear($("requests").tBodies[0]);
    updateCount(note);
  }

  function setLive(mode, title) {
    const live = $("live");
    live.dataset.state = mode;
    live.textContent = mode;
    live.title = title || "";
  }

  function askToken() {
    const hadToken = Boolean(state.token);
    state.authNeeded = true;
    setLive("locked", "the admin API needs MOCKLLM_ADMIN_TOKEN");
    $("auth").hidden = false;
    $("auth-message").textContent = hadToken ? "that token was refused" : "";
    $("token").focus();
  }

  function useToken(event) {
    event.preventDefault();
    state.token = $("token").value.trim();
    saveToken(state.token);
    $("token").value = "";
    state.authNeeded = false;
    $("auth").hidden = true;
    schedule(0);
  }

  // --- the request list -----------------------------------------------------------------

  function addEntries(found) {
    const body = $("requests").tBodies[0];
    for (const entry of found) {
      if (state.entries.has(entry.id)) continue;
      state.entries.set(entry.id, entry);
      state.lastId = Math.max(state.lastId, entry.id);
      const row = rowOf(entry);
      body.insertBefore(row, body.firstChild); // newest on top
    }
    while (state.entries.size > MAX_ROWS) {
      const oldest = state.entries.keys().next().value;
      state.entries.delete(oldest);
      const row = body.querySelector(`tr[data-id="${oldest}"]`);
      if (row) row.remove();
    }
    if (found.length) updateCount();
  }

  function updateCount(note) {
    const n = state.entries.size;
    $("count").textContent = n ? `(${n}${n >= MAX_ROWS ? ", the newest" : ""})` : note ? `(${note})` : "";
    $("empty").hidden = n > 0;
  }

  function rowOf(entry) {
    const rule = entry.rule
      ? el("td", { className: "c-rule" }, entry.rule)
      : el("td", { className: "c-rule none", title: entry.reason || "" }, "none");
    const path = el("td", { className: "c-path", title: entry.method + " " + entry.path + (entry.query ? "?" + entry.query : "") },
      entry.stream ? el("span", { className: "tag" }, "stream") : null, entry.path);
    const row = el(
      "tr",
      { dataset: { id: String(entry.id) }, tabIndex: 0 },
      el("td", { className: "num c-id" }, entry.id),
      el("td", { className: "c-time", title: entry.time }, fmtTime(entry.time)),
      el("td", { className: "c-dialect" }, entry.dialect),
      path,
      el("td", { className: "c-model" }, entry.model || "–"),
      el("td", { className: "num c-status " + statusClass(entry.status) }, entry.status),
      rule,
      el("td", { className: "num c-ms" }, Math.round(entry.duration_ms)),
    );
    row.hidden = !matchesFilter(row);
    if (state.selected && state.selected.id === entry.id) row.classList.add("selected");
    return row;
  }

  function matchesFilter(row) {
    const words = $("filter").value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return true;
    const text = row.textContent.toLowerCase();
    return words.every((w) => text.includes(w));
  }

  function applyFilter() {
    for (const row of $("requests").tBodies[0].rows) row.hidden = !matchesFilter(row);
  }

  function select(row) {
    if (!row) return;
    const entry = state.entries.get(Number(row.dataset.id));
    if (!entry) return;
    for (const other of $("requests").querySelectorAll("tr.selected")) other.classList.remove("selected");
    row.classList.add("selected");
    state.selected = entry;
    showDetail(entry);
  }

  function onKey(event) {
    if (event.target instanceof HTMLInputElement) return;
    const current = $("requests").querySelector("tr.selected");
    if (event.key === "Enter" && event.target instanceof HTMLTableRowElement) {
      select(event.target);
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    let next = current
      ? event.key === "ArrowDown" ? current.nextElementSibling : current.previousElementSibling
      : $("requests").tBodies[0].firstElementChild;
    while (next && next.hidden) {
      next = event.key === "ArrowDown" ? next.nextElementSibling : next.previousElementSibling;
    }
    if (next) {
      event.preventDefault();
      select(next);
      next.focus();
    }
  }

  // --- a request's detail ---------------------------------------------------------------

  function showDetail(entry) {
    $("detail-empty").hidden = true;
    const body = $("detail-body");
    clear(body);
    body.hidden = false;
    body.dataset.id = String(entry.id);

    body.append(
      el("p", { className: "title" },
        el("span", { className: "badge " + statusClass(entry.status) }, entry.status),
        " ", el("strong", {}, entry.method + " " + entry.path + (entry.query ? "?" + entry.query : "")),
        " ", el("span", { className: "muted" }, `#${entry.id} · ${entry.dialect} · ${entry.stream ? "stream" : "JSON answer"}`)),
      facts(entry),
      el("h3", {}, "Timeline"),
      timeline(entry),
      el("h3", {}, "Conversation"),
      conversation(entry),
      el("h3", {}, "Request body"),
      el("pre", { id: "raw", className: "json" }, entry.request === null ? "(no body)" : pretty(entry.request)),
      el("details", {},
        el("summary", {}, "Headers (secrets redacted)"),
        el("pre", { className: "json" }, pretty(entry.headers || {}))),
    );
  }

  function facts(entry) {
    const list = el("dl", { className: "facts" });
    const add = (name, value, className) => {
      list.append(el("dt", {}, name), el("dd", { className }, value));
    };
    add("status", String(entry.status), "f-status");
    if (entry.rule) add("rule", entry.rule, "f-rule");
    else add("rule", "none" + (entry.reason ? ": " + entry.reason : ""), "f-rule none");
    add("model", entry.model || "–", "f-model");
    add("time", entry.time);
    if (entry.usage) {
      add("tokens", `${entry.usage.input_tokens} in, ${entry.usage.output_tokens} out`, "f-usage");
    }
    if (entry.conversation) add("conversation", entry.conversation);
    if (entry.request_id) add("request id", entry.request_id);
    return list;
  }

  function timeline(entry) {
    const total = Math.max(entry.duration_ms || 0, 0);
    const first = entry.ttfb_ms === null || entry.ttfb_ms === undefined ? null : Math.min(entry.ttfb_ms, total);
    const share = (ms) => (total > 0 ? (100 * ms) / total : 0);

    const track = el("div", { className: "track", title: `total ${fmtMs(total)}` });
    const wait = el("div", { className: "seg wait", title: "until the first byte of the answer" });
    const rest = el("div", { className: "seg body", title: entry.stream ? "the stream" : "the rest of the answer" });
    const firstShare = first === null ? 100 : share(first);
    wait.style.width = firstShare + "%";
    rest.style.width = Math.max(0, 100 - firstShare) + "%";
    track.append(wait, rest);

    const legend = el("p", { className: "legend" },
      el("span", { className: "t-ttfb" }, "first byte " + fmtMs(first)),
      el("span", { className: "t-body" }, (entry.stream ? "streamed " : "body ") + (first === null ? "–" : fmtMs(total - first))),
      el("span", { className: "t-total" }, "total " + fmtMs(total)));

    const faults = entry.faults && entry.faults.length
      ? el("ul", { id: "faults", className: "faults" }, entry.faults.map((f) => el("li", {}, f)))
      : el("p", { id: "faults", className: "muted" }, "no fault simulated");

    return el("div", { id: "timeline", className: "timeline" }, track, legend, el("h4", {}, "Faults"), faults);
  }

  // --- conversations: every dialect's request, as messages by role ----------------------

  const ROLE_CLASSES = new Set(["system", "user", "assistant", "tool", "developer", "model", "function"]);

  const text = (value, label) => ({ kind: "text", text: String(value), label });
  const note = (value) => ({ kind: "note", text: String(value) });
  const call = (name, id, args) => ({ kind: "call", name, id, args });
  const result = (name, id, content, isError) => ({ kind: "result", name, id, content, isError });

  /** The parts of a message's content: a string, a list of blocks or parts, one block. */
  function blocks(content) {
    if (content === null || content === undefined) return [];
    if (typeof content === "string") return content ? [text(content)] : [];
    if (Array.isArray(content)) return content.flatMap(block);
    if (typeof content === "object") return block(content);
    return [text(content)];
  }

  /** One block of content, whatever the dialect (OpenAI parts, Anthropic blocks,
   * Responses items, Gemini parts). */
  function block(b) {
    if (b === null || b === undefined) return [];
    if (typeof b !== "object") return [text(b)];
    if (Array.isArray(b)) return b.flatMap(block);
    switch (b.type) {
      case "text":
      case "input_text":
      case "output_text":
        return [text(b.text ?? "")];
      case "refusal":
        return [text(b.refusal ?? "", "refusal")];
      case "thinking":
        return [text(b.thinking ?? "", "thinking")];
      case "redacted_thinking":
        return [note("redacted thinking")];
      case "reasoning":
        return [text((b.summary || []).map((s) => s.text || "").join("\n") || "(reasoning)", "reasoning")];
      case "image_url":
        return [note("image " + shortUrl(b.image_url && (b.image_url.url ?? b.image_url)))];
      case "image":
      case "input_image":
        return [note("image " + shortUrl(b.image_url || (b.source && (b.source.url || b.source.media_type)) || ""))];
      case "input_audio":
      case "audio":
      case "file":
      case "input_file":
      case "document":
        return [note(b.type + (b.title ? ": " + b.title : ""))];
      case "tool_use":
      case "server_tool_use":
      case "mcp_tool_use":
        return [call(b.name, b.id, b.input)];
      case "tool_result":
        return [result(null, b.tool_use_id, blocks(b.content), b.is_error)];
      case "function_call":
        return [call(b.name, b.call_id || b.id, b.arguments)];
      case "function_call_output":
        return [result(null, b.call_id, blocks(b.output), false)];
      case "message":
        return blocks(b.content);
      default:
        break;
    }
    const part = geminiPart(b);
    if (part) return [part];
    if (typeof b.text === "string") return [text(b.text)];
    return [{ kind: "other", value: b }];
  }

  function geminiPart(p) {
    const fc = p.functionCall || p.function_call;
    if (fc) return call(fc.name, fc.id, fc.args);
    const fr = p.functionResponse || p.function_response;
    if (fr) return result(fr.name, fr.id, fr.response, false);
    if (typeof p.text === "string") return text(p.text, p.thought ? "thinking" : undefined);
    const inline = p.inlineData || p.inline_data;
    if (inline) return note("inline data " + (inline.mimeType || inline.mime_type || ""));
    const file = p.fileData || p.file_data;
    if (file) return note("file " + (file.fileUri || file.file_uri || ""));
    const code = p.executableCode || p.executable_code;
    if (code) return text(code.code || "", "code");
    return null;
  }

  function shortUrl(url) {
    const s = String(url || "");
    if (s.startsWith("data:")) return "(" + s.slice(5, s.indexOf(";") > 0 ? s.indexOf(";") : 40) + ", inline)";
    return s.length > 120 ? s.slice(0, 117) + "…" : s;
  }

  /** A chat message (OpenAI Chat Completions, Anthropic Messages, Ollama /api/chat). */
  function chatMessage(m) {
    if (m === null || typeof m !== "object") return { role: "message", parts: blocks(m) };
    let parts = blocks(m.content);
    for (const tc of m.tool_calls || []) {
      const fn = tc.function || tc;
      parts.push(call(fn.name, tc.id, fn.arguments));
    }
    if (m.function_call) parts.push(call(m.function_call.name, null, m.function_call.arguments));
    if (m.thinking) parts.unshift(text(m.thinking, "thinking"));
    if (m.reasoning_content) parts.unshift(text(m.reasoning_content, "reasoning"));
    if (Array.isArray(m.images) && m.images.length) parts.push(note(m.images.length + " image(s)"));
    const role = String(m.role || "message");
    if (role === "tool" || role === "function") {
      parts = [result(m.name || m.tool_name || null, m.tool_call_id || null, parts, false)];
    }
    return { role, parts };
  }

  /** The messages of an entry's request, by role, and the tools it offered. */
  function messagesOf(entry) {
    const r = entry.request;
    const messages = [];
    const push = (role, parts) => {
      if (parts.length) messages.push({ role, parts });
    };
    if (r === null || r === undefined) return { messages, tools: [] };
    if (typeof r !== "object" || Array.isArray(r)) {
      push("body", [text(typeof r === "string" ? r : pretty(r))]);
      return { messages, tools: [] };
    }
    push("system", blocks(r.system));
    push("system", blocks(r.instructions));
    const si = r.systemInstruction || r.system_instruction;
    if (si) push("system", typeof si === "string" ? [text(si)] : blocks(si.parts || si));
    if (Array.isArray(r.messages)) {
      for (const m of r.messages) {
        const message = chatMessage(m);
        push(message.role, message.parts);
      }
    }
    if (r.contents !== undefined) {
      const contents = Array.isArray(r.contents) ? r.contents : [r.contents];
      for (const c of contents) {
        if (c && typeof c === "object" && !Array.isArray(c) && c.parts !== undefined) {
          push(c.role || "user", blocks(c.parts));
        } else {
          push("user", blocks(c));
        }
      }
    }
    if (r.content && typeof r.content === "object" && r.content.parts) push("user", blocks(r.content.parts));
    if (r.input !== undefined) {
      if (/\/responses/.test(entry.path) && Array.isArray(r.input)) {
        for (const item of r.input) {
          if (item && typeof item === "object" && item.role && item.type !== "function_call") {
            push(item.role, blocks(item.content));
          } else if (item && item.type === "function_call_output") {
            push("tool", blocks(item));
          } else if (item && (item.type === "function_call" || item.type === "reasoning")) {
            push("assistant", blocks(item));
          } else {
            push("input", blocks(item));
          }
        }
      } else {
        push(/\/responses/.test(entry.path) ? "user" : "input", blocks(r.input));
      }
    }
    if (r.prompt !== undefined) push("prompt", blocks(r.prompt));
    nameResults(messages);
    return { messages, tools: toolNames(r.tools) };
  }

  /** Tool results that carry only the call's id get the tool's name from that call. */
  function nameResults(messages) {
    const names = new Map();
    for (const message of messages) {
      for (const part of message.parts) {
        if (part.kind === "call" && part.id) names.set(part.id, part.name);
        if (part.kind === "result" && !part.name && part.id && names.has(part.id)) {
          part.name = names.get(part.id);
        }
      }
    }
  }

  function toolNames(tools) {
    if (!Array.isArray(tools)) return [];
    const names = [];
    for (const t of tools) {
      if (!t || typeof t !== "object") continue;
      if (t.function && t.function.name) names.push(t.function.name);
      else if (t.name) names.push(t.name);
      const declarations = t.functionDeclarations || t.function_declarations;
      if (Array.isArray(declarations)) for (const d of declarations) names.push(d && d.name);
      else if (!t.function && !t.name && t.type) names.push(t.type);
    }
    return names.filter(Boolean).map(String);
  }

  function conversation(entry) {
    const { messages, tools } = messagesOf(entry);
    const box = el("div", { id: "conversation", className: "conversation" });
    if (tools.length) box.append(el("p", { className: "tools muted" }, "tools offered: " + tools.join(", ")));
    if (!messages.length) {
      box.append(el("p", { className: "muted" }, "No message in this request (see its body below)."));
      return box;
    }
    for (const message of messages) {
      const role = message.role.toLowerCase();
      const kind = ROLE_CLASSES.has(role) ? role : "other";
      box.append(
        el("div", { className: "message role-" + kind },
          el("div", { className: "role" }, message.role),
          el("div", { className: "parts" }, message.parts.map(renderPart))),
      );
    }
    return box;
  }

  function renderPart(part) {
    switch (part.kind) {
      case "text":
        return el("div", { className: "part text" + (part.label ? " labelled" : "") },
          part.label ? el("span", { className: "label" }, part.label) : null,
          el("span", { className: "content" }, part.text));
      case "note":
        return el("div", { className: "part note" }, "[" + part.text + "]");
      case "call":
        return el("div", { className: "part call" },
          el("div", { className: "head" }, "→ tool call ", el("code", {}, String(part.name ?? "?")),
            part.id ? el("span", { className: "muted" }, " " + part.id) : null),
          part.args === undefined ? null : el("pre", { className: "json" }, pretty(part.args)));
      case "result": {
        const content = Array.isArray(part.content)
          ? part.content.map(renderPart)
          : el("pre", { className: "json" }, pretty(part.content));
        return el("div", { className: "part result" + (part.isError ? " is-error" : "") },
          el("div", { className: "head" }, part.isError ? "← tool error" : "← tool result",
            part.name ? [" ", el("code", {}, String(part.name))] : null,
            part.id ? el("span", { className: "muted" }, " " + part.id) : null),
          content);
      }
      default:
        return el("pre", { className: "part other json" }, pretty(part.value));
    }
  }

  // --- rules and config errors ----------------------------------------------------------

  async function refreshRules() {
    const view = await api("rules");
    state.rulesLoaded = true;
    // Hit counts only fall when the journal is cleared (POST /-/reset, DELETE /-/requests).
    const hits = (view.rules || []).reduce((sum, rule) => sum + (rule.hits || 0), view.responses_hits || 0);
    if (hits < state.hits) startOver("the journal was cleared");
    state.hits = hits;
    const body = $("rules").tBodies[0];
    clear(body);
    const prompts = Object.keys(view.responses || {}).length;
    if (prompts) {
      body.append(el("tr", { dataset: { rule: "responses" } },
        el("td", { className: "r-name" }, "responses"),
        el("td", { className: "num r-hits" }, view.responses_hits || 0),
        el("td", { className: "num" }, ""),
        el("td", {}, `${prompts} prompt${prompts === 1 ? "" : "s"} answered by exact match`),
        el("td", {}, "")));
    }
    for (const rule of view.rules || []) {
      body.append(el("tr", { dataset: { rule: rule.name } },
        el("td", { className: "r-name" }, rule.name),
        el("td", { className: "num r-hits" + (rule.hits ? "" : " zero") }, rule.hits),
        el("td", { className: "num" }, rule.priority),
        el("td", { className: "r-when" }, (rule.conditions || []).join("; ") || "always"),
        el("td", { className: "muted" }, rule.location || "")));
    }
    if (!body.rows.length) {
      body.append(el("tr", {}, el("td", { colSpan: 5, className: "muted" }, "No rule: the defaults answer everything.")));
    }
    const meta = [];
    if (view.reloads) meta.push(`${view.reloads} reload${view.reloads === 1 ? "" : "s"}`);
    if (view.added) meta.push(`${view.added} added over HTTP`);
    $("rules-meta").textContent = meta.length ? "(" + meta.join(", ") + ")" : "";
    $("source").textContent = view.source ? "config: " + view.source : "";

    const problem = view.last_error;
    $("config-error").hidden = !problem;
    $("config-error-text").textContent = problem || "";
  }

  // --- start ----------------------------------------------------------------------------

  function start() {
    state.token = readToken();
    $("auth").addEventListener("submit", useToken);
    $("pause").addEventListener("click", () => {
      state.paused = !state.paused;
      $("pause").textContent = state.paused ? "Resume" : "Pause";
      schedule(0);
    });
    $("filter").addEventListener("input", applyFilter);
    $("requests").tBodies[0].addEventListener("click", (event) => {
      select(event.target instanceof Element ? event.target.closest("tr") : null);
    });
    document.addEventListener("keydown", onKey);
    updateCount();
    schedule(0);
  }

  start();
})();
