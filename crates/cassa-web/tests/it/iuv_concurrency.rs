use std::collections::HashSet;

use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};

use crate::{TestApp, position_body};

backend_tests!(twenty_concurrent_creators_get_distinct_iuvs);

const CREATORS: usize = 20;
const EACH: usize = 10;

/// 20 clients create positions at once over HTTP, each with two generated
/// IUVs: every IUV handed out is distinct.
async fn twenty_concurrent_creators_get_distinct_iuvs(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::start(backend).await);
    let mut tasks = Vec::new();
    for creator in 0..CREATORS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut iuvs = Vec::new();
            for n in 0..EACH {
                let body = position_body(&format!("C{creator}-{n}"), &[&[100], &[200]]);
                let reply = app.call(Method::POST, &app.positions(), Some(&body)).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
                for option in reply.body["paymentOption"].as_array().unwrap() {
                    iuvs.push(option["iuv"].as_str().unwrap().to_owned());
                }
            }
            iuvs
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), CREATORS * EACH * 2);
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an IUV was handed out twice");
}
