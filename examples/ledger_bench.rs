//! The ledger at a real size: a campaign of 50,000 items and 50,000 earlier
//! verdicts (100,001 entries), then 200 `decide` calls as the command line
//! makes them (open, check the item, append, sync, close) and a full
//! `ledger verify`. Run with `cargo run --release --example ledger_bench`;
//! give a keyhole binary as the first argument to also time whole `keyhole
//! review decide` processes.

use std::time::Instant;

use keyhole::ledger::review::NewCampaign;
use keyhole::ledger::{Ledger, VerdictKind, verify_chain};
use serde_json::json;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let n = 50_000;
    let started = Instant::now();
    let mut l = Ledger::open(&path).await.unwrap();
    let items = (0..n)
        .map(|i| {
            (
                format!("no_relationship/e:{i}"),
                json!({"rule": "no_relationship", "severity": "high", "staff_id": "104",
                       "event_ids": [i.to_string()], "detail": "a flag", "key": format!("no_relationship/e:{i}")}),
            )
        })
        .collect();
    let id = l
        .start_campaign(NewCampaign {
            name: "bench".into(),
            window: (
                "2026-01-01T00:00:00Z".into(),
                "2026-04-01T00:00:00Z".into(),
                "2026-04-01T00:00:00Z".into(),
            ),
            filters: json!({}),
            source: json!({"dialect": "sqlite", "database": "bench"}),
            policy_sha256: "0".repeat(64),
            query_sha256: Default::default(),
            items,
        })
        .await
        .unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let v: Vec<(&str, serde_json::Value)> = chunk
            .iter()
            .map(|i| ("verdict", json!({"campaign": id, "key": format!("no_relationship/e:{i}"),
                                        "verdict": "needs_follow_up", "note": null, "follow_up": null})))
            .collect();
        l.append(&v).await.unwrap();
    }
    l.close().await;
    println!(
        "built {} entries in {:.1} s",
        2 * n + 1,
        started.elapsed().as_secs_f64()
    );

    let mut times = Vec::new();
    for i in 0..200 {
        let t = Instant::now();
        let mut l = Ledger::open(&path).await.unwrap();
        l.decide(
            id,
            &format!("no_relationship/e:{}", i * 97 % n),
            VerdictKind::Justified,
            Some("bench"),
            None,
        )
        .await
        .unwrap();
        l.close().await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "decide (open, check, append, sync, close): median {:.2} ms, p95 {:.2} ms",
        pct(&mut times, 0.5),
        pct(&mut times, 0.95)
    );

    // The dashboard's verdict key: from the key's request to the saved answer,
    // through the same ledger writer task the dashboard runs.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let writer = keyhole::tui::spawn_ledger(path.clone(), tx);
    let mut times = Vec::new();
    for i in 0..200 {
        let t = Instant::now();
        writer
            .send(keyhole::tui::reveal::LedgerWrite::Verdict {
                campaign: id,
                key: format!("no_relationship/e:{}", i * 53 % n),
                kind: VerdictKind::Escalated,
                note: None,
                follow_up: None,
            })
            .unwrap();
        match rx.recv().await {
            Some(keyhole::tui::action::Action::VerdictRecorded { result, .. }) => {
                result.unwrap();
            }
            other => panic!("{other:?}"),
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(writer);
    println!(
        "dashboard verdict key to saved: median {:.2} ms, p95 {:.2} ms",
        pct(&mut times, 0.5),
        pct(&mut times, 0.95)
    );

    if let Some(bin) = std::env::args().nth(1) {
        let mut times = Vec::new();
        for i in 0..100 {
            let t = Instant::now();
            let st = std::process::Command::new(&bin)
                .args([
                    "--ledger",
                    path.to_str().unwrap(),
                    "review",
                    "decide",
                    "--campaign",
                    &id.to_string(),
                    "--item",
                    &format!("no_relationship/e:{}", i * 31 % n),
                    "--verdict",
                    "escalated",
                ])
                .env("KEYHOLE_LOG", "off")
                .status()
                .unwrap();
            assert!(st.success());
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "keyhole review decide (whole process): median {:.2} ms, p95 {:.2} ms",
            pct(&mut times, 0.5),
            pct(&mut times, 0.95)
        );
    }

    let t = Instant::now();
    let mut l = Ledger::open(&path).await.unwrap();
    let entries = l.entries().await.unwrap();
    let read = t.elapsed().as_secs_f64() * 1000.0;
    let v = verify_chain(&path, &entries).unwrap();
    l.close().await;
    println!(
        "ledger verify: {} entries in {:.0} ms ({read:.0} ms reading them)",
        v.entries,
        t.elapsed().as_secs_f64() * 1000.0
    );
}
