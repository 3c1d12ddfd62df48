// Your Baton definitions: assets, checks and schedules. `npx baton materialize --select '*'` runs
// them; `npx baton dev` opens the UI and runs the schedule. The API: the @baton/core README.
import { asset, assetCheck, defineDefinitions, schedule } from "@baton/core";
import { z } from "zod";

interface Order {
  id: number;
  customer: string;
  amount: number;
}

/** Raw orders. Replace the body with a read from your source: a file, an API, a database. */
export const orders = asset(
  { key: "shop/orders", group: "ingest", description: "Orders as they come from the source" },
  async (ctx): Promise<Order[]> => {
    const rows: Order[] = [
      { id: 1, customer: "ada", amount: 42 },
      { id: 2, customer: "grace", amount: 17.5 },
      { id: 3, customer: "ada", amount: 8 },
    ];
    ctx.log.info("loaded orders", { rows: rows.length });
    return rows;
  },
);

/**
 * Revenue per customer. `orders` is typed from the upstream's return type (`Order[]`), and
 * `ctx.config` from the zod schema: `npx baton materialize --select shop/revenue_by_customer
 * --config '{"shop/revenue_by_customer": {"minAmount": 10}}'`.
 */
export const revenueByCustomer = asset(
  {
    key: "shop/revenue_by_customer",
    group: "reports",
    description: "Total order amount per customer",
    ins: { orders },
    config: z.object({ minAmount: z.number().min(0).default(0) }),
  },
  async (ctx, { orders }) => {
    const totals: Record<string, number> = {};
    for (const order of orders) {
      if (order.amount >= ctx.config.minAmount)
        totals[order.customer] = (totals[order.customer] ?? 0) + order.amount;
    }
    return { value: totals, metadata: { customers: Object.keys(totals).length } };
  },
);

/** Runs right after `shop/orders`; being blocking, a failure stops everything downstream. */
export const positiveAmounts = assetCheck(
  { asset: orders, name: "positive_amounts", blocking: true },
  (_ctx, rows) => {
    const bad = rows.filter((order) => order.amount <= 0).length;
    return { passed: bad === 0, metadata: { bad } };
  },
);

/** Every day at 06:00 UTC, once started (`npx baton schedule start daily_refresh`); `baton dev` runs it. */
export const dailyRefresh = schedule({ name: "daily_refresh", cron: "0 6 * * *", selection: "*" });

export default defineDefinitions({
  assets: [orders, revenueByCustomer],
  checks: [positiveAmounts],
  schedules: [dailyRefresh],
});
