"""Data-quality report of taxi/monthly_summary, run by Baton through pipes (standard library only).

Usage: python3 quality_report.py SUMMARY.csv  (the CSV DuckDB exported: month,taxi_type,trips,revenue,avg_distance)
Reports metadata (rows, totals, a per-taxi-type table), the checks revenue_per_trip_in_range and
avg_distance_positive, and a value: one row per taxi type, stored by the DuckDB IO manager.
"""
import csv
import sys

import baton_pipes as bp

MIN_REVENUE_PER_TRIP, MAX_REVENUE_PER_TRIP = 2.5, 200.0

if len(sys.argv) != 2:
    sys.exit("usage: quality_report.py SUMMARY.csv")

with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
bp.log("info", f"read {len(rows)} rows of taxi/monthly_summary from {sys.argv[1]}")

by_type = {}
out_of_range = []
bad_distance = []
for row in rows:
    trips, revenue, distance = int(row["trips"]), float(row["revenue"]), float(row["avg_distance"])
    per_trip = revenue / trips if trips else 0.0
    if not MIN_REVENUE_PER_TRIP <= per_trip <= MAX_REVENUE_PER_TRIP:
        out_of_range.append(f"{row['month']} {row['taxi_type']}: {per_trip:.2f}")
    if distance <= 0:
        bad_distance.append(f"{row['month']} {row['taxi_type']}")
    t = by_type.setdefault(row["taxi_type"], {"taxi_type": row["taxi_type"], "months": 0, "trips": 0, "revenue": 0.0})
    t["months"] += 1
    t["trips"] += trips
    t["revenue"] += revenue

report = []
for t in sorted(by_type.values(), key=lambda t: t["taxi_type"]):
    t["revenue"] = round(t["revenue"], 2)
    t["revenue_per_trip"] = round(t["revenue"] / t["trips"], 2) if t["trips"] else 0.0
    report.append(t)

total_trips = sum(t["trips"] for t in report)
bp.report_metadata(summary_rows=len(rows), total_trips=total_trips,
                   total_revenue=round(sum(t["revenue"] for t in report), 2),
                   by_taxi_type=bp.table(report) if report else "no rows")
bp.report_check("revenue_per_trip_in_range", not out_of_range, out_of_range=len(out_of_range),
                examples=out_of_range[:5], min=MIN_REVENUE_PER_TRIP, max=MAX_REVENUE_PER_TRIP)
bp.report_check("avg_distance_positive", not bad_distance, bad_rows=len(bad_distance), examples=bad_distance[:5])
bp.materialize(value=report if report else None)
