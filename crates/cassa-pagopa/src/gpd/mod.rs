//! GPD, pagoPA's debt-position service: the request and response bodies of
//! its REST API (../shared/specs/pagopa/pagopa-api/openapi/gpd.json) and
//! the error titles clients may match on.

pub mod model;
pub mod to_domain;

pub use model::*;
pub use to_domain::{EnteContext, to_draft};

/// GPD's error titles, kept verbatim: clients may match on them.
pub mod titles {
    pub const BAD_REQUEST: &str = "BAD REQUEST";
    pub const REQUEST_DATA_ERROR: &str = "Error in the debt position request data";
    pub const UNIQUE_VIOLATION: &str = "The debt position violated constraints of uniqueness";
    pub const NOT_FOUND: &str = "Not found the debt position";
    pub const PAYMENT_FOUND: &str = "Existing related payment found";
    pub const NOT_UPDATABLE: &str = "Existing related payment found or not in updatable state";
    pub const NOT_PUBLISHABLE: &str = "Existing related payment found or not in publishable state";
    pub const NOT_INVALIDABLE: &str = "Existing related payment found or not in invalidable state";
    pub const PUBLISH_VALIDITY_DATE_MISMATCH: &str =
        "Publish request occurred after the validity date began";
    pub const PUBLISH_DUE_DATE_MISMATCH: &str =
        "Publish request occurred after the due date of a payment options has expired";
    pub const PUBLISH_DUE_DATE_BEFORE_VALIDITY_DATE: &str =
        "The due date of a payment option is before the validity date";
    pub const NOT_RECOVERABLE: &str = "The debt positions cannot be recovered";
    pub const EXCLUSIVE_PARAMETERS: &str = "Exclusive Parameters";
    pub const UNAUTHORIZED: &str = "Unauthorized";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL SERVER ERROR";
    /// cassa's own: the notice and receipt PDFs, which GPD does not serve.
    pub const NO_DOCUMENT: &str = "No document for the debt position in its state";
    pub const NOT_PRINTABLE: &str = "The document cannot be printed";
    /// cassa's own: a notice of the position is being paid (GPD leaves
    /// this to the node, which cannot know the ente changed the debt).
    pub const PAYMENT_IN_PROGRESS: &str = "A payment of the debt position is in progress";
}
