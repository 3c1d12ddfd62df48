-- One month of trips per day: both taxi types (the month's two
-- taxi/clean_trips partitions).
-- description: Trips and revenue per day and taxi type (a month reads both taxi types of that month).
-- group: reports
-- partitions: months
-- partition_column: day
-- check: not_null(day)
-- check: accepted_values(taxi_type, ['yellow', 'green'])
-- check_warn: row_count > 0
select cast(pickup_datetime as DATE) as day, taxi_type,
       count(*)::BIGINT as trips,
       round(sum(total_amount), 2) as revenue,
       round(sum(fare_amount), 2) as fares,
       round(avg(trip_distance), 3) as avg_distance
from {{ ref('taxi/clean_trips') }}
where pickup_datetime >= {{ partition.start }}
  and pickup_datetime < {{ partition.end }}
group by all
order by all
