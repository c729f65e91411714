//! Set arithmetic on `Value.Set` items, keeping first-seen order.

/// Drops repeated items, keeping the first of each.
pub(super) fn normalize(items: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    *items = seen;
}

/// Whether some item appears twice.
pub(super) fn has_duplicates(items: &[String]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(index, item)| items[index + 1..].contains(item))
}

/// Adds the items of `right` missing from `left`.
pub(super) fn union(left: &mut Vec<String>, right: &[String]) {
    for item in right {
        if !left.contains(item) {
            left.push(item.clone());
        }
    }
}

/// Removes the items of `right` from `left`.
pub(super) fn difference(left: &mut Vec<String>, right: &[String]) {
    left.retain(|item| !right.contains(item));
}

/// The items of `left` also in `right`.
pub(super) fn intersection(left: &[String], right: &[String]) -> Vec<String> {
    left.iter()
        .filter(|item| right.contains(item))
        .cloned()
        .collect()
}

/// Whether every item of `inner` is in `outer`.
pub(super) fn is_subset(inner: &[String], outer: &[String]) -> bool {
    inner.iter().all(|item| outer.contains(item))
}
