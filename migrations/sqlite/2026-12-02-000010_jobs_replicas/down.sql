DROP TABLE coaching_cycles;
ALTER TABLE outbound_mail DROP COLUMN claim_token;
DROP TABLE job_leases;
