-- Relationships: support tickets, private-client books and orders being picked.
SELECT t.agent_no AS staff_id, t.customer_id AS subject_id, 'ticket' AS kind,
       t.ticket_no AS reference, t.opened_at AS valid_from, t.closed_at AS valid_to
FROM support_tickets t
UNION ALL
SELECT b.emp_no, b.customer_id, 'account_manager', NULL, b.assigned_at, b.released_at
FROM client_book b
UNION ALL
SELECT o.picker_no, o.customer_id, 'order', o.order_no, o.placed_at, o.shipped_at
FROM orders o
