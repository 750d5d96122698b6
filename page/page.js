// lossd's page: pick a loss, read its members from the server's own OpenAPI
// description (/openapi.yaml), send a request and show the result or the
// problem document, with the offending byte of the body highlighted; and
// chart the request rate, latency and errors from /metrics. Plain
// JavaScript, no library, no inline code (the page's Content-Security-Policy
// allows only scripts and styles from this server).
"use strict";

// ----- a reader for the YAML that openapi.yaml is written in ---------------
// Not a YAML parser: it reads the subset lossd's document uses (block
// mappings and sequences by indentation, flow [..] and {..} collections,
// quoted and plain scalars, | and > block scalars, full-line comments).
// Anchors are dropped and aliases are kept as the string "*name".
function readYAML(text) {
  const L = text.split("\n");
  let i = 0;
  const indentOf = (s) => s.length - s.trimStart().length;
  const KEY = /^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^:'"[{#][^:]*?):(?:[ \t]+(.*))?$/;
  const skip = () => { while (i < L.length && /^\s*(#.*)?$/.test(L[i])) i++; };
  const fail = (why) => { throw new Error("openapi.yaml line " + (i + 1) + ": " + why); };

  function block(indent) {
    skip();
    if (i >= L.length) return null;
    return /^-( |$)/.test(L[i].slice(indent)) ? seq(indent) : map(indent);
  }
  function map(indent) {
    const out = {};
    for (;;) {
      skip();
      if (i >= L.length || indentOf(L[i]) !== indent || /^-( |$)/.test(L[i].slice(indent))) return out;
      const m = KEY.exec(L[i].slice(indent));
      if (!m) fail("expected 'key: value'");
      i++;
      out[scalar(m[1], true)] = value((m[2] || "").trim(), indent);
    }
  }
  function seq(indent) {
    const out = [];
    for (;;) {
      skip();
      if (i >= L.length || indentOf(L[i]) !== indent || !/^-( |$)/.test(L[i].slice(indent))) return out;
      const after = L[i].slice(indent + 1);
      const rest = after.trimStart();
      if (rest === "") { i++; out.push(value("", indent)); continue; }
      if (KEY.test(rest)) {
        // "- key: value": a mapping whose first entry shares the dash's line.
        const inner = indent + 1 + after.length - rest.length;
        L[i] = " ".repeat(inner) + rest;
        out.push(map(inner));
      } else {
        i++;
        out.push(value(rest, indent));
      }
    }
  }
  function value(rest, indent) {
    rest = rest.replace(/^&\S+\s*/, "");
    if (rest === "" || rest[0] === "#") {
      skip();
      if (i < L.length) {
        const d = indentOf(L[i]);
        if (d > indent) return block(d);
        if (d === indent && /^-( |$)/.test(L[i].slice(d))) return seq(d);
      }
      return null;
    }
    if (/^[|>][-+]?$/.test(rest)) return blockScalar(indent, rest[0], rest[1]);
    if (rest[0] === "[" || rest[0] === "{") {
      let s = rest;
      while (!balanced(s) && i < L.length) s += " " + L[i++].trim();
      return flow(s);
    }
    let s = rest;
    while (i < L.length && /\S/.test(L[i]) && indentOf(L[i]) > indent && !/^\s*#/.test(L[i])) s += " " + L[i++].trim();
    return scalar(s, false);
  }
  function blockScalar(indent, style, chomp) {
    const lines = [];
    let inner = -1;
    while (i < L.length && (!/\S/.test(L[i]) || indentOf(L[i]) > indent)) {
      if (/\S/.test(L[i]) && inner < 0) inner = indentOf(L[i]);
      lines.push(L[i].slice(Math.max(inner, 0)));
      i++;
    }
    while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
    return lines.join(style === "|" ? "\n" : " ") + (chomp === "-" ? "" : "\n");
  }
  function balanced(s) {
    let depth = 0, quote = "";
    for (const c of s) {
      if (quote) { if (c === quote) quote = ""; continue; }
      if (c === "'" || c === '"') quote = c;
      else if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") depth--;
    }
    return depth === 0;
  }
  function flow(s) {
    let p = 0;
    const ws = () => { while (s[p] === " ") p++; };
    const atom = (stops) => {
      ws();
      const start = p;
      if (s[p] === "'" || s[p] === '"') {
        const q = s[p++];
        while (p < s.length && !(s[p] === q && !(q === "'" && s[p + 1] === "'"))) p += (q === "'" && s[p] === "'") || (q === '"' && s[p] === "\\") ? 2 : 1;
        p++;
      } else {
        while (p < s.length && !stops.includes(s[p])) p++;
      }
      return s.slice(start, p).trim();
    };
    const node = () => {
      ws();
      if (s[p] === "[" || s[p] === "{") {
        const close = s[p] === "[" ? "]" : "}";
        const out = close === "]" ? [] : {};
        p++; ws();
        if (s[p] === close) { p++; return out; }
        for (;;) {
          if (close === "]") out.push(node());
          else {
            const key = scalar(atom(":,}"), true);
            ws();
            if (s[p] !== ":") fail("expected ':' in " + s);
            p++;
            out[key] = node();
          }
          ws();
          if (s[p] === ",") { p++; continue; }
          if (s[p] === close) { p++; return out; }
          fail("unexpected '" + s[p] + "' in " + s);
        }
      }
      return scalar(atom(",]}"), false);
    };
    return node();
  }
  function scalar(s, isKey) {
    s = s.trim();
    if (s[0] === "'") return s.slice(1, -1).replace(/''/g, "'");
    if (s[0] === '"') return JSON.parse(s);
    if (isKey) return s;
    if (s === "null" || s === "~") return null;
    if (s === "true" || s === "false") return s === "true";
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
    return s;
  }
  const doc = block(0);
  skip();
  if (i < L.length) fail("unexpected indentation");
  return doc;
}

// ----- the losses, as the description tells them ---------------------------

// Follows local references ("#/components/schemas/Name").
function resolve(doc, node) {
  for (let hops = 0; node && typeof node.$ref === "string" && hops < 16; hops++) {
    let target = doc;
    for (const part of node.$ref.replace(/^#\//, "").split("/")) {
      target = target && target[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    node = target;
  }
  return node;
}

// Every operation that takes a JSON object is a loss (the Open Inference
// Protocol's, tagged oip, aside): its path, summary, request schema (members,
// required ones) and examples.
function readLosses(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    const post = item && item.post;
    if (post && Array.isArray(post.tags) && post.tags.includes("oip")) continue;
    const media = post && post.requestBody && post.requestBody.content && post.requestBody.content["application/json"];
    const schema = media && resolve(doc, media.schema);
    if (!schema || !schema.properties) continue;
    out.push({ path, summary: post.summary || path, schema, required: schema.required || [], examples: media.examples || {} });
  }
  return out;
}

function memberType(doc, property) {
  const target = resolve(doc, property) || {};
  let text;
  if (target.enum) text = target.enum.filter((v) => v !== null).join(" | ");
  else if (property.$ref) text = property.$ref.split("/").pop();
  else if (Array.isArray(property.type)) text = property.type.filter((t) => t !== "null").join(" | ");
  else text = property.type || "";
  const fallback = target.default !== undefined ? target.default : undefined;
  const def = property.default !== undefined ? property.default : fallback;
  if (def !== undefined) text += " (default " + JSON.stringify(def) + ")";
  return text;
}

// A request body laid out one member to a line.
function layout(value) {
  const members = Object.entries(value).map(([k, v]) => "  " + JSON.stringify(k) + ": " + JSON.stringify(v));
  return "{\n" + members.join(",\n") + "\n}";
}

// Random tensors of shape (N, C) or, with H and W, an image-shaped (N, C, H, W)
// map. Class-index targets, shape (N) or (N, H, W), for a loss whose request
// has `ignore_index` (cross entropy's mark of index targets); otherwise
// targets of the predictions' shape in [0, 1] and predictions in (0, 1),
// which every other loss accepts.
function generate(loss, n, c, h, w) {
  const spatial = h > 0 && w > 0 ? [h, w] : [];
  const nest = (shape, f) => shape.length === 0 ? f() : Array.from({ length: shape[0] }, () => nest(shape.slice(1), f));
  const round = (x) => Math.round(x * 1000) / 1000;
  const indices = "ignore_index" in loss.schema.properties;
  const predictions = nest([n, c, ...spatial], () => indices ? round(Math.random() * 6 - 3) : round(0.01 + Math.random() * 0.98));
  const targets = indices
    ? nest([n, ...spatial], () => Math.floor(Math.random() * c))
    : nest([n, c, ...spatial], () => (Math.random() < 0.5 ? 0 : 1));
  return layout({ predictions, targets });
}

// ----- the page -------------------------------------------------------------

const $ = (id) => document.getElementById(id);
let doc = null;
let losses = [];

function clamp(id, low, high) {
  const v = Math.floor(Number($(id).value));
  return Number.isFinite(v) ? Math.min(Math.max(v, low), high) : low;
}

function currentLoss() { return losses[$("loss").selectedIndex]; }

function showLoss() {
  const loss = currentLoss();
  $("loss-summary").textContent = loss.path + ": " + loss.summary;
  const rows = $("members").tBodies[0];
  rows.replaceChildren();
  for (const [name, property] of Object.entries(loss.schema.properties)) {
    const target = resolve(doc, property) || {};
    const row = rows.insertRow();
    row.dataset.member = name;
    const cell = row.insertCell();
    // A line may break after each underscore (label_smoothing) on a narrow screen.
    name.split("_").forEach((part, k) => {
      if (k > 0) cell.append("_", document.createElement("wbr"));
      cell.append(part);
    });
    if (loss.required.includes(name)) cell.className = "required";
    row.insertCell().textContent = memberType(doc, property);
    row.insertCell().textContent = (property.description || target.description || "").trim();
  }
  const examples = $("example");
  examples.replaceChildren();
  for (const [name, example] of Object.entries(loss.examples)) {
    if (example && example.value && typeof example.value === "object") {
      examples.add(new Option(example.summary || name, name));
    }
  }
  examples.disabled = examples.options.length === 0;
  showExample();
}

function showExample() {
  const loss = currentLoss();
  const name = $("example").value;
  if (name && loss.examples[name]) $("body").value = layout(loss.examples[name].value);
}

function clearOutcome() {
  $("result").hidden = true;
  $("problem").hidden = true;
  $("status").className = "";
}

async function send() {
  const loss = currentLoss();
  const text = $("body").value;
  clearOutcome();
  $("status").textContent = "Sending to " + loss.path + "…";
  let response, answer;
  try {
    response = await fetch(loss.path, { method: "POST", headers: { "Content-Type": "application/json" }, body: text });
    answer = await response.text();
  } catch (error) {
    $("status").textContent = "No answer: " + error.message;
    $("status").className = "bad";
    return;
  }
  $("status").textContent = response.status + " " + response.statusText + " from POST " + loss.path;
  let parsed = null;
  try { parsed = JSON.parse(answer); } catch (_) { /* shown as text */ }
  if (response.ok) {
    $("status").className = "ok";
    $("result").textContent = parsed ? JSON.stringify(parsed, null, 2) : answer;
    $("result").hidden = false;
    return;
  }
  $("status").className = "bad";
  showProblem(parsed, answer, text);
}

// The problem's detail, and the request body with the byte it names (as in
// "malformed JSON at byte 17: ...", a 0-based offset into the UTF-8 body)
// marked.
function showProblem(problem, answer, body) {
  const detail = problem && typeof problem.detail === "string" ? problem.detail : answer;
  $("problem-detail").textContent = detail;
  const pre = $("problem-body");
  pre.replaceChildren();
  const where = /\bat byte (\d+)/.exec(detail);
  if (where) {
    const bytes = new TextEncoder().encode(body);
    const offset = Math.min(Number(where[1]), bytes.length);
    let width = 1;
    if (offset < bytes.length) {
      const lead = bytes[offset];
      width = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    }
    const decode = (a, b) => new TextDecoder().decode(bytes.subarray(a, b));
    const before = decode(0, offset);
    const mark = document.createElement("mark");
    mark.id = "offending-byte";
    mark.textContent = offset < bytes.length ? decode(offset, offset + width) : "␄";
    mark.title = offset < bytes.length ? "byte " + offset : "the end of the body";
    pre.append(before, mark, decode(offset + width, bytes.length));
    const lines = before.split("\n");
    $("problem-where").textContent = "Byte " + offset + " is line " + lines.length + ", column " +
      (lines[lines.length - 1].length + 1) + (offset < bytes.length ? ", marked below:" : " (the end of the body):");
  } else {
    pre.textContent = body;
    $("problem-where").textContent = "The request body:";
  }
  $("problem").hidden = false;
  const mark = $("offending-byte");
  if (mark) mark.scrollIntoView({ block: "nearest" });
}

async function start() {
  try {
    const response = await fetch("/openapi.yaml");
    if (!response.ok) throw new Error("GET /openapi.yaml answered " + response.status);
    doc = readYAML(await response.text());
    losses = readLosses(doc);
    if (losses.length === 0) throw new Error("the description names no loss");
  } catch (error) {
    $("load-status").textContent = "Could not read the API description: " + error.message;
    return;
  }
  const select = $("loss");
  for (const loss of losses) select.add(new Option(loss.path + " — " + loss.summary, loss.path));
  select.disabled = false;
  $("send").disabled = false;
  $("load-status").textContent = losses.length + " losses in " + (doc.info && doc.info.title || "the API") +
    " " + (doc.info && doc.info.version || "") + ".";
  showLoss();
}

$("loss").addEventListener("change", () => { clearOutcome(); showLoss(); });
$("example").addEventListener("change", showExample);
$("send").addEventListener("click", send);
$("body").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
});
$("gen-go").addEventListener("click", () => {
  $("body").value = generate(currentLoss(), clamp("gen-n", 1, 64), clamp("gen-c", 1, 64), clamp("gen-h", 0, 64), clamp("gen-w", 0, 64));
});
$("gen-seg").addEventListener("click", () => {
  $("gen-n").value = 1; $("gen-h").value = 8; $("gen-w").value = 8;
  $("body").value = generate(currentLoss(), 1, clamp("gen-c", 1, 64), 8, 8);
});
start();

// ----- live metrics ---------------------------------------------------------

const POLL_MS = 2000, POINTS = 60;
const series = { rate: [], latency: [], errors4: [], errors5: [] };
let previous = null;

// Totals over every route but /metrics (so the polls do not chart themselves).
function readMetrics(text) {
  const totals = { requests: 0, errors4: 0, errors5: 0, seconds: 0, count: 0 };
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (labels.route === "/metrics") continue;
    const v = Number(m[3]);
    if (m[1] === "lossd_http_requests_total") {
      totals.requests += v;
      if ((labels.status || "")[0] === "4") totals.errors4 += v;
      if ((labels.status || "")[0] === "5") totals.errors5 += v;
    } else if (m[1] === "lossd_http_request_duration_seconds_sum") totals.seconds += v;
    else if (m[1] === "lossd_http_request_duration_seconds_count") totals.count += v;
  }
  return totals;
}

function push(name, value) {
  series[name].push(value);
  if (series[name].length > POINTS) series[name].shift();
}

function draw(id, lines) {
  const canvas = $(id);
  const g = canvas.getContext("2d");
  const width = canvas.width, height = canvas.height, pad = 22;
  g.clearRect(0, 0, width, height);
  const max = Math.max(1e-9, ...lines.flatMap((l) => l.values));
  g.strokeStyle = "#d0d7de";
  g.lineWidth = 1;
  g.beginPath();
  for (let k = 0; k <= 2; k++) {
    const y = pad + (height - 2 * pad) * k / 2;
    g.moveTo(pad, y); g.lineTo(width - 4, y);
  }
  g.stroke();
  g.fillStyle = "#57606a";
  g.font = "12px system-ui, sans-serif";
  g.fillText(max < 10 ? max.toPrecision(2) : String(Math.round(max)), pad + 2, pad - 6);
  for (const line of lines) {
    g.strokeStyle = line.color;
    g.lineWidth = 2;
    g.beginPath();
    // The newest reading at the right edge, older ones to its left.
    const shift = POINTS - line.values.length;
    line.values.forEach((v, k) => {
      const x = pad + (width - pad - 4) * (k + shift) / (POINTS - 1);
      const y = height - pad - (height - 2 * pad) * v / max;
      if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
  canvas.dataset.points = String(Math.max(...lines.map((l) => l.values.length)));
}

async function poll() {
  if (document.hidden) return;
  let totals;
  try {
    const response = await fetch("/metrics", { cache: "no-store" });
    if (!response.ok) throw new Error("GET /metrics answered " + response.status);
    totals = readMetrics(await response.text());
  } catch (error) {
    $("metrics-status").textContent = "Metrics unavailable: " + error.message;
    return;
  }
  const now = performance.now();
  if (previous) {
    const dt = (now - previous.at) / 1000;
    const count = totals.count - previous.count;
    push("rate", Math.max(0, (totals.requests - previous.requests) / dt));
    push("latency", count > 0 ? 1000 * (totals.seconds - previous.seconds) / count : 0);
    push("errors4", Math.max(0, (totals.errors4 - previous.errors4) / dt));
    push("errors5", Math.max(0, (totals.errors5 - previous.errors5) / dt));
    draw("chart-rate", [{ values: series.rate, color: "#0a5cc2" }]);
    draw("chart-latency", [{ values: series.latency, color: "#8250df" }]);
    draw("chart-errors", [{ values: series.errors4, color: "#bc4c00" }, { values: series.errors5, color: "#b3261e" }]);
    const last = (name) => series[name][series[name].length - 1];
    $("now-rate").textContent = "now " + last("rate").toFixed(1);
    $("now-latency").textContent = "now " + last("latency").toFixed(2);
    $("now-errors").textContent = "now " + last("errors4").toFixed(1) + " 4xx, " + last("errors5").toFixed(1) + " 5xx";
    $("metrics-status").textContent = "";
  }
  previous = { at: now, ...totals };
}
poll();
setInterval(poll, POLL_MS);
