//! Resource fit, offer ordering and the why-not-placed report.

use mesos_framework::placement::{
    fit, AgentProfile, Constraint, Missing, OfferCandidate, Placements, Placer, Reason, Strategy,
    TaskNeeds,
};
use mesos_proto::resources::Resources;
use mesos_proto::v1::{AgentId, FrameworkId, Offer, OfferId};

fn res(text: &str) -> Resources {
    text.parse().expect("resources text")
}

fn offer(id: &str, agent: &str, resources: &str) -> OfferCandidate {
    OfferCandidate::new(
        id,
        AgentProfile::new(agent, format!("{agent}.example")),
        res(resources),
    )
}

#[test]
fn fit_returns_the_offers_own_resources() {
    let share = fit(
        &res("cpus(web):1; cpus:4; mem:1024"),
        &res("cpus:2; mem:256"),
        Some("web"),
    )
    .expect("fits");
    assert_eq!(share.reserved("web").cpus(), Some(1.0));
    assert_eq!(share.unreserved().cpus(), Some(1.0));
    assert_eq!(share.mem(), Some(256.0));
}

#[test]
fn fit_reports_each_short_resource() {
    let short = fit(
        &res("cpus:1; mem:1024; ports:[31000-31005]; gpus_ids:{a}"),
        &res("cpus:1.5; mem:1088; disk:10; ports:[31004-31008]; gpus_ids:{a,b}"),
        None,
    )
    .unwrap_err();
    assert_eq!(
        short.to_string(),
        "cpus short by 0.5, mem short by 64, disk short by 10, ports missing [31006-31008], gpus_ids missing {b}"
    );
    assert_eq!(short.scalar("mem"), Some(64.0));
}

#[test]
fn fit_respects_roles() {
    let offered = res("cpus(db):8; cpus:1");
    // Another role's reservation is not usable by a framework in `web`.
    let short = fit(&offered, &res("cpus:2"), Some("web")).unwrap_err();
    assert_eq!(short.scalar("cpus"), Some(1.0));
    // Without a role, anything offered counts.
    assert!(fit(&offered, &res("cpus:2"), None).is_ok());
    assert!(fit(&offered, &res("cpus:2"), Some("db")).is_ok());
}

#[test]
fn bin_pack_prefers_the_fullest_offer_and_spread_the_emptiest_agent() {
    let task = TaskNeeds::new("t", res("cpus:1; mem:128"));
    let offers = [
        offer("o1", "a1", "cpus:8; mem:8192"),
        offer("o2", "a2", "cpus:2; mem:256"),
        offer("o3", "a3", "cpus:4; mem:4096"),
    ];
    let none = Placements::new();
    let order = |placer: Placer, placed: &Placements| -> Vec<String> {
        placer
            .rank(&task, &offers, placed)
            .into_iter()
            .map(|c| c.offer_id)
            .collect()
    };
    assert_eq!(
        order(Placer::new(Strategy::BinPack), &none),
        ["o2", "o3", "o1"]
    );
    assert_eq!(
        order(Placer::new(Strategy::Spread), &none),
        ["o1", "o3", "o2"]
    );
    // Spread puts the agent with fewest instances of the group first.
    let placed = Placements::new().with(AgentProfile::new("a1", "a1.example"));
    assert_eq!(
        order(Placer::new(Strategy::Spread), &placed),
        ["o3", "o2", "o1"]
    );
}

#[test]
fn equal_scores_are_ordered_by_agent_then_offer() {
    let task = TaskNeeds::new("t", res("cpus:1"));
    let offers = [
        offer("o9", "b", "cpus:2"),
        offer("o2", "a", "cpus:2"),
        offer("o1", "a", "cpus:2"),
    ];
    for strategy in [Strategy::BinPack, Strategy::Spread] {
        let ids: Vec<String> = Placer::new(strategy)
            .rank(&task, &offers, &Placements::new())
            .into_iter()
            .map(|c| c.offer_id)
            .collect();
        assert_eq!(ids, ["o1", "o2", "o9"], "{strategy:?}");
    }
    let choice = Placer::default()
        .place(&task, &offers, &Placements::new())
        .unwrap();
    assert_eq!((choice.index, choice.agent_id.as_str()), (2, "a"));
    assert_eq!(choice.resources.cpus(), Some(1.0));
}

#[test]
fn report_lists_every_reason_per_offer() {
    let task =
        TaskNeeds::new("web-3", res("cpus:1; mem:128")).constraint(Constraint::hostname().unique());
    let offers = [
        offer("o1", "a1", "cpus:0.5; mem:64"),
        offer("o2", "a2", "cpus:4; mem:4096"),
    ];
    let placed = Placements::new()
        .with(AgentProfile::new("a1", "a1.example"))
        .with(AgentProfile::new("a2", "a2.example"));
    let report = Placer::default()
        .place(&task, &offers, &placed)
        .unwrap_err();
    assert_eq!(report.considered, 2);
    assert!(matches!(report.offers[0].reasons[0], Reason::Resources(_)));
    assert!(matches!(report.offers[0].reasons[1], Reason::Constraint(_)));
    assert_eq!(
        report.to_string(),
        "task web-3 fits none of 2 offers:\n\
         \x20 offer o1 on agent a1 (a1.example): cpus short by 0.5, mem short by 64; \
         constraint hostname:UNIQUE refused agent a1 (a1.example already runs an instance)\n\
         \x20 offer o2 on agent a2 (a2.example): \
         constraint hostname:UNIQUE refused agent a2 (a2.example already runs an instance)"
    );
}

#[test]
fn report_is_bounded() {
    let task = TaskNeeds::new("big", res("cpus:100"));
    let offers: Vec<OfferCandidate> = (0..50)
        .map(|i| offer(&format!("o{i}"), &format!("a{i}"), "cpus:1"))
        .collect();
    let report = Placer::default()
        .max_listed(3)
        .place(&task, &offers, &Placements::new())
        .unwrap_err();
    assert_eq!(
        (report.offers.len(), report.unlisted, report.considered),
        (3, 47, 50)
    );
    let text = report.to_string();
    assert!(text.ends_with("\n  ... and 47 more offers"), "{text}");
    assert_eq!(text.lines().count(), 5);
    let empty = Placer::default()
        .place(&task, &[], &Placements::new())
        .unwrap_err();
    assert_eq!(empty.to_string(), "task big has no offer to go to");
}

#[test]
fn candidates_come_from_master_offers() {
    let wire = Offer {
        id: OfferId { value: "o1".into() },
        framework_id: FrameworkId { value: "f".into() },
        agent_id: AgentId { value: "a1".into() },
        hostname: "h1".into(),
        resources: res("cpus:2; mem:512").into_vec(),
        attributes: AgentProfile::new("", "").with_text("rack", "r1").attributes,
        ..Default::default()
    };
    let candidate = OfferCandidate::of_offer(&wire);
    assert_eq!(candidate.agent.attribute("rack").as_deref(), Some("r1"));
    let task =
        TaskNeeds::new("t", res("cpus:1")).constraint(Constraint::attribute("rack").cluster("r1"));
    let choice = Placer::default()
        .place(&task, &[candidate], &Placements::new())
        .unwrap();
    assert_eq!(choice.offer_id, "o1");
    assert!(matches!(
        fit(&res("cpus:1"), &res("cpus:2"), None)
            .unwrap_err()
            .missing[0],
        Missing::Scalar { .. }
    ));
}
