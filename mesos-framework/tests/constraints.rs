//! Each constraint operator, and reading constraints from Marathon's forms.

use mesos_framework::placement::{
    AgentProfile, Constraint, ConstraintError, Field, Operator, Placements, RefusalReason,
    MAX_PATTERN_LEN,
};
use mesos_proto::v1::value::{Range, Ranges, Set, Type as ValueType};
use mesos_proto::v1::Attribute;

fn agent(id: &str, rack: &str) -> AgentProfile {
    AgentProfile::new(id, format!("{id}.example")).with_text("rack", rack)
}

fn reason(constraint: &Constraint, on: &AgentProfile, placed: &Placements) -> RefusalReason {
    constraint
        .check(on, placed)
        .expect_err("the constraint should refuse")
        .reason
}

#[test]
fn unique_refuses_a_value_already_used() {
    let unique = Constraint::hostname().unique();
    let placed = Placements::new().with(agent("a1", "r1"));
    assert!(unique.check(&agent("a2", "r1"), &placed).is_ok());
    let refusal = unique.check(&agent("a1", "r1"), &placed).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "constraint hostname:UNIQUE refused agent a1 (a1.example already runs an instance)"
    );
    let by_rack = Constraint::attribute("rack").unique();
    assert_eq!(
        reason(&by_rack, &agent("a2", "r1"), &placed),
        RefusalReason::Taken {
            value: "r1".into(),
            running: 1
        }
    );
}

#[test]
fn cluster_accepts_only_its_value() {
    let cluster = Constraint::attribute("rack").cluster("r2");
    let none = Placements::new();
    assert!(cluster.check(&agent("a1", "r2"), &none).is_ok());
    assert_eq!(
        reason(&cluster, &agent("a1", "r1"), &none),
        RefusalReason::WrongValue {
            value: "r1".into(),
            wanted: "r2".into()
        }
    );
}

#[test]
fn cluster_without_value_follows_the_first_instance() {
    let together = Constraint::attribute("rack").cluster_together();
    assert!(together
        .check(&agent("a1", "r3"), &Placements::new())
        .is_ok());
    let placed = Placements::new().with(agent("a1", "r3"));
    assert!(together.check(&agent("a2", "r3"), &placed).is_ok());
    assert!(together.check(&agent("a3", "r1"), &placed).is_err());
}

#[test]
fn group_by_balances_over_the_expected_values() {
    let group = Constraint::attribute("rack").group_by(3);
    // Fewer than 3 racks used: only new racks are accepted.
    let placed = Placements::new().with(agent("a1", "r1"));
    assert!(group.check(&agent("a2", "r2"), &placed).is_ok());
    assert_eq!(
        reason(&group, &agent("a2", "r1"), &placed),
        RefusalReason::Unbalanced {
            value: "r1".into(),
            running: 1,
            minimum: 0
        }
    );
    // All 3 used once: any of them; then r1 twice means r1 waits.
    let placed = placed
        .with(agent("a2", "r2"))
        .with(agent("a3", "r3"))
        .with(agent("a4", "r1"));
    assert!(group.check(&agent("a5", "r2"), &placed).is_ok());
    assert!(group.check(&agent("a5", "r1"), &placed).is_err());
}

#[test]
fn group_by_without_count_balances_over_values_seen() {
    let group = Constraint::attribute("rack").group_by_any();
    let placed = Placements::new()
        .with(agent("a1", "r1"))
        .with(agent("a2", "r2"));
    assert!(group.check(&agent("a3", "r1"), &placed).is_ok());
    let placed = placed.with(agent("a3", "r1"));
    assert!(group.check(&agent("a4", "r1"), &placed).is_err());
    assert!(group.check(&agent("a4", "r2"), &placed).is_ok());
    assert!(group.check(&agent("a4", "r9"), &placed).is_ok());
}

#[test]
fn like_and_unlike_match_the_whole_value() {
    let like = Constraint::attribute("rack").like("r[12]").unwrap();
    let unlike = Constraint::attribute("rack").unlike("r[12]").unwrap();
    let none = Placements::new();
    assert!(like.check(&agent("a", "r1"), &none).is_ok());
    assert!(unlike.check(&agent("a", "r3"), &none).is_ok());
    // Anchored: "r12" is not "r1" or "r2".
    assert_eq!(
        reason(&like, &agent("a", "r12"), &none),
        RefusalReason::NoMatch {
            value: "r12".into()
        }
    );
    assert_eq!(
        reason(&unlike, &agent("a", "r2"), &none),
        RefusalReason::Matches { value: "r2".into() }
    );
}

#[test]
fn max_per_caps_each_value() {
    let max = Constraint::attribute("rack").max_per(2);
    let placed = Placements::new()
        .with(agent("a1", "r1"))
        .with(agent("a2", "r1"));
    assert!(max.check(&agent("a3", "r2"), &placed).is_ok());
    let refusal = max.check(&agent("a3", "r1"), &placed).unwrap_err();
    assert_eq!(
        refusal.reason,
        RefusalReason::LimitReached {
            value: "r1".into(),
            running: 2,
            limit: 2
        }
    );
    assert_eq!(
        refusal.to_string(),
        "constraint rack:MAX_PER:2 refused agent a3 (r1 runs 2 instances, at most 2)"
    );
}

#[test]
fn missing_attribute_is_refused_except_by_unlike() {
    let bare = AgentProfile::new("a1", "h1");
    let none = Placements::new();
    for constraint in [
        Constraint::attribute("rack").unique(),
        Constraint::attribute("rack").cluster("r1"),
        Constraint::attribute("rack").group_by(2),
        Constraint::attribute("rack").like(".*").unwrap(),
        Constraint::attribute("rack").max_per(5),
    ] {
        assert_eq!(
            reason(&constraint, &bare, &none),
            RefusalReason::MissingField,
            "{constraint}"
        );
    }
    assert!(Constraint::attribute("rack")
        .unlike("r1")
        .unwrap()
        .check(&bare, &none)
        .is_ok());
}

#[test]
fn scalar_ranges_and_set_attributes_have_text_values() {
    let mut profile = AgentProfile::new("a1", "h1").with_scalar("gen", 2.0);
    profile.attributes.push(Attribute {
        name: "slots".into(),
        r#type: ValueType::Ranges as i32,
        ranges: Some(Ranges {
            range: vec![Range { begin: 1, end: 5 }, Range { begin: 7, end: 9 }],
        }),
        ..Default::default()
    });
    profile.attributes.push(Attribute {
        name: "disks".into(),
        r#type: ValueType::Set as i32,
        set: Some(Set {
            item: vec!["ssd".into(), "hdd".into()],
        }),
        ..Default::default()
    });
    assert_eq!(profile.attribute("gen").as_deref(), Some("2"));
    assert_eq!(profile.attribute("slots").as_deref(), Some("[1-5,7-9]"));
    assert_eq!(profile.attribute("disks").as_deref(), Some("{ssd,hdd}"));
    let none = Placements::new();
    // Scalars compare as numbers too.
    assert!(Constraint::attribute("gen")
        .cluster("2.0")
        .check(&profile, &none)
        .is_ok());
    assert!(Constraint::attribute("slots")
        .like(r"\[1-.*")
        .unwrap()
        .check(&profile, &none)
        .is_ok());
    assert!(Constraint::attribute("disks")
        .like(".*ssd.*")
        .unwrap()
        .check(&profile, &none)
        .is_ok());
}

#[test]
fn parses_marathon_arrays_and_strings() {
    let all = Constraint::parse_json(
        r#"[["hostname","UNIQUE"],["rack","GROUP_BY","3"],["zone","LIKE","us-east-.*"],
            ["zone","UNLIKE","eu-.*"],["rack","CLUSTER","r1"],["rack","MAX_PER","2"],["rack","group_by"]]"#,
    )
    .unwrap();
    let text: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "hostname:UNIQUE",
            "rack:GROUP_BY:3",
            "zone:LIKE:us-east-.*",
            "zone:UNLIKE:eu-.*",
            "rack:CLUSTER:r1",
            "rack:MAX_PER:2",
            "rack:GROUP_BY",
        ]
    );
    assert_eq!(all[0].field, Field::Hostname);
    assert_eq!(all[5].operator, Operator::MaxPer(2));
    let single = Constraint::parse_json(r#"["hostname","UNIQUE"]"#).unwrap();
    assert_eq!(single, vec![Constraint::hostname().unique()]);
    // The string form, round trip; a value may contain ':'.
    for text in &text {
        assert_eq!(&text.parse::<Constraint>().unwrap().to_string(), text);
    }
    let colon: Constraint = "zone:LIKE:a:b".parse().unwrap();
    assert_eq!(colon, Constraint::attribute("zone").like("a:b").unwrap());
}

#[test]
fn bad_input_gives_typed_errors() {
    let err = |parts: &[&str]| Constraint::from_parts(parts).unwrap_err();
    assert_eq!(
        err(&["rack", "SPREAD"]),
        ConstraintError::UnknownOperator("SPREAD".into())
    );
    assert!(matches!(
        err(&["rack", "MAX_PER", "two"]),
        ConstraintError::BadNumber {
            operator: "MAX_PER",
            ..
        }
    ));
    assert!(matches!(
        err(&["rack", "GROUP_BY", "0"]),
        ConstraintError::BadNumber {
            operator: "GROUP_BY",
            ..
        }
    ));
    assert!(matches!(
        err(&["rack", "LIKE", "(unclosed"]),
        ConstraintError::BadRegex { .. }
    ));
    assert_eq!(
        err(&["rack", "LIKE"]),
        ConstraintError::MissingValue { operator: "LIKE" }
    );
    assert!(matches!(
        err(&["rack", "UNIQUE", "x"]),
        ConstraintError::UnexpectedValue { .. }
    ));
    assert_eq!(err(&["rack"]), ConstraintError::WrongArity { parts: 1 });
    assert_eq!(err(&["", "UNIQUE"]), ConstraintError::EmptyField);
    let long = "a".repeat(MAX_PATTERN_LEN + 1);
    assert!(matches!(
        err(&["rack", "LIKE", &long]),
        ConstraintError::PatternTooLong { .. }
    ));
    // A pattern that compiles to too much is refused, not built.
    assert!(matches!(
        err(&["rack", "LIKE", r"\w{1000}\w{1000}"]),
        ConstraintError::BadRegex { .. }
    ));
    for json in [
        "{}",
        "[1,2]",
        r#"[["a","UNIQUE"],"b"]"#,
        "not json",
        r#"[["a","B","c","d"]]"#,
    ] {
        assert!(Constraint::parse_json(json).is_err(), "{json}");
    }
    let many = format!("[{}]", vec![r#"["a","UNIQUE"]"#; 65].join(","));
    assert!(matches!(
        Constraint::parse_json(&many),
        Err(ConstraintError::TooMany { count: 65, .. })
    ));
    assert_eq!(
        ConstraintError::UnknownOperator("SPREAD".into()).to_string(),
        "unknown constraint operator \"SPREAD\" (expected UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE or MAX_PER)"
    );
}

#[test]
fn fault_domain_fields_come_from_the_offer() {
    use mesos_proto::v1::domain_info::fault_domain::{RegionInfo, ZoneInfo};
    use mesos_proto::v1::domain_info::FaultDomain;
    use mesos_proto::v1::{AgentId, DomainInfo, Offer};
    let offer = Offer {
        agent_id: AgentId { value: "a1".into() },
        hostname: "h1".into(),
        domain: Some(DomainInfo {
            fault_domain: Some(FaultDomain {
                region: RegionInfo {
                    name: "us-east".into(),
                },
                zone: ZoneInfo {
                    name: "us-east-1a".into(),
                },
            }),
        }),
        ..Default::default()
    };
    let profile = AgentProfile::of_offer(&offer);
    assert_eq!(
        profile,
        AgentProfile::new("a1", "h1").with_domain("us-east", "us-east-1a")
    );
    let all = Constraint::parse_json(
        r#"[["@zone","GROUP_BY","2"],["@region","CLUSTER","us-east"],["@hostname","UNIQUE"]]"#,
    )
    .unwrap();
    assert_eq!(all[0].field, Field::Zone);
    assert_eq!(all[2], Constraint::hostname().unique());
    for constraint in &all {
        assert!(
            constraint.check(&profile, &Placements::new()).is_ok(),
            "{constraint}"
        );
    }
    // An agent without a fault domain lacks the field.
    assert_eq!(
        reason(&all[0], &AgentProfile::new("a2", "h2"), &Placements::new()),
        RefusalReason::MissingField
    );
}

#[test]
fn text_values_compare_exactly() {
    let none = Placements::new();
    // Text "01" is not "1"; only scalar attributes compare as numbers.
    assert!(Constraint::attribute("rack")
        .cluster("1")
        .check(&agent("a", "01"), &none)
        .is_err());
    let scalar = AgentProfile::new("a", "h").with_scalar("rack", 1.0);
    assert!(Constraint::attribute("rack")
        .cluster("1.000")
        .check(&scalar, &none)
        .is_ok());
    assert!(Constraint::attribute("rack")
        .cluster("1.5")
        .check(&scalar, &none)
        .is_err());
    // CLUSTER with an empty value clusters around the first instance.
    assert_eq!(
        Constraint::from_parts(&["rack", "CLUSTER", ""]).unwrap(),
        Constraint::attribute("rack").cluster_together()
    );
}
