//! Checks answers against pagoPA's official GPD contract (gpd.json, shipped
//! verbatim in crates/cassa-web/openapi): the status code must be one the
//! operation documents, and a body with a documented schema must match it,
//! formats included.

use std::sync::OnceLock;

use serde_json::Value;

fn contract() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(include_str!("../../../cassa-api/openapi/gpd.json")).unwrap()
    })
}

/// Asserts that `body`, answered with `status` by `method path`, is what the
/// official contract allows.
pub fn assert_conforms(method: &str, path: &str, status: u16, body: &Value) {
    let doc = contract();
    let operation = &doc["paths"][path][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not in gpd.json");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which gpd.json does not document; body {body}"
    );
    let content = &response["content"]["application/json"];
    if let Some(schema) = content.get("schema") {
        // The whole document is the root, so #/components/... refs resolve.
        let mut root = doc.clone();
        root.as_object_mut()
            .unwrap()
            .insert("$ref".into(), schema["$ref"].clone());
        let schema = if schema.get("$ref").is_some() {
            root
        } else {
            schema.clone()
        };
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:#?}\nbody: {body:#}"
        );
    } else if let Some(example) = content.get("example") {
        // 403 documents only an example: match its shape.
        for key in example.as_object().unwrap().keys() {
            assert!(
                body.get(key).is_some(),
                "{method} {path} {status}: missing {key} in {body}"
            );
        }
    }
}
