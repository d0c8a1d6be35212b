// The scheduler's dashboard: history from /api/v1/samples and /api/v1/events, live updates from
// /api/v1/stream (server-sent events), manual scaling through POST /api/v1/scale.
"use strict";

const state = { range: 300, samples: [], events: [], status: null, instances: [] };
const $ = (id) => document.getElementById(id);

window.addEventListener("error", () => { document.body.dataset.errors = String(Number(document.body.dataset.errors) + 1); });
window.addEventListener("unhandledrejection", () => { document.body.dataset.errors = String(Number(document.body.dataset.errors) + 1); });

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function loadHistory() {
  const since = Date.now() / 1000 - state.range;
  const [samples, events] = await Promise.all([getJSON(`/api/v1/samples?since=${since}`), getJSON(`/api/v1/events?since=${since}`)]);
  state.samples = samples.samples;
  state.events = events.events;
  drawCharts();
  drawEvents();
  loadQuality();
}

/// Scaling quality over the range (GET /api/v1/quality), when the scheduler knows an instance's
/// capacity (--capacity): how long and how much it was under- or over-provisioned.
async function loadQuality() {
  if (!state.status) return;
  if (state.status.capacity == null) {
    $("quality").textContent = "Scaling quality: start the scheduler with --capacity R (requests per second an instance serves) to see it.";
    return;
  }
  try {
    const q = await getJSON(`/api/v1/quality?since=${Date.now() / 1000 - state.range}`);
    if (!q.metrics) { $("quality").textContent = "Scaling quality: no history yet."; return; }
    const m = q.metrics;
    $("quality").textContent = `Scaling quality over the range (${fmt(q.capacity)} req/s an instance): ` +
      `under-provisioned ${fmt(m.tauU)} % of the time (θU ${fmt(m.thetaU)} %), over-provisioned ${fmt(m.tauO)} % (θO ${fmt(m.thetaO)} %), ` +
      `instability k ${fmt(m.instability)} % / k′ ${fmt(m.instabilityPrime)} %, ${fmt(q.instanceSeconds / 3600, 2)} instance-hours, ${q.actions} actions.`;
  } catch (error) {
    $("quality").textContent = `Scaling quality unavailable: ${error.message}`;
  }
}

async function refreshStatus() {
  try {
    const [status, instances] = await Promise.all([getJSON("/api/v1/status"), getJSON("/api/v1/instances")]);
    state.status = status;
    state.instances = instances.instances;
    drawStatus();
    drawMetricCharts();
    drawInstances();
  } catch (error) {
    $("summary").textContent = `scheduler unreachable: ${error.message}`;
  }
}

function trim() {
  const since = Date.now() / 1000 - state.range;
  while (state.samples.length && state.samples[0].time < since) state.samples.shift();
  while (state.events.length && state.events[0].time < since) state.events.shift();
}

function connect() {
  const stream = new EventSource("/api/v1/stream");
  stream.addEventListener("sample", (message) => {
    state.samples.push(JSON.parse(message.data));
    trim();
    drawCharts();
    refreshStatus();
  });
  stream.addEventListener("event", (message) => {
    state.events.push(JSON.parse(message.data));
    trim();
    drawEvents();
    drawCharts();
  });
  stream.onerror = () => { $("summary").textContent = "live stream interrupted; reconnecting…"; };
}

function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toFixed(digits).replace(/\.0+$/, "");
}

function drawStatus() {
  const s = state.status;
  if (!s) return;
  $("in-service").textContent = s.inService;
  $("pending").textContent = s.pending;
  // The warm pool, when there is one: held members of the pool's size, and those being prepared.
  $("warm-count").hidden = !(s.warmPool > 0 || s.warm > 0);
  $("warm").textContent = `${s.warm}/${s.warmPool}`;
  $("warm-label").textContent = s.warmPreparing > 0 ? `warm pool (${s.warmPreparing} preparing)` : "warm pool";
  $("desired").textContent = s.desired;
  $("rate").textContent = fmt(s.requestRate);
  $("load").textContent = fmt(s.loadPerInstance);
  $("load-unit").textContent = `req/VM/${fmt(s.windowSeconds, 0)}s`;
  const limits = s.target == null ? `up above ${fmt(s.scaleUpThreshold)}, down below ${fmt(s.scaleDownThreshold)}` : `target ${fmt(s.target)}`;
  const health = [s.balancerReachable ? null : "balancer unreachable", s.providerReachable ? null : "provider unreachable"].filter(Boolean);
  const scaling = s.metrics && s.metrics.length ? `scaling on ${s.policy.replace(/^metrics: /, "")}` : `${s.policy} policy (${limits})`;
  $("summary").textContent = `${s.provider} · ${scaling} · min ${s.minimum}, max ${s.maximum}` + (health.length ? ` · ${health.join(", ")}` : "");
  let decision = s.lastDecision ? `last decision: ${s.lastDecision}` : "";
  if (s.busy) decision += " · an action is running";
  $("decision").textContent = decision;
}

function age(date) {
  if (!date) return "–";
  const seconds = Math.max(0, (Date.now() - Date.parse(date)) / 1000);
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${fmt(seconds / 3600)} h`;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
}

function drawInstances() {
  const body = $("instances").querySelector("tbody");
  body.replaceChildren();
  // The host column only when instances run on several hosts.
  const hosts = state.instances.some((instance) => instance.host);
  $("host-column").hidden = !hosts;
  for (const instance of state.instances) {
    const row = document.createElement("tr");
    cell(row, instance.name);
    cell(row, instance.endpoint || "–");
    cell(row, instance.state);
    cell(row, instance.health.replaceAll("_", " "), `health-${instance.health}`);
    cell(row, String(instance.requestsTotal));
    cell(row, age(instance.createdAt));
    cell(row, instance.origin);
    if (hosts) cell(row, instance.host || "–");
    body.appendChild(row);
  }
}

function timeText(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
}

function drawEvents() {
  const list = $("events");
  list.replaceChildren();
  for (const event of state.events.slice().reverse().slice(0, 200)) {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = timeText(event.time);
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = event.kind.replaceAll("_", " ") + (event.instance ? ` ${event.instance}` : "");
    item.append(time, kind, document.createTextNode(event.reason));
    list.appendChild(item);
  }
}

const SVG = "http://www.w3.org/2000/svg";
function el(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent.appendChild(node);
  return node;
}

// One line chart: series [{values, color, label, step}], horizontal lines [{value, color, label}],
// and the scaling events as vertical markers whose tooltip is the reason.
function chart(svg, series, lines = []) {
  svg.replaceChildren();
  const width = svg.clientWidth || 400, height = svg.clientHeight || 170;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const left = 36, right = 8, top = 14, bottom = 18;
  // The axis spans the range, or less while there is less history (at least a minute).
  const now = Date.now() / 1000;
  const first = state.samples.length ? state.samples[0].time : now - state.range;
  const start = Math.max(now - state.range, Math.min(first, now - 60));
  let max = 1;
  for (const s of series) for (const [, v] of s.values) if (v !== null && v > max) max = v;
  for (const line of lines) if (line.value > max) max = line.value;
  max *= 1.1;
  const x = (t) => left + ((t - start) / (now - start)) * (width - left - right);
  const y = (v) => height - bottom - (v / max) * (height - top - bottom);
  el("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }, svg);
  el("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }, svg);
  el("text", { x: 2, y: top + 4, class: "tick" }, svg).textContent = fmt(max, max < 10 ? 1 : 0);
  el("text", { x: 2, y: height - bottom, class: "tick" }, svg).textContent = "0";
  el("text", { x: left, y: height - 4, class: "tick" }, svg).textContent = timeText(start);
  el("text", { x: width - right - 48, y: height - 4, class: "tick" }, svg).textContent = timeText(now);
  for (const line of lines) {
    el("line", { x1: left, x2: width - right, y1: y(line.value), y2: y(line.value), stroke: line.color, class: "threshold" }, svg);
    el("text", { x: width - right - 4, y: y(line.value) - 3, "text-anchor": "end", class: "tick" }, svg).textContent = line.label;
  }
  for (const event of state.events) {
    if (event.time < start) continue;
    const kind = event.kind === "scale_up" ? "up" : event.kind === "scale_down" ? "down" : event.kind === "replace" || event.kind === "failure" ? "other" : null;
    if (!kind) continue;
    const marker = el("line", { x1: x(event.time), x2: x(event.time), y1: top, y2: height - bottom, class: `marker ${kind}` }, svg);
    el("title", {}, marker).textContent = `${timeText(event.time)} ${event.kind.replaceAll("_", " ")}${event.instance ? " " + event.instance : ""}: ${event.reason}`;
  }
  let legendX = left + 4;
  for (const s of series) {
    const points = s.values.filter(([t, v]) => t >= start && v !== null);
    if (points.length) {
      let d = "";
      points.forEach(([t, v], index) => {
        if (index === 0) d += `M${x(t)},${y(v)}`;
        else d += s.step ? `H${x(t)}V${y(v)}` : `L${x(t)},${y(v)}`;
      });
      el("path", { d, stroke: s.color, class: "series" }, svg);
    }
    const label = el("text", { x: legendX, y: 10, fill: s.color, class: "legend" }, svg);
    label.textContent = s.label;
    legendX += 8 + s.label.length * 6;
  }
}

function drawCharts() {
  const samples = state.samples;
  const pick = (key) => samples.map((s) => [s.time, s[key] === undefined ? null : s[key]]);
  chart($("chart-rate"), [{ values: pick("requestRate"), color: "#1d232b", label: "req/s" }]);
  const lines = [];
  const s = state.status;
  if (s && s.policy === "threshold") {
    lines.push({ value: s.scaleUpThreshold, color: "#c2410c", label: `up > ${fmt(s.scaleUpThreshold)}` });
    lines.push({ value: s.scaleDownThreshold, color: "#1d4ed8", label: `down < ${fmt(s.scaleDownThreshold)}` });
  } else if (s && s.target) {
    lines.push({ value: s.target, color: "#15803d", label: `target ${fmt(s.target)}` });
  }
  chart($("chart-load"), [{ values: pick("loadPerInstance"), color: "#7c3aed", label: "load per VM" }], lines);
  chart($("chart-instances"), [
    { values: pick("inService"), color: "#15803d", label: "in service", step: true },
    { values: pick("pending"), color: "#b45309", label: "pending", step: true },
    { values: pick("desired"), color: "#1d232b", label: "desired", step: true },
  ]);
  chart($("chart-latency"), [
    { values: pick("p50Milliseconds"), color: "#0e7490", label: "p50" },
    { values: pick("p99Milliseconds"), color: "#b91c1c", label: "p99" },
  ]);
  drawMetricCharts();
}

// The scaling metrics (--metric): one chart each, its value per sample against its target (the
// SLO for latency). The figures are made when the status names the metrics, and again if they
// change (a reload).
const METRIC_SAMPLE_KEYS = {
  requests: "loadPerInstance", cpu: "cpuPercent", latency: "latencyMilliseconds", inflight: "inflightPerInstance", prometheus: "prometheusValue",
};
const METRIC_TITLES = {
  requests: "Requests per VM", cpu: "CPU of the in-service VMs", latency: "Balancer latency", inflight: "Requests in flight per VM",
  prometheus: "Prometheus query per VM",
};

function drawMetricCharts() {
  const metrics = (state.status && state.status.metrics) || [];
  const box = $("metric-charts");
  box.hidden = metrics.length === 0;
  const names = metrics.map((m) => m.metric).join(",");
  if (box.dataset.metrics !== names) {
    box.replaceChildren();
    for (const m of metrics) {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = `${METRIC_TITLES[m.metric] || m.metric} (${m.unit}) against its ${m.metric === "latency" ? "SLO" : "target"}`;
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.id = `chart-metric-${m.metric}`;
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", `${m.metric} against its target`);
      figure.append(caption, svg);
      box.append(figure);
    }
    box.dataset.metrics = names;
  }
  for (const m of metrics) {
    const key = METRIC_SAMPLE_KEYS[m.metric];
    const values = state.samples.map((sample) => [sample.time, sample[key] === undefined ? null : sample[key]]);
    const now = m.value === undefined || m.value === null ? (m.unreadable ? "no sample" : "–") : fmt(m.value);
    chart($(`chart-metric-${m.metric}`), [{ values, color: "#7c3aed", label: `${m.metric} ${now}` }],
      [{ value: m.target, color: "#15803d", label: `${m.metric === "latency" ? "SLO" : "target"} ${fmt(m.target)}` }]);
  }
}

async function scale(delta) {
  const message = $("action-message");
  message.className = "";
  message.textContent = "asking…";
  const send = (token) => fetch("/api/v1/scale", {
    method: "POST",
    headers: Object.assign({ "Content-Type": "application/json" }, token ? { Authorization: `Bearer ${token}` } : {}),
    body: JSON.stringify({ delta }),
  });
  try {
    // The scheduler puts its token in the page it serves (only to a loopback or configured Host:
    // a page from elsewhere can neither read this one nor rebind a name to it).
    const served = document.querySelector('meta[name="autoscaler-token"]');
    let response = await send(sessionStorage.getItem("autoscaler-token") || (served && served.content));
    if (response.status === 401) {
      const token = window.prompt("Token for manual scaling (kept for this browser session):");
      if (token === null) { message.textContent = "refused: a token is needed"; return; }
      sessionStorage.setItem("autoscaler-token", token);
      response = await send(token);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401) sessionStorage.removeItem("autoscaler-token");
      message.textContent = `refused: ${body.error || `HTTP ${response.status}`}`;
      return;
    }
    message.className = "ok";
    message.textContent = `moving to ${body.desired} instance${body.desired === 1 ? "" : "s"}`;
    refreshStatus();
  } catch (error) {
    message.textContent = `failed: ${error.message}`;
  }
}

$("scale-up").addEventListener("click", () => scale(1));
$("scale-down").addEventListener("click", () => scale(-1));
for (const button of document.querySelectorAll(".range button")) {
  button.addEventListener("click", () => {
    state.range = Number(button.dataset.range);
    for (const other of document.querySelectorAll(".range button")) other.setAttribute("aria-pressed", String(other === button));
    loadHistory().catch((error) => { $("summary").textContent = `history unavailable: ${error.message}`; });
  });
}
window.addEventListener("resize", drawCharts);

refreshStatus().then(loadHistory).catch((error) => { $("summary").textContent = `history unavailable: ${error.message}`; });
connect();
// Every 30 s: a report reads the range's whole history (a day is 86,400 samples).
setInterval(loadQuality, 30000);
