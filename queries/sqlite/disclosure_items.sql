-- Disclosure items: which customer's data of which kind went out, and when.
SELECT
  i.req_id AS disclosure_id,
  i.customer_id AS subject_id,
  i.dataset AS data_category,
  i.sent_at AS disclosed_at
FROM legal_request_records i
