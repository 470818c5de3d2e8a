-- Disclosures: legal process, partner shares and transfers.
SELECT
  r.req_id AS disclosure_id,
  r.req_type AS kind,
  r.requesting_party AS requester,
  r.docket_no AS authority_ref,
  r.received_at,
  r.due_at,
  r.answered_at AS responded_at,
  r.state AS status,
  r.approver AS approved_by,
  r.gag_until AS nondisclosure_until,
  r.customers_notified_at AS subjects_notified_at,
  r.scope AS requested_categories,
  r.nda_ref AS agreement_ref
FROM legal_requests r
