//! Per-agent attributes: each agent has the common ones, then its own.

use mesos_local::{Error, LocalCluster};
use mesos_proto::v1::{value, Attribute};

fn text(name: &str, text: &str) -> Attribute {
    Attribute {
        name: name.into(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: text.into() }),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_agent_has_the_common_attributes_then_its_own() {
    let cluster = LocalCluster::builder()
        .agents(3)
        .attributes(vec![text("zone", "a")])
        .agent_attributes(1, vec![text("rack", "r2")])
        .agent_attributes(2, vec![text("rack", "wrong")])
        .agent_attributes(2, vec![text("rack", "r3")])
        .start()
        .await
        .expect("starts");
    let state = cluster.state();
    let mut seen: Vec<(String, serde_json::Value)> = state["slaves"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap_or_default().to_string(),
                a["attributes"].clone(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let attributes: Vec<serde_json::Value> = seen.into_iter().map(|(_, a)| a).collect();
    assert_eq!(
        attributes,
        vec![
            serde_json::json!({"zone": "a"}),
            serde_json::json!({"zone": "a", "rack": "r2"}),
            serde_json::json!({"zone": "a", "rack": "r3"}),
        ]
    );
}

#[tokio::test]
async fn attributes_for_an_agent_past_the_last_are_refused() {
    let error = LocalCluster::builder()
        .agents(2)
        .agent_attributes(2, vec![text("rack", "r3")])
        .start()
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            Error::InvalidConfig {
                setting: "agent_attributes",
                ..
            }
        ),
        "{error}"
    );
}
