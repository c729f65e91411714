//! Interval arithmetic on `Value.Ranges` (inclusive `[begin, end]` intervals).
//!
//! Every function except [`normalize`] and [`overlap`] expects its inputs
//! normalized: sorted by `begin`, disjoint and not adjacent. Their outputs are
//! normalized too.

use crate::v1::value::Range;

/// Sorts `ranges` and merges overlapping or adjacent intervals, so
/// `[1-2, 3-5, 4-9]` becomes `[1-9]`. Inverted intervals are dropped.
pub(super) fn normalize(ranges: &mut Vec<Range>) {
    ranges.retain(|range| range.begin <= range.end);
    ranges.sort_unstable_by_key(|range| (range.begin, range.end));
    let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
    for range in ranges.drain(..) {
        match merged.last_mut() {
            Some(last) if range.begin <= last.end.saturating_add(1) => {
                last.end = last.end.max(range.end);
            }
            _ => merged.push(range),
        }
    }
    *ranges = merged;
}

/// Whether any two intervals of `ranges` (in any order) share a value.
pub(super) fn overlap(ranges: &[Range]) -> bool {
    let mut sorted: Vec<Range> = ranges.to_vec();
    sorted.sort_unstable_by_key(|range| (range.begin, range.end));
    sorted
        .windows(2)
        .any(|pair| matches!(pair, [first, second] if second.begin <= first.end))
}

/// `left ∪ right`.
pub(super) fn union(left: &[Range], right: &[Range]) -> Vec<Range> {
    let mut all: Vec<Range> = left.iter().chain(right).copied().collect();
    normalize(&mut all);
    all
}

/// `left ∖ right`: the values of `left` not in `right`.
pub(super) fn difference(left: &[Range], right: &[Range]) -> Vec<Range> {
    let mut result = Vec::with_capacity(left.len());
    for kept in left {
        // The part of `kept` still to be emitted starts at `begin`; `None`
        // once the rest of `kept` has been removed.
        let mut begin = Some(kept.begin);
        for removed in right {
            let Some(start) = begin else { break };
            if removed.end < start {
                continue;
            }
            if removed.begin > kept.end {
                break;
            }
            if removed.begin > start {
                result.push(Range {
                    begin: start,
                    end: removed.begin - 1,
                });
            }
            begin = if removed.end >= kept.end {
                None
            } else {
                Some(removed.end + 1)
            };
        }
        if let Some(start) = begin {
            result.push(Range {
                begin: start,
                end: kept.end,
            });
        }
    }
    result
}

/// `left ∩ right`.
pub(super) fn intersection(left: &[Range], right: &[Range]) -> Vec<Range> {
    let mut result = Vec::new();
    for a in left {
        for b in right {
            let begin = a.begin.max(b.begin);
            let end = a.end.min(b.end);
            if begin <= end {
                result.push(Range { begin, end });
            }
        }
    }
    normalize(&mut result);
    result
}

/// Whether every value of `inner` is in `outer`.
pub(super) fn is_subset(inner: &[Range], outer: &[Range]) -> bool {
    inner.iter().all(|range| {
        outer
            .iter()
            .any(|bound| bound.begin <= range.begin && range.end <= bound.end)
    })
}

/// The intervals as `(begin, end)` pairs.
pub(super) fn to_pairs(ranges: &[Range]) -> Vec<(u64, u64)> {
    ranges
        .iter()
        .map(|range| (range.begin, range.end))
        .collect()
}

/// `(begin, end)` pairs as intervals, unnormalized.
pub(super) fn from_pairs(pairs: &[(u64, u64)]) -> Vec<Range> {
    pairs
        .iter()
        .map(|&(begin, end)| Range { begin, end })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pairs: &[(u64, u64)]) -> Vec<Range> {
        from_pairs(pairs)
    }

    #[test]
    fn normalize_merges_overlapping_and_adjacent() {
        let mut ranges = r(&[(10, 20), (1, 2), (3, 5), (4, 9), (30, 30)]);
        normalize(&mut ranges);
        assert_eq!(to_pairs(&ranges), vec![(1, 20), (30, 30)]);
    }

    #[test]
    fn normalize_handles_the_top_of_the_domain() {
        let mut ranges = r(&[(u64::MAX, u64::MAX), (5, u64::MAX), (0, 1)]);
        normalize(&mut ranges);
        assert_eq!(to_pairs(&ranges), vec![(0, 1), (5, u64::MAX)]);
    }

    #[test]
    fn difference_splits_intervals() {
        let left = r(&[(1, 10), (20, 30)]);
        let right = r(&[(0, 1), (5, 6), (10, 22), (30, 40)]);
        assert_eq!(
            to_pairs(&difference(&left, &right)),
            vec![(2, 4), (7, 9), (23, 29)]
        );
        assert!(difference(&r(&[(0, u64::MAX)]), &r(&[(0, u64::MAX)])).is_empty());
    }

    #[test]
    fn subset_and_intersection() {
        let outer = r(&[(1, 10), (20, 30)]);
        assert!(is_subset(&r(&[(2, 3), (20, 30)]), &outer));
        assert!(!is_subset(&r(&[(9, 11)]), &outer));
        assert_eq!(
            to_pairs(&intersection(&outer, &r(&[(5, 25)]))),
            vec![(5, 10), (20, 25)]
        );
    }

    #[test]
    fn overlap_detects_shared_values_only() {
        assert!(overlap(&r(&[(5, 9), (1, 5)])));
        assert!(!overlap(&r(&[(6, 9), (1, 5)])));
    }
}
