//! The trace file: the timeline as Chrome Trace Event Format JSON, read
//! back with serde_json. Time is virtual, so every microsecond is exact.
#![cfg(all(feature = "trace-file", feature = "test-util"))]

mod common;

use std::future::pending;
use std::time::Duration;

use serde_json::{Value, json};
use teardown_stack::{Shutdown, Teardown, Timer, VirtualClock};

const MS: Duration = Duration::from_millis(1);

/// (name, ph, ts, dur, tid, outcome) of each event.
fn events(json: &[u8]) -> Vec<(String, String, u64, Option<u64>, u64, String)> {
    let trace: Value = serde_json::from_slice(json).unwrap();
    trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["pid"], json!(1));
            assert_eq!(e["cat"], json!("teardown"));
            (
                e["name"].as_str().unwrap().to_owned(),
                e["ph"].as_str().unwrap().to_owned(),
                e["ts"].as_u64().unwrap(),
                e["dur"].as_u64(),
                e["tid"].as_u64().unwrap(),
                e["args"]["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_runs_timeline_is_complete_events_with_a_thread_per_overlapping_member() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    teardown
        .push("flush", common::sleeper(&clock, 1000))
        .unwrap();
    let mut stage = teardown.stage();
    stage.push("a", common::sleeper(&clock, 3000)).unwrap();
    stage.push("b", pending::<()>()).unwrap().timeout(2000 * MS);
    stage.push("c", async { Err::<(), _>("refused") }).unwrap();
    teardown
        .push("server", common::sleeper(&clock, 500))
        .unwrap();
    clock.advance(7000 * MS);

    let report = clock.block_on(teardown.run().within(4000 * MS));
    let mut json = Vec::new();
    report.write_trace(&mut json).unwrap();

    assert_eq!(
        events(&json),
        [
            (
                "teardown".into(),
                "X".into(),
                0,
                Some(4_000_000),
                0,
                "unclean".into()
            ),
            (
                "server".into(),
                "X".into(),
                0,
                Some(500_000),
                0,
                "completed".into()
            ),
            // The stage's members overlap: each on a thread of its own.
            ("c".into(), "X".into(), 500_000, Some(0), 0, "failed".into()),
            (
                "b".into(),
                "X".into(),
                500_000,
                Some(2_000_000),
                0,
                "timed out".into()
            ),
            (
                "a".into(),
                "X".into(),
                500_000,
                Some(3_000_000),
                1,
                "completed".into()
            ),
            // Cut off by the run's deadline at 4 s.
            (
                "flush".into(),
                "X".into(),
                3_500_000,
                Some(500_000),
                0,
                "timed out".into()
            ),
            // Past the deadline when its turn came: an instant at the end.
            (
                "store".into(),
                "i".into(),
                4_000_000,
                None,
                0,
                "skipped".into()
            ),
        ]
    );
    let trace: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(trace["traceEvents"][2]["args"]["message"], json!("refused"));
    assert_eq!(trace["traceEvents"][2]["args"]["concurrent"], json!(true));

    // Read against the report: every record is there by name, at its
    // start and for its time, to the microsecond.
    let traced = events(&json);
    assert_eq!(
        traced.len(),
        report.len() + 1,
        "the run's event, and one per record"
    );
    for (record, event) in report.iter().zip(&traced[1..]) {
        assert_eq!(event.0, record.name().to_string());
        match (record.started(), record.elapsed()) {
            (Some(started), Some(elapsed)) => {
                assert_eq!(event.2 as u128, started.as_micros());
                assert_eq!(event.3.map(u128::from), Some(elapsed.as_micros()));
            }
            _ => assert_eq!(event.1, "i"),
        }
    }
    // The stage's members overlap in time and so lie on distinct threads.
    let members: Vec<_> = traced
        .iter()
        .filter(|e| ["a", "b"].contains(&e.0.as_str()))
        .collect();
    assert!(members[0].2 < members[1].2 + members[1].3.unwrap());
    assert_ne!(members[0].4, members[1].4);
}

#[test]
fn an_interrupted_runs_trace_has_what_did_not_finish_marked_unfinished() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();
    teardown
        .push("server", common::sleeper(&clock, 500))
        .unwrap();
    let second_signal = clock.sleep(3000 * MS);

    let shutdown = clock.block_on(teardown.shutdown_within(25_000 * MS, second_signal));
    let Shutdown::Interrupted { timeline, .. } = &shutdown else {
        panic!("{shutdown}");
    };
    let mut json = Vec::new();
    timeline.write_trace(&mut json).unwrap();

    assert_eq!(
        events(&json),
        [
            (
                "teardown".into(),
                "X".into(),
                0,
                Some(3_000_000),
                0,
                "interrupted".into()
            ),
            (
                "server".into(),
                "X".into(),
                0,
                Some(500_000),
                0,
                "completed".into()
            ),
            (
                "sandboxes".into(),
                "X".into(),
                500_000,
                Some(2_500_000),
                0,
                "unfinished".into()
            ),
            (
                "store".into(),
                "i".into(),
                3_000_000,
                None,
                0,
                "unfinished".into()
            ),
        ]
    );
}
