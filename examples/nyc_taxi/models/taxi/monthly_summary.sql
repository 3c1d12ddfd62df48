-- Every cleaned trip (all months, both taxi types).
-- taxi/quality_report (Python, via pipes) reads this table.
-- description: Trips and revenue per month and taxi type.
-- group: reports
-- check: row_count > 0
-- check: accepted_values(taxi_type, ['yellow', 'green'])
select strftime(pickup_datetime, '%Y-%m') as month, taxi_type,
       count(*)::BIGINT as trips,
       round(sum(total_amount), 2) as revenue,
       round(avg(trip_distance), 3) as avg_distance
from {{ ref('taxi/clean_trips') }}
group by all
order by all
