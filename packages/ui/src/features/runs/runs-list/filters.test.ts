import { describe, expect, it } from "vitest";
import { apiMessage, fieldOfApiError, isFiltered, paramsWith, parseDate, parseFilters } from "./filters";

const parse = (qs: string) => parseFilters(new URLSearchParams(qs));

describe("runs list filters from the URL", () => {
  it("reads every filter and turns it into API parameters", () => {
    const p = parse(
      "status=failed,QUEUED,running&asset=taxi/trips&tag=team=data&backfill=b1&createdAfter=2024-03-01T00:00:00Z&limit=20",
    );
    expect(p.problems).toEqual([]);
    expect(p.filters.status).toEqual(["QUEUED", "STARTED", "FAILURE"]);
    expect(p.query).toEqual({
      limit: 20,
      status: "QUEUED,STARTED,FAILURE",
      asset: "taxi/trips",
      tag: "team=data",
      backfill: "b1",
      createdAfter: "2024-03-01T00:00:00.000Z",
    });
    expect(isFiltered(p.filters)).toBe(true);
    expect(isFiltered(parse("limit=10").filters)).toBe(false);
  });

  it("names the filter of every bad value", () => {
    const p = parse(
      "status=failed,exploded&createdAfter=yesterday&createdBefore=2024-02-31&limit=0&sensor=s&schedule=t",
    );
    const fields = p.problems.map((x) => x.field);
    expect(fields).toEqual(["status", "createdAfter", "createdBefore", "limit", "sensor"]);
    expect(p.problems[0]!.message).toContain('Status: "exploded" is not a run status');
    expect(p.problems[1]!.message).toContain('Created after: "yesterday" is not a date');
    expect(p.problems[3]!.message).toContain("Page size");
    expect(p.problems[4]!.message).toContain("give only one of Tag, Sensor and Schedule");
  });

  it("refuses a window that ends before it starts", () => {
    const p = parse("createdAfter=2024-03-02&createdBefore=2024-03-01");
    expect(p.problems.map((x) => x.field)).toEqual(["createdBefore"]);
  });

  it("parses days and local times, and ISO times with offsets", () => {
    expect(parseDate("2024-03-01")).toBe(new Date(2024, 2, 1).getTime());
    expect(parseDate("2024-03-01T14:30")).toBe(new Date(2024, 2, 1, 14, 30).getTime());
    expect(parseDate("2024-03-01T14:30:00+02:00")).toBe(Date.UTC(2024, 2, 1, 12, 30));
    expect(parseDate("2024-13-01")).toBeUndefined();
    expect(parseDate("1709251200")).toBeUndefined();
  });

  it("writes changes back, keeping other parameters and dropping empty ones", () => {
    const next = paramsWith(new URLSearchParams("asset=a&x=1"), {
      status: ["FAILURE", "CANCELED"],
      asset: "",
    });
    expect(next.toString()).toBe("x=1&status=failed%2Ccanceled");
    expect(parse(next.toString()).filters.status).toEqual(["FAILURE", "CANCELED"]);
    expect(paramsWith(new URLSearchParams("limit=20"), { limit: 50 }).toString()).toBe("");
  });

  it("maps the API's 400 field to a filter", () => {
    expect(fieldOfApiError("query.tag")).toBe("tag");
    expect(fieldOfApiError("query.createdAfter")).toBe("createdAfter");
    expect(fieldOfApiError("query.toString")).toBeUndefined();
    expect(fieldOfApiError(undefined)).toBeUndefined();
    expect(apiMessage("query.tag: Too big", "query.tag")).toBe("Too big");
  });
});
