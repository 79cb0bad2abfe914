// What every console script shares: its settings read from the environment (set by the Rust
// test that runs it), and the system's headless Chromium (/usr/bin/chromium, or $CHROMIUM)
// started through playwright-core with a profile of its own.
import { chromium } from "playwright-core";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/// The environment variable `name`; a missing one stops the script.
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};

/// Chromium with a fresh profile (named after `name`) and `options` for its context;
/// returns the context and its first page. Steps wait `stepTimeout` ms at most.
export async function launch(name, options = {}, stepTimeout = 20000) {
  const userDataDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
    timeout: 60000,
    ...options,
  });
  context.setDefaultTimeout(stepTimeout);
  const page = context.pages()[0] || (await context.newPage());
  return { context, page };
}

/// Writes what the script saw (`result`, with `error` if a step failed) to `out` for the test
/// to check, closes the browser, and rethrows `error` so the script exits non-zero.
export async function finish(context, out, result, error) {
  if (error) result.error = String(error);
  writeFileSync(out, JSON.stringify(result, null, 2));
  await context.close();
  if (error) throw error;
}
