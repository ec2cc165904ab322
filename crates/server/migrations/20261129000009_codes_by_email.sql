-- The UP behaviour, when a university asks for it ([smtp] codes_by_email):
-- the "ready" e-mail carries the codes. They ride in the e-mail's outbox
-- row sealed (so a retry sends the same codes and spends no further view)
-- and go with the row once it is sent; the order remembers that one view
-- went to the mailbox.
ALTER TABLE email_deliveries ADD COLUMN sealed_codes TEXT;
ALTER TABLE orders ADD COLUMN codes_emailed_at BIGINT;
