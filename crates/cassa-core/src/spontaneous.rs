//! The spontaneous-payment form of a tipo dovuto: the fields an ente
//! configures (stored as JSON with the tipo dovuto), and the check of what
//! a citizen typed into them. Each problem names its field.

use serde::{Deserialize, Serialize};

use crate::fiscal_code::DebtorId;

/// Longest value any field accepts.
pub const MAX_VALUE_CHARS: usize = 200;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    #[default]
    Text,
    /// Digits only (a licence plate number is text, a year is a number).
    Number,
    /// A calendar date, yyyy-mm-dd.
    Date,
    /// A codice fiscale or partita IVA, check digits included.
    FiscalCode,
    Email,
}

/// One field, as the back office's form builder stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// The key the value is kept under (metadata of the debt).
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, rename = "type")]
    pub kind: FieldKind,
    /// A hint shown under the field.
    #[serde(default)]
    pub help: Option<String>,
    /// A regular expression the whole value must match (e.g. a licence
    /// plate `[A-Z]{2}[0-9]{3}[A-Z]{2}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// What is wrong with one value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    Required,
    TooLong,
    NotANumber,
    NotADate,
    NotAFiscalCode,
    NotAnEmail,
    /// Not in the format the field's pattern asks for.
    Pattern,
}

/// Longest pattern the form builder accepts.
pub const MAX_PATTERN_CHARS: usize = 200;

/// Checks a pattern for the form builder: it must compile, and stay small.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("at most {MAX_PATTERN_CHARS} characters"));
    }
    whole_match(pattern).map(|_| ()).map_err(|e| e.to_string())
}

fn whole_match(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
}

/// The fields of a stored form definition; entries that do not read as a
/// field (a back-office bug) are left out rather than breaking the page.
pub fn fields_of(definition: &serde_json::Value) -> Vec<FormField> {
    definition
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| serde_json::from_value::<FormField>(item.clone()).ok())
                .filter(|f| !f.name.trim().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `text` looks like an e-mail address: one `@`, a local part, a
/// dotted domain, no spaces.
pub fn plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && text.len() <= 254
        && !text.chars().any(char::is_whitespace)
}

impl FormField {
    /// Checks one typed value (already trimmed).
    pub fn check(&self, value: &str) -> Result<(), FieldProblem> {
        if value.is_empty() {
            return if self.required {
                Err(FieldProblem::Required)
            } else {
                Ok(())
            };
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(FieldProblem::TooLong);
        }
        match self.kind {
            FieldKind::Text => Ok(()),
            FieldKind::Number if value.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
            FieldKind::Number => Err(FieldProblem::NotANumber),
            FieldKind::Date => value
                .parse::<jiff::civil::Date>()
                .map(|_| ())
                .map_err(|_| FieldProblem::NotADate),
            FieldKind::FiscalCode => match DebtorId::parse(&value.to_uppercase()) {
                Ok(DebtorId::Anonymous) | Err(_) => Err(FieldProblem::NotAFiscalCode),
                Ok(_) => Ok(()),
            },
            FieldKind::Email if plausible_email(value) => Ok(()),
            FieldKind::Email => Err(FieldProblem::NotAnEmail),
        }?;
        match self.pattern.as_deref().filter(|p| !p.is_empty()) {
            // A pattern that does not compile was refused when saved; if one
            // slips through, the value is not held hostage to it.
            Some(pattern) => match whole_match(pattern) {
                Ok(re) if !re.is_match(value) => Err(FieldProblem::Pattern),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definitions_read_with_defaults_and_skip_junk() {
        let fields = fields_of(&json!([
            { "name": "alunno", "label": "Alunno", "required": true },
            { "name": "anno", "label": "Anno", "type": "number", "help": "es. 2026" },
            { "label": "no name" },
            "junk"
        ]));
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].kind, FieldKind::Text);
        assert!(fields[0].required);
        assert_eq!(fields[1].kind, FieldKind::Number);
        assert_eq!(fields[1].help.as_deref(), Some("es. 2026"));
        assert!(fields_of(&json!({})).is_empty());
    }

    #[test]
    fn values_are_checked_by_kind() {
        let field = |kind, required| FormField {
            name: "f".into(),
            label: "F".into(),
            required,
            kind,
            help: None,
            pattern: None,
        };
        assert_eq!(
            field(FieldKind::Text, true).check(""),
            Err(FieldProblem::Required)
        );
        assert_eq!(field(FieldKind::Text, false).check(""), Ok(()));
        assert_eq!(
            field(FieldKind::Text, false).check(&"x".repeat(201)),
            Err(FieldProblem::TooLong)
        );
        assert_eq!(field(FieldKind::Number, true).check("2026"), Ok(()));
        assert_eq!(
            field(FieldKind::Number, true).check("20a6"),
            Err(FieldProblem::NotANumber)
        );
        assert_eq!(
            field(FieldKind::Date, true).check("2026-02-30"),
            Err(FieldProblem::NotADate)
        );
        assert_eq!(field(FieldKind::Date, true).check("2026-02-28"), Ok(()));
        assert_eq!(
            field(FieldKind::FiscalCode, true).check("rssmra85t10a562s"),
            Ok(())
        );
        assert_eq!(
            field(FieldKind::FiscalCode, true).check("RSSMRA85T10A562X"),
            Err(FieldProblem::NotAFiscalCode)
        );
        assert_eq!(field(FieldKind::Email, true).check("a@b.it"), Ok(()));
        assert_eq!(
            field(FieldKind::Email, true).check("a@b"),
            Err(FieldProblem::NotAnEmail)
        );
    }

    #[test]
    fn a_pattern_must_match_the_whole_value() {
        let plate = FormField {
            name: "targa".into(),
            label: "Targa".into(),
            required: false,
            kind: FieldKind::Text,
            help: None,
            pattern: Some("[A-Z]{2}[0-9]{3}[A-Z]{2}".into()),
        };
        assert_eq!(plate.check("FX123YZ"), Ok(()));
        assert_eq!(plate.check("xFX123YZ"), Err(FieldProblem::Pattern));
        assert_eq!(plate.check("FX123Y"), Err(FieldProblem::Pattern));
        assert_eq!(plate.check(""), Ok(()), "an empty optional field is fine");
        assert!(check_pattern("[A-Z]{2}").is_ok());
        assert!(check_pattern("[A-Z").is_err());
        assert!(check_pattern(&"a".repeat(201)).is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(plausible_email("mario.rossi@example.org"));
        for bad in [
            "",
            "mario",
            "@example.org",
            "mario@org",
            "mario@.org",
            "ma rio@example.org",
            "a@b@c.org",
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }
}
