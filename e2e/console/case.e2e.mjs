// The supervisor's part of a whole penalty case (行政处罚, issue 19) in headless Chromium,
// started by the app's end-to-end test (src-tauri/tests/e2e.rs,
// `a_whole_penalty_case_from_a_failed_item_to_closing`) between the inspector's steps on
// the tablet. One phase per run (PHASE):
// - approve: sign in as the unit's supervisor, find the case of $ENTERPRISE in 行政处罚案件,
//   approve its filing (立案审批); writes the case's id and its stage.
// - decide: on $CASE_ID's page, the video is listed with a player; a range of it is read as
//   the player seeks (206, the bytes at $PROBE_AT are $PROBE_HEX); the decision (处罚决定) is
//   made with the proposed fine; the decision is published (公示).
// - close: 结案审批, then the case file exported and followed to its download link; writes
//   the link, the key shown and the session cookie (the test downloads the file itself).
// Every page's visible text is kept in $E2E_OUT beside what the test checks, to read a
// failure by. Throws (exits non-zero) on the first failed step, with what it saw so far.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { env, finish, launch } from "./browser.mjs";

const BASE = env("CONSOLE_URL");
const PASSWORD = env("PASSWORD");
const OUT = env("E2E_OUT");
const PHASE = env("PHASE");
const SHOTS = process.env.SCREENSHOTS;

// The server's certificate is from the test's own CA (the app is told to trust it).
const { context, page } = await launch("case-e2e", { ignoreHTTPSErrors: true }, 30000);
const result = { texts: [] };
const check = (cond, message) => {
  if (!cond) throw new Error(message);
};
async function keepText(name) {
  result.texts.push({ page: name, url: page.url(), text: await page.evaluate(() => document.body.innerText) });
}
async function shot(name) {
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `console-case-${name}.png`), fullPage: true });
  }
}
// Submits `form` and waits for the page the console answers; a refusal (the page again with
// its reason) fails the step with the reason.
async function submit(form) {
  await Promise.all([page.waitForEvent("load"), page.locator(`${form} button[type=submit]`).click()]);
  const refused = page.locator("p.error[role=alert]");
  if ((await refused.count()) > 0) throw new Error(`refused: ${await refused.innerText()}`);
}
const stage = async () => (await page.locator("#stage").innerText()).trim();

try {
  await page.goto(`${BASE}/console/login`);
  await page.fill("input[name=user]", "u-zhao");
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);

  if (PHASE === "approve") {
    await page.goto(`${BASE}/console/cases`);
    const enterprise = env("ENTERPRISE");
    const row = page.locator("tr[data-case]", { hasText: enterprise }).first();
    result.caseId = await row.getAttribute("data-case");
    check(result.caseId, `no case of ${enterprise} in the list`);
    result.listed = await row.innerText();
    await keepText("cases");
    await page.goto(`${BASE}/console/cases/${encodeURIComponent(result.caseId)}`);
    result.stageBefore = await stage();
    await submit("form:has(input[name=action][value=approve_filing])");
    result.saved = await page.locator("p.notice").innerText();
    result.stage = await stage();
    await keepText("case-approved");
  } else if (PHASE === "decide") {
    const id = env("CASE_ID");
    await page.goto(`${BASE}/console/cases/${encodeURIComponent(id)}`);
    result.stageBefore = await stage();
    // The recording: a player, and its bytes by range as the player reads them when seeking.
    const video = page.locator("#media video");
    check((await video.count()) === 1, "the video is listed with a player");
    const src = await video.getAttribute("src");
    const at = Number(env("PROBE_AT"));
    const want = env("PROBE_HEX");
    const part = await page.request.get(`${BASE}${src}`, {
      headers: { Range: `bytes=${at}-${at + want.length / 2 - 1}` },
    });
    result.rangeStatus = part.status();
    result.contentRange = part.headers()["content-range"];
    result.rangeHex = Buffer.from(await part.body()).toString("hex");
    result.media = await page.locator("#media").innerText();
    await keepText("case-evidence");
    await shot("evidence");
    // The decision, with the fine the inspectors proposed (the form starts with it).
    result.fine = await page.locator("form:has(input[name=action][value=decide]) input[name=fine]").inputValue();
    await submit("form:has(input[name=action][value=decide])");
    result.decided = await page.locator("p.notice").innerText();
    result.stageDecided = await stage();
    // 公示: today, on the unit's website.
    await submit("#publish");
    result.published = await page.locator("#published").innerText();
    result.stage = await stage();
    await keepText("case-decided");
  } else if (PHASE === "close") {
    const id = env("CASE_ID");
    await page.goto(`${BASE}/console/cases/${encodeURIComponent(id)}`);
    result.stageBefore = await stage();
    await submit("form:has(input[name=action][value=close])");
    result.closed = await page.locator("p.notice").innerText();
    result.stage = await stage();
    result.documents = await page.locator("#documents").innerText();
    await keepText("case-closed");
    await shot("closed");
    // The case file: exported by the server, its progress page followed (it refreshes
    // itself) until the download is offered.
    await submit("#case-casefile");
    await page.waitForSelector("#casefile-job[data-state=done], #casefile-job[data-state=failed]", {
      timeout: 600000,
    });
    result.jobState = await page.locator("#casefile-job").getAttribute("data-state");
    check(result.jobState === "done", `the export failed: ${await page.locator("#casefile-job").innerText()}`);
    result.download = await page.locator("#casefile-download").getAttribute("href");
    result.key = (await page.locator("#casefile-key").innerText()).trim();
    result.caseLink = await page.locator("#casefile-case").innerText();
    await keepText("casefile-job");
    const cookies = await context.cookies();
    result.cookie = cookies
      .filter((c) => c.name === "console_session")
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  } else {
    throw new Error(`unknown PHASE ${PHASE}`);
  }
} catch (e) {
  await finish(context, OUT, result, e);
}
await finish(context, OUT, result);
