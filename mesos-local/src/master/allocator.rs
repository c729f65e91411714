//! The allocator: turns agents' unused resources into offers.
//!
//! One round offers each agent's available resources (total − used by
//! tasks and executors − already offered) as one offer to one framework:
//! the eligible framework (connected, not filtering that agent, with an
//! unsuppressed role the resources are allocatable to) with the lowest
//! dominant share of the cluster (DRF, ties to the older framework). The
//! offer carries resources in the framework's format: `allocation_info`
//! for MULTI_ROLE frameworks, legacy `role: "*"` unless the framework has
//! RESERVATION_REFINEMENT, as the real master sends them.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use mesos_proto::resources::Resources;
use mesos_proto::v1::framework_info::capability::Type as FrameworkCapability;
use mesos_proto::v1::resource::reservation_info::Type as ReservationType;
use mesos_proto::v1::resource::AllocationInfo;
use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::{Address, AgentId, FrameworkId, OfferId, Resource, Url};

use super::ids;
use super::state::{AgentSlot, Effects, Framework, Offer, State};

/// The smallest offer worth making (the real master's
/// `--min_allocatable_resources=cpus:0.01|mem:32`).
fn allocatable(resources: &Resources) -> bool {
    resources.cpus().unwrap_or(0.0) >= 0.01 || resources.mem().unwrap_or(0.0) >= 32.0
}

/// The largest share of any scalar resource of `total` that `allocated` holds.
fn dominant_share(allocated: &Resources, total: &Resources) -> f64 {
    let mut share: f64 = 0.0;
    for name in total.names() {
        if let (Some(t), Some(a)) = (total.scalar(name), allocated.scalar(name)) {
            if t > 0.0 {
                share = share.max(a / t);
            }
        }
    }
    share
}

/// One allocation round.
pub(crate) fn allocate(state: &mut State, fx: &mut Effects) {
    let now = Instant::now();
    let mut cluster = Resources::new();
    for agent in &state.agents {
        cluster += &agent.total;
    }
    // Expired filters go first.
    for framework in state.frameworks.values_mut() {
        framework.filters.retain(|_, until| *until > now);
    }
    let mut allocated: HashMap<String, Resources> = state
        .frameworks
        .values()
        .map(|f| {
            let mut held = f.holdings.used_on(None);
            held += state.offered(None, Some(&f.id));
            (f.id.clone(), held)
        })
        .collect();
    let mut used_by_agent = state.used_by_agent();
    // Offers made in this pass are on agents already passed.
    let mut offered_by_agent = state.offered_by_agent();
    let mut made: BTreeMap<String, Vec<mesos_proto::v1::Offer>> = BTreeMap::new();
    for index in 0..state.agents.len() {
        let Some(agent) = state.agents.at(index).filter(|a| a.active) else {
            continue;
        };
        let agent_id = agent.id.clone();
        let mut available = agent.total.clone();
        if let Some(used) = used_by_agent.remove(&agent_id) {
            available -= &used;
        }
        if let Some(offered) = offered_by_agent.remove(&agent_id) {
            available -= &offered;
        }
        if !allocatable(&available) {
            continue;
        }
        let mut best: Option<(f64, &Framework, String, Resources)> = None;
        for framework in state.frameworks.values() {
            if !framework.active
                || !framework.connected()
                || framework.filters.contains_key(&agent_id)
            {
                continue;
            }
            let Some((role, resources)) = framework
                .roles()
                .into_iter()
                .filter(|role| !framework.suppressed.contains(role))
                .map(|role| {
                    let resources = available.allocatable_to(&role);
                    (role, resources)
                })
                .find(|(_, resources)| allocatable(resources))
            else {
                continue;
            };
            let share = allocated
                .get(&framework.id)
                .map(|held| dominant_share(held, &cluster))
                .unwrap_or(0.0);
            if best.as_ref().is_none_or(|(s, ..)| share < *s) {
                best = Some((share, framework, role, resources));
            }
        }
        let Some((_, framework, role, resources)) = best else {
            continue;
        };
        let framework_id = framework.id.clone();
        let n = state.next_offer;
        let offer = Offer {
            id: ids::offer_id(&state.master_id, n),
            framework_id: framework_id.clone(),
            agent_id: agent_id.clone(),
            role,
            resources,
        };
        let proto = offer_proto(&offer, agent, framework);
        tracing::debug!(offer_id = %offer.id, %framework_id, %agent_id, resources = %offer.resources, "offer");
        *allocated.entry(framework_id.clone()).or_default() += &offer.resources;
        made.entry(framework_id).or_default().push(proto);
        if state.offer_timeout.is_some() {
            fx.offer_timers.push(offer.id.clone());
        }
        state.next_offer += 1;
        state.add_offer(n, offer);
    }
    for (framework_id, offers) in made {
        if let Some(framework) = state.frameworks.get(&framework_id) {
            framework.send(Event {
                r#type: Some(event::Type::Offers as i32),
                offers: Some(event::Offers { offers }),
                ..Event::default()
            });
        }
    }
}

/// Resources in the format `framework` expects them.
#[allow(deprecated)]
pub(crate) fn framework_resources(
    resources: &Resources,
    role: &str,
    framework: &Framework,
) -> Vec<Resource> {
    let multi_role = framework.multi_role();
    let refinement = framework.has_capability(FrameworkCapability::ReservationRefinement);
    resources
        .iter()
        .cloned()
        .map(|mut r| {
            if multi_role {
                r.allocation_info = Some(AllocationInfo {
                    role: Some(role.to_string()),
                });
            }
            if !refinement {
                if r.reservations.is_empty() {
                    if r.role.is_none() {
                        r.role = Some("*".to_string());
                    }
                } else if r.reservations.len() == 1 {
                    let only = r.reservations.remove(0);
                    r.role = only.role.clone();
                    if only.r#type == Some(ReservationType::Dynamic as i32) {
                        r.reservation = Some(mesos_proto::v1::resource::ReservationInfo {
                            r#type: None,
                            role: None,
                            principal: only.principal,
                            labels: only.labels,
                        });
                    }
                }
            }
            r
        })
        .collect()
}

/// `slave(1)@127.0.0.1:5051` → ("/slave(1)", "127.0.0.1", 5051).
fn split_pid(pid: &str) -> Option<(String, String, i32)> {
    let (name, address) = pid.split_once('@')?;
    let (ip, port) = address.rsplit_once(':')?;
    Some((format!("/{name}"), ip.to_string(), port.parse().ok()?))
}

pub(crate) fn agent_url(agent: &AgentSlot) -> Url {
    let hostname = agent.link.info.hostname.clone();
    let (path, ip, port) = split_pid(&agent.link.pid).unwrap_or_else(|| {
        (
            "/slave(1)".to_string(),
            "127.0.0.1".to_string(),
            agent.link.info.port.unwrap_or(5051),
        )
    });
    Url {
        scheme: "http".to_string(),
        address: Address {
            hostname: Some(hostname),
            ip: Some(ip),
            port,
        },
        path: Some(path),
        query: Vec::new(),
        fragment: None,
    }
}

pub(crate) fn offer_proto(
    offer: &Offer,
    agent: &AgentSlot,
    framework: &Framework,
) -> mesos_proto::v1::Offer {
    mesos_proto::v1::Offer {
        id: OfferId {
            value: offer.id.clone(),
        },
        framework_id: FrameworkId {
            value: offer.framework_id.clone(),
        },
        agent_id: AgentId {
            value: agent.id.clone(),
        },
        hostname: agent.link.info.hostname.clone(),
        url: Some(agent_url(agent)),
        resources: framework_resources(&offer.resources, &offer.role, framework),
        attributes: agent.link.info.attributes.clone(),
        allocation_info: framework.multi_role().then(|| AllocationInfo {
            role: Some(offer.role.clone()),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_splits_into_url_parts() {
        assert_eq!(
            split_pid("slave(2)@127.0.0.1:40123"),
            Some(("/slave(2)".to_string(), "127.0.0.1".to_string(), 40123))
        );
        assert_eq!(split_pid("nonsense"), None);
    }

    #[test]
    fn dominant_share_is_the_largest_fraction() {
        let total: Resources = "cpus:4;mem:1000".parse().unwrap_or_default();
        let held: Resources = "cpus:1;mem:500".parse().unwrap_or_default();
        assert!((dominant_share(&held, &total) - 0.5).abs() < 1e-9);
        assert_eq!(dominant_share(&Resources::new(), &total), 0.0);
    }
}
