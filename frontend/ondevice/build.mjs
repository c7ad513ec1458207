// Builds the on-device component into lwviz/ui/ondevice/static/, the files the Python package ships:
// our code bundled by esbuild, and onnxruntime-web's WebAssembly runtime copied as npm ships it.
//
//   npm ci && npm run build
//
// WEBGPU=0 npm run build leaves out the WebGPU runtime (its .wasm alone is about 26 MB).

import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "lwviz", "ui", "ondevice", "static");
const ort = join(here, "node_modules", "onnxruntime-web");
const webgpu = process.env.WEBGPU !== "0";
const runtime = [
  "ort.wasm.bundle.min.mjs", // onnxruntime-web's JavaScript for the WebAssembly CPU backend
  "ort-wasm-simd-threaded.wasm", // ... and its WebAssembly (SIMD; threads where the page is cross-origin isolated)
  ...(webgpu ? ["ort.webgpu.bundle.min.mjs", "ort-wasm-simd-threaded.asyncify.wasm"] : []),
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "index.js")],
  outfile: join(out, "ondevice.js"),
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "none",
});
for (const file of ["index.html", "ondevice.css"]) copyFileSync(join(here, "src", file), join(out, file));
for (const file of runtime) copyFileSync(join(ort, "dist", file), join(out, file));

// What was built from what: Python reads it (is WebGPU here?) and a test checks the files are intact.
const { version, license } = JSON.parse(readFileSync(join(ort, "package.json"), "utf8"));
const files = {};
for (const file of readdirSync(out).sort()) {
  files[file] = { bytes: statSync(join(out, file)).size, sha256: createHash("sha256").update(readFileSync(join(out, file))).digest("hex") };
}
writeFileSync(join(out, "build.json"), JSON.stringify({ "onnxruntime-web": version, license, webgpu, files }, null, 1) + "\n");
const total = Object.values(files).reduce((sum, f) => sum + f.bytes, 0);
console.log(`built ${Object.keys(files).length} files, ${(total / 2 ** 20).toFixed(1)} MiB, into lwviz/ui/ondevice/static`);
