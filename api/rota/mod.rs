//! The rota: duty roles, absences, fair assignment of duties, swaps and cover, coaching pairs.

pub mod plan;
