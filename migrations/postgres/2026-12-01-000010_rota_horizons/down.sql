DROP TABLE rota_horizons;
