DROP TABLE coaching_pairs;
DROP TABLE swap_requests;
DROP TABLE assignments;
DROP TABLE absences;
DROP TABLE duty_roles;
