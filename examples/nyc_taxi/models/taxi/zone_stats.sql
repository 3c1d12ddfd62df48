-- Pickup zones of one month (the rows carry it in _partition).
-- description: Pickups, revenue and average fare per pickup zone and month.
-- group: reports
-- partitions: months
-- check: not_null(zone)
-- check_warn: row_count > 0
select z.borough, z.zone,
       count(*)::BIGINT as pickups,
       round(sum(t.total_amount), 2) as revenue,
       round(avg(t.fare_amount), 2) as avg_fare
from {{ ref('taxi/clean_trips') }} t
join {{ ref('taxi/zones') }} z on t.pu_location_id = z.location_id
where t.pickup_datetime >= {{ partition.start }}
  and t.pickup_datetime < {{ partition.end }}
group by all
order by pickups desc, z.zone
