-- Who removed a member (null when they left by themselves): removal bars rejoining by invite link.
ALTER TABLE memberships ADD COLUMN removed_by TEXT;
