/**
 * The UI in a real browser, end to end: `baton dev` on the NYC taxi example (tiny data set, temp
 * store) serving the built UI, Chromium opening `/`. Needs packages/ui/dist (`npm run build`).
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  chromiumSkipReason,
  type DevServer,
  errorsOf,
  handleMissingChromium,
  launchBrowser,
  screenshot,
  startDev,
  type TestBrowser,
  UI_INDEX,
} from "./support/browser.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

describe.skipIf(skipReason !== null)("UI smoke (Chromium)", () => {
  let dev: DevServer | undefined;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([startDev(), launchBrowser()]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  test("`/` opens the overview; /graph the asset graph: one h1, the graph laid out, no page errors", async () => {
    expect(existsSync(UI_INDEX), `${UI_INDEX} is missing: build the UI (npm run build -w @baton/ui)`).toBe(
      true,
    );
    const page = await browser!.newPage();
    const response = await page.goto(`${dev!.url}/`);
    expect(response?.status()).toBe(200);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor({ timeout: 10_000 });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Asset graph" }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toBe("/graph");
    const heading = page.getByRole("heading", { level: 1 });
    await heading.waitFor();
    expect(await heading.count()).toBe(1);
    expect((await heading.textContent())?.trim()).not.toBe("");
    // The graph container (role application or region, named "Asset graph"), laid out and painted.
    const graph = page
      .getByRole("application", { name: "Asset graph" })
      .or(page.getByRole("region", { name: "Asset graph" }));
    await graph.and(page.locator('[aria-busy="false"]')).waitFor({ timeout: 15_000 });
    expect(await graph.count()).toBe(1);
    // Every asset of the example is a node named by its key.
    await expect
      .poll(() => page.locator('[aria-label="taxi/raw_trips"]').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    const file = await screenshot(page, "smoke-graph");
    expect(existsSync(file)).toBe(true);
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);
});
