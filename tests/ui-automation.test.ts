/**
 * The automation pages in a real browser (Chromium) against `baton dev`:
 * - NYC taxi example: the landing file sensor stopped from its switch launches nothing for a dropped
 *   file; started again, the file's run appears live in the runs list and in the sensor's tick
 *   history (a link to it); start all / stop all change every switch; a preview shows the sensor's
 *   result; screenshots of both pages, light and dark, 1400×900 and 1024×700.
 * - tests/fixtures/automation with API tokens: a viewer sees the switches and buttons disabled with
 *   the reason; an admin sees the eager decisions with their reasons (launched → run link, waiting
 *   → why), filtered by asset, a failing sensor's error in full in its tick history, a sensor's
 *   and a schedule's previews, resets a cursor, and an unknown name is a 404 page naming it.
 *
 * The harness's own API calls (startDev's health check) send no token, so while this suite runs
 * Node's fetch adds the admin token to loopback API requests that carry none (a server without
 * tokens ignores it); the browser is not affected. Needs the built UI.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { generateMonth } from "../examples/nyc_taxi/src/generate.js";
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
import { callApi, pageHeading, summarizeErrors } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const FIXTURE = path.join(ROOT, "tests/fixtures/automation/definitions.ts");
const VIEWER = "view-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";
const TOKENS = `vera:viewer:${VIEWER},ops:admin:${ADMIN}`;

interface Instigator {
  name: string;
  status: "RUNNING" | "STOPPED";
}
interface TickInfo {
  id: number;
  status: string;
  runIds: string[];
}
interface RunInfo {
  runId: string;
  backfillId: string | null;
  createdAt: number;
}

/** Errors a page may log on purpose: 401/403 while signing in or with a viewer token. */
const unexpectedErrors = (page: Page) =>
  errorsOf(page).filter((e) => !/Failed to load resource.* (401|403)/.test(e));

async function signIn(page: Page, token: string) {
  await pageHeading(page, "Sign in to Baton");
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function instigators(dev: DevServer): Promise<Instigator[]> {
  const [schedules, sensors] = await Promise.all([
    dev.api<{ schedules: Instigator[] }>("/api/schedules"),
    dev.api<{ sensors: Instigator[] }>("/api/sensors"),
  ]);
  return [...schedules.schedules, ...sensors.sensors];
}

const statusOf = async (dev: DevServer, name: string) =>
  (await instigators(dev)).find((x) => x.name === name)?.status;

async function ticksOf(dev: DevServer, name: string): Promise<TickInfo[]> {
  return (await dev.api<{ ticks: TickInfo[] }>(`/api/automation/${name}/ticks?limit=100`)).ticks;
}

async function allRuns(dev: DevServer): Promise<RunInfo[]> {
  return (await dev.api<{ runs: RunInfo[] }>("/api/runs?limit=1000")).runs;
}

describe.skipIf(skipReason !== null)("UI automation pages (Chromium)", () => {
  let taxi: DevServer;
  let fixture: DevServer;
  let browser: TestBrowser;
  /** The example's first files materialized (awaited by its tests; the fixture's run meanwhile). */
  let taxiIdle: Promise<void>;
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
    [taxi, fixture, browser] = await Promise.all([
      startDev({ rows: 200 }),
      startDev({ defs: FIXTURE, env: { BATON_API_TOKENS: TOKENS } }),
      launchBrowser(),
    ]);
    taxiIdle = taxi.waitForIdle(90_000);
    taxiIdle.catch(() => undefined); // reported by the tests that await it
  }, 120_000);
  afterEach(async () => {
    // Pages left open keep polling and their event streams busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    globalThis.fetch = plainFetch;
    await browser?.close();
    await Promise.all([taxi?.stop(), fixture?.stop()]);
  }, 60_000);

  test("a viewer sees the switches and buttons disabled, with the reason", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${fixture.url}/automation`);
    await signIn(page, VIEWER);
    await pageHeading(page, "Automation");
    const toggle = page.getByRole("switch", { name: "broken_sensor running" });
    await toggle.waitFor();
    expect(await page.getByRole("switch").count()).toBe(3);
    for (const s of await page.getByRole("switch").all()) expect(await s.isDisabled()).toBe(true);
    const reason = page.getByText(
      /Read only: Your token \(vera\) has the viewer role; this needs a launcher token/,
    );
    await reason.waitFor();
    const described = await toggle.evaluate((el) =>
      (el.getAttribute("aria-describedby") ?? "")
        .split(/\s+/)
        .map((id) => el.ownerDocument.getElementById(id)?.textContent ?? "")
        .join(" "),
    );
    expect(described).toContain("viewer role");
    expect(await page.getByRole("button", { name: "Start all" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Stop all" }).isDisabled()).toBe(true);

    await page.getByRole("link", { name: "counter_sensor", exact: true }).click();
    await pageHeading(page, "counter_sensor");
    expect(await page.getByRole("button", { name: "Preview", exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Reset cursor" }).isDisabled()).toBe(true);
    await page
      .getByText(/Reset cursor: Your token \(vera\) has the viewer role; this needs an admin token/)
      .waitFor();
    await screenshot(page, "automation-viewer");
    expect(unexpectedErrors(page), summarizeErrors(errorsOf(page))).toEqual([]);
  }, 60_000);

  test("eager decisions with their reasons, filtered by asset; a failing sensor's error in full; unknown names are a 404 page", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${fixture.url}/automation`);
    await signIn(page, ADMIN);
    await pageHeading(page, "Automation");
    const decisions = page.getByRole("table", { name: "Automation decisions" });
    const waiting = decisions
      .getByRole("row")
      .filter({ has: page.getByRole("link", { name: "fixture/waits" }) });
    await waiting.waitFor({ timeout: 20_000 });
    expect(await waiting.textContent()).toContain("not launched");
    expect(await waiting.textContent()).toContain("waiting for upstream fixture/source");
    const launched = decisions
      .getByRole("row")
      .filter({ has: page.getByRole("link", { name: "fixture/standalone" }) });
    await launched.waitFor();
    const evaluations = await fixture.api<{ evaluations: { assetKey: string; runId: string | null }[] }>(
      "/api/automation/evaluations?asset=fixture/standalone",
    );
    const runId = evaluations.evaluations.find((e) => e.runId)?.runId;
    expect(runId, "the eager asset that is missing was launched").toBeTruthy();
    // Its latest decision may already be "already requested …" or "up to date": the run it
    // launched is named either way.
    const runLink = launched.getByRole("link", { name: runId!.slice(0, 8), exact: true });
    await runLink.waitFor();
    expect(await runLink.getAttribute("href")).toBe(`/runs/${runId}`);
    expect(await page.getByRole("link", { name: "fixture/waits" }).getAttribute("href")).toBe(
      "/assets/fixture/waits",
    );

    await page.getByLabel("Filter by asset").fill("stand");
    await expect.poll(() => decisions.getByRole("row").count()).toBe(2); // header + standalone
    expect(new URL(page.url()).searchParams.get("asset")).toBe("stand");
    await page.getByLabel("Filter by asset").fill("nothing-like-this");
    await page.getByText(/No asset with a decision matches “nothing-like-this”/).waitFor();
    await page.getByRole("button", { name: "Clear the filter" }).click();
    await decisions.waitFor();
    await screenshot(page, "automation-decisions", { fullPage: true });

    // A failing sensor: its last tick on the list, the whole message in its tick history.
    await page.getByRole("link", { name: "broken_sensor", exact: true }).click();
    await pageHeading(page, "broken_sensor");
    const ticks = page.getByRole("table", { name: "Ticks" });
    await ticks.getByText("failed", { exact: true }).first().waitFor({ timeout: 15_000 });
    const full = await ticks.locator("pre").first().textContent();
    expect(full).toContain("the inbox API answered 502\nwhile listing s3://inbox/new/");

    // The counting sensor targets the waiting eager asset: its decisions show on the sensor's page.
    await page.goto(`${fixture.url}/automation/counter_sensor`);
    await pageHeading(page, "counter_sensor");
    await page
      .getByRole("table", { name: "Decisions about fixture/waits" })
      .getByText(/waiting for upstream fixture\/source/)
      .first()
      .waitFor();
    await page.getByRole("button", { name: "Preview", exact: true }).click();
    const preview = page.getByRole("region", { name: "Preview: what it would do now" });
    await preview.getByText("It would launch 1 run request").waitFor({ timeout: 15_000 });
    expect(await preview.getByRole("table", { name: "Run requests" }).textContent()).toContain("count-0");
    await screenshot(page, "automation-preview", { fullPage: true });

    // A schedule's preview: its next ticks.
    await page.goto(`${fixture.url}/automation/nightly`);
    await pageHeading(page, "nightly");
    await page.getByRole("button", { name: "Preview", exact: true }).click();
    await page
      .getByRole("region", { name: "Preview: what it would do now" })
      .getByText("Its next 5 ticks")
      .waitFor({ timeout: 15_000 });
    expect(
      await page.getByRole("region", { name: "Preview: what it would do now" }).getByRole("listitem").count(),
    ).toBe(5);
    await screenshot(page, "automation-schedule-preview");

    // Reset a cursor (admin): start the counting sensor until it has one, stop it, reset it.
    expect(
      (await callApi(fixture, "POST", "/api/automation/counter_sensor/start", { body: {} })).status,
    ).toBe(200);
    await expect
      .poll(async () => (await ticksOf(fixture, "counter_sensor")).length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect((await callApi(fixture, "POST", "/api/automation/counter_sensor/stop", { body: {} })).status).toBe(
      200,
    );
    await page.goto(`${fixture.url}/automation/counter_sensor`);
    await pageHeading(page, "counter_sensor");
    const cursor = page.getByRole("region", { name: "Cursor" });
    await cursor.getByText("1", { exact: true }).waitFor();
    await cursor.getByRole("button", { name: "Reset cursor" }).click();
    const dialog = page.getByRole("dialog", { name: "Reset the cursor of counter_sensor?" });
    await dialog.getByRole("button", { name: "Reset cursor" }).click();
    await dialog.waitFor({ state: "detached" });
    await cursor.getByText(/None: the next evaluation starts from scratch/).waitFor();
    const stored = await fixture.api<{ sensors: { name: string; cursor: string | null }[] }>("/api/sensors");
    expect(stored.sensors.find((x) => x.name === "counter_sensor")?.cursor).toBeNull();

    await page.goto(`${fixture.url}/automation/no_such_sensor`);
    await pageHeading(page, "No schedule or sensor named “no_such_sensor”");
    await page.getByRole("link", { name: "counter_sensor" }).waitFor();
    expect(unexpectedErrors(page), summarizeErrors(errorsOf(page))).toEqual([]);
  }, 90_000);

  test("a stopped landing sensor launches nothing; started, the file's run shows live in the runs list and the tick history; a preview", async () => {
    await taxiIdle;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${taxi.url}/automation`);
    await pageHeading(page, "Automation");
    const toggle = page.getByRole("switch", { name: "taxi_landing running" });
    await expect.poll(() => toggle.getAttribute("aria-checked")).toBe("true");
    await toggle.click();
    await expect.poll(() => toggle.getAttribute("aria-checked")).toBe("false");
    await expect.poll(() => statusOf(taxi, "taxi_landing"), { timeout: 5_000 }).toBe("STOPPED");

    await page.waitForTimeout(500); // an evaluation that began before the stop has ended
    const before = new Set((await allRuns(taxi)).map((r) => r.runId));
    const lastTickBefore = (await ticksOf(taxi, "taxi_landing"))[0]?.id ?? 0;
    await generateMonth({ month: "2019-02", taxi: "yellow", rows: 200, dir: taxi.landing! });
    // A running sensor reacts to a new file within a daemon loop (200 ms, and the file watcher):
    // give a stopped one 15 loops.
    await page.waitForTimeout(3_000);
    expect(
      (await allRuns(taxi)).filter((r) => !before.has(r.runId)),
      "no run while stopped",
    ).toEqual([]);
    expect((await ticksOf(taxi, "taxi_landing"))[0]?.id ?? 0, "no tick while stopped").toBe(lastTickBefore);

    // The runs list, open while the sensor starts: the file's run appears there live.
    const runsPage = await browser.newPage({
      viewport: { width: 1400, height: 900 },
      context: page.context(),
    });
    await runsPage.goto(`${taxi.url}/runs`);
    await pageHeading(runsPage, "Runs");
    await page.bringToFront();
    await toggle.click();
    await expect.poll(() => toggle.getAttribute("aria-checked")).toBe("true");

    let fileRun: RunInfo | undefined;
    await expect
      .poll(
        async () => {
          const fresh = (await allRuns(taxi)).filter((r) => !before.has(r.runId));
          fileRun = fresh[fresh.length - 1]; // the oldest new one (newest first)
          return fresh.length;
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    const runId = fileRun!.runId;
    await runsPage
      .getByRole("table", { name: "Runs" })
      .getByRole("link", { name: runId.slice(0, 8), exact: true })
      .waitFor({ timeout: 20_000 });
    expect(
      await runsPage.getByRole("link", { name: runId.slice(0, 8), exact: true }).getAttribute("href"),
    ).toBe(`/runs/${runId}`);

    // The tick that launched it, in the sensor's tick history, with a link to the run.
    await page.goto(`${taxi.url}/automation/taxi_landing`);
    await pageHeading(page, "taxi_landing");
    const ticks = page.getByRole("table", { name: "Ticks" });
    const runLink = ticks.getByRole("link", { name: runId.slice(0, 8), exact: true });
    await runLink.waitFor({ timeout: 20_000 });
    const row = ticks
      .getByRole("row")
      .filter({ has: page.getByRole("link", { name: runId.slice(0, 8), exact: true }) });
    expect(await row.textContent()).toMatch(/launched/);
    if (fileRun!.backfillId)
      expect(
        await row.getByRole("link", { name: fileRun!.backfillId.slice(0, 8), exact: true }).count(),
      ).toBe(1);
    await screenshot(page, "automation-sensor-ticks");

    // A preview: what the sensor would do now (the daemon evaluates it; nothing is launched).
    await page.getByRole("button", { name: "Preview", exact: true }).click();
    const preview = page.getByRole("region", { name: "Preview: what it would do now" });
    await preview.getByText(/It would launch/).waitFor({ timeout: 15_000 });
    expect(await preview.textContent()).toContain("nothing was launched");
    expect(unexpectedErrors(page), summarizeErrors(errorsOf(page))).toEqual([]);
  }, 150_000);

  test("start all and stop all change every switch, after a confirmation that says how many", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${taxi.url}/automation`);
    await pageHeading(page, "Automation");
    const all = await instigators(taxi);
    const switches = page.getByRole("switch");
    await expect.poll(() => switches.count()).toBe(all.length);

    for (const [button, to, checked] of [
      ["Stop all", "STOPPED", "false"],
      ["Start all", "RUNNING", "true"],
    ] as const) {
      const changing = (await instigators(taxi)).filter((x) => x.status !== to).length;
      expect(changing).toBeGreaterThan(0);
      await page.getByRole("button", { name: button, exact: true }).click();
      const dialog = page.getByRole("dialog");
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain(`${changing} schedule`);
      await dialog.getByRole("button", { name: `${button.split(" ")[0]} ${changing}`, exact: true }).click();
      await dialog.waitFor({ state: "detached" });
      for (let i = 0; i < all.length; i++)
        await expect.poll(() => switches.nth(i).getAttribute("aria-checked")).toBe(checked);
      await expect
        .poll(async () => (await instigators(taxi)).every((x) => x.status === to), { timeout: 5_000 })
        .toBe(true);
      expect(await page.getByRole("button", { name: button, exact: true }).isDisabled()).toBe(true);
    }
    // Back to the example's defaults (the monthly schedule stopped).
    const restored = await callApi(taxi, "POST", "/api/automation/monthly_refresh/stop", { body: {} });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(unexpectedErrors(page), summarizeErrors(errorsOf(page))).toEqual([]);
  }, 60_000);

  test("screenshots of both pages, light and dark, 1400×900 and 1024×700", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const shoot = async (name: string) => {
      for (const colorScheme of ["light", "dark"] as const)
        for (const viewport of [
          { width: 1400, height: 900 },
          { width: 1024, height: 700 },
        ]) {
          await page.emulateMedia({ colorScheme });
          await page.setViewportSize(viewport);
          await screenshot(page, `${name}-${colorScheme}-${viewport.width}`);
        }
    };
    await page.goto(`${taxi.url}/automation`);
    await pageHeading(page, "Automation");
    await page
      .getByRole("table", { name: "Sensors" })
      .getByText(/launched|skipped/)
      .first()
      .waitFor();
    await shoot("automation");
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.getByRole("link", { name: "taxi_landing", exact: true }).click();
    await pageHeading(page, "taxi_landing");
    await page.getByRole("table", { name: "Ticks" }).getByRole("row").nth(1).waitFor();
    await shoot("automation-detail");
    expect(unexpectedErrors(page), summarizeErrors(errorsOf(page))).toEqual([]);
  }, 60_000);
});
