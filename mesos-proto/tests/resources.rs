//! Resource arithmetic of `mesos_proto::resources`, checked against Mesos's
//! semantics and the offer of the real Mesos 1.11 sample agent.

use mesos_proto::resources::{
    dynamic_reservation, is_unreserved, ranges, reservation_role, scalar, set, static_reservation,
    validate, ParseError, Resources,
};
use mesos_proto::v1::resource::{disk_info, AllocationInfo, DiskInfo, SharedInfo};
use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::Resource;
use proptest::prelude::*;

/// The `resources` of the OFFERS event in the recorded master stream
/// (`/work/shared/mesos-samples/subscribe-stream.recordio`): unreserved
/// resources in the legacy format, `"role":"*"`.
const SAMPLE_OFFERS_EVENT: &str = r#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-O0"},"framework_id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-0000"},"agent_id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-S0"},"hostname":"localhost","url":{"scheme":"http","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"path":"/slave(1)"},"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"role":"*"},{"name":"cpus","type":"SCALAR","scalar":{"value":4.0},"role":"*"},{"name":"mem","type":"SCALAR","scalar":{"value":4096.0},"role":"*"},{"name":"disk","type":"SCALAR","scalar":{"value":10000.0},"role":"*"}]}]}}"#;

fn sample_offer() -> Vec<Resource> {
    let event: Event = mesos_proto::MediaType::Json
        .decode(SAMPLE_OFFERS_EVENT.as_bytes())
        .expect("the sample event decodes");
    let offers: Option<event::Offers> = event.offers;
    offers.expect("an OFFERS event").offers.remove(0).resources
}

fn parse(text: &str) -> Resources {
    Resources::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
}

#[allow(deprecated)]
fn legacy_role(mut resource: Resource, role: &str) -> Resource {
    resource.role = Some(role.to_owned());
    resource
}

// ------------------------------------------------------------- fixed point

#[test]
fn scalars_use_three_decimal_fixed_point() {
    let sum = Resources::new().with_cpus(0.1) + Resources::new().with_cpus(0.2);
    assert_eq!(sum.cpus(), Some(0.3));
    assert_eq!(sum, Resources::new().with_cpus(0.3));

    let left = Resources::new().with_cpus(1.0) - Resources::new().with_cpus(0.999);
    assert_eq!(left.cpus(), Some(0.001));
    assert_eq!(left.len(), 1);

    let nothing = Resources::new().with_cpus(1.0) - Resources::new().with_cpus(1.0);
    assert!(nothing.is_empty());
    assert_eq!(nothing.cpus(), None);

    // Below the precision, amounts are zero and vanish.
    assert!(Resources::new().with_mem(0.0004).is_empty());
    assert!((Resources::new().with_mem(1.0) - Resources::new().with_mem(0.9996)).is_empty());
    assert_eq!(Resources::new().with_cpus(0.0005).cpus(), Some(0.001));
}

#[test]
fn many_small_additions_stay_exact() {
    let mut total = Resources::new();
    for _ in 0..1000 {
        total += Resources::new().with_cpus(0.001);
    }
    assert_eq!(total.cpus(), Some(1.0));
}

#[test]
fn subtraction_saturates_and_ignores_what_is_absent() {
    let left = Resources::new().with_cpus(1.0).with_mem(10.0)
        - Resources::new().with_cpus(5.0).with_disk(3.0);
    assert_eq!(left, Resources::new().with_mem(10.0));
}

#[test]
fn invalid_and_empty_resources_are_skipped() {
    let resources: Resources = vec![
        scalar("cpus", -1.0),
        scalar("cpus", f64::NAN),
        scalar("mem", 0.0),
        ranges("ports", &[]),
        set("ids", Vec::<String>::new()),
        scalar("", 1.0),
        scalar("disk", 5.0),
    ]
    .into();
    assert_eq!(resources, Resources::new().with_disk(5.0));
    let error =
        Resources::validated(vec![scalar("disk", 1.0), scalar("cpus", f64::INFINITY)]).unwrap_err();
    assert_eq!(error.name(), "cpus");
    assert_eq!(error.reason(), "scalar inf is not finite");
}

// ------------------------------------------------------------------ ranges

#[test]
fn ranges_merge_and_coalesce() {
    let ports = Resources::new()
        .with_ports(&[(10, 20)])
        .with_ports(&[(1, 5), (6, 9)])
        .with_ports(&[(30, 40)])
        .with_ports(&[(35, 50)]);
    assert_eq!(ports.ports(), vec![(1, 20), (30, 50)]);
    assert_eq!(ports.len(), 1);
    // Overlapping intervals inside one resource are invalid, as in Mesos.
    assert!(Resources::new()
        .with_ports(&[(30, 40), (35, 50)])
        .is_empty());
}

#[test]
fn ranges_subtract_interval_wise() {
    let offer = Resources::new().with_ports(&[(31000, 32000)]);
    let left = offer.clone() - Resources::new().with_ports(&[(31000, 31000)]);
    assert_eq!(left.ports(), vec![(31001, 32000)]);
    let left = offer.clone() - Resources::new().with_ports(&[(31500, 31600), (31990, 32100)]);
    assert_eq!(left.ports(), vec![(31000, 31499), (31601, 31989)]);
    assert!((offer.clone() - offer).is_empty());
}

#[test]
fn sets_union_and_difference() {
    let gpus = Resources::new()
        .with_set("gpu_ids", ["a", "b"])
        .with_set("gpu_ids", ["b", "c"]);
    assert_eq!(gpus.set("gpu_ids"), ["a", "b", "c"]);
    let left = gpus.clone() - Resources::new().with_set("gpu_ids", ["a", "z"]);
    assert_eq!(left.set("gpu_ids"), ["b", "c"]);
    assert!(gpus.contains(&Resources::new().with_set("gpu_ids", ["c", "a"])));
    assert!(!gpus.contains(&Resources::new().with_set("gpu_ids", ["d"])));
}

// ---------------------------------------------------- contains, checked_sub

#[test]
fn contains_and_checked_sub() {
    let offer = parse("cpus:4; mem:4096; ports:[31000-32000]");
    let task = parse("cpus:1; mem:128; ports:[31000-31001]");
    assert!(offer.contains(&task));
    assert!(offer.contains(&offer));
    assert!(offer.contains(&Resources::new()));
    assert!(!task.contains(&offer));
    assert_eq!(
        offer.checked_sub(&task),
        Some(parse("cpus:3; mem:3968; ports:[31002-32000]"))
    );
    assert_eq!(task.checked_sub(&offer), None);
    assert_eq!(
        offer.checked_sub(&Resources::new().with_ports(&[(30999, 31000)])),
        None
    );
    assert!(offer.contains_resource(&scalar("cpus", 4.0)));
    assert!(!offer.contains_resource(&scalar("cpus", 4.001)));
}

#[test]
fn equality_ignores_order() {
    assert_eq!(parse("cpus:1; mem:2"), parse("mem:2; cpus:1"));
    assert_ne!(parse("cpus:1; mem:2"), parse("cpus:1"));
}

// ------------------------------------------------------------------- roles

#[test]
fn role_star_and_absent_role_are_both_unreserved() {
    let star = legacy_role(scalar("cpus", 1.0), "*");
    assert!(is_unreserved(&star));
    assert_eq!(reservation_role(&star), None);
    let merged: Resources = vec![star, scalar("cpus", 2.0)].into();
    assert_eq!(merged.len(), 1);
    assert_eq!(merged.unreserved().cpus(), Some(3.0));
}

#[test]
fn legacy_role_means_static_reservation() {
    let legacy = legacy_role(scalar("cpus", 2.0), "web");
    assert_eq!(reservation_role(&legacy), Some("web"));
    let legacy: Resources = vec![legacy].into();
    assert_eq!(legacy, parse("cpus(web):2"));
    assert_eq!(legacy.reserved("web").cpus(), Some(2.0));
    assert!(legacy.unreserved().is_empty());
}

#[test]
fn reserved_cpus_are_not_usable_by_another_role() {
    let offer = parse("cpus(web):2; mem:100");
    let wanted = Resources::new().with_cpus(1.0);
    assert!(!offer.contains(&wanted));
    assert!(!offer.allocatable_to("db").contains(&parse("cpus(db):1")));
    assert!(offer.allocatable_to("db").cpus().is_none());
    assert_eq!(offer.allocatable_to("web").cpus(), Some(2.0));
    assert_eq!(offer.allocatable_to("web/api").cpus(), Some(2.0));
    assert!(offer.find_for_role("db", &wanted).is_none());
    assert!(offer.find_for_role("web", &wanted).is_some());
    // Amounts only, after flattening.
    assert!(offer.flatten().contains(&wanted));
}

#[test]
fn reservations_kinds_and_queries() {
    let reserved = Resources::new()
        .with_cpus(1.0)
        .push_reservation(dynamic_reservation("web", Some("ops")));
    let all = reserved.clone() + parse("cpus:3; cpus(web):2");
    assert_eq!(
        all.len(),
        3,
        "static, dynamic and unreserved cpus stay apart"
    );
    assert_eq!(all.cpus(), Some(6.0));
    assert_eq!(all.reserved("web").cpus(), Some(3.0));
    assert_eq!(all.all_reserved().cpus(), Some(3.0));
    assert_eq!(all.unreserved().cpus(), Some(3.0));
    assert_eq!(all.flatten(), Resources::new().with_cpus(6.0));
    assert_eq!(all.flatten_to("db"), parse("cpus(db):6"));
    assert_eq!(all.flatten_to("*"), all.flatten());
    assert_eq!(all.names(), ["cpus"]);
    // A dynamic reservation is not the static one.
    assert!(!parse("cpus(web):5").contains(&reserved));
}

#[test]
fn refined_reservations_use_the_last_role() {
    let refined = Resources::new()
        .with_mem(64.0)
        .push_reservation(static_reservation("a"))
        .push_reservation(dynamic_reservation("a/b", None));
    assert_eq!(refined.reserved("a/b").mem(), Some(64.0));
    assert!(refined.reserved("a").is_empty());
    assert_eq!(refined.allocatable_to("a/b/c").mem(), Some(64.0));
    assert!(refined.allocatable_to("a").is_empty());
}

#[test]
fn allocation_and_disk_are_part_of_the_kind() {
    let mut allocated = scalar("cpus", 1.0);
    allocated.allocation_info = Some(AllocationInfo {
        role: Some("web".into()),
    });
    let both: Resources = vec![allocated, scalar("cpus", 1.0)].into();
    assert_eq!(both.len(), 2);
    assert_eq!(both.flatten().len(), 1);
}

#[test]
fn persistent_volumes_are_whole_only() {
    let mut volume = scalar("disk", 100.0);
    volume.disk = Some(Box::new(DiskInfo {
        persistence: Some(disk_info::Persistence {
            id: "v1".into(),
            principal: None,
        }),
        volume: None,
        source: None,
    }));
    let twice: Resources = vec![volume.clone(), volume.clone()].into();
    assert_eq!(twice.len(), 2, "persistent volumes never merge");
    let once = twice.clone() - Resources::from(volume.clone());
    assert_eq!(once.len(), 1);
    let mut half = volume.clone();
    half.scalar = Some(mesos_proto::v1::value::Scalar { value: 50.0 });
    assert_eq!(
        once.clone() - &half,
        once,
        "a part does not subtract a volume"
    );
    assert!(!once.contains(&Resources::from(half)));
    assert!(once.contains(&Resources::from(volume)));
}

#[test]
fn shared_resources_count_copies() {
    let mut shared = scalar("disk", 10.0);
    shared.shared = Some(SharedInfo {});
    let two: Resources = vec![shared.clone(), shared.clone()].into();
    assert_eq!(two.len(), 2);
    assert!(two.contains(&two));
    let one = Resources::from(shared.clone());
    assert!(!one.contains(&two));
    assert_eq!(two - &shared, one);
}

// -------------------------------------------------------------------- find

#[test]
fn find_in_the_sample_offer() {
    let offer = Resources::from(sample_offer());
    assert_eq!(
        offer,
        parse("cpus:4; mem:4096; disk:10000; ports:[31000-32000]")
    );
    assert_eq!(offer.cpus(), Some(4.0));
    assert_eq!(offer.ports(), vec![(31000, 32000)]);

    let wanted = parse("cpus:1; mem:128; ports:[31000-31000]");
    let found = offer.find(&wanted).expect("the task fits");
    assert_eq!(found, wanted);
    // The found resources are the offer's own: `role: "*"` included.
    #[allow(deprecated)]
    let roles: Vec<Option<&str>> = found.iter().map(|r| r.role.as_deref()).collect();
    assert_eq!(roles, [Some("*"); 3]);

    assert!(offer.find(&parse("cpus:5")).is_none());
    assert!(offer.find(&parse("ports:[30000-30000]")).is_none());
    assert!(offer.find(&parse("gpus:1")).is_none());
    assert_eq!(offer.find(&Resources::new()), Some(Resources::new()));
}

#[test]
fn find_prefers_the_reservation_then_unreserved() {
    let offer = parse("cpus:4; cpus(web):1; cpus(db):8");

    // Unreserved first, then any other role.
    let found = offer.find(&parse("cpus:6")).unwrap();
    assert_eq!(found.unreserved().cpus(), Some(4.0));
    assert_eq!(found.cpus(), Some(6.0));
    assert_eq!(found.all_reserved().cpus(), Some(2.0));

    // The wanted resource's own role first.
    let found = offer.find(&parse("cpus(web):2")).unwrap();
    assert_eq!(found.reserved("web").cpus(), Some(1.0));
    assert_eq!(found.unreserved().cpus(), Some(1.0));

    // For a role: its reservations, then unreserved, never other roles.
    let found = offer.find_for_role("db", &parse("cpus:10")).unwrap();
    assert_eq!(found.reserved("db").cpus(), Some(8.0));
    assert_eq!(found.unreserved().cpus(), Some(2.0));
    assert!(offer.find_for_role("web", &parse("cpus:6")).is_none());
}

#[test]
fn find_splits_ranges_across_reservations() {
    let offer = parse("ports:[1-10]; ports(web):[11-20]");
    let found = offer.find(&parse("ports:[5-15]")).unwrap();
    assert_eq!(found.unreserved().ports(), vec![(5, 10)]);
    assert_eq!(found.reserved("web").ports(), vec![(11, 15)]);
    assert!(offer.find(&parse("ports:[5-25]")).is_none());
}

#[test]
fn find_then_subtract_leaves_the_rest_of_the_offer() {
    let offer = Resources::from(sample_offer());
    let task = parse("cpus:1; mem:128");
    let found = offer.find(&task).unwrap();
    let left = offer.checked_sub(&found).unwrap();
    assert_eq!(
        left,
        parse("cpus:3; mem:3968; disk:10000; ports:[31000-32000]")
    );
}

// ----------------------------------------------------------- parse, display

#[test]
fn parse_the_agent_flag_syntax() {
    let agent = parse("cpus:4;mem:4096;disk:10000;ports:[31000-32000]");
    assert_eq!(agent.cpus(), Some(4.0));
    assert_eq!(agent.mem(), Some(4096.0));
    assert_eq!(agent.disk(), Some(10000.0));
    assert_eq!(agent.ports(), vec![(31000, 32000)]);
    assert_eq!(
        agent.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["cpus", "mem", "disk", "ports"]
    );

    let mixed = parse(" cpus(web) : 2 ; ports:[1-5, 10-20] ; gpu_ids:{ a , b } ; cpus(*):1 ;; ");
    assert_eq!(mixed.reserved("web").cpus(), Some(2.0));
    assert_eq!(mixed.unreserved().cpus(), Some(1.0));
    assert_eq!(mixed.ports(), vec![(1, 5), (10, 20)]);
    assert_eq!(mixed.set("gpu_ids"), ["a", "b"]);

    assert_eq!(parse("ports:[80,443]").ports(), vec![(80, 80), (443, 443)]);
    assert_eq!(
        parse("cpus:0; mem:1"),
        parse("mem:1"),
        "zero amounts vanish"
    );
    assert!(parse("").is_empty());
    assert_eq!(parse("cpus:1e1").cpus(), Some(10.0));
}

#[test]
fn parse_the_json_form() {
    let json = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":2},"role":"*"},
                   {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":9}]},
                    "reservations":[{"type":"STATIC","role":"web"}]}]"#;
    let resources = parse(json);
    assert_eq!(resources, parse("cpus:2; ports(web):[1-9]"));
    assert!(matches!(
        Resources::parse("[{\"name\":\"cpus\"}"),
        Err(ParseError::Json { .. })
    ));
    assert!(matches!(
        Resources::parse(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-2}}]"#),
        Err(ParseError::InvalidValue { .. })
    ));
}

#[test]
fn parse_errors_name_the_token() {
    let syntax = |token: &str| ParseError::Syntax {
        token: token.into(),
    };
    let invalid = |text: &str| match Resources::parse(text) {
        Err(ParseError::InvalidValue { token, reason }) => (token, reason),
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(Resources::parse("cpus:1;mem"), Err(syntax("mem")));
    assert_eq!(Resources::parse("cpus=1"), Err(syntax("cpus=1")));
    assert_eq!(Resources::parse("cpus:1:2"), Err(syntax("cpus:1:2")));
    assert_eq!(Resources::parse("cpus(web:1"), Err(syntax("cpus(web:1")));
    assert_eq!(Resources::parse("cpus)web(:1"), Err(syntax("cpus)web(:1")));
    assert_eq!(
        Resources::parse(":1"),
        Err(ParseError::EmptyName { token: ":1".into() })
    );
    assert_eq!(
        Resources::parse("cpus(a b):1"),
        Err(ParseError::InvalidRole {
            token: "cpus(a b):1".into(),
            reason: "contains whitespace or DEL"
        })
    );
    assert_eq!(
        invalid("cpus:-1"),
        ("cpus:-1".into(), "scalar -1 is negative".into())
    );
    assert_eq!(invalid("cpus:nan").1, "scalar NaN is not finite");
    assert_eq!(invalid("cpus:inf").1, "scalar inf is not finite");
    assert_eq!(
        invalid("cpus:abc").1,
        "`abc` is not a number, [ranges] or {set}"
    );
    assert_eq!(invalid("cpus:").1, "the value is empty");
    assert_eq!(invalid("ports:[1-5").1, "ranges must end with `]`");
    assert_eq!(
        invalid("ports:[5-1]").1,
        "range [5-1] ends before it begins"
    );
    assert_eq!(invalid("ports:[1-5,3-9]").1, "ranges overlap");
    assert_eq!(
        invalid("ports:[1-x]").1,
        "`1-x` is not `begin-end` or a number"
    );
    assert_eq!(
        invalid("ports:[1--5]").1,
        "`1--5` is not `begin-end` or a number"
    );
    assert_eq!(invalid("ids:{a,b").1, "a set must end with `}`");
    assert_eq!(invalid("ids:{a,,b}").1, "a set item is empty");
    assert_eq!(invalid("ids:{a,a}").1, "a set item appears twice");
    assert_eq!(
        Resources::parse("cpus:1; cpus:[1-2]"),
        Err(ParseError::ConflictingTypes {
            name: "cpus".into(),
            first: "SCALAR",
            second: "RANGES"
        })
    );
    assert_eq!(
        Resources::parse("cpus:1;mem=2").unwrap_err().to_string(),
        "resource `mem=2` is not of the form `name:value` or `name(role):value`"
    );
}

#[test]
fn display_in_flag_syntax() {
    let resources = parse("cpus:4; mem:4096.5; ports:[31000-32000,1-2]; ids:{a,b}; cpus(web):0.25");
    assert_eq!(
        resources.to_string(),
        "cpus:4; mem:4096.5; ports:[1-2, 31000-32000]; ids:{a, b}; cpus(web):0.25"
    );
    assert_eq!(Resources::new().to_string(), "");
    let dynamic = Resources::new()
        .with_cpus(1.0)
        .push_reservation(dynamic_reservation("web", Some("ops")));
    let text = dynamic.to_string();
    assert_eq!(text, "cpus(reservations: [(DYNAMIC,web,ops)]):1");
    assert!(
        Resources::parse(&text).is_err(),
        "annotated forms are not misread"
    );
}

#[test]
fn sample_offer_displays_and_round_trips() {
    let offer = Resources::from(sample_offer());
    assert_eq!(
        offer.to_string(),
        "ports:[31000-32000]; cpus:4; mem:4096; disk:10000"
    );
    assert_eq!(parse(&offer.to_string()), offer);
}

#[test]
fn conversions() {
    let list = vec![scalar("cpus", 1.0), scalar("mem", 2.0)];
    let resources: Resources = list.clone().into_iter().collect();
    let back: Vec<Resource> = resources.clone().into();
    assert_eq!(back, list);
    assert_eq!(resources.clone().into_vec(), list);
    assert_eq!(resources.as_slice(), &list[..]);
    assert_eq!((&resources).into_iter().count(), 2);
    let mut extended = Resources::new();
    extended.extend(list.clone());
    extended += scalar("cpus", 1.0);
    assert_eq!(extended.cpus(), Some(2.0));
    extended -= &scalar("cpus", 2.0);
    assert_eq!(extended, Resources::new().with_mem(2.0));
    assert_eq!(
        &resources + &resources,
        resources.clone() + resources.clone()
    );
    assert_eq!(&resources - &resources, Resources::new());
    assert!(validate(&scalar("cpus", 0.0)).is_ok());
}

// --------------------------------------------------------------- proptests

/// Resources from the flag grammar: unreserved or statically reserved
/// scalars, ranges and sets under a few names.
fn arbitrary_resources() -> impl Strategy<Value = Resources> {
    let role = prop_oneof![Just(None), Just(Some("web")), Just(Some("a/b"))];
    let scalar_entry = (
        prop_oneof![Just("cpus"), Just("mem")],
        0u32..5_000_000,
        role.clone(),
    )
        .prop_map(|(name, thousandths, role)| {
            with_role(scalar(name, f64::from(thousandths) / 1000.0), role)
        });
    let ranges_entry = (
        prop::collection::vec((0u64..2000, 0u64..50), 0..5),
        role.clone(),
    )
        .prop_map(|(starts, role)| {
            let mut intervals: Vec<(u64, u64)> =
                starts.into_iter().map(|(b, len)| (b, b + len)).collect();
            intervals.sort_unstable();
            intervals.dedup_by(|next, kept| next.0 <= kept.1);
            with_role(ranges("ports", &intervals), role)
        });
    let set_entry = (
        prop::collection::btree_set("[a-z][a-z0-9]{0,4}", 0..4),
        role,
    )
        .prop_map(|(items, role)| with_role(set("ids", items), role));
    prop::collection::vec(prop_oneof![scalar_entry, ranges_entry, set_entry], 0..8)
        .prop_map(Resources::from)
}

fn with_role(resource: Resource, role: Option<&str>) -> Resource {
    match role {
        Some(role) => Resources::from(resource)
            .push_reservation(static_reservation(role))
            .into_vec()
            .pop()
            .unwrap_or_default(),
        None => resource,
    }
}

proptest! {
    #[test]
    fn scalar_add_then_sub_is_identity(a in 0u32..10_000_000, b in 0u32..10_000_000) {
        let a = Resources::new().with_cpus(f64::from(a) / 1000.0);
        let b = Resources::new().with_cpus(f64::from(b) / 1000.0);
        prop_assert_eq!((a.clone() + &b) - &b, a);
    }

    #[test]
    fn arbitrary_scalars_round_like_mesos(a in 0.0f64..1e6, b in 0.0f64..1e6) {
        let sum = Resources::new().with_mem(a) + Resources::new().with_mem(b);
        let expected = ((a * 1000.0).round() + (b * 1000.0).round()) / 1000.0;
        prop_assert_eq!(sum.mem().unwrap_or(0.0), expected);
    }

    #[test]
    fn ranges_add_then_sub_is_identity(
        a in prop::collection::vec((0u64..5000, 0u64..100), 0..6),
        b in prop::collection::vec((0u64..5000, 0u64..100), 0..6),
    ) {
        let build = |starts: Vec<(u64, u64)>| {
            starts
                .into_iter()
                .map(|(begin, len)| ranges("ports", &[(begin, begin + len)]))
                .collect::<Resources>()
        };
        let a = build(a);
        // b without what a has: a and b are disjoint.
        let b = build(b) - &a;
        prop_assert_eq!((a.clone() + &b) - &b, a);
    }

    #[test]
    fn add_then_sub_keeps_what_b_did_not_take(a in arbitrary_resources(), b in arbitrary_resources()) {
        // Scalars come back whole; ranges and set items shared by a and b
        // go with b.
        let back = (a.clone() + &b) - &b;
        prop_assert!(a.contains(&back));
        prop_assert!(back.contains(&(a.clone() - &b)));
        prop_assert!((a.clone() + &b).contains(&a));
        prop_assert!((a.clone() + &b).contains(&b));
    }

    #[test]
    fn contains_itself_and_checked_sub_of_itself_is_empty(a in arbitrary_resources()) {
        prop_assert!(a.contains(&a));
        prop_assert_eq!(a.checked_sub(&a), Some(Resources::new()));
    }

    #[test]
    fn checked_sub_agrees_with_contains(a in arbitrary_resources(), b in arbitrary_resources()) {
        match a.checked_sub(&b) {
            Some(rest) => {
                prop_assert!(a.contains(&b));
                prop_assert_eq!(rest + &b, a);
            }
            None => prop_assert!(!a.contains(&b)),
        }
    }

    #[test]
    fn parse_display_round_trips(a in arbitrary_resources()) {
        let text = a.to_string();
        prop_assert_eq!(Resources::parse(&text), Ok(a), "{}", text);
    }

    #[test]
    fn find_returns_what_was_wanted(a in arbitrary_resources(), b in arbitrary_resources()) {
        let offer = a.clone() + &b;
        let wanted = b.flatten();
        let found = offer.find(&wanted);
        prop_assert!(found.is_some());
        let found = found.unwrap_or_default();
        prop_assert_eq!(found.flatten(), wanted);
        prop_assert!(offer.contains(&found));
    }

    #[test]
    fn parse_never_panics(text in "[a-z(){}\\[\\]:;,*/ 0-9.-]{0,40}") {
        let _ = Resources::parse(&text);
    }
}
