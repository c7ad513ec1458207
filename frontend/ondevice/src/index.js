// The Webcam page's on-device mode: this browser's camera, this browser's CPU (or GPU), no video sent
// anywhere. Every word shown comes from Python, already translated (args.text); this file holds none.
//
// One frame at a time: the loop takes the newest camera frame, crops the centre square the network
// reads, runs it and shows the top 3, then takes whatever frame is newest by then. Frames that arrive
// while the network runs are skipped, never queued, so the labels are never behind the picture.
// About once a second it reports its median milliseconds and frame rate to Python (one small rerun).

import { describeDevice } from "./device.js";
import { onnxMetadata } from "./onnxmeta.js";
import { createSession, hasWasmSimd, modelBytes, pickBackend } from "./runtime.js";
import { FrameStats, STEPS } from "./stats.js";
import { connect, followHeight, setValue } from "./streamlit.js";

const REPORT_EVERY_MS = 1000;
const $ = (selector) => document.querySelector(selector);
const ui = {
  view: $(".view"),
  camera: $(".camera"),
  video: $("video"),
  square: $(".square"),
  status: $(".status"),
  labels: $(".labels"),
  modelMs: $(".model-ms"),
  fps: $(".fps"),
  backend: $(".backend"),
  frames: $(".frames"),
  steps: $(".steps"),
  problem: $(".problem"),
  message: $(".problem .message"),
  buttons: $(".problem .buttons"),
  starting: $(".starting"),
};

const state = {
  args: null,
  text: {},
  sessionId: self.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`,
  seq: 0,
  camera: null, // "starting" | "on" | "failed"
  facing: null,
  model: null, // {id, session, ort, labels, resolution, backend, threads}
  loading: null, // the model id being loaded
  stats: new FrameStats(),
  lastReport: 0,
  problem: false, // or the key of the message shown instead of the camera
};
const canvas = document.createElement("canvas");
const context = canvas.getContext("2d", { willReadFrequently: true });
const stats = state.stats;
// For tests and benchmarks: what the loop measured, without parsing the words.
self.lwvizOndevice = { stats, state };

/** args.text[key] with its {fields} filled. */
function t(key, fields = {}) {
  const template = state.text[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in fields ? String(fields[name]) : whole));
}

function send(value) {
  setValue({ session_id: state.sessionId, seq: ++state.seq, ...value });
}

// ---- problems: a message and the modes that work without this one ----

// Problems with this device's camera: the server's camera modes would use the same camera.
const CAMERA_PROBLEMS = new Set(["no_camera_api", "camera_denied", "no_camera", "camera_busy", "camera_failed"]);

function showProblem(key, fields = {}) {
  state.problem = key;
  ui.view.hidden = true;
  ui.starting.hidden = true;
  ui.problem.hidden = false;
  ui.message.textContent = t(key, fields);
  const offer = (state.args.fallbacks || []).filter((f) => !(CAMERA_PROBLEMS.has(key) && f.camera));
  ui.buttons.replaceChildren(
    ...offer.map(({ mode, label }) => {
      const button = document.createElement("button");
      button.textContent = label;
      button.dataset.mode = mode;
      button.onclick = () => send({ action: "mode", mode });
      return button;
    }),
  );
}

function cameraProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "camera_denied";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return "no_camera";
  if (name === "NotReadableError" || name === "TrackStartError") return "camera_busy";
  return "camera_failed";
}

// ---- the camera ----

async function startCamera() {
  state.camera = "starting";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    state.camera = "failed";
    return showProblem("no_camera_api"); // plain HTTP from another machine: not a secure context
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: { ideal: "environment" } },
      audio: false,
    });
    state.facing = stream.getVideoTracks()[0]?.getSettings().facingMode || null;
    ui.video.srcObject = stream;
    await ui.video.play();
    state.camera = "on";
  } catch (error) {
    state.camera = "failed";
    showProblem(cameraProblem(error), { error: error && error.message ? error.message : String(error) });
  }
}

// ---- the model ----

async function loadModel(args) {
  const id = args.model_id;
  state.loading = id;
  ui.status.textContent = t("loading");
  try {
    const [bytes, downloaded] = await modelBytes(args.model_url, id, (done, total) => {
      if (state.loading === id)
        ui.status.textContent = t("downloading", { done: (done / 2 ** 20).toFixed(1), total: (total / 2 ** 20).toFixed(1) });
    });
    const meta = onnxMetadata(bytes);
    const labels = JSON.parse(meta.labels || "[]");
    const resolution = Number(meta.resolution);
    let backend = await pickBackend(Boolean(args.webgpu));
    let made;
    try {
      made = await createSession(bytes, backend);
    } catch (error) {
      if (backend === "wasm") throw error;
      backend = "wasm"; // a GPU the runtime cannot use: the CPU still can
      made = await createSession(bytes, backend);
    }
    if (state.loading !== id) return; // another network was chosen meanwhile
    state.model = { id, labels, resolution, backend, downloaded, ...made };
    stats.reset();
    state.lastReport = 0;
    ui.status.textContent = "";
    ui.labels.innerHTML = `<h4>${escape(t("waiting"))}</h4>`;
    ui.backend.textContent = t(backend === "webgpu" ? "webgpu" : "wasm", { threads: made.threads });
  } catch (error) {
    if (state.loading === id) showProblem("load_failed", { error: error && error.message ? error.message : String(error) });
  } finally {
    if (state.loading === id) state.loading = null;
  }
}

// ---- the frame loop: newest frame wins, one inference in flight ----

let presented = 0; // camera frames shown so far
let waiting = null;
function watchFrames() {
  const tick = (count) => {
    presented = Math.max(presented + 1, count || 0);
    if (waiting) waiting(), (waiting = null);
  };
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    // presentedFrames counts every frame shown, also those shown while this page's thread was busy.
    const onFrame = (now, meta) => (tick(meta.presentedFrames), ui.video.requestVideoFrameCallback(onFrame));
    ui.video.requestVideoFrameCallback(onFrame);
  } else {
    let lastTime = -1; // no frame callbacks (older Firefox): a new frame is a new currentTime
    const onAnimation = () => {
      if (ui.video.currentTime !== lastTime) (lastTime = ui.video.currentTime), tick();
      requestAnimationFrame(onAnimation);
    };
    requestAnimationFrame(onAnimation);
  }
}

const nextFrame = (after) => (presented > after ? Promise.resolve() : new Promise((resolve) => (waiting = resolve)));

/** The centre square the network reads, as a share of the frame's shorter side (the server's crop). */
function square(video) {
  const w = video.videoWidth, h = video.videoHeight, side = Math.min(w, h) * (state.args.crop_share || 1);
  return { x: (w - side) / 2, y: (h - side) / 2, side, w, h };
}

async function classify(model) {
  const r = model.resolution, video = ui.video;
  const times = {};
  let t0 = performance.now();
  if (canvas.width !== r) canvas.width = canvas.height = r;
  const { x, y, side } = square(video);
  context.drawImage(video, x, y, side, side, 0, 0, r, r);
  let t1 = performance.now();
  times.resize = t1 - t0;
  const rgba = context.getImageData(0, 0, r, r).data;
  t0 = performance.now();
  times.pixels = t0 - t1;
  const plane = r * r, input = new Float32Array(3 * plane);
  for (let i = 0, p = 0; p < plane; i += 4, p++) {
    input[p] = rgba[i] / 255;
    input[p + plane] = rgba[i + 1] / 255;
    input[p + 2 * plane] = rgba[i + 2] / 255;
  }
  const tensor = new model.ort.Tensor("float32", input, [1, 3, r, r]);
  t1 = performance.now();
  times.tensor = t1 - t0;
  const outputs = await model.session.run({ image: tensor });
  const probs = outputs.probs.data;
  t0 = performance.now();
  times.model = t0 - t1;
  showTop(model, probs);
  tensor.dispose?.();
  outputs.probs.dispose?.();
  t1 = performance.now();
  times.draw = t1 - t0;
  return times;
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const percent = (p) => `${Math.round(p * 100)}%`;

function showTop(model, probs) {
  const top = [];
  for (let i = 0; i < probs.length; i++) {
    if (top.length < 3 || probs[i] > probs[top[top.length - 1]]) {
      top.push(i);
      top.sort((a, b) => probs[b] - probs[a]);
      if (top.length > 3) top.pop();
    }
  }
  const name = (i) => escape(model.labels[i] ?? `#${i}`);
  const [first, ...rest] = top;
  ui.labels.innerHTML =
    (state.args.trained ? "" : `<p class="untrained"><b>${escape(t("untrained"))}</b></p>`) +
    `<h2>${name(first)}: ${percent(probs[first])}</h2>` +
    rest.map((i) => `<h3>${name(i)}: ${percent(probs[i])}</h3>`).join("");
}

function showStats(now) {
  const m = stats.medians(), fps = stats.fps(now);
  ui.modelMs.textContent = m.model == null ? "–" : t("ms", { ms: m.model.toFixed(0) });
  ui.fps.textContent = t("fps", { fps: fps.toFixed(1) });
  ui.frames.textContent = t("frames", { frames: stats.frames, skipped: stats.skipped });
  if (m.model != null)
    ui.steps.textContent = t("steps", Object.fromEntries(STEPS.map((s) => [s, m[s].toFixed(1)])));
  return { m, fps };
}

function report(now, measured) {
  if (now - state.lastReport < REPORT_EVERY_MS || measured.m.model == null) return;
  state.lastReport = now;
  send({
    report: {
      model_id: state.model.id,
      device: describeDevice(state.model.backend),
      model_ms: Number(measured.m.model.toFixed(2)),
      fps: Number(measured.fps.toFixed(2)),
      frames: stats.frames,
    },
  });
}

async function loop() {
  watchFrames();
  let seen = 0;
  for (;;) {
    await nextFrame(seen);
    const model = state.model;
    if (!model || state.args.paused || state.problem || !ui.video.videoWidth) {
      seen = presented;
      continue;
    }
    if (seen) stats.skipped += Math.max(0, presented - seen - 1);
    seen = presented;
    let times;
    try {
      times = await classify(model);
    } catch (error) {
      showProblem("run_failed", { error: error && error.message ? error.message : String(error) });
      continue;
    }
    if (model !== state.model) continue; // a new network arrived during this frame
    const now = performance.now();
    stats.add(times, now);
    report(now, showStats(now));
  }
}

// ---- what Python says, every rerun ----

function placeSquare() {
  const video = ui.video;
  if (!video.videoWidth) return;
  const { x, y, side, w, h } = square(video);
  Object.assign(ui.square.style, {
    left: `${(x / w) * 100}%`,
    top: `${(y / h) * 100}%`,
    width: `${(side / w) * 100}%`,
    height: `${(side / h) * 100}%`,
  });
}

function applyTheme(theme) {
  if (!theme) return;
  const root = document.documentElement.style;
  if (theme.textColor) root.setProperty("--text", theme.textColor);
  if (theme.primaryColor) root.setProperty("--accent", theme.primaryColor);
  if (theme.base === "dark") root.setProperty("--muted", "rgba(250, 250, 250, 0.6)");
}

function render(args, theme) {
  const first = state.args === null;
  state.args = args;
  state.text = args.text || {};
  applyTheme(theme);
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
  ui.camera.classList.toggle("mirror", Boolean(args.mirror) && state.facing !== "environment");
  if (args.paused) ui.video.pause();
  else if (state.camera === "on" && ui.video.paused) ui.video.play().catch(() => {});
  placeSquare();
  if (!first) {
    if (args.model_id === state.model?.id || args.model_id === state.loading) return;
    if (state.problem === "load_failed" || state.problem === "run_failed") {
      // Another network may load and run where this one did not: try it.
      state.problem = false;
      ui.problem.hidden = true;
      ui.view.hidden = state.camera !== "on";
    }
    if (!state.problem) loadModel(args);
    return;
  }
  ui.starting.textContent = t("starting");
  if (!hasWasmSimd()) return showProblem("no_simd");
  startCamera().then(() => {
    if (state.camera !== "on") return;
    ui.starting.hidden = true;
    ui.view.hidden = false;
    placeSquare();
  });
  ui.video.addEventListener("loadedmetadata", placeSquare);
  ui.video.addEventListener("resize", placeSquare);
  loadModel(args);
  loop();
}

followHeight(document.getElementById("root"));
connect(render);
