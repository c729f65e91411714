//! The page follows agents (AGENT_REMOVED) and resubscribes when its
//! stream ends: its master goes away, the page says it is reconnecting,
//! and once a new master answers on the same address the page shows that
//! cluster.

use std::time::Duration;

use mesos_local::LocalCluster;

use super::SOON;

/// A loopback port free now (the socket is closed before the master binds it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A cluster whose master listens on `port`, retried while the previous
/// master's socket is still being released (bounded by [`SOON`]).
async fn start_on(port: u16, agents: usize) -> LocalCluster {
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        match LocalCluster::builder()
            .port(port)
            .agents(agents)
            .heartbeat_interval(Duration::from_secs(1))
            .start()
            .await
        {
            Ok(cluster) => return cluster,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %mesos_http::error_chain(&e), "port not free yet");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the cluster starts: {}", mesos_http::error_chain(&e)),
        }
    }
}

fn showing_only_agent(agent_id: &str) -> String {
    format!(
        r#"document.querySelector('#connection[data-state="live"]')
            && document.querySelectorAll('#agents tbody tr').length === 1
            && document.querySelector('#agents tr[data-agent-id="{agent_id}"]')"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_drops_removed_agents_and_resubscribes_when_its_stream_ends() {
    let Some(browser) = super::browser("reconnect").await else {
        return;
    };
    let port = free_port();
    let first = start_on(port, 2).await;
    let first_agent = first.agent_ids()[0].value.clone();
    let page = browser
        .open(&format!("{}/", first.master_url()))
        .await
        .expect("the page opens");
    page.expect(
        r#"document.querySelector('#connection[data-state="live"]')
            && document.querySelectorAll('#agents tbody tr').length === 2"#,
        SOON,
        "both agents",
    )
    .await;
    first.remove_agent(1).await.expect("the agent is removed");
    page.expect(
        &showing_only_agent(&first_agent),
        SOON,
        "the first agent alone once the other is removed",
    )
    .await;

    drop(first);
    page.expect(
        r#"document.querySelector('#connection[data-state="reconnecting"]')"#,
        SOON,
        "that it reconnects",
    )
    .await;
    let shot = page
        .screenshot("1-reconnecting")
        .await
        .expect("a screenshot");
    eprintln!("screenshot: {}", shot.display());

    let second = start_on(port, 1).await;
    let second_agent = second.agent_ids()[0].value.clone();
    assert_ne!(first_agent, second_agent);
    page.expect(
        &showing_only_agent(&second_agent),
        SOON,
        "the second cluster's agent after resubscribing",
    )
    .await;
    let shot = page
        .screenshot("2-resubscribed")
        .await
        .expect("a screenshot");
    eprintln!("screenshot: {}", shot.display());
    let problems: Vec<String> = browser
        .problems()
        .into_iter()
        // The master being away fails the page's attempts meanwhile.
        .filter(|p| !p.contains("ERR_CONNECTION_REFUSED") && !p.contains("Failed to load resource"))
        .collect();
    drop(page);
    browser.close().await;
    assert!(problems.is_empty(), "the page logged errors: {problems:?}");
}
