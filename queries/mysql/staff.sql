-- Staff: the retailer's employees. Job families map onto policy roles.
SELECT
  e.emp_no AS staff_id,
  CONCAT(e.first_name, ' ', e.last_name) AS display_name,
  CASE e.job_family
    WHEN 'Customer Care' THEN 'support'
    WHEN 'Private Client' THEN 'client_manager'
    WHEN 'Privacy Office' THEN 'privacy'
    ELSE LOWER(e.job_family)
  END AS role,
  e.department,
  e.work_email AS email,
  e.last_name AS family_name,
  e.home_address AS postal_address,
  e.db_login AS db_user,
  e.hired_on AS hired_at,
  e.left_at AS terminated_at
FROM employees e
