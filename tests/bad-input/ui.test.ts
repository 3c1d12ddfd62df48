/**
 * Bad input in the launch dialog (real Chromium against `baton dev` on the catalogue's fixture):
 * what only the API can check comes back as its 400, and the dialog shows that same message next
 * to the field it names; nothing is launched. Each row also sends the same body to the API
 * directly and requires the dialog's text to equal the API's message. Needs a built UI
 * (BATON_UI_DIR or packages/ui/dist).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect } from "vitest";
import {
  chromiumSkipReason,
  type DevServer,
  handleMissingChromium,
  launchBrowser,
  screenshot,
  startDev,
  type TestBrowser,
} from "../support/browser.js";
import { accessibleDescription, assetNode, callApi, graphReady, listRuns } from "../support/ui-flows.js";
import { type Answer, catalogue, type Row } from "./table.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixture/definitions.ts");
const KEY = "shop/revenue";

interface DialogInput {
  /** The launch body the dialog will send (checked against the API directly first). */
  readonly body: unknown;
  /** Fill the dialog's fields; resolves to the element whose text must be the API's message. */
  fill(dialog: Locator): Promise<{ place: () => Promise<string> }>;
}

describe.skipIf(skipReason !== null)("launch dialog (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  beforeAll(async () => {
    [dev, browser] = await Promise.all([startDev({ defs: DEFS }), launchBrowser()]);
  }, 90_000);
  afterEach(async () => {
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  async function openDialog(page: Page): Promise<Locator> {
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    await assetNode(page, KEY).press("Enter");
    const panel = page.getByRole("complementary", { name: KEY });
    await panel.waitFor({ timeout: 10_000 });
    await panel.getByRole("button", { name: "Materialize", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });
    return dialog;
  }

  /** The API's answer to the body, then the dialog's text next to the field after "Launch run". */
  async function launch(input: DialogInput): Promise<Answer> {
    const direct = await callApi<{ error: { message: string; field?: string } }>(dev, "POST", "/api/runs", {
      body: input.body,
    });
    const runsBefore = (await listRuns(dev)).length;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const dialog = await openDialog(page);
    const { place } = await input.fill(dialog);
    await dialog.getByRole("button", { name: "Launch run" }).click();
    const apiMessage = direct.body.error.message.replace(/\s+/g, " ").trim();
    await expect.poll(place, { timeout: 10_000 }).toBe(apiMessage);
    expect(await dialog.isVisible()).toBe(true);
    expect((await listRuns(dev)).length).toBe(runsBefore);
    await screenshot(page, `bad-input-launch-${direct.body.error.field ?? "top"}`.replace(/[^\w.-]+/g, "_"));
    return { code: direct.status, message: `[${direct.body.error.field}] ${await place()}` };
  }

  const rows: Row<DialogInput>[] = [
    {
      name: "config value only the API checks (a pattern): next to its field",
      input: {
        body: {
          selection: KEY,
          config: { [KEY]: { multiplier: 2, currency: "EUR", table: "Not A Table!" } },
        },
        async fill(dialog) {
          await dialog.getByRole("spinbutton", { name: /^Multiplier/ }).fill("2");
          const table = dialog.getByRole("textbox", { name: /^Table/ });
          await table.fill("Not A Table!");
          return { place: () => accessibleDescription(table) };
        },
      },
      code: 400,
      message:
        // The webserver checks config against the snapshot's JSON Schema: the pattern, not the zod message.
        "[body.config.shop/revenue.table] Invalid config for the run: - shop/revenue.table: Invalid string: must match pattern /^[a-z_]+$/",
    },
    {
      name: "config as JSON with a wrong type: next to the JSON editor",
      input: {
        body: { selection: KEY, config: { [KEY]: { multiplier: "two" } } },
        async fill(dialog) {
          await dialog.getByRole("button", { name: "Edit as JSON" }).click();
          const json = dialog.getByRole("textbox", { name: "Run config as JSON" });
          await json.fill(JSON.stringify({ [KEY]: { multiplier: "two" } }));
          return { place: () => accessibleDescription(json) };
        },
      },
      code: 400,
      message:
        "[body.config.shop/revenue.multiplier] Invalid config for the run: - shop/revenue.multiplier: Invalid input: expected number, received string",
    },
    {
      name: "tag value with a control character: under the tags",
      input: {
        body: { selection: KEY, config: { [KEY]: { multiplier: 2 } }, tags: { team: "data\tops" } },
        async fill(dialog) {
          await dialog.getByRole("spinbutton", { name: /^Multiplier/ }).fill("2");
          await dialog.getByRole("button", { name: "+ Add tag" }).click();
          await dialog.getByRole("textbox", { name: "Tag 1 key" }).fill("team");
          await dialog.getByRole("textbox", { name: "Tag 1 value" }).fill("data\tops");
          const tags = dialog.getByRole("group", { name: "Tags" });
          return {
            place: async () =>
              ((await tags.getByRole("alert").allTextContents()).join(" ") ?? "").replace(/\s+/g, " ").trim(),
          };
        },
      },
      code: 400,
      message: "[body.tags.team] body.tags.team: must not contain control characters",
    },
  ];
  catalogue(rows, launch, { timeout: 60_000 });
});
