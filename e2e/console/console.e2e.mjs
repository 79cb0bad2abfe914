// Drives the supervisors' console in headless Chromium (the system's /usr/bin/chromium through
// playwright-core). Started by sync-server/tests/console_e2e.rs, which runs the real server
// and a simulated tablet, passes what it set up in environment variables, and checks the JSON
// this script writes to $E2E_OUT. Every step fails loudly (a thrown error exits non-zero).
import { chromium } from "playwright-core";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};
const BASE = env("CONSOLE_URL");
const RECORD = env("RECORD_ID");
const PHOTO = env("PHOTO_SHA");
const PASSWORD = env("PASSWORD");
const SHOTS = env("SCREENSHOTS");
const OUT = env("E2E_OUT");
const COMMENT = "请补充现场照片 <script>alert(1)</script>";
const SEED = "2026-11-23 福彩3D 517";

mkdirSync(SHOTS, { recursive: true });
const userDataDir = mkdtempSync(join(tmpdir(), "console-e2e-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
  timeout: 60000,
});
context.setDefaultTimeout(20000);
const page = context.pages()[0] || (await context.newPage());
const result = {};
const check = (cond, message) => {
  if (!cond) throw new Error(message);
};

async function signIn(user) {
  await page.goto(`${BASE}/console/login`);
  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
}

try {
  // 1. Sign in and find the record the tablet synced, through the list's filters.
  await signIn("u-zhao");
  check(page.url().endsWith("/console/records"), `after sign-in: ${page.url()}`);
  await page.selectOption("select[name=status]", "submitted");
  await Promise.all([page.waitForLoadState("load"), page.click("form.filters button[type=submit]")]);
  const row = page.locator(`tr[data-record="${RECORD}"]`);
  await row.waitFor();
  await page.screenshot({ path: join(SHOTS, "console-records.png"), fullPage: true });
  await Promise.all([page.waitForLoadState("load"), row.locator("a").first().click()]);
  check(page.url().includes(`/console/records/${RECORD}`), `record page: ${page.url()}`);
  result.statusBefore = await page.getAttribute("#status", "data-status");
  await page.screenshot({ path: join(SHOTS, "console-record.png"), fullPage: true });

  // 2. Open a photo full size and see its hash check.
  await Promise.all([page.waitForLoadState("load"), page.locator("#checklist a.photo").first().click()]);
  result.photoSha = (await page.textContent("#sha256")).trim();
  result.photoCheck = await page.getAttribute("#hash-check", "data-check");
  result.photoCamera = (await page.textContent("#camera")).trim();
  result.photoTakenAt = (await page.textContent("#taken-at")).trim();
  result.photoPosition = (await page.textContent("#position")).trim();
  const img = page.locator("#original");
  await img.waitFor();
  result.photoWidth = await img.evaluate((el) => el.naturalWidth);
  await page.screenshot({ path: join(SHOTS, "console-photo.png"), fullPage: true });
  check(result.photoSha === PHOTO, `photo page shows ${result.photoSha}`);

  // 3. Return the record with a comment.
  await page.goto(`${BASE}/console/records/${RECORD}`);
  await page.fill("#review-form textarea[name=comment]", COMMENT);
  await Promise.all([page.waitForLoadState("load"), page.click("#review-form button[value=return]")]);
  result.statusAfter = await page.getAttribute("#status", "data-status");
  result.reviewComment = (await page.textContent("#review-comment")).trim();
  result.comment = COMMENT;

  // 4. The other main pages.
  await page.goto(`${BASE}/console/hazards`);
  result.ledgerHasRecord = (await page.locator(`#ledger a[href="/console/records/${RECORD}"]`).count()) > 0;
  await page.screenshot({ path: join(SHOTS, "console-hazards.png"), fullPage: true });
  await page.goto(`${BASE}/console/figures?unit=xw&from=2026-01-01&to=2026-12-31`);
  await page.screenshot({ path: join(SHOTS, "console-figures.png"), fullPage: true });

  // 5. A draw, sealed; the same seed again; and a re-run from the recorded input.
  async function runDraw() {
    await page.goto(`${BASE}/console/draws`);
    await page.selectOption("#draw-form select[name=unit]", "xw");
    await page.fill("#draw-form input[name=targets]", "2");
    await page.fill("#draw-form input[name=per_target]", "2");
    await page.fill("#draw-form input[name=seed]", SEED);
    await page.fill("#draw-form input[name=due]", "2026-12-31");
    await Promise.all([page.waitForLoadState("load"), page.click("#draw-form button[type=submit]")]);
    return readDraw();
  }
  async function readDraw() {
    const rows = await page.locator("#draw-result tbody tr").evaluateAll((trs) =>
      trs.map((tr) => ({
        enterprise: tr.dataset.enterprise,
        inspectors: tr.dataset.inspectors,
        plan: tr.querySelector(".plan-id").textContent.trim(),
      })),
    );
    return { seed: (await page.textContent("#seed")).trim(), drawId: (await page.textContent("#draw-id")).trim(), rows };
  }
  result.draw1 = await runDraw();
  await page.screenshot({ path: join(SHOTS, "console-draw-result.png"), fullPage: true });
  await Promise.all([page.waitForLoadState("load"), page.click("#seal-form button[type=submit]")]);
  result.sealed = await readDraw();
  await page.screenshot({ path: join(SHOTS, "console-draw.png"), fullPage: true });
  result.draw2 = await runDraw();
  result.draw2AlreadySealed = (await page.locator("#already-sealed").count()) === 1;
  await page.goto(`${BASE}/console/draws/${result.sealed.drawId}`);
  await Promise.all([page.waitForLoadState("load"), page.click("#rerun")]);
  result.rerun = await readDraw();
  result.rerunSame = await page.getAttribute("#rerun-verdict", "data-same");
  await page.goto(`${BASE}/console/publication`);
  await page.screenshot({ path: join(SHOTS, "console-publication.png"), fullPage: true });

  // 6. A supervisor of the sibling county: not in the list, and 404 when editing the URL.
  await context.clearCookies();
  await signIn("u-sun");
  check(page.url().endsWith("/console/records"), `u-sun after sign-in: ${page.url()}`);
  result.siblingListHasRecord = (await page.locator(`tr[data-record="${RECORD}"]`).count()) > 0;
  const resp = await page.goto(`${BASE}/console/records/${RECORD}`);
  result.siblingRecordStatus = resp.status();
  result.siblingPhotoStatus = (await page.goto(`${BASE}/console/photos/${PHOTO}`)).status();
  result.siblingDrawStatus = (await page.goto(`${BASE}/console/draws/${result.sealed.drawId}`)).status();
} finally {
  writeFileSync(OUT, JSON.stringify(result, null, 2));
  await context.close();
}
