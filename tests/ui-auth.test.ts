/**
 * Tokens in a real browser (Chromium): `baton dev` on the NYC taxi example with BATON_API_TOKENS.
 * The app asks for a token, refuses a wrong one, shows who is signed in; a viewer cannot launch
 * (the buttons are disabled and say why), a launcher can. Needs the built UI.
 *
 * The harness's own API calls (startDev's health check, waitForIdle) send no token, so while this
 * suite runs Node's fetch adds the admin token to requests to the dev server that carry none; the
 * browser is not affected.
 */
import type { Page } from "playwright-core";
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
import { assetNode, callApi, graphReady, listRuns, pageHeading, runStatus } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const VIEWER = "view-token-0123456789abcdef";
const LAUNCHER = "launch-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";
const TOKENS = `vera:viewer:${VIEWER},lars:launcher:${LAUNCHER},ops:admin:${ADMIN}`;

/** 401/403 answers are expected while signing in or with a viewer token; Chromium logs them. */
const unexpectedErrors = (page: Page) =>
  errorsOf(page).filter((e) => !/Failed to load resource.* (401|403)/.test(e));

async function signIn(page: Page, token: string) {
  await pageHeading(page, "Sign in to Baton");
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe.skipIf(skipReason !== null)("UI with API tokens (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  const plainFetch = globalThis.fetch;

  beforeAll(async () => {
    globalThis.fetch = (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const headers = new Headers(init?.headers);
      if (/^http:\/\/127\.0\.0\.1:\d+\/api\//.test(url) && !headers.has("authorization")) {
        headers.set("authorization", `Bearer ${ADMIN}`);
        return plainFetch(input, { ...init, headers });
      }
      return plainFetch(input, init);
    };
    [dev, browser] = await Promise.all([startDev({ env: { BATON_API_TOKENS: TOKENS } }), launchBrowser()]);
    await dev.waitForIdle(60_000);
  }, 120_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    globalThis.fetch = plainFetch;
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  test("the API needs a token: the sign-in prompt, and a wrong token is refused", async () => {
    const anonymous = await plainFetch(`${dev.url}/api/assets`);
    expect(anonymous.status).toBe(401);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await pageHeading(page, "Sign in to Baton");
    const field = page.getByLabel("Access token");
    expect(await field.getAttribute("type")).toBe("password");
    expect(await graphOfCount(page)).toBe(0);
    await screenshot(page, "login-1400x900");
    await field.fill("not-a-token-of-this-server");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: "That token was not accepted." })
      .waitFor({ timeout: 10_000 });
    expect(await page.getByRole("heading", { level: 1, name: "Sign in to Baton" }).count()).toBe(1);
    await screenshot(page, "login-refused");
    const dark = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme: "dark" });
    await dark.goto(`${dev.url}/`);
    await pageHeading(dark, "Sign in to Baton");
    await screenshot(dark, "login-dark-1024x700");
    expect(unexpectedErrors(page)).toEqual([]);
  }, 60_000);

  test("a viewer sees everything but cannot launch; the buttons say why", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await signIn(page, VIEWER);
    await graphReady(page);
    const banner = page.getByRole("banner");
    await banner.getByText(/vera/).first().waitFor({ timeout: 10_000 });
    expect(await banner.getByText(/viewer/).count()).toBeGreaterThan(0);
    expect(await banner.getByRole("button", { name: "Sign out" }).count()).toBe(1);

    const selected = page.getByRole("button", { name: /^Materialize selected/ });
    const stale = page.getByRole("button", { name: "Materialize stale/missing" });
    // Keyboard selection of a node (Enter), so "Materialize selected" would otherwise be enabled.
    await assetNode(page, "taxi/zones").press("Enter");
    const panel = page.getByRole("complementary", { name: "taxi/zones" });
    await panel.waitFor({ timeout: 10_000 });
    const materialize = panel.getByRole("button", { name: "Materialize", exact: true });
    for (const button of [selected, stale, materialize]) {
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute("title")).toMatch(/viewer/);
      expect(await button.getAttribute("title")).toMatch(/launcher/);
    }
    await screenshot(page, "graph-viewer-panel");

    // The asset page too.
    const runsBefore = (await listRuns(dev)).length;
    await page.goto(`${dev.url}/assets/taxi/zones`);
    // The token is kept for the tab: a full navigation does not ask again.
    await pageHeading(page, "taxi/zones");
    const pageButton = page.getByRole("main").getByRole("button", { name: "Materialize", exact: true });
    expect(await pageButton.isDisabled()).toBe(true);
    expect(await pageButton.getAttribute("title")).toMatch(/viewer/);
    // And the API refuses the viewer's launch.
    const refused = await callApi(dev, "POST", "/api/runs", {
      body: { selection: "taxi/zones" },
      token: VIEWER,
    });
    expect(refused.status).toBe(403);
    expect((await listRuns(dev)).length).toBe(runsBefore);

    // Signing out returns to the prompt.
    await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
    await pageHeading(page, "Sign in to Baton");
    expect(unexpectedErrors(page)).toEqual([]);
  }, 90_000);

  test("a launcher can launch: the run is queued under their name and succeeds", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await signIn(page, LAUNCHER);
    await graphReady(page);
    await page.getByRole("banner").getByText(/lars/).first().waitFor({ timeout: 10_000 });
    expect(
      await page
        .getByRole("banner")
        .getByText(/launcher/)
        .count(),
    ).toBeGreaterThan(0);
    const runsBefore = new Set((await listRuns(dev)).map((r) => r.runId));
    await assetNode(page, "taxi/zones").press("Enter");
    const panel = page.getByRole("complementary", { name: "taxi/zones" });
    await panel.waitFor({ timeout: 10_000 });
    const materialize = panel.getByRole("button", { name: "Materialize", exact: true });
    expect(await materialize.isEnabled()).toBe(true);
    await materialize.click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.getByRole("button", { name: "Launch run" }).click();
    await dialog.waitFor({ state: "detached", timeout: 10_000 });
    const view = page.getByRole("link", { name: "View run" });
    await view.waitFor({ timeout: 10_000 });
    const runId = ((await view.getAttribute("href")) ?? "").replace(/^\/runs\//, "");
    const fresh = (await listRuns(dev)).filter((r) => !runsBefore.has(r.runId));
    expect(fresh.map((r) => r.runId)).toEqual([runId]);
    const run = await callApi<{ run: { tags: Record<string, string> } }>(dev, "GET", `/api/runs/${runId}`);
    expect(run.body.run.tags["baton/launched-by"]).toBe("lars");
    await expect.poll(() => runStatus(dev, runId), { timeout: 30_000 }).toBe("SUCCESS");
    expect(unexpectedErrors(page)).toEqual([]);
  }, 90_000);
});

async function graphOfCount(page: Page): Promise<number> {
  return page.getByRole("application", { name: "Asset graph" }).count();
}
