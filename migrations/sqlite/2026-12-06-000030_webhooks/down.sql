DELETE FROM stream_cursors WHERE name = 'webhooks';
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
