/**
 * The launch dialog's config form against the API's validation, in a real browser (Chromium):
 * `baton dev` on tests/fixtures/ui (an asset whose config has a string pattern, which the form does
 * not check itself). A value the schema rejects shows the API's 400 message next to its field, and
 * nothing launches; a value the form can check (a maximum) is caught before launching; a good value
 * launches with the config typed in. Needs the built UI.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  chromiumSkipReason,
  type DevServer,
  errorsOf,
  handleMissingChromium,
  launchBrowser,
  screenshot,
  startDev,
  type TestBrowser,
} from "./support/browser.js";
import { ROOT } from "./support/cli.js";
import {
  accessibleDescription,
  assetNode,
  callApi,
  graphReady,
  listRuns,
  runStatus,
} from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/ui/definitions.ts");
const KEY = "fixture/scaled";
const BAD = "Not A Table!";

describe.skipIf(skipReason !== null)("UI launch dialog config validation (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([startDev({ defs: DEFS }), launchBrowser()]);
  }, 90_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  test("a config value the schema rejects: the API's message next to the field, nothing launched", async () => {
    const detail = await dev.api<{ definition: { configSchema: { properties: Record<string, unknown> } } }>(
      `/api/assets/${encodeURIComponent(KEY)}`,
    );
    expect(detail.definition.configSchema.properties.table_name).toMatchObject({
      type: "string",
      pattern: "^[a-z_]+$",
    });
    // What the API answers for that value (a 400 naming the field; nothing is queued).
    const direct = await callApi<{ error: { message: string; field: string } }>(dev, "POST", "/api/runs", {
      body: { selection: KEY, config: { [KEY]: { table_name: BAD, multiplier: 2 } } },
    });
    expect(direct.status).toBe(400);
    expect(direct.body.error.field).toContain("table_name");
    const apiMessage = direct.body.error.message.replace(/\s+/g, " ").trim();
    // The upstream asset is materialized first, so a good launch below can succeed.
    const source = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", {
      body: { selection: "fixture/source" },
    });
    expect(source.status).toBe(201);
    await dev.waitForIdle(30_000);
    const runsBefore = await listRuns(dev);

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    await assetNode(page, KEY).press("Enter");
    const panel = page.getByRole("complementary", { name: KEY });
    await panel.waitFor({ timeout: 10_000 });
    await panel.getByRole("button", { name: "Materialize", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });

    // Fields are generated from the JSON Schema, prefilled with the defaults.
    const table = dialog.getByRole("textbox", { name: /^Table name/ });
    const multiplier = dialog
      .getByRole("spinbutton", { name: /^Multiplier/ })
      .or(dialog.getByRole("textbox", { name: /^Multiplier/ }));
    expect(await table.inputValue()).toBe("scaled");
    expect(await multiplier.inputValue()).toBe("2");
    const launch = dialog.getByRole("button", { name: "Launch run" });

    // The form checks a maximum itself: launching is blocked and the field says why.
    await multiplier.fill("50");
    await expect.poll(() => accessibleDescription(multiplier), { timeout: 5_000 }).toContain("At most 10");
    expect(await launch.isDisabled()).toBe(true);
    await multiplier.fill("2");
    await expect.poll(() => launch.isEnabled(), { timeout: 5_000 }).toBe(true);

    // A pattern only the API checks: its 400 message next to the field; the dialog stays open.
    await table.fill(BAD);
    await launch.click();
    await expect.poll(() => accessibleDescription(table), { timeout: 10_000 }).toContain(apiMessage);
    expect(await table.getAttribute("aria-invalid")).toBe("true");
    expect(await dialog.getByRole("alert").filter({ hasText: apiMessage }).count()).toBe(1);
    expect(await dialog.isVisible()).toBe(true);
    await screenshot(page, "launch-dialog-config-error-1400x900");
    expect((await listRuns(dev)).length).toBe(runsBefore.length);

    // Fixed: it launches with the config typed in, and the run succeeds.
    await table.fill("good_name");
    await launch.click();
    await dialog.waitFor({ state: "detached", timeout: 10_000 });
    const view = page.getByRole("link", { name: "View run" });
    await view.waitFor({ timeout: 10_000 });
    const runId = ((await view.getAttribute("href")) ?? "").replace(/^\/runs\//, "");
    const fresh = (await listRuns(dev)).filter((r) => !runsBefore.some((b) => b.runId === r.runId));
    expect(fresh.map((r) => r.runId)).toEqual([runId]);
    expect(fresh[0]!.config).toEqual({ [KEY]: { table_name: "good_name", multiplier: 2 } });
    await expect.poll(async () => runStatus(dev, runId), { timeout: 30_000 }).toBe("SUCCESS");
    // Chromium logs the expected 400 answer as a console error; anything else is a failure.
    expect(errorsOf(page).filter((e) => !/Failed to load resource.* 400/.test(e))).toEqual([]);
  }, 90_000);
});
