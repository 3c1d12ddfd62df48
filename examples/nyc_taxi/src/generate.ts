import { createWriteStream } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { fileNameOf, GREEN_COLUMNS, type TaxiType, YELLOW_COLUMNS } from "./layout.js";

/** mulberry32: small, fast, deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Share of dirty rows of each kind (realistic orders of magnitude for TLC data). */
export const DIRTY = {
  negativeFare: 0.012,
  dropoffBeforePickup: 0.006,
  nullPassengerCount: 0.03,
  unknownZone: 0.005,
} as const;

// Busy Manhattan zones weigh more (ids from the TLC zone lookup).
const HOT_ZONES = [161, 162, 230, 236, 237, 170, 48, 234, 186, 79, 142, 239, 138, 132, 68, 141, 263, 107];
const pad = (n: number) => String(n).padStart(2, "0");
const money = (n: number) => (Math.round(n * 100) / 100).toString();

function timestamp(ms: number) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export interface GenerateOptions {
  readonly month: string;
  readonly taxi: TaxiType;
  readonly rows: number;
  readonly dir: string;
  readonly gzip?: boolean;
}

/**
 * Write one month of trips in the exact TLC layout (header row, TLC column order), with a
 * realistic share of dirty rows: negative fares, dropoff before pickup, empty passenger counts,
 * zone ids outside the lookup. Same month, taxi type and row count → the same file, byte for byte
 * (before gzip).
 */
export async function generateMonth(options: GenerateOptions): Promise<string> {
  const { month, taxi, rows } = options;
  const rand = prng(hashSeed(`${taxi}|${month}`));
  const [year, mon] = month.split("-").map(Number) as [number, number];
  const start = Date.UTC(year, mon - 1, 1);
  const end = Date.UTC(year, mon, 1);
  const columns = taxi === "yellow" ? YELLOW_COLUMNS : GREEN_COLUMNS;
  const congestion = start >= Date.UTC(2019, 1, 1);
  const zone = () =>
    rand() < 0.55 ? HOT_ZONES[Math.floor(rand() * HOT_ZONES.length)]! : 1 + Math.floor(rand() * 263);

  const lines = function* () {
    yield `${columns.join(",")}\n`;
    let chunk = "";
    for (let i = 0; i < rows; i++) {
      const pickup = start + Math.floor(rand() * (end - start - 3_600_000));
      const distance = Math.max(0.1, Math.exp(0.9 + rand() * 1.6) - 1.5);
      const minutes = 3 + distance * (2.5 + rand() * 3);
      let dropoff = pickup + Math.round(minutes * 60_000);
      if (rand() < DIRTY.dropoffBeforePickup) dropoff = pickup - Math.round(rand() * 600_000) - 1000;
      const passengers = rand() < DIRTY.nullPassengerCount ? "" : String(1 + Math.floor(rand() ** 3 * 6));
      let pu = zone();
      const doZone = zone();
      if (rand() < DIRTY.unknownZone) pu = 300 + Math.floor(rand() * 50);
      const payment = rand() < 0.7 ? 1 : rand() < 0.93 ? 2 : 3 + Math.floor(rand() * 2);
      let fare = 2.5 + distance * 2.5 + rand() * 3;
      if (rand() < DIRTY.negativeFare) fare = -fare;
      const extra = [0, 0.5, 1][Math.floor(rand() * 3)]!;
      const tip = payment === 1 && fare > 0 ? fare * (0.1 + rand() * 0.15) : 0;
      const tolls = rand() < 0.04 ? 6.12 : 0;
      const cong = congestion && taxi === "yellow" ? 2.5 : congestion ? 0.75 : 0;
      const total = fare + extra + 0.5 + tip + tolls + 0.3 + cong;
      const vendor = rand() < 0.6 ? 2 : 1;
      const rate = rand() < 0.97 ? 1 : 2 + Math.floor(rand() * 4);
      const flag = rand() < 0.99 ? "N" : "Y";
      const congestionText = congestion ? money(cong) : "";
      const row =
        taxi === "yellow"
          ? [
              vendor,
              timestamp(pickup),
              timestamp(dropoff),
              passengers,
              money(distance),
              rate,
              flag,
              pu,
              doZone,
              payment,
              money(fare),
              extra,
              0.5,
              money(tip),
              money(tolls),
              0.3,
              money(total),
              congestionText,
            ]
          : [
              vendor,
              timestamp(pickup),
              timestamp(dropoff),
              flag,
              rate,
              pu,
              doZone,
              passengers,
              money(distance),
              money(fare),
              extra,
              0.5,
              money(tip),
              money(tolls),
              "",
              0.3,
              money(total),
              payment,
              rand() < 0.97 ? 1 : 2,
              congestionText,
            ];
      chunk += `${row.join(",")}\n`;
      if (chunk.length > 1 << 16) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  };

  await mkdir(options.dir, { recursive: true });
  const gzip = options.gzip ?? true;
  const file = path.join(options.dir, fileNameOf(month, taxi, gzip));
  const tmp = `${file}.partial`;
  if (gzip) await pipeline(lines, createGzip({ level: 1 }), createWriteStream(tmp));
  else await pipeline(lines, createWriteStream(tmp));
  await rename(tmp, file);
  return file;
}

/** `2019-01..2019-03` → ["2019-01", "2019-02", "2019-03"]; also a single month or a list. */
export function parseMonths(spec: string): string[] {
  const out: string[] = [];
  for (const part of spec.split(",")) {
    const m = /^(\d{4})-(\d{2})(?:\.\.(\d{4})-(\d{2}))?$/.exec(part.trim());
    if (!m) throw new Error(`--months: "${part}" is not YYYY-MM or YYYY-MM..YYYY-MM`);
    let y = Number(m[1]);
    let mo = Number(m[2]);
    const endY = m[3] ? Number(m[3]) : y;
    const endM = m[4] ? Number(m[4]) : mo;
    if (mo < 1 || mo > 12 || endM < 1 || endM > 12)
      throw new Error(`--months: "${part}" has a month outside 01-12`);
    if (endY * 12 + endM < y * 12 + mo) throw new Error(`--months: "${part}" ends before it starts`);
    while (y * 12 + mo <= endY * 12 + endM) {
      out.push(`${y}-${pad(mo)}`);
      mo++;
      if (mo > 12) {
        mo = 1;
        y++;
      }
    }
  }
  return [...new Set(out)];
}
