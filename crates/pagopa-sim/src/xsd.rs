//! Validation of the EC's answers against the official XSDs, with xmllint
//! (Debian's libxml2-utils). The schemas travel inside the binary and are
//! written to a temporary directory, keeping their relative imports.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use cassa_pagopa::node::soap::{PA_FOR_NODE_NS, body_element};

const PA_FOR_NODE: &str = include_str!("../../cassa-pagopa/pagopa-api/wsdl/xsd/paForNode.xsd");
const COMMON_TYPES: &str =
    include_str!("../../cassa-pagopa/pagopa-api/xsd-common/sac-common-types-1.0.xsd");
const ENVELOPE: &str = include_str!("../../cassa-pagopa/pagopa-api/xsd-common/envelope.xsd");

pub struct XsdValidator {
    dir: tempfile::TempDir,
}

impl XsdValidator {
    /// Fails when xmllint is not installed.
    pub fn new() -> Result<Self, String> {
        let probe = Command::new("xmllint").arg("--version").output();
        if !probe.is_ok_and(|o| o.status.success()) {
            return Err("xmllint is not installed (Debian: apt-get install libxml2-utils); or turn XSD checks off".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (path, text) in [
            ("wsdl/xsd/paForNode.xsd", PA_FOR_NODE),
            ("xsd-common/sac-common-types-1.0.xsd", COMMON_TYPES),
            ("xsd-common/envelope.xsd", ENVELOPE),
        ] {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().expect("a file in a folder"))
                .map_err(|e| e.to_string())?;
            std::fs::write(&file, text).map_err(|e| e.to_string())?;
        }
        Ok(XsdValidator { dir })
    }

    fn schema(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    fn xmllint(&self, schema: &str, document: &str) -> Result<(), String> {
        let mut child = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(self.schema(schema))
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run xmllint: {e}"))?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(document.as_bytes())
            .map_err(|e| e.to_string())?;
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr)
                .trim()
                .replace("-:", "line "))
        }
    }

    /// Checks the envelope, then the body element against paForNode.xsd.
    pub fn check_answer(&self, message: &str) -> Result<(), String> {
        self.xmllint("xsd-common/envelope.xsd", message)?;
        let element = body_element(message.as_bytes()).map_err(|e| e.to_string())?;
        let standalone = format!(
            "<paf:{0} xmlns:paf=\"{PA_FOR_NODE_NS}\">{1}</paf:{0}>",
            element.name, element.inner
        );
        self.xmllint("wsdl/xsd/paForNode.xsd", &standalone)
    }
}
