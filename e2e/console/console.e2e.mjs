// Drives the supervisors' console in headless Chromium (the system's /usr/bin/chromium through
// playwright-core). Started by sync-server/tests/console_e2e.rs, which runs the real server
// and a simulated tablet, passes what it set up in environment variables, and checks the JSON
// this script writes to $E2E_OUT. Every step fails loudly (a thrown error exits non-zero).
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { env, launch } from "./browser.mjs";

const BASE = env("CONSOLE_URL");
const RECORD = env("RECORD_ID");
const RECORD2 = env("RECORD2_ID");
const PHOTO = env("PHOTO_SHA");
const PASSWORD = env("PASSWORD");
const SHOTS = env("SCREENSHOTS");
const OUT = env("E2E_OUT");
const COMMENT = "请补充现场照片 <script>alert(1)</script>";
const ITEM_COMMENT = "该项照片与现场不符，请重新拍摄";
const SEED = "2026-11-23 福彩3D 517";

mkdirSync(SHOTS, { recursive: true });
const { context, page } = await launch("console-e2e");
const result = {};
const check = (cond, message) => {
  if (!cond) throw new Error(message);
};
// The visible text of every page visited in the Chinese UI, for the test's check that no
// internal identifier, JSON path or English error reaches a person.
result.texts = [];
async function keepText(name) {
  result.texts.push({ page: name, url: page.url(), text: await page.evaluate(() => document.body.innerText) });
}
// A screenshot at 1280×800 and at 800×1280 (the viewport restored afterwards).
async function shots(name) {
  for (const [w, h] of [[1280, 800], [800, 1280]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: join(SHOTS, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

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
  result.listBadges = await row.locator("[data-badge]").evaluateAll((els) => els.map((e) => e.dataset.badge));
  result.listBadgeTitle = await row.locator("[data-badge=photo-time]").first().getAttribute("title");
  await keepText("records");
  await shots("console-records");
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.screenshot({ path: join(SHOTS, "console-records-1920.png") });
  result.tableWidth1920 = await page.locator("table#records").evaluate((t) => t.getBoundingClientRect().width);
  await page.setViewportSize({ width: 1280, height: 900 });
  await Promise.all([page.waitForLoadState("load"), row.locator("a").first().click()]);
  check(page.url().includes(`/console/records/${RECORD}`), `record page: ${page.url()}`);
  result.statusBefore = await page.getAttribute("#status", "data-status");
  await page.screenshot({ path: join(SHOTS, "console-record.png"), fullPage: true });
  await shots("console-record");
  await keepText("record");
  result.recordBadges = await page.locator("#flags [data-badge]").evaluateAll((els) => els.map((e) => e.dataset.badge));
  result.photoTimeText = (await page.locator("#flags [data-badge=photo-time] p").textContent()).trim();
  // Every document of the record, as a PDF download.
  const links = page.locator("#documents a.document");
  result.documentCount = await links.count();
  const href = await links.first().getAttribute("href");
  const pdf = await page.request.get(`${BASE}${href}`);
  result.documentStatus = pdf.status();
  result.documentType = pdf.headers()["content-type"];
  result.documentMagic = (await pdf.body()).subarray(0, 5).toString("latin1");

  // 2. Open a photo full size and see its hash check.
  await Promise.all([page.waitForLoadState("load"), page.locator("#checklist a.photo").first().click()]);
  result.photoSha = (await page.textContent("#sha256")).trim();
  result.photoCheck = await page.getAttribute("#hash-check", "data-check");
  result.photoCamera = (await page.textContent("#camera")).trim();
  result.photoTakenAt = (await page.textContent("#taken-at")).trim();
  result.photoPosition = (await page.textContent("#position")).trim();
  await keepText("photo");
  const img = page.locator("#original");
  await img.waitFor();
  // The image may still be loading when the page's load event has already been seen (the
  // click's navigation can resolve the wait for the page before it): wait for the image itself.
  result.photoWidth = await img.evaluate((el) =>
    el.complete && el.naturalWidth > 0
      ? el.naturalWidth
      : new Promise((done) => {
          el.addEventListener("load", () => done(el.naturalWidth), { once: true });
          el.addEventListener("error", () => done(0), { once: true });
        }),
  );
  await page.screenshot({ path: join(SHOTS, "console-photo.png"), fullPage: true });
  check(result.photoSha === PHOTO, `photo page shows ${result.photoSha}`);

  // 3. Review from the queue: the record by its row, a return without comment refused in
  // place, then returned with a comment on an item; "下一条" opens the next (record 2),
  // which is approved; the next after that is the empty queue.
  await page.goto(`${BASE}/console/queue`);
  await keepText("queue");
  await shots("console-queue");
  result.queueRows = await page.locator("#queue tbody tr[data-record]").evaluateAll((trs) => trs.map((tr) => tr.dataset.record));
  await Promise.all([page.waitForLoadState("load"), page.locator(`#queue tr[data-record="${RECORD}"] a`).first().click()]);
  const reviewTop = await page.locator("#review-form").evaluate((f) => f.getBoundingClientRect().top);
  result.reviewFormTop = reviewTop;
  await Promise.all([page.waitForLoadState("load"), page.click("#review-form button[value=return]")]);
  result.refusalText = (await page.textContent("#review-error")).trim();
  result.refusalStatusStill = await page.getAttribute("#status", "data-status");
  await keepText("refusal");
  await shots("console-return-refused");
  const itemInput = page.locator("#failed-items input[type=text]").first();
  result.commentedItem = (await itemInput.getAttribute("name")).replace(/^item:/, "");
  await itemInput.fill(ITEM_COMMENT);
  await page.fill("#review-form textarea[name=comment]", COMMENT);
  await Promise.all([page.waitForLoadState("load"), page.click("#review-form button[value=return]")]);
  result.statusAfter = await page.getAttribute("#status", "data-status");
  result.reviewComment = (await page.textContent("#review-comment")).trim();
  result.reviewItems = (await page.textContent("#review-items")).trim();
  result.comment = COMMENT;
  result.itemComment = ITEM_COMMENT;
  await keepText("returned");
  await shots("console-returned");
  await Promise.all([page.waitForLoadState("load"), page.click("#next-record")]);
  result.nextUrl = page.url();
  await keepText("next");
  await Promise.all([page.waitForLoadState("load"), page.click("#review-form button[value=approve]")]);
  result.record2Status = await page.getAttribute("#status", "data-status");
  await Promise.all([page.waitForLoadState("load"), page.click("#next-record")]);
  result.afterLastUrl = page.url();
  result.emptyQueueText = (await page.textContent("#queue tbody")).trim();
  await keepText("empty-queue");

  // 4. The other main pages.
  await page.goto(`${BASE}/console/hazards`);
  result.ledgerHasRecord = (await page.locator(`#ledger a[href="/console/records/${RECORD}"]`).count()) > 0;
  await page.screenshot({ path: join(SHOTS, "console-hazards.png"), fullPage: true });
  await keepText("hazards");
  await page.goto(`${BASE}/console/figures?unit=xw&from=2026-01-01&to=2026-12-31`);
  await page.screenshot({ path: join(SHOTS, "console-figures.png"), fullPage: true });
  await keepText("figures");

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
  await keepText("draw");
  result.draw2 = await runDraw();
  result.draw2AlreadySealed = (await page.locator("#already-sealed").count()) === 1;
  await page.goto(`${BASE}/console/draws/${result.sealed.drawId}`);
  await Promise.all([page.waitForLoadState("load"), page.click("#rerun")]);
  result.rerun = await readDraw();
  result.rerunSame = await page.getAttribute("#rerun-verdict", "data-same");
  await page.goto(`${BASE}/console/publication`);
  await page.screenshot({ path: join(SHOTS, "console-publication.png"), fullPage: true });
  await keepText("publication");

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
