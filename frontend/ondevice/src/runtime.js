// onnxruntime-web, loaded from the files that ship beside this script, and the model file, kept in the
// browser's Cache Storage so a student downloads each network once, not on every visit.

const HERE = new URL("./", import.meta.url);
const MODEL_CACHE = "lwviz-ondevice-models";
const KEEP_MODELS = 6; // a class tries a few networks; older ones make room

// The smallest module with SIMD instructions: WebAssembly.validate says whether this browser has SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export const hasWasmSimd = () => typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);

/**
 * "webgpu" when the browser gives us a hardware WebGPU adapter and its runtime ships here, else "wasm".
 * A fallback adapter is a GPU emulated on the CPU (SwiftShader): measured here 7.4 s a frame for Lite0,
 * against about 60 ms with WebAssembly.
 */
export async function pickBackend(webgpuShipped) {
  if (!webgpuShipped || !navigator.gpu) return "wasm";
  try {
    const adapter = await navigator.gpu.requestAdapter();
    const fallback = adapter && (adapter.isFallbackAdapter || (adapter.info && adapter.info.isFallbackAdapter));
    return adapter && !fallback ? "webgpu" : "wasm";
  } catch {
    return "wasm";
  }
}

// Each backend's onnxruntime-web build: its JavaScript (with the WebAssembly glue inside) and its .wasm.
const RUNTIME_FILES = {
  wasm: ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"],
  webgpu: ["ort.webgpu.bundle.min.mjs", "ort-wasm-simd-threaded.asyncify.wasm"],
};
const runtimes = {};
// Inference in onnxruntime's worker: the page's own thread (the video, the app's controls) stays free.
// Measured here no slower than on the page's thread (see docs/BENCHMARKS.md).
const PROXY = true;

/** The onnxruntime-web build for `backend`: WebAssembly on the CPU (SIMD), or WebGPU (its own build). */
async function runtime(backend) {
  if (!runtimes[backend]) {
    const [script, wasm] = RUNTIME_FILES[backend];
    runtimes[backend] = import(new URL(script, HERE).href).then((ort) => {
      // Never a CDN: the .wasm ships beside this file (the bundle holds its own .mjs glue).
      ort.env.wasm.wasmPaths = { wasm: new URL(wasm, HERE).href };
      // Threads need SharedArrayBuffer, which browsers give only to cross-origin-isolated pages.
      ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      ort.env.wasm.proxy = PROXY;
      ort.env.logLevel = "error";
      return ort;
    });
  }
  return runtimes[backend];
}

/** An inference session for the model's bytes on `backend`. */
export async function createSession(bytes, backend) {
  const ort = await runtime(backend);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [backend],
    graphOptimizationLevel: "all",
  });
  return { ort, session, threads: ort.env.wasm.numThreads };
}

async function openCache() {
  try {
    return self.caches ? await caches.open(MODEL_CACHE) : null;
  } catch {
    return null; // private windows may refuse storage: download every time
  }
}

/**
 * The model file's bytes: from Cache Storage when this browser has it, else downloaded from `url` (with
 * `progress(done, total)`) and kept. `modelId` names its content, so a cached copy is never stale.
 * Returns [bytes, downloaded byte count].
 */
export async function modelBytes(url, modelId, progress) {
  const cache = await openCache();
  const key = new URL(`models/${encodeURIComponent(modelId)}.onnx`, HERE).href;
  const cached = cache && (await cache.match(key));
  if (cached) return [await cached.arrayBuffer(), 0];
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length")) || 0;
  const chunks = [];
  let done = 0;
  for (const reader = response.body.getReader(); ; ) {
    const { value, done: end } = await reader.read();
    if (end) break;
    chunks.push(value);
    done += value.length;
    progress(done, total);
  }
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const chunk of chunks) bytes.set(chunk, (at += chunk.length) - chunk.length);
  if (cache) {
    try {
      await cache.put(key, new Response(bytes, { headers: { "content-type": "application/octet-stream" } }));
      const keys = await cache.keys();
      for (const old of keys.slice(0, Math.max(0, keys.length - KEEP_MODELS))) await cache.delete(old);
    } catch {
      // a full disk or a quota: run from memory
    }
  }
  return [bytes.buffer, done];
}
