//! The bulk file formats enti already use ("tracciati"): read and written
//! unchanged (see docs/TRACCIATI.md in the shared docs). Pure: the caller
//! reads the CSV and the ZIP.

pub mod mypay;
