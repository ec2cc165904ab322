-- A notice's kind has one spelling everywhere (the push payload's `type`):
-- a status change is 'order_status', as the wire's NoticeKind names it.
UPDATE notices SET kind = 'order_status' WHERE kind = 'status';
