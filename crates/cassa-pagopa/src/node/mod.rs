//! pagoPA's node ↔ EC interface (paForNode.wsdl, Modello 3): the messages,
//! their SOAP envelopes and the faults. Used by cassa's endpoint and by
//! pagopa-sim, which plays the node.

pub mod check;
pub mod fault;
pub mod model;
pub mod soap;

pub use fault::FaultCode;
pub use soap::{Operation, SoapError};
