//! `Display` in the `--resources` flag syntax.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::v1::resource::reservation_info::Type as ReservationType;
use crate::v1::resource::ReservationInfo;
use crate::v1::value::Type as ValueType;
use crate::v1::Resource;

use super::{identity, Resources};

impl Display for Resources {
    /// Writes `name:value` or `name(role):value` entries separated by `; `,
    /// e.g. `cpus:4; mem:4096; ports:[31000-32000]; cpus(web):2`.
    ///
    /// [`Resources::parse`] reads this back to an equal value whenever every
    /// entry is unreserved or statically reserved for one role, with no
    /// allocation, disk, shared, revocable or provider information. Such
    /// extras are written in a Mesos-like annotated form that the parser
    /// rejects rather than misreads: `(reservations: [...])`,
    /// `(allocated: role)`, `[disk]`, `{REV}`, `<SHARED>`, `@provider`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (index, resource) in self.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write_resource(f, resource)?;
        }
        Ok(())
    }
}

fn write_resource(f: &mut Formatter<'_>, resource: &Resource) -> fmt::Result {
    f.write_str(&resource.name)?;
    write_reservations(f, &identity::canonical_reservations(resource))?;
    if let Some(allocation) = &resource.allocation_info {
        write!(
            f,
            "(allocated: {})",
            allocation.role.as_deref().unwrap_or("")
        )?;
    }
    if let Some(disk) = &resource.disk {
        let mut text = String::new();
        if let Some(source) = &disk.source {
            let kind = crate::v1::resource::disk_info::source::Type::try_from(source.r#type)
                .map_or("UNKNOWN", |kind| kind.as_str_name());
            text.push_str(kind);
            if let Some(id) = &source.id {
                let _ = write!(text, "({id})");
            }
        }
        if let Some(persistence) = &disk.persistence {
            if !text.is_empty() {
                text.push(',');
            }
            let _ = write!(text, "persistence:{}", persistence.id);
        }
        write!(f, "[{text}]")?;
    }
    if resource.revocable.is_some() {
        f.write_str("{REV}")?;
    }
    if resource.shared.is_some() {
        f.write_str("<SHARED>")?;
    }
    if let Some(provider) = &resource.provider_id {
        write!(f, "@{}", provider.value)?;
    }
    f.write_char(':')?;
    write_amount(f, resource)
}

fn write_reservations(f: &mut Formatter<'_>, stack: &[ReservationInfo]) -> fmt::Result {
    match stack {
        [] => Ok(()),
        [only] if is_plain_static(only) => {
            write!(f, "({})", only.role.as_deref().unwrap_or(""))
        }
        _ => {
            f.write_str("(reservations: [")?;
            for (index, reservation) in stack.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                let kind = reservation
                    .r#type
                    .and_then(|kind| ReservationType::try_from(kind).ok())
                    .map_or("UNKNOWN", |kind| kind.as_str_name());
                write!(f, "({kind},{}", reservation.role.as_deref().unwrap_or(""))?;
                if let Some(principal) = &reservation.principal {
                    write!(f, ",{principal}")?;
                }
                f.write_char(')')?;
            }
            f.write_str("])")
        }
    }
}

fn is_plain_static(reservation: &ReservationInfo) -> bool {
    reservation.r#type == Some(ReservationType::Static as i32)
        && reservation.principal.is_none()
        && reservation.labels.is_none()
}

fn write_amount(f: &mut Formatter<'_>, resource: &Resource) -> fmt::Result {
    match ValueType::try_from(resource.r#type) {
        Ok(ValueType::Scalar) => write!(f, "{}", resource.scalar.map_or(0.0, |s| s.value)),
        Ok(ValueType::Ranges) => {
            f.write_char('[')?;
            let list = resource.ranges.as_ref().map_or(&[][..], |r| &r.range[..]);
            for (index, range) in list.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}-{}", range.begin, range.end)?;
            }
            f.write_char(']')
        }
        Ok(ValueType::Set) => {
            f.write_char('{')?;
            let items = resource.set.as_ref().map_or(&[][..], |s| &s.item[..]);
            f.write_str(&items.join(", "))?;
            f.write_char('}')
        }
        _ => f.write_str("?"),
    }
}
