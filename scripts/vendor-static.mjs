// Copies the pinned front-end libraries from node_modules/ into static/vendor/<name>-<version>/
// and writes static/vendor/manifest.json, which the {% vendor %} template tag reads. Run by
// `make static`, .ci/run and the Dockerfile after `npm ci`; static/vendor/ is never committed.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "static", "vendor");

// name in package.json -> [files or folders to copy, relative to the package]
const libraries = {
  bootstrap: [
    "dist/css/bootstrap.min.css",
    "dist/css/bootstrap.min.css.map",
    "dist/js/bootstrap.bundle.min.js",
    "dist/js/bootstrap.bundle.min.js.map",
  ],
  "bootstrap-icons": ["font/bootstrap-icons.min.css", "font/fonts"],
  "chart.js": ["dist/chart.umd.min.js", "dist/chart.umd.min.js.map"],
  "htmx.org": ["dist/htmx.min.js"],
};

rmSync(target, { recursive: true, force: true });
const manifest = {};
for (const [name, files] of Object.entries(libraries)) {
  const packageDir = join(root, "node_modules", name);
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const folder = `${name}-${version}`;
  for (const file of files) {
    const destination = join(target, folder, file.split("/").pop());
    mkdirSync(dirname(destination), { recursive: true });
    cpSync(join(packageDir, file), destination, { recursive: true });
  }
  manifest[name] = `vendor/${folder}`;
}
writeFileSync(join(target, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`static/vendor: ${Object.values(manifest).join(", ")}`);
