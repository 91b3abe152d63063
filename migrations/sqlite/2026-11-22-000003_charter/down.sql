DROP TABLE charter_review_notices;
DROP TABLE charter_reviews;
DROP TABLE charter_acceptances;
DROP TABLE charter_endorsements;
DROP TABLE charter_comments;
DROP TABLE charter_versions;
