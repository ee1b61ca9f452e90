//! The faults an EC answers to the node (SANP error table). They travel in
//! the response body, `outcome` KO with a `fault` bean, over HTTP 200.

use super::model::FaultBean;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FaultCode {
    PagamentoSconosciuto,
    PagamentoDuplicato,
    PagamentoScaduto,
    PagamentoAnnullato,
    PagamentoInCorso,
    Semantica,
    IdDominioErrato,
    IdIntermediarioErrato,
    StazioneIntErrata,
    SintassiExtraxsd,
    ReceiptDuplicata,
    SystemError,
}

impl FaultCode {
    pub const ALL: [FaultCode; 12] = [
        FaultCode::PagamentoSconosciuto,
        FaultCode::PagamentoDuplicato,
        FaultCode::PagamentoScaduto,
        FaultCode::PagamentoAnnullato,
        FaultCode::PagamentoInCorso,
        FaultCode::Semantica,
        FaultCode::IdDominioErrato,
        FaultCode::IdIntermediarioErrato,
        FaultCode::StazioneIntErrata,
        FaultCode::SintassiExtraxsd,
        FaultCode::ReceiptDuplicata,
        FaultCode::SystemError,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FaultCode::PagamentoSconosciuto => "PAA_PAGAMENTO_SCONOSCIUTO",
            FaultCode::PagamentoDuplicato => "PAA_PAGAMENTO_DUPLICATO",
            FaultCode::PagamentoScaduto => "PAA_PAGAMENTO_SCADUTO",
            FaultCode::PagamentoAnnullato => "PAA_PAGAMENTO_ANNULLATO",
            FaultCode::PagamentoInCorso => "PAA_PAGAMENTO_IN_CORSO",
            FaultCode::Semantica => "PAA_SEMANTICA",
            FaultCode::IdDominioErrato => "PAA_ID_DOMINIO_ERRATO",
            FaultCode::IdIntermediarioErrato => "PAA_ID_INTERMEDIARIO_ERRATO",
            FaultCode::StazioneIntErrata => "PAA_STAZIONE_INT_ERRATA",
            FaultCode::SintassiExtraxsd => "PAA_SINTASSI_EXTRAXSD",
            FaultCode::ReceiptDuplicata => "PAA_RECEIPT_DUPLICATA",
            FaultCode::SystemError => "PAA_SYSTEM_ERROR",
        }
    }

    /// The fault string of the SANP error table.
    pub fn fault_string(self) -> &'static str {
        match self {
            FaultCode::PagamentoSconosciuto => {
                "Pagamento in attesa risulta sconosciuto all’Ente Creditore."
            }
            FaultCode::PagamentoDuplicato => {
                "Pagamento in attesa risulta concluso all’Ente Creditore."
            }
            FaultCode::PagamentoScaduto => {
                "Pagamento in attesa risulta scaduto all’Ente Creditore."
            }
            FaultCode::PagamentoAnnullato => {
                "Pagamento in attesa risulta annullato all’Ente Creditore."
            }
            FaultCode::PagamentoInCorso => {
                "Pagamento in attesa risulta in corso all’Ente Creditore."
            }
            FaultCode::Semantica => "Errore semantico.",
            FaultCode::IdDominioErrato => "La PAA non corrisponde al Dominio indicato.",
            FaultCode::IdIntermediarioErrato => "Identificativo intermediario non corrispondente.",
            FaultCode::StazioneIntErrata => "Stazione intermediario non corrispondente.",
            FaultCode::SintassiExtraxsd => "Errore di sintassi extra XSD.",
            FaultCode::ReceiptDuplicata => "Receipt già ricevuta dall’Ente Creditore.",
            FaultCode::SystemError => "Errore generico.",
        }
    }

    pub fn parse(code: &str) -> Option<FaultCode> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The bean: `id` is the ente that answers (idPA), `description` says
    /// what exactly went wrong.
    pub fn bean(self, id_pa: &str, description: impl Into<String>) -> FaultBean {
        FaultBean {
            fault_code: self.code().to_owned(),
            fault_string: self.fault_string().to_owned(),
            id: id_pa.to_owned(),
            description: Some(description.into()),
            serial: None,
        }
    }
}
