-- Access events: the application's audit log, one window at a time.
SELECT
  a.log_id AS event_id,
  a.logged_at AS occurred_at,
  a.emp_no AS staff_id,
  a.customer_id AS subject_id,
  a.op AS action,
  a.dataset AS data_category,
  a.reason AS purpose,
  a.case_ref AS reference,
  a.src_ip AS client_ip,
  a.row_count AS record_count
FROM access_audit a
WHERE a.logged_at >= ?1 AND a.logged_at < ?2
