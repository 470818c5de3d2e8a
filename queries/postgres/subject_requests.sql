-- Subject requests: opt-outs, deletions, access and correction requests.
SELECT
  p.ticket AS request_id,
  p.customer_id AS subject_id,
  p.req_type AS kind,
  p.via AS channel,
  p.received_at,
  p.done_at AS completed_at,
  p.outcome AS status
FROM privacy_requests p
