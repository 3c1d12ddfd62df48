import { CronExpressionParser } from "cron-parser";
import { timeWindowPartitions } from "./src/definitions/partitions/time-window.js";
const cases: [string, string, number][] = [
  ["0 * * * *", "America/New_York", 20000], ["*/30 * * * *", "America/New_York", 40000], ["30 2 * * *", "America/New_York", 800],
  ["30 1 * * *", "America/New_York", 800], ["0 0 * * *", "America/Santiago", 800], ["0 9 * * 1-5", "Europe/Berlin", 600],
  ["15 * * * *", "Australia/Lord_Howe", 20000], ["0 0 L * *", "UTC", 40], ["0 12 * * 5#2", "Europe/London", 40], ["0 12 * * 5L", "Asia/Kolkata", 40],
  ["0 0 1,15 * 1", "UTC", 100], ["0 2 * * *", "Europe/London", 800], ["0 1 * * *", "Europe/London", 800], ["*/20 1-3 * * *", "America/New_York", 3000],
  ["0 0 * * *", "Asia/Beirut", 800], ["0 * * * *", "Australia/Lord_Howe", 20000],
];
for (const [expr, tz, n] of cases) {
  const def = timeWindowPartitions({ cron: expr, start: "2023-01-01T00:00Z", timezone: tz, end: "2030-01-01T00:00Z" });
  const sp = def.resolve({ now: 0, dynamicKeys: () => [] });
  const it = CronExpressionParser.parse(expr, { tz, currentDate: new Date(Date.parse("2023-01-01T00:00Z") - 1000) });
  let diffs = 0;
  let a = 0, b = 0;
  const mine: number[] = []; const theirs: number[] = [];
  for (let i = 0; i < n; i++) { mine.push(sp.windowAt(i).start.getTime()); try { theirs.push(it.next().getTime()); } catch { if (i === theirs.length) console.log('  cron-parser failed at', i); } }
  const sm = new Set(mine), st = new Set(theirs);
  const onlyMine = mine.filter((x) => !st.has(x) && x < theirs[theirs.length - 1]!); const onlyTheirs = theirs.filter((x) => !sm.has(x) && x < mine[mine.length - 1]!);
  console.log(expr, tz, "onlyMine", onlyMine.slice(0, 4).map((x) => new Date(x).toISOString()), "onlyTheirs", onlyTheirs.slice(0, 4).map((x) => new Date(x).toISOString()));
  for (let i = 0; i < n; i++) { const k = sp.keyAt(i); if (sp.indexOf(k) !== i) { if (diffs++ < 3) console.log("  roundtrip fail", i, k, sp.indexOf(k)); } }
}
