//! pagopa-sim: plays the pagoPA node and the PSPs against an EC (cassa),
//! faithfully to the official paForNode interface, and checks every answer
//! against the spec, failing loudly when the EC is wrong.

pub mod api;
pub mod checkout;
pub mod client;
pub mod flow;
pub mod load;
pub mod rules;
pub mod xsd;

pub use client::{CallError, NodeClient, Station};
pub use flow::{Paid, PayError, Psp, RetryPolicy, pay_notice};
