//! pagoPA's wire formats and their mapping to cassa's domain types.
//!
//! - [`gpd`]: the JSON models of the debt-position API (GPD), which cassa
//!   serves unchanged so that software written for GPD works against it.

pub mod gpd;
pub mod node;
pub mod time;
