-- Subjects: the retailer's customers; employee_no marks staff who are customers too.
SELECT
  c.customer_id AS subject_id,
  c.first_name || ' ' || c.last_name AS display_name,
  c.email,
  c.phone,
  c.street || COALESCE(', ' || c.city, '') AS postal_address,
  c.last_name AS family_name,
  CASE WHEN c.country IN ('US', 'CA') THEN c.country || '-' || c.region ELSE c.country END AS jurisdiction,
  c.tier = 'vip' AS is_vip,
  c.employee_no AS staff_id
FROM customers c
