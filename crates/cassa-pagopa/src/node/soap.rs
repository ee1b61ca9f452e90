//! SOAP 1.1 envelopes of paForNode, read and written safely.
//!
//! Reading refuses what a hostile caller could abuse: bodies over 1 MiB,
//! any DOCTYPE (so no entity expansion and no external entity can be
//! declared, let alone fetched), nesting deeper than 32 elements. quick-xml
//! itself never resolves entities beyond the five predefined ones.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const PA_FOR_NODE_NS: &str = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd";
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
const MAX_DEPTH: usize = 32;

/// The operations of paForNode.wsdl that cassa serves.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    VerifyPaymentNotice,
    GetPayment,
    GetPaymentV2,
    SendRt,
    SendRtV2,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::VerifyPaymentNotice,
        Operation::GetPayment,
        Operation::GetPaymentV2,
        Operation::SendRt,
        Operation::SendRtV2,
    ];

    /// The `soapAction` of the WSDL binding.
    pub fn soap_action(self) -> &'static str {
        match self {
            Operation::VerifyPaymentNotice => "paVerifyPaymentNotice",
            Operation::GetPayment => "paGetPayment",
            Operation::GetPaymentV2 => "paGetPaymentV2",
            Operation::SendRt => "paSendRT",
            Operation::SendRtV2 => "paSendRTV2",
        }
    }

    pub fn request_element(self) -> &'static str {
        match self {
            Operation::VerifyPaymentNotice => "paVerifyPaymentNoticeReq",
            Operation::GetPayment => "paGetPaymentReq",
            Operation::GetPaymentV2 => "paGetPaymentV2Request",
            Operation::SendRt => "paSendRTReq",
            Operation::SendRtV2 => "paSendRTV2Request",
        }
    }

    pub fn response_element(self) -> &'static str {
        match self {
            Operation::VerifyPaymentNotice => "paVerifyPaymentNoticeRes",
            Operation::GetPayment => "paGetPaymentRes",
            Operation::GetPaymentV2 => "paGetPaymentV2Response",
            Operation::SendRt => "paSendRTRes",
            Operation::SendRtV2 => "paSendRTV2Response",
        }
    }

    pub fn from_request_element(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|o| o.request_element() == name)
    }

    pub fn from_soap_action(action: &str) -> Option<Operation> {
        let action = action.trim().trim_matches('"');
        Self::ALL.into_iter().find(|o| o.soap_action() == action)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error("the message is larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    #[error("the message is not well-formed XML: {0}")]
    NotWellFormed(String),
    #[error("DOCTYPE declarations are not allowed")]
    Doctype,
    #[error("elements are nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("not a SOAP 1.1 envelope: {0}")]
    NotSoap(String),
    #[error("the body element {{{namespace}}}{name} is not in the paForNode namespace")]
    WrongNamespace { name: String, namespace: String },
    #[error("unknown operation {0}")]
    UnknownOperation(String),
    #[error("the SOAPAction {action:?} does not match the body element {element}")]
    ActionMismatch { action: String, element: String },
    #[error("{0}")]
    Invalid(String),
}

/// The one element inside `soapenv:Body`: its local name and its XML.
#[derive(Debug)]
pub struct BodyElement<'a> {
    pub name: String,
    /// The element's content, between its start and end tags.
    pub inner: &'a str,
}

fn well_formed(e: impl std::fmt::Display) -> SoapError {
    SoapError::NotWellFormed(e.to_string())
}

/// Finds the body element, checking the envelope on the way.
pub fn body_element(message: &[u8]) -> Result<BodyElement<'_>, SoapError> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(SoapError::TooLarge);
    }
    let text = std::str::from_utf8(message).map_err(|e| well_formed(format!("not UTF-8: {e}")))?;
    check_shape(text)?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    loop {
        match reader.read_resolved_event().map_err(well_formed)? {
            (ns, Event::Start(e)) => {
                let local = e.local_name().into_inner().to_owned();
                let namespace = match ns {
                    ResolveResult::Bound(n) => n.into_inner().to_owned(),
                    _ => String::new(),
                };
                match path.len() {
                    0 if local == "Envelope" && namespace == SOAP_ENVELOPE_NS => path.push(local),
                    0 => {
                        return Err(SoapError::NotSoap(format!(
                            "the root element is {{{namespace}}}{local}, not {{{SOAP_ENVELOPE_NS}}}Envelope"
                        )));
                    }
                    1 if local == "Header" && namespace == SOAP_ENVELOPE_NS => {
                        reader.read_to_end(e.name()).map_err(well_formed)?;
                    }
                    1 if local == "Body" && namespace == SOAP_ENVELOPE_NS => path.push(local),
                    1 => {
                        return Err(SoapError::NotSoap(format!(
                            "unexpected {{{namespace}}}{local} in the envelope"
                        )));
                    }
                    _ => {
                        if namespace != PA_FOR_NODE_NS {
                            return Err(SoapError::WrongNamespace {
                                name: local,
                                namespace,
                            });
                        }
                        let span = reader.read_to_end(e.name()).map_err(well_formed)?;
                        let inner = &text[span.start as usize..span.end as usize];
                        return Ok(BodyElement { name: local, inner });
                    }
                }
            }
            (ns, Event::Empty(e)) if path.len() == 2 => {
                let local = e.local_name().into_inner().to_owned();
                return Err(match ns {
                    ResolveResult::Bound(n) if n.into_inner() == PA_FOR_NODE_NS => {
                        SoapError::Invalid(format!("{local} is empty"))
                    }
                    ResolveResult::Bound(n) => SoapError::WrongNamespace {
                        name: local,
                        namespace: n.into_inner().to_owned(),
                    },
                    _ => SoapError::WrongNamespace {
                        name: local,
                        namespace: String::new(),
                    },
                });
            }
            (_, Event::End(_)) => {
                return Err(SoapError::NotSoap("the Body has no element".into()));
            }
            (_, Event::Eof) => return Err(SoapError::NotSoap("no Envelope/Body found".into())),
            _ => {}
        }
    }
}

/// One pass over the whole document: well-formed, no DOCTYPE, not too deep.
fn check_shape(text: &str) -> Result<(), SoapError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        match reader.read_event().map_err(well_formed)? {
            Event::DocType(_) => return Err(SoapError::Doctype),
            Event::Start(_) => {
                if depth == 0 && seen_root {
                    return Err(well_formed("more than one root element"));
                }
                seen_root = true;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SoapError::TooDeep);
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) if depth == 0 && !t.clone().into_inner().trim().is_empty() => {
                return Err(well_formed("text outside the root element"));
            }
            Event::GeneralRef(r) => {
                // Only the predefined entities and character references.
                let name = r.into_inner().to_string();
                let predefined = ["lt", "gt", "amp", "apos", "quot"].contains(&name.as_str());
                if !predefined && !name.starts_with('#') {
                    return Err(well_formed(format!("unknown entity &{name};")));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(well_formed("no root element"));
    }
    Ok(())
}

/// Deserializes the content of a body element, naming the path of a
/// missing or malformed field.
pub fn decode<T: DeserializeOwned>(element: &BodyElement<'_>) -> Result<T, SoapError> {
    let wrapped = format!("<{0}>{1}</{0}>", element.name, element.inner);
    let mut deserializer = quick_xml::de::Deserializer::from_str(&wrapped);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            SoapError::Invalid(inner)
        } else {
            SoapError::Invalid(format!("{path}: {inner}"))
        }
    })
}

/// Reads a message whose body must be `expected` (a response, for clients).
pub fn read_message<T: DeserializeOwned>(message: &[u8], expected: &str) -> Result<T, SoapError> {
    let element = body_element(message)?;
    if element.name != expected {
        return Err(SoapError::Invalid(format!(
            "expected {expected}, found {}",
            element.name
        )));
    }
    decode(&element)
}

/// The element `paf:<element>` alone, declaring its namespace.
pub fn write_body(element: &str, body: &impl Serialize) -> String {
    let root = format!("paf:{element}");
    let xml = quick_xml::se::to_string_with_root(&root, body)
        .expect("paForNode messages always serialize");
    // The serializer writes `<paf:x>` or `<paf:x/>`; declare the prefix there.
    xml.replacen(&root, &format!("{root} xmlns:paf=\"{PA_FOR_NODE_NS}\""), 1)
}

/// Writes a SOAP envelope around `body`, as `paf:<element>`.
pub fn write_message(element: &str, body: &impl Serialize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{SOAP_ENVELOPE_NS}\">\
         <soapenv:Header/><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>",
        write_body(element, body)
    )
}

/// A SOAP 1.1 Fault, for requests too broken to name an operation.
/// `code` is `Client` (the request is wrong) or `Server`.
pub fn write_soap_fault(code: &str, message: &str) -> String {
    let message = quick_xml::escape::escape(message);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{SOAP_ENVELOPE_NS}\"><soapenv:Body><soapenv:Fault>\
         <faultcode>soapenv:{code}</faultcode><faultstring>{message}</faultstring>\
         </soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
}
