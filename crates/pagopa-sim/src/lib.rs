//! pagopa-sim: plays the pagoPA node and the PSPs against an EC (cassa),
//! faithfully to the official paForNode interface, and checks every answer
//! against the spec, failing loudly when the EC is wrong. It also plays
//! pagoPA Checkout (`checkout`) and, for the portal's logins, an OpenID
//! Connect provider standing in for the SPID, CIE, CNS and eIDAS gateways
//! (`oidc`).

pub mod api;
pub mod checkout;
pub mod client;
pub mod flow;
pub mod load;
pub mod load_import;
pub mod oidc;
pub mod rules;
pub mod xsd;

pub use client::{CallError, NodeAuth, NodeClient, Station};
pub use flow::{Paid, PayError, Psp, RetryPolicy, pay_notice};
