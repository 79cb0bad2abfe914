// The 检查表 pages in headless Chromium (started by sync-server/tests/console_e2e.rs,
// `a_supervisor_changes_a_wording_in_a_spreadsheet_and_the_tablet_gets_the_new_version`).
// PHASE=download: sign in as a supervisor, open 检查表, download the newest gongmao as XLSX
// to $DOWNLOAD. PHASE=upload: upload $BAD (expects the table of bad rows, nothing imported),
// then $GOOD (expects the new version). Writes what it saw to $E2E_OUT.
import { env, finish, launch } from "./browser.mjs";

const BASE = env("CONSOLE_URL");
const PASSWORD = env("PASSWORD");
const OUT = env("E2E_OUT");
const PHASE = env("PHASE");

const { context, page } = await launch("checklists-e2e", { acceptDownloads: true });
const result = {};
try {
  await page.goto(`${BASE}/console/login`);
  await page.fill("input[name=user]", "u-zhao");
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
  await page.click("header.top a[href='/console/checklists']");
  await page.waitForLoadState("load");
  result.title = await page.title();
  const section = page.locator("section.checklist[data-id=gongmao]");
  result.versions = await section.locator("tr.checklist-version").evaluateAll((els) => els.map((e) => e.dataset.version));
  if (PHASE === "download") {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      section.locator("a.checklist-download").first().click(),
    ]);
    result.filename = download.suggestedFilename();
    await download.saveAs(env("DOWNLOAD"));
  } else {
    await section.locator("input[type=file]").setInputFiles(env("BAD"));
    await Promise.all([page.waitForLoadState("load"), section.locator("button[type=submit]").click()]);
    result.refused = await page.locator("#checklist-refused").innerText();
    result.problems = await page.locator("tr.checklist-problem").evaluateAll((els) =>
      els.map((e) => ({ row: Number(e.dataset.row), text: e.innerText })));
    result.versionsAfterBad = await page.locator("section.checklist[data-id=gongmao] tr.checklist-version")
      .evaluateAll((els) => els.map((e) => e.dataset.version));
    const again = page.locator("section.checklist[data-id=gongmao]");
    await again.locator("input[type=file]").setInputFiles(env("GOOD"));
    await Promise.all([page.waitForLoadState("load"), again.locator("button[type=submit]").click()]);
    result.done = await page.locator("#checklist-done").innerText();
    result.doneVersion = await page.locator("#checklist-done").getAttribute("data-version");
    result.versionsAfterGood = await page.locator("section.checklist[data-id=gongmao] tr.checklist-version")
      .evaluateAll((els) => els.map((e) => e.dataset.version));
  }
} catch (e) {
  await finish(context, OUT, result, e);
}
await finish(context, OUT, result);
