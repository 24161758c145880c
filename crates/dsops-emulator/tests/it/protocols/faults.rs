//! Fault injection: latency, error statuses with Retry-After, dropped
//! connections, truncated and slow bodies, invalid JSON, bodies that never end.

use std::time::{Duration, Instant};

use dsops_emulator::FaultSpec;

use crate::harness;

const IMDS: &str =
    "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net";

fn imds_fault() -> FaultSpec {
    FaultSpec {
        service: Some("imds".into()),
        ..FaultSpec::default()
    }
}

async fn get(emulator: &dsops_emulator::Emulator) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
        .get(format!("{}{IMDS}", emulator.http_url().unwrap()))
        .header("Metadata", "true")
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn status_faults_wear_out_after_their_count() {
    let emulator = harness::example().await;
    emulator.faults().add(FaultSpec {
        status: Some(429),
        retry_after: Some(7),
        times: Some(2),
        ..imds_fault()
    });
    for _ in 0..2 {
        let response = get(&emulator).await.unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "7");
    }
    assert_eq!(get(&emulator).await.unwrap().status(), 200);
    let faults: Vec<_> = emulator
        .log()
        .entries()
        .iter()
        .map(|e| e.fault.clone())
        .collect();
    assert_eq!(
        faults,
        vec![
            Some("status 429".to_owned()),
            Some("status 429".to_owned()),
            None
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_delays_the_answer() {
    let emulator = harness::example().await;
    emulator.faults().add(FaultSpec {
        latency_ms: Some(300),
        times: Some(1),
        ..imds_fault()
    });
    let started = Instant::now();
    assert_eq!(get(&emulator).await.unwrap().status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_connections_and_bodies() {
    let emulator = harness::example().await;

    emulator.faults().add(FaultSpec {
        drop: true,
        times: Some(1),
        ..imds_fault()
    });
    assert!(
        get(&emulator).await.is_err(),
        "a dropped connection gives no response"
    );

    emulator.faults().add(FaultSpec {
        truncate: true,
        times: Some(1),
        ..imds_fault()
    });
    let response = get(&emulator).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body ends early");

    emulator.faults().add(FaultSpec {
        invalid_json: true,
        times: Some(1),
        ..imds_fault()
    });
    let body = get(&emulator).await.unwrap().text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "{body}"
    );

    emulator.faults().add(FaultSpec {
        slow_body_ms: Some(20),
        times: Some(1),
        ..imds_fault()
    });
    let started = Instant::now();
    let body = get(&emulator).await.unwrap().text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_ok(),
        "a slow body is complete"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );

    emulator.faults().add(FaultSpec {
        hang: true,
        times: Some(1),
        ..imds_fault()
    });
    let response = get(&emulator).await.unwrap();
    let started = Instant::now();
    assert!(
        response.bytes().await.is_err(),
        "the client's timeout ends a body that never ends"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    assert_eq!(
        get(&emulator).await.unwrap().status(),
        200,
        "all faults used up"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_adds_faults_and_reads_the_log() {
    let emulator = harness::example().await;
    let client = harness::client(&emulator, &[]);
    let admin = format!("{}/_emulator", emulator.https_url());
    let response = client
        .post(format!("{admin}/faults"))
        .json(&serde_json::json!({ "service": "imds", "status": 503, "times": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(get(&emulator).await.unwrap().status(), 503);
    let bad = client
        .post(format!("{admin}/faults"))
        .json(&serde_json::json!({ "stauts": 503 }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400, "unknown fields are refused");

    let log: serde_json::Value = client
        .get(format!("{admin}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let services: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, vec!["admin", "imds", "admin"]);
    assert_eq!(
        client
            .delete(format!("{admin}/requests"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        emulator.log().total(),
        1,
        "only the clearing request itself"
    );
}
