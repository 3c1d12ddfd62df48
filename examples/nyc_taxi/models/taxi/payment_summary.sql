-- Every cleaned trip by payment type (codes 0 and 5 are both
-- "Unknown" in the TLC lookup: one row).
-- description: Trips and tips per payment type.
-- group: reports
-- check: unique(payment)
select p.description as payment,
       count(*)::BIGINT as trips,
       round(sum(t.tip_amount), 2) as tips
from {{ ref('taxi/clean_trips') }} t
left join {{ ref('taxi/payment_types') }} p using (payment_type)
group by all
order by trips desc
