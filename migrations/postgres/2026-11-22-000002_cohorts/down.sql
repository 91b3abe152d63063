DROP TABLE personal_access_tokens;
DROP TABLE invite_links;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE cohorts;
