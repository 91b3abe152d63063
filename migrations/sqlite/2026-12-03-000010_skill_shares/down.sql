DROP TABLE skill_share_signups;
DROP TABLE skill_shares;
ALTER TABLE cohorts DROP COLUMN skill_shares_need_approval;
