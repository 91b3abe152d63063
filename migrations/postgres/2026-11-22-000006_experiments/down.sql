DROP TABLE idempotency_records;
DROP TABLE experiment_celebrations;
DROP TABLE experiment_help_offers;
DROP TABLE experiment_comments;
DROP TABLE experiment_check_ins;
DROP TABLE experiments;
